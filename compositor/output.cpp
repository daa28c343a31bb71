#include "compositor/output.hpp"

#include <ctime>

#include "compositor/server.hpp"
#include "render/kms_backend.hpp"

namespace wlprime {

output::output(server &srv, wlr_output *wlr_output, copy_observer on_copy,
               overlay_frame::change_observer on_plane)
    : server_(srv), wlr_output_(wlr_output) {
	// A KMS output allocates on its own display device; others share the
	// server's allocator.
	wlr_allocator *allocator = kms_output_allocator(wlr_output_);
	if (allocator == nullptr) {
		allocator = server_.allocator();
	}
	if (!wlr_output_init_render(wlr_output_, allocator, server_.renderer())) {
		wlr_log(WLR_ERROR, "output %s: cannot initialise rendering", wlr_output_->name);
		return;
	}

	// Outputs with modes (DRM, and some nested ones) need one set; headless
	// and nested outputs have a custom size already.
	if (!wl_list_empty(&wlr_output_->modes)) {
		wlr_output_mode *mode = wlr_output_preferred_mode(wlr_output_);
		wlr_output_set_mode(wlr_output_, mode);
	}
	wlr_output_enable(wlr_output_, true);
	if (!wlr_output_commit(wlr_output_)) {
		wlr_log(WLR_ERROR, "output %s: cannot enable", wlr_output_->name);
		return;
	}

	is_kms_ = kms_output_get_stats(wlr_output_) != nullptr;
	if (is_kms_) {
		import_context *imports = server_.context();
		copy_ = std::make_unique<scanout_copy>(
		    wlr_output_, imports ? &imports->cache() : nullptr, std::move(on_copy));
		overlays_ = std::make_unique<overlay_frame>(
		    wlr_output_, server_.scene()->presentation, std::move(on_plane));
	}
	frame_.connect(&wlr_output_->events.frame, [this] { handle_frame(); });
	present_.connect(&wlr_output_->events.present,
	                 [this](wlr_output_event_present *event) { handle_present(*event); });
	destroy_.connect(&wlr_output_->events.destroy, [this] {
		// Frees this: nothing after it.
		server_.remove_output(this);
	});

	// Creates the wl_output global's place in the layout and, through
	// wlr_scene_attach_output_layout, this output's wlr_scene_output.
	wlr_output_layout_add_auto(server_.layout(), wlr_output_);
	wlr_log(WLR_INFO, "output %s: %dx%d, added to the layout", wlr_output_->name,
	        wlr_output_->width, wlr_output_->height);
	ok_ = true;
}

output::~output() = default;

wlr_scene_output *output::scene_output() const {
	return wlr_scene_get_scene_output(server_.scene(), wlr_output_);
}

void output::handle_frame() {
	wlr_scene_output *so = scene_output();
	if (so == nullptr) {
		return;
	}
	uint32_t seq_before = wlr_output_->commit_seq;
	// What clients committed up to now is in this frame.
	const client_activity *activity = server_.activity();
	const uint64_t mark = activity != nullptr ? activity->content_mark() : 0;
	if (overlays_ != nullptr) {
		if (kms_output_flip_pending(wlr_output_)) {
			return; // the frame event of its flip comes
		}
		if (kms_output_wait_writeback(wlr_output_)) {
			return; // a frame is scheduled for when the capture is written
		}
		uint64_t overlay_only = overlays_->overlay_only_frames();
		if (overlays_->frame(so)) {
			last_commit_direct_ = false;
			if (wlr_output_->commit_seq != seq_before ||
			    overlays_->overlay_only_frames() != overlay_only) {
				frame_committed(mark);
				frame_done_pending_ = true; // sent at the flip's present
				frame_done_seq_ = wlr_output_->commit_seq;
				return;
			}
			send_frame_done_unless_pending();
			return;
		}
	}
	// wlroots 0.15's scene commits a directly scanned-out buffer again on
	// every frame, damage or not: on a KMS output that is a page flip per
	// refresh for nothing, and the client's next buffer then waits a flip
	// behind it. After a direct scanout, commit only when something changed
	// (damage, or a frame asked for); composition already works that way.
	bool changed = wlr_output_->needs_frame || pixman_region32_not_empty(&so->damage->current);
	if (last_commit_direct_ && !changed) {
		commit_planes_or_frame_done();
		return;
	}
	const kms_output_stats *stats = kms_output_get_stats(wlr_output_);
	uint64_t direct_before = stats != nullptr ? stats->direct_scanout : 0;
	// A fullscreen client buffer that the display cannot scan out is
	// copied; anything else goes to the scene, which scans out directly or
	// renders the damage and commits (a no-op without damage).
	if (copy_ == nullptr || !copy_->frame(so)) {
		if (!wlr_scene_output_commit(so)) {
			wlr_log(WLR_DEBUG, "output %s: frame commit failed", wlr_output_->name);
		}
	}
	bool committed = wlr_output_->commit_seq != seq_before;
	if (committed) {
		last_commit_direct_ = stats != nullptr && stats->direct_scanout != direct_before;
		frame_committed(mark);
	}
	if (is_kms_ && committed) {
		// Sent when the page flip of this commit completes.
		frame_done_pending_ = true;
		frame_done_seq_ = wlr_output_->commit_seq;
		return;
	}
	if (committed) {
		frame_shown(); // headless and nested outputs present at commit
	}
	commit_planes_or_frame_done();
}

void output::frame_committed(uint64_t mark) {
	frame_mark_ = mark;
	if (client_activity *activity = server_.activity()) {
		activity->frame_committed(wlr_output_, mark);
	}
}

void output::frame_shown() {
	if (client_activity *activity = server_.activity()) {
		activity->frame_shown(wlr_output_, frame_mark_);
	}
}

void output::commit_planes_or_frame_done() {
	// Nothing composed: the pointer may have moved on the cursor plane.
	if (is_kms_ && kms_output_commit_planes(wlr_output_)) {
		frame_done_pending_ = true; // sent at the flip's present
		frame_done_seq_ = wlr_output_->commit_seq;
		return;
	}
	send_frame_done_unless_pending();
}

void output::send_frame_done_unless_pending() {
	if (is_kms_ && frame_done_pending_) {
		return; // the flip of an earlier commit is still due
	}
	// Nothing committed (no damage, or the commit failed): no flip will
	// come for it, so the clients hear now; headless and nested outputs
	// present at commit.
	send_frame_done(nullptr);
}

void output::handle_present(const wlr_output_event_present &event) {
	if (!frame_done_pending_) {
		return;
	}
	// The KMS backend's present event carries the output's commit_seq
	// after the commit it presents (wlroots counts after impl->commit).
	if (event.commit_seq + 1 < frame_done_seq_) {
		return; // an earlier frame's flip
	}
	frame_done_pending_ = false;
	wlr_log(WLR_DEBUG, "output %s: frame done after the flip of commit %u", wlr_output_->name,
	        event.commit_seq);
	frame_shown();
	send_frame_done(event.when);
}

void output::send_frame_done(const timespec *when) {
	wlr_scene_output *so = scene_output();
	if (so == nullptr) {
		return;
	}
	timespec now{};
	if (when != nullptr) {
		now = *when;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &now);
	}
	wlr_scene_output_send_frame_done(so, &now);
}

} // namespace wlprime
