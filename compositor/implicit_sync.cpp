#include "compositor/implicit_sync.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "compositor/dmabuf_buffer.hpp"

namespace wlprime {

using clock = std::chrono::steady_clock;

namespace {

long long ms(std::chrono::nanoseconds d) {
	return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

} // namespace

// One deferred commit: the lock on its state, its unsignalled fences (each
// polled on the loop) and its timer.
struct implicit_sync::wait {
	struct fence_watch {
		fence_watch(wait *w, dmabuf_write_fence f) : owner(w), fence(std::move(f)) {}
		wait *owner;
		dmabuf_write_fence fence;
		wl_event_source *source = nullptr; // null once signalled
	};

	wait(implicit_sync &sync, wlr_surface *s, wlr_buffer *b, uint64_t serial_,
	     std::string dmabuf_)
	    : owner(sync), surface(s), buffer(b), serial(serial_), dmabuf(std::move(dmabuf_)),
	      since(clock::now()) {}
	~wait() {
		for (auto &f : fences) {
			if (f->source != nullptr) {
				wl_event_source_remove(f->source);
			}
		}
		if (timer != nullptr) {
			wl_event_source_remove(timer);
		}
	}

	implicit_sync &owner;
	wlr_surface *surface;
	wlr_buffer *buffer; // locked by the cached state, not by us
	uint64_t serial;    // of the Import: how logs name the buffer
	std::string dmabuf; // identity of its first dma-buf, for logs
	uint32_t seq = 0;   // the locked state
	clock::time_point since;
	std::vector<std::unique_ptr<fence_watch>> fences;
	size_t unsignaled = 0;
	wl_event_source *timer = nullptr;
	std::list<std::unique_ptr<wait>>::iterator self;
	listener<void> surface_destroy;
};

implicit_sync::implicit_sync(wl_display *display, std::chrono::milliseconds timeout,
                             fence_method method)
    : loop_(wl_display_get_event_loop(display)), timeout_(timeout), method_(method) {
	logger_ = wl_display_add_protocol_logger(display, &implicit_sync::handle_request, this);
	if (logger_ == nullptr) {
		wlr_log(WLR_ERROR, "implicit sync: cannot watch wl_surface.commit requests: "
		                   "client buffers are read without waiting for their fences");
	}
}

implicit_sync::~implicit_sync() {
	if (logger_ != nullptr) {
		wl_protocol_logger_destroy(logger_);
	}
	// Surfaces still waiting keep their locks: they only exist while the
	// display does, and the display goes next (server::~server).
	waits_.clear();
}

std::chrono::milliseconds implicit_sync::timeout_from_environment() {
	if (const char *v = std::getenv("WLPRIME_FENCE_TIMEOUT_MS")) {
		char *end = nullptr;
		long n = std::strtol(v, &end, 10);
		if (end != v && *end == '\0' && n > 0) {
			return std::chrono::milliseconds(n);
		}
		wlr_log(WLR_ERROR,
		        "WLPRIME_FENCE_TIMEOUT_MS=%s: not a positive number of "
		        "milliseconds, using 1000",
		        v);
	}
	return std::chrono::milliseconds(1000);
}

void implicit_sync::handle_request(void *data, wl_protocol_logger_type direction,
                                   const wl_protocol_logger_message *message) noexcept {
	if (direction != WL_PROTOCOL_LOGGER_REQUEST ||
	    std::strcmp(message->message->name, "commit") != 0 ||
	    std::strcmp(wl_resource_get_class(message->resource), "wl_surface") != 0) {
		return;
	}
	static_cast<implicit_sync *>(data)->handle_commit(
	    wlr_surface_from_resource(message->resource));
}

void implicit_sync::handle_commit(wlr_surface *surface) {
	// Only a commit that attaches one of our dma-buf wl_buffers.
	const wlr_surface_state &pending = surface->pending;
	if ((pending.committed & WLR_SURFACE_STATE_BUFFER) == 0 || pending.buffer == nullptr) {
		return;
	}
	dmabuf_buffer *buffer = dmabuf_buffer::from_wlr_buffer(pending.buffer);
	if (buffer == nullptr) {
		return;
	}
	const dmabuf_import &import = buffer->import();
	std::vector<int> fds;
	for (uint32_t i = 0; i < import.key().n_planes; i++) {
		fds.push_back(import.plane_fd(i));
	}
	stats_.checked++;
	auto fences = unsignaled_write_fences(fds, method_);
	if (!fences) {
		// Nothing to wait on: read it as before (the first CPU read's
		// DMA_BUF_IOCTL_SYNC still waits for the writes, blocking).
		stats_.export_failures++;
		wlr_log(WLR_ERROR,
		        "import #%llu (dma-buf %s): cannot get its write fence: %s "
		        "(errno %d); not waiting",
		        static_cast<unsigned long long>(import.serial()),
		        to_string(import.key().planes[0].id).c_str(), fences.err().message.c_str(),
		        fences.err().errnum);
		return;
	}
	if (fences->empty()) {
		return; // the writes are done: apply the commit now
	}
	if (on_wait_) {
		on_wait_(surface, *buffer);
	}

	auto w = std::make_unique<wait>(*this, surface, pending.buffer, import.serial(),
	                                to_string(import.key().planes[0].id));
	for (dmabuf_write_fence &fence : *fences) {
		if (fence.method() == fence_method::dmabuf_poll) {
			stats_.poll_fallbacks++;
		}
		auto watch = std::make_unique<wait::fence_watch>(w.get(), std::move(fence));
		watch->source = wl_event_loop_add_fd(
		    loop_, watch->fence.fd(), WL_EVENT_READABLE,
		    [](int fd, uint32_t, void *data) noexcept -> int {
			    auto *fw = static_cast<wait::fence_watch *>(data);
			    fw->owner->owner.handle_fence(*fw->owner, fd);
			    return 0;
		    },
		    watch.get());
		if (watch->source == nullptr) {
			stats_.export_failures++;
			wlr_log(WLR_ERROR,
			        "import #%llu: cannot poll its write fence on the event "
			        "loop; not waiting",
			        static_cast<unsigned long long>(import.serial()));
			return;
		}
		w->fences.push_back(std::move(watch));
	}
	w->unsignaled = w->fences.size();
	w->timer = wl_event_loop_add_timer(
	    loop_,
	    [](void *data) noexcept -> int {
		    auto *self = static_cast<wait *>(data);
		    self->owner.handle_timeout(*self);
		    return 0;
	    },
	    w.get());
	if (w->timer == nullptr) {
		stats_.export_failures++;
		wlr_log(WLR_ERROR, "import #%llu: no timer for its fence wait; not waiting",
		        static_cast<unsigned long long>(import.serial()));
		return;
	}
	wl_event_source_timer_update(w->timer, static_cast<int>(timeout_.count()));

	// The commit being dispatched now becomes a cached state, this one.
	w->seq = wlr_surface_lock_pending(surface);
	wait *raw = w.get();
	w->surface_destroy.connect(&surface->events.destroy, [this, raw] {
		// wlroots frees the cached state with the surface.
		stats_.abandoned++;
		stats_.record(clock::now() - raw->since);
		waits_.erase(raw->self);
	});
	waits_.push_back(std::move(w));
	raw->self = std::prev(waits_.end());
	stats_.waits++;
	wlr_log(WLR_DEBUG,
	        "import #%llu (dma-buf %s): commit of wl_surface@%u waits for %zu write fence(s) "
	        "(%s)",
	        static_cast<unsigned long long>(raw->serial), raw->dmabuf.c_str(),
	        wl_resource_get_id(surface->resource), raw->fences.size(),
	        to_string(raw->fences.front()->fence.method()));
}

void implicit_sync::handle_fence(wait &w, int fd) {
	// libwayland polls a duplicate of our fd, so `fd` names none of
	// ours: look at each fence still unsignalled.
	(void)fd;
	for (auto &f : w.fences) {
		if (f->source != nullptr && f->fence.signaled()) {
			wl_event_source_remove(f->source);
			f->source = nullptr;
			w.unsignaled--;
		}
	}
	if (w.unsignaled == 0) {
		finish(w, false);
	}
}

void implicit_sync::handle_timeout(wait &w) {
	// Keep the previous content: take the buffer out of the cached state
	// (wlroots applies the rest of it), so nothing reads the unfinished
	// buffer, and the client gets it back (wl_buffer.release).
	wlr_surface_state *state = nullptr;
	wlr_surface_state *before = &w.surface->current;
	wlr_surface_state *it;
	wl_list_for_each(it, &w.surface->cached, cached_state_link) {
		if (it->seq == w.seq) {
			state = it;
			break;
		}
		before = it;
	}
	bool dropped = false;
	if (state != nullptr && (state->committed & WLR_SURFACE_STATE_BUFFER) &&
	    state->buffer == w.buffer) {
		state->committed &= ~uint32_t(WLR_SURFACE_STATE_BUFFER);
		wlr_buffer_unlock(state->buffer);
		state->buffer = nullptr;
		// Sizes were computed from the dropped buffer: keep the ones the
		// state before it leaves behind.
		state->width = before->width;
		state->height = before->height;
		state->buffer_width = before->buffer_width;
		state->buffer_height = before->buffer_height;
		dropped = true;
	}
	wlr_log(WLR_ERROR,
	        "import #%llu (dma-buf %s): write fence not signalled after %lld ms: wl_surface@%u "
	        "%s",
	        static_cast<unsigned long long>(w.serial), w.dmabuf.c_str(),
	        ms(clock::now() - w.since), wl_resource_get_id(w.surface->resource),
	        dropped ? "keeps its previous content, the new buffer is dropped (released "
	                  "unread)"
	                : "commit applied: its state was not found (wlroots changed?)");
	finish(w, true);
}

void implicit_sync::finish(wait &w, bool timed_out) {
	std::chrono::nanoseconds waited = clock::now() - w.since;
	stats_.record(waited);
	(timed_out ? stats_.timeouts : stats_.signaled)++;
	wlr_surface *surface = w.surface;
	uint32_t seq = w.seq;
	if (!timed_out) {
		wlr_log(WLR_DEBUG, "import #%llu (dma-buf %s): write fence signalled after %lld ms",
		        static_cast<unsigned long long>(w.serial), w.dmabuf.c_str(), ms(waited));
	}
	waits_.erase(w.self); // frees w and its event sources
	// Applies the state (and the later ones queued behind it) unless
	// another lock (a synchronized subsurface) still holds it.
	wlr_surface_unlock_cached(surface, seq);
}

void fence_wait_stats::record(std::chrono::nanoseconds waited) {
	total += waited;
	max = std::max(max, waited);
}

} // namespace wlprime
