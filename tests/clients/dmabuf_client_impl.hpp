// dmabuf_client_impl.hpp: the state behind dmabuf_client, shared by
// dmabuf_client.cpp (set-up, formats, window, frames) and
// dmabuf_bad_requests.cpp (the malformed requests). Private to
// tests/clients/: includes the Wayland client headers.

#pragma once

#include <chrono>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/clients/client_base.hpp"
#include "tests/clients/dmabuf_client.hpp"
#include "tests/clients/presentation_log.hpp"

namespace wlprime::clients {

// One logical buffer of the pool: one dma-buf, or one per plane (NV12 on
// two bos, YUV420 on three).
struct pool_entry {
	static constexpr int max_planes = 3;
	std::unique_ptr<dmabuf_bo> bos[max_planes];
	int planes = 1;
	int plane_bo[max_planes] = {0, 0, 0};
	uint32_t offsets[max_planes] = {0, 0, 0};
	uint32_t strides[max_planes] = {0, 0, 0};
};

// A wl_buffer of the client and the params that make it. Listener data:
// heap-allocated, never moved.
struct buffer_entry {
	dmabuf_client::state *s = nullptr;
	int index = 0;
	zwp_linux_buffer_params_v1 *params = nullptr; // until created/failed
	wl_buffer *buffer = nullptr;                  // until destroyed
};

// Listener data of a zwp_linux_dmabuf_feedback_v1.
struct feedback_entry {
	dmabuf_client::state *s = nullptr;
	zwp_linux_dmabuf_feedback_v1 *feedback = nullptr;
	dmabuf_feedback *out = nullptr; // the state's default or surface feedback
	dmabuf_feedback building;       // events since the last done
	feedback_tranche tranche;       // the tranche being described
};

// Listener data of a wl_output. Heap-allocated, never moved.
struct output_entry {
	dmabuf_client::state *s = nullptr;
	wl_output *output = nullptr;
	int index = 0;
};

// The connection and its globals are the client_base: wl_compositor,
// xdg_wm_base and zwp_linux_dmabuf_v1 (at most opts.protocol_version).
struct dmabuf_client::state : client_base {
	explicit state(const dmabuf_client_options &o)
	    : client_base({.dmabuf_max = o.protocol_version}), opts(o) {}
	dmabuf_client_options opts;
	wl_callback *formats_sync = nullptr; // v3: after the modifier events
	wl_callback *final_sync = nullptr;   // after the last frame or bad request
	// How long the final check waits for releases still to come: on a KMS
	// output with direct scanout the last replaced buffer is released after
	// the page flip that replaced it, which may follow the final sync.
	std::chrono::steady_clock::time_point release_deadline{};
	feedback_entry default_feedback;
	feedback_entry surface_feedback;
	dmabuf_feedback default_result; // complete feedbacks (after done)
	dmabuf_feedback surface_result;
	std::vector<dmabuf_feedback> surface_history;
	std::vector<std::unique_ptr<output_entry>> output_entries;
	std::vector<output_record> outputs;
	std::vector<int> entered;       // indices in outputs
	std::vector<int> output_events; // +index enter, -index-1 leave
	bool moved = false;             // move_to done
	std::vector<format_pair> modifier_events;

	xdg_window window;
	frame_pacer frame{[this] { on_frame_done(); }};
	presentation_log presentation; // opts.presentation_feedback

	// Formats chosen for the buffers.
	uint32_t format = 0;
	uint64_t modifier = 0;
	bool expect_refusal = false; // YUV format not advertised: sent anyway
	// opts.seconds: frames go on until then (set at the first commit).
	std::chrono::steady_clock::time_point run_until{};

	std::vector<pool_entry> pool;
	std::vector<std::unique_ptr<buffer_entry>> entries;
	std::vector<buffer_record> records; // by entry index
	dmabuf_client_stats stats;

	bool ready = false;
	bool configured = false;
	bool pool_made = false;
	bool finished = false;
	bool unmapped = false;
	bool abrupt = false;
	bool stopped = false; // stop(): no more frames
	int width = 0;
	int height = 0;
	int current = -1;     // buffer attached last
	int next_buffer = -1; // per-frame mode: the wl_buffer made for the next frame
	std::string failure;
	std::string note; // added to the summary (e.g. NV12 refused)
	outcome last;     // last protocol error / event outcome

	~state();
	void fail(const std::string &why);
	// Checks the connection for an error and turns it into an outcome or a
	// failure. Cheap; called by the queries.
	void check_display();

	void on_globals();
	void on_formats_known();
	void create_window();
	void on_configure(); // the window was configured (and acknowledged)
	bool choose_format();
	// The wl_output that `spec` names (see dmabuf_client_options::fullscreen),
	// null for "current"; false with failure set if none matches.
	bool find_output(const std::string &spec, wl_output **out);
	void go_fullscreen(const std::string &spec);
	bool make_pool();
	int allocate_entry();
	// The YUV 4:2:0 format of opts (NV12, YUV420), 0 for XRGB8888.
	uint32_t yuv_format() const;
	bool one_bo_per_plane() const;
	// Draws the pattern into entry e (opts.draw); false with failure set.
	bool draw_entry(const pool_entry &e, uint32_t width, uint32_t height);
	int create_buffer(int pool_index, bool immed);
	void attach(int buffer);
	void destroy_buffer(int buffer);
	void on_created(buffer_entry &e, wl_buffer *buffer);
	void on_failed(buffer_entry &e);
	void on_release(buffer_entry &e);
	void on_frame_done();
	void on_final_sync();
	void advance();
	bool pool_entry_busy(int pool_index) const;

	// dmabuf_bad_requests.cpp: sends opts.bad, then a sync (after the
	// follow-up request, if there is one).
	void send_bad_request();
	void send_final_sync();
	// Bad-request mode: sent once `created` came (add after create, ...).
	std::function<void()> bad_after_created;
};

// The listeners of the objects both files make (dmabuf_client.cpp).
extern const zwp_linux_buffer_params_v1_listener dmabuf_params_listener; // data: buffer_entry
extern const wl_buffer_listener dmabuf_buffer_listener;                  // data: buffer_entry
extern const wl_callback_listener dmabuf_final_sync_listener;            // data: state

// "zwp_linux_buffer_params_v1 error 4 (invalid_format)".
std::string describe_protocol_error(const std::string &interface, uint32_t code);

} // namespace wlprime::clients
