// kms_commit.cpp: the state of a KMS output: TEST_ONLY, commit, page flip
// and release after flip (see kms_backend.hpp and kms_internal.hpp).

#include <cerrno>
#include <cstring>

#include "render/buffer_import.hpp"
#include "render/kms_internal.hpp"

namespace wlprime {

// Adds the properties that show `fb_id` full-screen on out (fb_id 0: off).
void add_output_state(atomic_request &req, kms_output &out, uint32_t fb_id, bool modeset) {
	const prop_ids &p = out.props;
	bool on = fb_id != 0;
	if (modeset) {
		if (!on && out.dev->writeback) {
			out.dev->writeback->detach(req, out.crtc_id); // a CRTC off has no connector
		}
		req.add(out.connector_id, p.conn_crtc_id, on ? out.crtc_id : 0);
		req.add(out.crtc_id, p.crtc_mode_id, on ? out.mode_blob : 0);
		req.add(out.crtc_id, p.crtc_active, on ? 1 : 0);
	}
	uint32_t w = on ? out.mode.hdisplay : 0, h = on ? out.mode.vdisplay : 0;
	add_plane_state(req, out.plane_id, p.plane, fb_id, out.crtc_id, {0, 0, w, h, 0, 0, w, h});
	if (!on) { // no plane stays on a CRTC going off
		add_overlay_state(req, out, true);
		add_cursor_state(req, out, true);
	}
}

// The Import and framebuffer of a buffer to scan out on out's device: the
// Import attached to the buffer (render/buffer_import.hpp: our own buffers
// and every client dma-buf carry theirs; no lookup, no syscall). The
// framebuffer is cached with the Import: no ioctl after the first time.
result<scanout_slot> scanout_of(kms_output &out, wlr_buffer *buffer) {
	import_ref import = import_ref_of(buffer);
	if (!import) {
		return error{"not a dma-buf buffer (no Import attached)", EINVAL};
	}
	const device_import &d = import->framebuffer_on(out.dev->dev);
	if (d.fb_id() == 0) {
		return d.fb_err();
	}
	scanout_slot slot;
	slot.fb_id = d.fb_id();
	slot.import = std::move(import);
	slot.buffer = wlr_buffer_lock(buffer);
	return slot;
}

namespace {

// Whether out's display refused the Import before (its scanout verdict,
// import/import.hpp): then it is not asked again.
bool is_refused(const kms_output &out, const dmabuf_import &import) {
	const device_import *d = import.find_device(out.dev->dev);
	return d != nullptr && d->scanout().state == scanout_state::refused;
}

// Records that out's display refused the Import (its scanout verdict).
void refuse(kms_output &out, dmabuf_import &import, std::string why, int err) {
	error e{"import #" + std::to_string(import.serial()) + ": " + std::move(why), err};
	import.record_scanout(out.dev->dev, &e);
}

// What wlroots asks of the output, checked without an ioctl: the session,
// the mode, features this backend does not have, a buffer to light up with.
bool state_supported(kms_output &out, wlr_output *o) {
	if (out.dev->backend->paused) {
		return false; // no DRM master: even TEST_ONLY would fail (EACCES)
	}
	uint32_t committed = o->pending.committed;
	bool enabling = (committed & WLR_OUTPUT_STATE_ENABLED) && o->pending.enabled;
	if (committed & WLR_OUTPUT_STATE_MODE) {
		if (o->pending.mode_type != WLR_OUTPUT_STATE_MODE_FIXED ||
		    o->pending.mode != out.wlr_mode) {
			wlr_log(WLR_DEBUG, "output %s: only the preferred mode is supported",
			        o->name);
			return false;
		}
	}
	if (committed & (WLR_OUTPUT_STATE_GAMMA_LUT | WLR_OUTPUT_STATE_ADAPTIVE_SYNC_ENABLED)) {
		return false;
	}
	// Lighting up needs a buffer: wlroots then attaches one.
	return (committed & WLR_OUTPUT_STATE_BUFFER) || !(enabling && !out.active);
}

/*
 * wlr_output_test(). For a client buffer (direct scanout) this is the one
 * atomic TEST_ONLY commit of the frame: wlroots' scene tests the buffer
 * (wlr_output_test) and then commits it (wlr_output_commit), and the commit
 * trusts this test instead of making a second one. The answer is recorded
 * in the Import's scanout verdict for the device (import/import.hpp): a
 * refusal is not tested again; a pass is tested again at the next frame.
 */
bool output_test(wlr_output *o) noexcept {
	kms_output &out = *kms_output::from_wlr(o);
	if (!state_supported(out, o)) {
		return false;
	}
	if (!(o->pending.committed & WLR_OUTPUT_STATE_BUFFER)) {
		return true;
	}
	wlr_buffer *buffer = o->pending.buffer;
	if (is_output_buffer(buffer)) {
		return true;
	}
	// Direct scanout of a client buffer: does the display take it?
	// Bottom-up (y_invert) buffers are composed: the primary plane is not
	// reflected.
	// The verdict goes with the Import on the display device (imported
	// there for it, once).
	if (dmabuf_import *import = import_of(buffer);
	    import != nullptr && (import->key().flags & dmabuf_flag_y_invert)) {
		const device_import *d = import->find_device(out.dev->dev);
		if (d == nullptr) {
			d = &import->on_device(out.dev->dev);
		}
		if (d->scanout().state == scanout_state::unknown) {
			wlr_log(WLR_INFO,
			        "output %s: import #%llu is y_invert; the primary plane is not "
			        "reflected: it will be composed",
			        o->name, static_cast<unsigned long long>(import->serial()));
			refuse(out, *import,
			       "y_invert: the primary plane of " + out.dev->dev.name() +
			           " is not reflected",
			       EINVAL);
		}
		return false;
	}
	auto slot = scanout_of(out, buffer);
	if (!slot) {
		return false; // why: logged once by import/, cached there (or wl_shm)
	}
	uint64_t serial = slot->import->serial();
	if (is_refused(out, *slot->import)) {
		return false;
	}
	atomic_request req;
	add_output_state(req, out, slot->fb_id, !out.active);
	add_overlay_state(req, out);
	add_cursor_state(req, out);
	int err = out.dev->dev.kernel().atomic_commit(
	    out.dev->dev.fd(), req,
	    DRM_MODE_ATOMIC_TEST_ONLY | (out.active ? 0 : DRM_MODE_ATOMIC_ALLOW_MODESET), nullptr);
	if (err != 0) {
		wlr_log(WLR_INFO,
		        "output %s: direct scanout of import #%llu (fb %u) refused by %s: %s "
		        "(errno %d); it will be composed",
		        o->name, static_cast<unsigned long long>(serial), slot->fb_id,
		        out.dev->dev.name().c_str(), std::strerror(err), err);
		refuse(out, *slot->import,
		       "the primary plane " + std::to_string(out.plane_id) + " of " +
		           out.dev->dev.name() + " refused framebuffer " +
		           std::to_string(slot->fb_id) +
		           " (atomic TEST_ONLY commit): " + std::strerror(err),
		       err);
		return false;
	}
	slot->import->record_scanout(out.dev->dev, nullptr);
	return true;
}

// Turns the CRTC off now (one blocking commit) and lets go of what it showed.
bool disable_now(kms_output &out) {
	out.disable_deferred = false;
	if (out.active) {
		atomic_request req;
		add_output_state(req, out, 0, true);
		int err = out.dev->dev.kernel().atomic_commit(
		    out.dev->dev.fd(), req, DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr);
		if (err != 0) {
			wlr_log(WLR_ERROR,
			        "output %s: cannot turn off CRTC %u on %s: %s (errno %d)",
			        out.base()->name, out.crtc_id, out.dev->dev.name().c_str(),
			        std::strerror(err), err);
			return false;
		}
		out.active = false;
	}
	// Nothing is on screen any more: all of it can go.
	out.on_screen.reset();
	out.queued.reset();
	out.flip_pending = false;
	overlays_reset(out);
	cursor_reset(out);
	return true;
}

bool output_disable(kms_output &out) {
	kms_writeback *wb = out.dev->writeback.get();
	if (out.active && wb != nullptr && wb->busy(out.crtc_id)) {
		// The writeback of a capture is still being written: turning the
		// CRTC off now could leave its job (and framebuffer) unfinished in
		// the kernel. Off when its out-fence signals, on the event loop; by
		// CRTC, as the output may be gone by then.
		if (!out.disable_deferred) {
			out.disable_deferred = true;
			kms_device *kdev = out.dev;
			uint32_t crtc = out.crtc_id;
			wb->when_idle(crtc, [kdev, crtc]() {
				for (kms_output *o : kdev->outputs) {
					if (o->crtc_id == crtc && o->disable_deferred) {
						wlr_log(WLR_INFO,
						        "output %s: writeback done, CRTC %u goes "
						        "off now",
						        o->base()->name, crtc);
						(void)disable_now(*o); // a failure is logged there
					}
				}
			});
			wlr_log(
			    WLR_INFO,
			    "output %s: a writeback of CRTC %u on %s is still pending: the CRTC "
			    "goes off when it is done",
			    out.base()->name, out.crtc_id, out.dev->dev.name().c_str());
		}
		wlr_output_update_enabled(out.base(), false);
		return true;
	}
	if (!disable_now(out)) {
		return false;
	}
	wlr_output_update_enabled(out.base(), false);
	return true;
}

bool output_commit(wlr_output *o) noexcept {
	kms_output &out = *kms_output::from_wlr(o);
	if (out.dev->backend->paused) {
		wlr_log(WLR_DEBUG, "output %s: session inactive, commit %llu not done", o->name,
		        static_cast<unsigned long long>(++out.dev->backend->refused_commits));
		return false;
	}
	uint32_t committed = o->pending.committed;
	if ((committed & WLR_OUTPUT_STATE_ENABLED) && !o->pending.enabled) {
		return output_disable(out);
	}
	// No TEST_ONLY here: wlroots tested a client buffer just before
	// (output_test), and the kernel checks the real commit anyway.
	if (!state_supported(out, o)) {
		return false;
	}
	if (out.disable_deferred) {
		// On again before its CRTC went off: it never did.
		out.disable_deferred = false;
		wlr_output_update_enabled(o, true);
	}
	if (!(committed & WLR_OUTPUT_STATE_BUFFER)) {
		return true;
	}
	if (out.flip_pending) {
		wlr_log(WLR_ERROR, "output %s: a flip is still pending", o->name);
		out.overlays_pending.clear();
		return false;
	}
	wlr_buffer *buffer = o->pending.buffer;
	bool own = is_output_buffer(buffer);
	// A frame of the render device that this display cannot import
	// (kms_render_target.hpp): its CPU copy in a dumb buffer of the display
	// is scanned out instead.
	wlr_buffer *copied = nullptr;
	if (own && kms_buffer::from_wlr(buffer) == nullptr) {
		dmabuf_import *import = import_of(buffer);
		if (import != nullptr && import->framebuffer_on(out.dev->dev).fb_id() == 0) {
			if (!out.display_copy) {
				out.display_copy =
				    std::make_unique<kms_display_copy>(out.dev->allocator->base());
			}
			copied = out.display_copy->copy(buffer, o->name);
			if (copied == nullptr) {
				return false; // why: logged once
			}
			buffer = copied;
		}
	}
	auto slot = scanout_of(out, buffer);
	if (copied != nullptr) {
		wlr_buffer_unlock(copied); // the slot holds its own lock
	}
	if (!slot) {
		wlr_log(WLR_ERROR, "output %s: cannot scan out: %s", o->name,
		        slot.err().message.c_str());
		return false;
	}
	if (!own && is_refused(out, *slot->import)) {
		return false; // refused by a test before: composed instead
	}
	kernel_api &kernel = out.dev->dev.kernel();
	bool modeset = !out.active;
	atomic_request req;
	add_output_state(req, out, slot->fb_id, modeset);
	add_overlay_state(req, out);
	add_cursor_state(req, out);
	uint32_t flags = DRM_MODE_PAGE_FLIP_EVENT | DRM_MODE_ATOMIC_NONBLOCK |
	                 (modeset ? DRM_MODE_ATOMIC_ALLOW_MODESET : 0);
	// A capture asked for (kms_writeback.hpp): this commit also writes back.
	uint32_t wb_flags = flags;
	atomic_request plain = req;
	bool wb =
	    out.dev->writeback &&
	    out.dev->writeback->arm(req, out.crtc_id, out.connector_id, out.props.conn_crtc_id,
	                            out.mode.hdisplay, out.mode.vdisplay, &wb_flags);
	int err = kernel.atomic_commit(out.dev->dev.fd(), req, wb_flags, out.dev);
	if (wb) {
		out.dev->writeback->committed(err);
		if (err != 0) { // the capture failed (logged by its callback); the frame goes on
			err = kernel.atomic_commit(out.dev->dev.fd(), plain, flags, out.dev);
		}
	}
	if (err != 0) {
		wlr_log(WLR_ERROR,
		        "output %s: atomic commit of fb %u (import #%llu) on %s: %s (errno %d)",
		        o->name, slot->fb_id,
		        static_cast<unsigned long long>(slot->import->serial()),
		        out.dev->dev.name().c_str(), std::strerror(err), err);
		if (!own && (err == EINVAL || err == ERANGE)) { // the display does not take it
			refuse(out, *slot->import,
			       "the atomic commit of framebuffer " + std::to_string(slot->fb_id) +
			           " on " + out.dev->dev.name() + " failed: " + std::strerror(err),
			       err);
		}
		out.overlays_pending.clear();
		return false;
	}
	overlays_committed(out);
	cursor_committed(out);
	out.flip_pending = true;
	(own ? out.stats.composed : out.stats.direct_scanout)++;
	out.stats.commits++;
	if (copied != nullptr) {
		out.stats.display_copies = out.display_copy->frames();
		out.stats.display_copy_bytes = out.display_copy->bytes();
	}
	wlr_log(WLR_DEBUG, "output %s: commit %llu: fb %u (import #%llu, %s) queued", o->name,
	        static_cast<unsigned long long>(out.stats.commits), slot->fb_id,
	        static_cast<unsigned long long>(slot->import->serial()),
	        own ? "composed" : "direct scanout");
	out.queued = std::move(*slot);
	if (modeset) {
		out.active = true;
		wlr_output_update_mode(o, out.wlr_mode);
		wlr_output_update_enabled(o, true);
		wlr_log(WLR_INFO, "output %s: mode %dx%d@%d.%03d Hz set on %s (CRTC %u, plane %u)",
		        o->name, out.mode.hdisplay, out.mode.vdisplay, out.wlr_mode->refresh / 1000,
		        out.wlr_mode->refresh % 1000, out.dev->dev.name().c_str(), out.crtc_id,
		        out.plane_id);
	}
	return true;
}

void output_destroy(wlr_output *o) noexcept {
	kms_output *out = kms_output::from_wlr(o);
	auto &list = out->dev->outputs;
	list.erase(std::remove(list.begin(), list.end(), out), list.end());
	out->on_screen.reset();
	out->queued.reset();
	overlays_reset(*out);
	if (out->dev->overlays) {
		out->dev->overlays->drop_output(out->crtc_id);
	}
	if (out->mode_blob != 0 &&
	    drmModeDestroyPropertyBlob(out->dev->dev.fd(), out->mode_blob) != 0) {
		int err = errno;
		wlr_log(WLR_ERROR, "output %s: destroying mode blob %u on %s: %s (errno %d)",
		        o->name, out->mode_blob, out->dev->dev.name().c_str(), std::strerror(err),
		        err);
	}
	wlr_output_mode *mode, *tmp;
	wl_list_for_each_safe(mode, tmp, &o->modes, link) {
		wl_list_remove(&mode->link);
		delete mode;
	}
	delete out;
}

void handle_page_flip(int, unsigned seq, unsigned tv_sec, unsigned tv_usec, unsigned crtc_id,
                      void *data) noexcept {
	auto *dev = static_cast<kms_device *>(data);
	// By CRTC, not by the commit's user data: the output may be gone.
	auto it = std::find_if(dev->outputs.begin(), dev->outputs.end(),
	                       [crtc_id](kms_output *o) { return o->crtc_id == crtc_id; });
	if (it == dev->outputs.end()) {
		return;
	}
	kms_output &out = **it;
	if (!out.flip_pending) {
		return; // turned off in between
	}
	out.flip_pending = false;
	out.stats.flips++;
	// The flip completed: what was on screen before is no longer read.
	uint32_t old_fb = out.on_screen.fb_id;
	if (out.queued) {
		if (out.on_screen) {
			out.stats.released++;
		}
		out.on_screen = std::move(out.queued);
		wlr_log(WLR_DEBUG, "output %s: flip %llu (seq %u): fb %u on screen, fb %u released",
		        out.base()->name, static_cast<unsigned long long>(out.stats.flips), seq,
		        out.on_screen.fb_id, old_fb);
	} else {
		wlr_log(WLR_DEBUG,
		        "output %s: overlay flip %llu (seq %u): fb %u stays on the primary plane",
		        out.base()->name, static_cast<unsigned long long>(out.stats.flips), seq,
		        out.on_screen.fb_id);
	}
	if (out.overlays_queued) {
		// Per plane: what it shows now, and what it showed before (let go).
		std::vector<overlay_slot> &now = *out.overlays_queued;
		for (const overlay_slot &before : out.overlays_on_screen) {
			auto kept =
			    std::find_if(now.begin(), now.end(), [&](const overlay_slot &n) {
				    return n.use.plane_id == before.use.plane_id;
			    });
			if (kept == now.end()) {
				wlr_log(WLR_DEBUG,
				        "output %s: overlay plane %u: off, fb %u released",
				        out.base()->name, before.use.plane_id, before.use.fb_id);
			}
		}
		for (const overlay_slot &n : now) {
			auto was =
			    std::find_if(out.overlays_on_screen.begin(),
			                 out.overlays_on_screen.end(), [&](const overlay_slot &b) {
				                 return b.use.plane_id == n.use.plane_id;
			                 });
			wlr_log(WLR_DEBUG,
			        "output %s: overlay plane %u: fb %u on screen, fb %u released",
			        out.base()->name, n.use.plane_id, n.use.fb_id,
			        was != out.overlays_on_screen.end() ? was->use.fb_id : 0);
		}
		out.stats.released += out.overlays_on_screen.size();
		out.overlays_on_screen = std::move(now);
		out.overlays_queued.reset();
	}
	cursor_flipped(out);

	timespec when = {static_cast<time_t>(tv_sec), static_cast<long>(tv_usec) * 1000};
	int32_t refresh = out.wlr_mode != nullptr ? out.wlr_mode->refresh : 0;
	wlr_output_event_present present = {};
	present.output = out.base();
	present.commit_seq = out.base()->commit_seq;
	present.presented = true;
	present.when = &when;
	present.seq = seq;
	present.refresh = refresh > 0 ? static_cast<int>(1000000000000ll / refresh) : 0;
	present.flags = WLR_OUTPUT_PRESENT_VSYNC | WLR_OUTPUT_PRESENT_HW_CLOCK |
	                WLR_OUTPUT_PRESENT_HW_COMPLETION;
	// A client's buffer on screen, not one we composed or copied into: the
	// one surface of this frame was shown without a copy (wp_presentation's
	// zero_copy; wlroots 0.15 takes the flags of the output's event).
	wlr_buffer *shown = out.on_screen.buffer;
	if (shown != nullptr && !is_output_buffer(shown)) {
		present.flags |= WLR_OUTPUT_PRESENT_ZERO_COPY;
	}
	wlr_output_send_present(out.base(), &present);
	wlr_output_send_frame(out.base());
}

} // namespace

// No gamma or format lists: those members stay null.
const wlr_output_impl kms_output_impl = {
    .set_cursor = output_set_cursor,
    .move_cursor = output_move_cursor,
    .destroy = output_destroy,
    .test = output_test,
    .commit = output_commit,
    .get_cursor_formats = output_get_cursor_formats,
    .get_cursor_size = output_get_cursor_size,
};

int handle_drm_event(int fd, uint32_t mask, void *data) noexcept {
	drmEventContext ctx = {};
	ctx.version = 3;
	ctx.page_flip_handler2 = handle_page_flip;
	if (drmHandleEvent(fd, &ctx) != 0) {
		int err = errno;
		wlr_log(WLR_ERROR, "drmHandleEvent on %s failed: %s (errno %d)",
		        static_cast<kms_device *>(data)->dev.name().c_str(), std::strerror(err),
		        err);
	}
	return 0;
}

bool kms_output_capture(wlr_output *output, writeback_done done) {
	kms_output *found = kms_output_of(output);
	if (found == nullptr) {
		return false;
	}
	kms_output &out = *found;
	kms_writeback *wb = out.dev->writeback.get();
	if (wb == nullptr || !out.active || out.disable_deferred || out.crtc_index < 0 ||
	    !wb->serves(out.crtc_index)) {
		return false;
	}
	// After the capture, one more commit (it may have to give the CRTC back
	// to the output's connector, see kms_writeback.hpp). By CRTC: the output
	// may be gone by then; the device is not (it owns the writeback).
	kms_device *kdev = out.dev;
	uint32_t crtc = out.crtc_id;
	wb->request(crtc, [kdev, crtc, done = std::move(done)](result<image> img) {
		for (kms_output *o : kdev->outputs) {
			if (o->crtc_id == crtc) {
				wlr_output_update_needs_frame(o->base());
				wlr_output_schedule_frame(o->base());
			}
		}
		done(std::move(img));
	});
	// A commit, even without damage. needs_frame alone does not schedule
	// one when it is set already (as the overlay path leaves it: its
	// commits of the planes alone are not wlroots' buffer commits).
	wlr_output_update_needs_frame(output);
	wlr_output_schedule_frame(output);
	return true;
}

const kms_output_stats *kms_output_get_stats(wlr_output *output) {
	const kms_output *out = kms_output_of(output);
	return out != nullptr ? &out->stats : nullptr;
}

kms_scanout_state kms_output_get_scanout(wlr_output *output) {
	kms_scanout_state state;
	const kms_output *out = kms_output_of(output);
	if (out == nullptr) {
		return state;
	}
	if (out->on_screen) {
		state.on_screen_import = out->on_screen.import->serial();
		state.on_screen_fb = out->on_screen.fb_id;
	}
	if (out->queued) {
		state.queued_import = out->queued.import->serial();
		state.queued_fb = out->queued.fb_id;
	}
	state.device = &out->dev->dev;
	state.connector_id = out->connector_id;
	state.crtc_id = out->crtc_id;
	state.primary_plane = out->dev->planes.used_for(DRM_PLANE_TYPE_PRIMARY, out->crtc_id);
	state.render_target = out->dev->render_allocator;
	return state;
}

} // namespace wlprime
