// client_activity.hpp: what each Wayland client did, and what of it reached
// the screen: the records behind --report (client_report.hpp) and the frame
// count behind --screenshot-after-frames.
//
// Each event comes from the one place that sees it:
//  - a libwayland protocol logger, called for every request just before it
//    is dispatched and for every event sent: wl_registry.bind (the globals
//    and versions), wl_surface.frame and .commit (the pending state still
//    holds what the commit applies), the linux-dmabuf requests, and the
//    events wl_buffer.release, wl_callback.done and wl_display.error, which
//    is every protocol error posted to the client, by wlprime or wlroots;
//  - the buffer registry: each dma-buf wl_buffer made, with its Import;
//  - implicit_sync: a commit whose dma-buf's write fence had not signalled;
//  - the outputs: content_mark() when an output commits a frame and
//    frame_shown() when that frame is on screen. A buffer committed before
//    the mark was taken is in that frame.
// Lint findings (client_record.hpp) are counted as they happen; those about
// what is left at disconnect, when the client goes while the compositor runs.
//
// Lifetime: owned by the server, made before the socket is added, destroyed
// before the display. Records of clients that went are kept for the report.

#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compositor/client_record.hpp"
#include "compositor/listener.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class dmabuf_buffer;
class import_context;
class linux_dmabuf;

class client_activity {
public:
	// display, imports and dmabuf are borrowed (imports and dmabuf may be
	// null: no dma-buf to see). exec_pid: the --exec child's pid, or -1;
	// clients in its process tree are marked exec_descendant.
	client_activity(wl_display *display, import_context *imports, linux_dmabuf *dmabuf,
	                std::function<pid_t()> exec_pid);
	~client_activity();
	client_activity(const client_activity &) = delete;
	client_activity &operator=(const client_activity &) = delete;

	// Buffer commits so far: a frame committed now shows those up to here.
	uint64_t content_mark() const { return commit_mark_; }
	// An output committed a frame made at `mark`.
	void frame_committed(wlr_output *output, uint64_t mark);
	// That frame is on screen now.
	void frame_shown(wlr_output *output, uint64_t mark);
	// A commit of surface waits for the write fence of buffer.
	void commit_waits_for_fence(wlr_surface *surface, const dmabuf_buffer &buffer);

	// Called after an output frame that showed new content of an --exec
	// client: with the number of such frames so far.
	void on_exec_frame(std::function<void(uint64_t frames)> callback) {
		exec_frame_ = std::move(callback);
	}
	uint64_t exec_frames() const { return exec_frames_; }

	// Every client seen, in order of connection: those still connected
	// are up to date as of now.
	std::vector<const client_record *> records() const;
	double seconds() const; // since the compositor started

private:
	struct surface_state;
	struct client_state;

	static void handle_message(void *data, wl_protocol_logger_type type,
	                           const wl_protocol_logger_message *message) noexcept;
	void request(client_state &c, const wl_protocol_logger_message &m);
	void event(client_state &c, const wl_protocol_logger_message &m);
	void commit(client_state &c, wl_resource *surface_resource);
	void buffer_created(const dmabuf_buffer &buffer);
	void client_created(wl_client *client);
	void client_destroyed(client_state &c);
	client_state *find(wl_client *client);
	void note(client_record &r, lint which, uint32_t wl_buffer, uint32_t surface);

	import_context *imports_;
	linux_dmabuf *dmabuf_;
	std::function<pid_t()> exec_pid_;
	wl_protocol_logger *logger_ = nullptr;
	// wl_display's client-created listener (no wl_signal for a listener<>);
	// standard layout, the wl_listener first.
	struct created_listener {
		wl_listener link{};
		client_activity *owner = nullptr;
	} client_created_;
	std::unordered_map<wl_client *, std::unique_ptr<client_state>> live_;
	std::list<std::unique_ptr<client_record>> records_; // every client, in order
	uint64_t commit_mark_ = 0;
	std::unordered_map<wlr_output *, uint64_t> committed_mark_; // per output
	std::unordered_set<uint64_t> seen_imports_;                 // Import serials
	std::unordered_map<uint64_t, std::string> exporters_;       // Import serial -> exp_name
	uint64_t exec_frames_ = 0;
	std::function<void(uint64_t)> exec_frame_;
	const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace wlprime
