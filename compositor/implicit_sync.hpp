// implicit_sync.hpp: defer a surface's commit until the client's writes to
// its dma-buf have finished.
//
// Where: wlroots 0.15.1 applies a wl_surface.commit inside the request
// handler unless the pending state is locked (wlr_surface_lock_pending()),
// in which case it becomes a cached state, applied in commit order once its
// last lock goes (wlr_surface_unlock_cached()). 0.15 has no signal between
// the client's commit request and that decision (0.16's
// wlr_surface.events.client_commit came later), so implicit_sync watches
// the requests with a libwayland protocol logger, which libwayland calls
// for each request just before dispatching it (see wlr.hpp, point 8). For a
// wl_surface.commit that attaches one of our dmabuf_buffers it takes the
// write fences of the buffer's dma-bufs (dmabuf_fence.hpp); if one has not
// signalled, it locks the pending state, and the commit that follows is
// cached instead of applied. The fence fds are polled on the event loop;
// when they signal, the lock goes and wlroots applies the state (and every
// later commit of that surface queued behind it). Other surfaces are not
// involved and keep updating.
//
// Both readers are covered that way: the pixman renderer reads a surface's
// current buffer (CPU, through the Import's mapping), and the KMS backend
// scans out a surface's current buffer; a buffer becomes current only once
// its writes are done.
//
// A fence that does not signal within the timeout (default 1000 ms,
// WLPRIME_FENCE_TIMEOUT_MS) does not stall anything: the commit is applied
// *without its buffer* (the surface keeps its previous content; frame
// callbacks, damage and the rest of the state apply), the dropped buffer is
// released, and a log line names the Import, the fence and the time waited.
// Applying it anyway is no option for the pixman renderer: its first read,
// DMA_BUF_IOCTL_SYNC, blocks in the kernel until the fence signals.
//
// Lifetime: owned by the server, created with the import subsystem,
// destroyed before the display. A wait holds the Import (import_ref) and
// listens to its surface's destroy: a surface that goes away ends its waits
// (wlroots frees its cached states).

#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>

#include "compositor/listener.hpp"
#include "import/dmabuf_fence.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class dmabuf_buffer;

// What the waits for write fences cost: for the exit report and the debug
// tool.
struct fence_wait_stats {
	uint64_t checked = 0;              // buffers whose fences were looked at
	uint64_t waits = 0;                // of those, not signalled: a wait began
	uint64_t signaled = 0;             // waits that ended with the fences signalled
	uint64_t timeouts = 0;             // waits given up after the bounded time
	uint64_t abandoned = 0;            // waits whose surface went away first
	uint64_t export_failures = 0;      // fence could not be had: not waited
	std::chrono::nanoseconds total{0}; // time spent waiting, ended waits
	std::chrono::nanoseconds max{0};
	uint64_t poll_fallbacks = 0; // fences that used fence_method::dmabuf_poll

	// A wait that ended after `waited`.
	void record(std::chrono::nanoseconds waited);
};

class implicit_sync {
public:
	// Watches every client request of display (borrowed, outlives this).
	// timeout: how long a commit waits for its fences at most (> 0).
	implicit_sync(wl_display *display, std::chrono::milliseconds timeout,
	              fence_method method = fence_method::sync_file);
	~implicit_sync();
	implicit_sync(const implicit_sync &) = delete;
	implicit_sync &operator=(const implicit_sync &) = delete;

	// WLPRIME_FENCE_TIMEOUT_MS if set to a positive number, else 1000 ms.
	static std::chrono::milliseconds timeout_from_environment();

	std::chrono::milliseconds timeout() const { return timeout_; }
	const fence_wait_stats &stats() const { return stats_; }
	// Commits waiting for their fences now.
	size_t waiting() const { return waits_.size(); }
	// Told of each commit that begins to wait (client_activity's lint);
	// empty: nobody.
	using wait_observer = std::function<void(wlr_surface *, const dmabuf_buffer &)>;
	void on_wait(wait_observer observer) { on_wait_ = std::move(observer); }

private:
	struct wait;

	static void handle_request(void *data, wl_protocol_logger_type direction,
	                           const wl_protocol_logger_message *message) noexcept;
	void handle_commit(wlr_surface *surface);
	void handle_fence(wait &w, int fd);
	void handle_timeout(wait &w);
	// Ends w (frees it), then lets wlroots apply its state.
	void finish(wait &w, bool timed_out);

	wl_event_loop *loop_;
	wl_protocol_logger *logger_ = nullptr;
	std::chrono::milliseconds timeout_;
	fence_method method_;
	fence_wait_stats stats_;
	std::list<std::unique_ptr<wait>> waits_;
	wait_observer on_wait_;
};

} // namespace wlprime
