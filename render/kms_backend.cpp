#include "render/kms_backend.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <xf86drmMode.h>

#include "import/formats.hpp"
#include "import/kernel.hpp"
#include "render/buffer_import.hpp"
#include "render/kms_buffer.hpp"
#include "render/kms_props.hpp"
#include "render/kms_writeback.hpp"

namespace wlprime {
namespace {

struct kms_backend;
struct kms_device;

// What an output shows, or will show after the next flip: a lock on the
// wlr_buffer and a reference to its Import (which keeps the framebuffer).
struct scanout_slot {
	wlr_buffer *buffer = nullptr; // locked
	import_ref import;
	uint32_t fb_id = 0;

	scanout_slot() = default;
	scanout_slot(scanout_slot &&o) noexcept
	    : buffer(std::exchange(o.buffer, nullptr)), import(std::move(o.import)),
	      fb_id(std::exchange(o.fb_id, 0)) {}
	scanout_slot &operator=(scanout_slot &&o) noexcept {
		if (this != &o) {
			reset();
			buffer = std::exchange(o.buffer, nullptr);
			import = std::move(o.import);
			fb_id = std::exchange(o.fb_id, 0);
		}
		return *this;
	}
	~scanout_slot() { reset(); }
	explicit operator bool() const { return buffer != nullptr; }
	void reset() {
		if (buffer != nullptr) {
			wlr_buffer_unlock(std::exchange(buffer, nullptr));
		}
		import.reset();
		fb_id = 0;
	}
};

struct prop_ids {
	uint32_t conn_crtc_id = 0;
	uint32_t crtc_mode_id = 0, crtc_active = 0;
	uint32_t plane_fb_id = 0, plane_crtc_id = 0;
	uint32_t src_x = 0, src_y = 0, src_w = 0, src_h = 0;
	uint32_t crtc_x = 0, crtc_y = 0, crtc_w = 0, crtc_h = 0;
};

struct kms_output {
	struct wlr_part {
		wlr_output base;
		kms_output *owner;
	};
	wlr_part wlr_{};
	kms_device *dev = nullptr;
	uint32_t connector_id = 0, crtc_id = 0, plane_id = 0;
	int crtc_index = -1; // in the device's CRTC list (possible_crtcs bits)
	prop_ids props;
	drmModeModeInfo mode{};
	uint32_t mode_blob = 0;
	wlr_output_mode *wlr_mode = nullptr; // in wlr_.base.modes, ours
	bool active = false;                 // CRTC on, mode set
	// wlroots turned the output off while a writeback capture of its CRTC
	// was still being written: the CRTC goes off when the capture's
	// out-fence signals (kms_writeback::when_idle), not before.
	bool disable_deferred = false;
	scanout_slot on_screen, queued;
	kms_output_stats stats;

	wlr_output *base() { return &wlr_.base; }
	static kms_output *from_wlr(wlr_output *o) {
		return reinterpret_cast<wlr_part *>(o)->owner;
	}
};

struct kms_device {
	device &dev;
	kms_backend *backend = nullptr;
	kms_allocator *allocator = nullptr;       // owned
	std::unique_ptr<kms_writeback> writeback; // null: the device has none
	wl_event_source *source = nullptr;
	std::vector<kms_output *> outputs; // owned through their wlr_outputs
	explicit kms_device(device &d) : dev(d) {}
};

struct kms_backend {
	struct wlr_part {
		wlr_backend base;
		kms_backend *owner;
	};
	wlr_part wlr_{};
	wl_display *display = nullptr;
	import_cache *cache = nullptr;
	std::vector<std::unique_ptr<kms_device>> devices;
	bool started = false;
	// The seat session is inactive (VT switched away): no DRM master, no
	// commit (kms_backend_set_active).
	bool paused = false;
	uint64_t refused_commits = 0; // while paused

	wlr_backend *base() { return &wlr_.base; }
	static kms_backend *from_wlr(wlr_backend *b) {
		return reinterpret_cast<wlr_part *>(b)->owner;
	}
};

void backend_destroy(wlr_backend *backend) noexcept;
bool backend_start(wlr_backend *backend) noexcept;

clockid_t backend_clock(wlr_backend *) noexcept {
	return CLOCK_MONOTONIC;
}
uint32_t backend_caps(wlr_backend *) noexcept {
	return WLR_BUFFER_CAP_DMABUF;
}

const wlr_backend_impl backend_impl = {
    .start = backend_start,
    .destroy = backend_destroy,
    .get_session = nullptr,
    .get_presentation_clock = backend_clock,
    .get_drm_fd = nullptr,
    .get_buffer_caps = backend_caps,
};

bool output_test(wlr_output *o) noexcept;
bool output_commit(wlr_output *o) noexcept;
void output_destroy(wlr_output *o) noexcept;

const wlr_output_impl output_impl = {
    .set_cursor = nullptr,
    .move_cursor = nullptr,
    .destroy = output_destroy,
    .test = output_test,
    .commit = output_commit,
    .get_gamma_size = nullptr,
    .get_cursor_formats = nullptr,
    .get_cursor_size = nullptr,
    .get_primary_formats = nullptr,
};

int32_t mode_refresh_mhz(const drmModeModeInfo &m) {
	if (m.htotal == 0 || m.vtotal == 0) {
		return 0;
	}
	int64_t refresh = (int64_t(m.clock) * 1000000 / m.htotal + m.vtotal / 2) / m.vtotal;
	if (m.flags & DRM_MODE_FLAG_INTERLACE) {
		refresh *= 2;
	}
	if (m.flags & DRM_MODE_FLAG_DBLSCAN) {
		refresh /= 2;
	}
	if (m.vscan > 1) {
		refresh /= m.vscan;
	}
	return static_cast<int32_t>(refresh);
}

// The primary plane that can show CRTC number crtc_index, or 0.
uint32_t primary_plane(const device &dev, int crtc_index, const std::vector<uint32_t> &taken) {
	int fd = dev.fd();
	drmModePlaneRes *planes = drmModeGetPlaneResources(fd);
	if (planes == nullptr) {
		int err = errno;
		wlr_log(WLR_ERROR, "%s: drmModeGetPlaneResources: %s (errno %d)",
		        dev.name().c_str(), std::strerror(err), err);
		return 0;
	}
	uint32_t found = 0;
	for (uint32_t i = 0; i < planes->count_planes && found == 0; i++) {
		drmModePlane *plane = drmModeGetPlane(fd, planes->planes[i]);
		if (plane == nullptr) {
			int err = errno;
			wlr_log(WLR_ERROR, "%s: drmModeGetPlane(%u): %s (errno %d)",
			        dev.name().c_str(), planes->planes[i], std::strerror(err), err);
			continue;
		}
		if ((plane->possible_crtcs & (1u << crtc_index)) &&
		    std::find(taken.begin(), taken.end(), plane->plane_id) == taken.end() &&
		    kms_prop_value(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE, "type") ==
		        DRM_PLANE_TYPE_PRIMARY) {
			found = plane->plane_id;
		}
		drmModeFreePlane(plane);
	}
	drmModeFreePlaneResources(planes);
	return found;
}

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
	req.add(out.plane_id, p.plane_fb_id, fb_id);
	req.add(out.plane_id, p.plane_crtc_id, on ? out.crtc_id : 0);
	uint64_t w = on ? out.mode.hdisplay : 0, h = on ? out.mode.vdisplay : 0;
	req.add(out.plane_id, p.src_x, 0);
	req.add(out.plane_id, p.src_y, 0);
	req.add(out.plane_id, p.src_w, w << 16);
	req.add(out.plane_id, p.src_h, h << 16);
	req.add(out.plane_id, p.crtc_x, 0);
	req.add(out.plane_id, p.crtc_y, 0);
	req.add(out.plane_id, p.crtc_w, w);
	req.add(out.plane_id, p.crtc_h, h);
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
	if (kms_buffer::from_wlr(buffer) != nullptr) {
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
		           std::to_string(slot->fb_id) + " (atomic TEST_ONLY commit): " +
		           std::strerror(err),
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
	// Nothing is on screen any more: both can go.
	out.on_screen.reset();
	out.queued.reset();
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
	if (out.queued) {
		wlr_log(WLR_ERROR, "output %s: a flip is still pending", o->name);
		return false;
	}
	auto slot = scanout_of(out, o->pending.buffer);
	if (!slot) {
		wlr_log(WLR_ERROR, "output %s: cannot scan out: %s", o->name,
		        slot.err().message.c_str());
		return false;
	}
	bool own = kms_buffer::from_wlr(o->pending.buffer) != nullptr;
	if (!own && is_refused(out, *slot->import)) {
		return false; // refused by a test before: composed instead
	}
	kernel_api &kernel = out.dev->dev.kernel();
	bool modeset = !out.active;
	atomic_request req;
	add_output_state(req, out, slot->fb_id, modeset);
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
		return false;
	}
	(own ? out.stats.composed : out.stats.direct_scanout)++;
	out.stats.commits++;
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
	if (!out.queued) {
		return; // turned off in between
	}
	out.stats.flips++;
	// The flip completed: what was on screen before is no longer read.
	uint32_t old_fb = out.on_screen.fb_id;
	if (out.on_screen) {
		out.stats.released++;
	}
	out.on_screen = std::move(out.queued);
	wlr_log(WLR_DEBUG, "output %s: flip %llu (seq %u): fb %u on screen, fb %u released",
	        out.base()->name, static_cast<unsigned long long>(out.stats.flips), seq,
	        out.on_screen.fb_id, old_fb);

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
	wlr_output_send_present(out.base(), &present);
	wlr_output_send_frame(out.base());
}

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

// The outputs of one device: every connected connector with a CRTC and a
// primary plane to spare.
// Looks up the atomic property ids of out (connector, CRTC, plane). False,
// with the missing one logged, if any is absent or cannot be read.
bool find_output_props(const device &dev, kms_output &out) {
	int fd = dev.fd();
	prop_ids &p = out.props;
	bool ok = true;
	auto find = [&](uint32_t &id, uint32_t object, uint32_t type, const char *what,
	                const char *name) {
		id = kms_prop_id(fd, object, type, name);
		if (id == 0) {
			wlr_log(WLR_ERROR, "%s: %s %u has no property %s (or it cannot be read)",
			        dev.name().c_str(), what, object, name);
			ok = false;
		}
	};
	find(p.conn_crtc_id, out.connector_id, DRM_MODE_OBJECT_CONNECTOR, "connector", "CRTC_ID");
	find(p.crtc_mode_id, out.crtc_id, DRM_MODE_OBJECT_CRTC, "CRTC", "MODE_ID");
	find(p.crtc_active, out.crtc_id, DRM_MODE_OBJECT_CRTC, "CRTC", "ACTIVE");
	const uint32_t plane = out.plane_id;
	const uint32_t type = DRM_MODE_OBJECT_PLANE;
	find(p.plane_fb_id, plane, type, "plane", "FB_ID");
	find(p.plane_crtc_id, plane, type, "plane", "CRTC_ID");
	find(p.src_x, plane, type, "plane", "SRC_X");
	find(p.src_y, plane, type, "plane", "SRC_Y");
	find(p.src_w, plane, type, "plane", "SRC_W");
	find(p.src_h, plane, type, "plane", "SRC_H");
	find(p.crtc_x, plane, type, "plane", "CRTC_X");
	find(p.crtc_y, plane, type, "plane", "CRTC_Y");
	find(p.crtc_w, plane, type, "plane", "CRTC_W");
	find(p.crtc_h, plane, type, "plane", "CRTC_H");
	return ok;
}

status create_outputs(kms_backend &backend, kms_device &kdev) {
	int fd = kdev.dev.fd();
	drmModeRes *res = drmModeGetResources(fd);
	if (res == nullptr) {
		int err = errno;
		return error{kdev.dev.name() + ": not a KMS device (drmModeGetResources: " +
		                 std::strerror(err) + ")",
		             err};
	}
	std::vector<uint32_t> crtcs_taken, planes_taken;
	for (int c = 0; c < res->count_connectors; c++) {
		drmModeConnector *conn = drmModeGetConnector(fd, res->connectors[c]);
		if (conn == nullptr) {
			int err = errno;
			wlr_log(WLR_ERROR, "%s: drmModeGetConnector(%u): %s (errno %d)",
			        kdev.dev.name().c_str(), res->connectors[c], std::strerror(err),
			        err);
			continue;
		}
		if (conn->connection != DRM_MODE_CONNECTED || conn->count_modes == 0 ||
		    conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			drmModeFreeConnector(conn);
			continue;
		}
		// A CRTC that one of the connector's encoders can drive.
		int crtc_index = -1;
		for (int e = 0; e < conn->count_encoders && crtc_index < 0; e++) {
			drmModeEncoder *enc = drmModeGetEncoder(fd, conn->encoders[e]);
			if (enc == nullptr) {
				int err = errno;
				wlr_log(WLR_ERROR, "%s: drmModeGetEncoder(%u): %s (errno %d)",
				        kdev.dev.name().c_str(), conn->encoders[e],
				        std::strerror(err), err);
				continue;
			}
			for (int i = 0; i < res->count_crtcs && crtc_index < 0; i++) {
				if ((enc->possible_crtcs & (1u << i)) &&
				    std::find(crtcs_taken.begin(), crtcs_taken.end(),
				              res->crtcs[i]) == crtcs_taken.end()) {
					crtc_index = i;
				}
			}
			drmModeFreeEncoder(enc);
		}
		uint32_t plane =
		    crtc_index >= 0 ? primary_plane(kdev.dev, crtc_index, planes_taken) : 0;
		if (plane == 0) {
			wlr_log(WLR_ERROR, "%s: connector %u: no free CRTC with a primary plane",
			        kdev.dev.name().c_str(), conn->connector_id);
			drmModeFreeConnector(conn);
			continue;
		}

		auto out = std::make_unique<kms_output>();
		out->wlr_.owner = out.get();
		out->dev = &kdev;
		out->connector_id = conn->connector_id;
		out->crtc_id = res->crtcs[crtc_index];
		out->crtc_index = crtc_index;
		out->plane_id = plane;
		int preferred = 0;
		for (int m = 0; m < conn->count_modes; m++) {
			if (conn->modes[m].type & DRM_MODE_TYPE_PREFERRED) {
				preferred = m;
				break;
			}
		}
		out->mode = conn->modes[preferred];
		if (!find_output_props(kdev.dev, *out)) {
			wlr_log(WLR_ERROR, "%s: connector %u: not driven (a property is missing)",
			        kdev.dev.name().c_str(), conn->connector_id);
			drmModeFreeConnector(conn);
			continue;
		}
		if (drmModeCreatePropertyBlob(fd, &out->mode, sizeof(out->mode), &out->mode_blob) !=
		    0) {
			int err = errno;
			wlr_log(WLR_ERROR,
			        "%s: connector %u: mode blob of %s: %s (errno %d); not driven",
			        kdev.dev.name().c_str(), conn->connector_id, out->mode.name,
			        std::strerror(err), err);
			out->mode_blob = 0;
			drmModeFreeConnector(conn);
			continue;
		}
		crtcs_taken.push_back(out->crtc_id);
		planes_taken.push_back(plane);

		kms_output *raw = out.release(); // owned through its wlr_output from here
		wlr_output *o = raw->base();
		wlr_output_init(o, backend.base(), &output_impl, backend.display);
		auto *mode = new wlr_output_mode();
		mode->width = raw->mode.hdisplay;
		mode->height = raw->mode.vdisplay;
		mode->refresh = mode_refresh_mhz(raw->mode);
		mode->preferred = true;
		wl_list_insert(&o->modes, &mode->link);
		raw->wlr_mode = mode;

		const char *type = drmModeGetConnectorTypeName(conn->connector_type);
		std::string name = std::string(type ? type : "Unknown") + "-" +
		                   std::to_string(conn->connector_type_id);
		for (auto &other : backend.devices) {
			for (kms_output *oo : other->outputs) {
				if (name == oo->base()->name) {
					name += "-" + std::to_string(minor(kdev.dev.info().rdev));
				}
			}
		}
		wlr_output_set_name(o, name.c_str());
		std::snprintf(o->make, sizeof(o->make), "%s", kdev.dev.info().driver.c_str());
		std::snprintf(o->model, sizeof(o->model), "%s", type ? type : "Unknown");
		std::string description =
		    kdev.dev.info().driver + " " + kdev.dev.info().path + " " + name;
		wlr_output_set_description(o, description.c_str());
		o->phys_width = static_cast<int32_t>(conn->mmWidth);
		o->phys_height = static_cast<int32_t>(conn->mmHeight);
		kdev.outputs.push_back(raw);
		wlr_log(WLR_INFO, "%s: output %s: connector %u, CRTC %u, primary plane %u, %dx%d",
		        kdev.dev.name().c_str(), name.c_str(), raw->connector_id, raw->crtc_id,
		        plane, mode->width, mode->height);
		drmModeFreeConnector(conn);
	}
	drmModeFreeResources(res);
	if (kdev.outputs.empty()) {
		return error{kdev.dev.name() + ": no connected connector to drive", ENODEV};
	}
	return done{};
}

bool backend_start(wlr_backend *b) noexcept {
	kms_backend &backend = *kms_backend::from_wlr(b);
	if (backend.started) {
		return true;
	}
	backend.started = true;
	for (auto &kdev : backend.devices) {
		for (kms_output *out : kdev->outputs) {
			wl_signal_emit(&b->events.new_output, out->base());
		}
	}
	return true;
}

void backend_destroy(wlr_backend *b) noexcept {
	kms_backend *backend = kms_backend::from_wlr(b);
	for (auto &kdev : backend->devices) {
		// A writeback still being written finishes first (shutdown only,
		// bounded; never in the commit path): a CRTC turned off under it
		// could leave its job and framebuffer unfinished in the kernel.
		if (kdev->writeback) {
			kdev->writeback->drain();
		}
		// One blocking commit per device: every CRTC off, every plane
		// empty. After it no framebuffer of ours is on screen.
		atomic_request req;
		for (kms_output *out : kdev->outputs) {
			if (out->active) {
				add_output_state(req, *out, 0, true);
			}
		}
		if (!req.empty()) {
			if (int err = kdev->dev.kernel().atomic_commit(
			        kdev->dev.fd(), req, DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr)) {
				wlr_log(WLR_ERROR, "%s: cannot turn the outputs off: %s (errno %d)",
				        kdev->dev.name().c_str(), std::strerror(err), err);
			}
		}
		for (kms_output *out : kdev->outputs) {
			out->active = false;
			const kms_output_stats &st = out->stats;
			wlr_log(
			    WLR_INFO,
			    "output %s on %s: %llu commits (%llu composed, %llu direct scanout), "
			    "%llu flips, %llu buffers released after their flip",
			    out->base()->name, kdev->dev.name().c_str(),
			    static_cast<unsigned long long>(st.commits),
			    static_cast<unsigned long long>(st.composed),
			    static_cast<unsigned long long>(st.direct_scanout),
			    static_cast<unsigned long long>(st.flips),
			    static_cast<unsigned long long>(st.released));
		}
		std::vector<kms_output *> outputs = kdev->outputs;
		for (kms_output *out : outputs) {
			wlr_output_destroy(out->base()); // frees out
		}
		if (kdev->source != nullptr) {
			wl_event_source_remove(kdev->source);
		}
		if (kdev->allocator != nullptr) {
			wlr_allocator_destroy(kdev->allocator->base());
		}
	}
	backend->devices.clear();
	wlr_backend_finish(b);
	delete backend;
}

} // namespace

std::vector<std::string> find_display_devices(const std::string &dri_dir) {
	std::vector<std::string> found;
	DIR *dir = opendir(dri_dir.c_str());
	if (dir == nullptr) {
		return found;
	}
	std::vector<std::string> names;
	while (dirent *e = readdir(dir)) {
		if (std::strncmp(e->d_name, "card", 4) == 0) {
			names.emplace_back(e->d_name);
		}
	}
	closedir(dir);
	std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
		return a.size() != b.size() ? a.size() < b.size() : a < b;
	});
	for (const std::string &name : names) {
		std::string path = dri_dir + "/" + name;
		unique_fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
		if (!fd) {
			int err = errno;
			wlr_log(WLR_INFO, "%s: cannot open: %s (errno %d): not used as a display",
			        path.c_str(), std::strerror(err), err);
			continue;
		}
		drmModeRes *res = drmModeGetResources(fd.get());
		if (res == nullptr) {
			int err = errno;
			wlr_log(WLR_DEBUG,
			        "%s: no KMS (drmModeGetResources: %s, errno %d): not a display",
			        path.c_str(), std::strerror(err), err); // vgem
			continue;
		}
		bool connected = false;
		for (int c = 0; c < res->count_connectors && !connected; c++) {
			drmModeConnector *conn = drmModeGetConnector(fd.get(), res->connectors[c]);
			if (conn == nullptr) {
				int err = errno;
				wlr_log(WLR_ERROR, "%s: drmModeGetConnector(%u): %s (errno %d)",
				        path.c_str(), res->connectors[c], std::strerror(err), err);
				continue;
			}
			connected = conn->connection == DRM_MODE_CONNECTED;
			drmModeFreeConnector(conn);
		}
		drmModeFreeResources(res);
		if (connected) {
			found.push_back(path);
		}
	}
	return found;
}

result<wlr_backend *> kms_backend_create(wl_display *display, const std::vector<device *> &devices,
                                         import_cache &cache) {
	if (devices.empty()) {
		return error{"no display device"};
	}
	auto backend = std::make_unique<kms_backend>();
	backend->wlr_.owner = backend.get();
	backend->display = display;
	backend->cache = &cache;
	wlr_backend_init(backend->base(), &backend_impl);

	auto fail = [&](error e) -> result<wlr_backend *> {
		backend_destroy(backend.release()->base());
		return e;
	};
	for (device *dev : devices) {
		int fd = dev->fd();
		if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) != 0 ||
		    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) != 0) {
			int err = errno;
			return fail(error{
			    dev->name() + ": no atomic mode setting: " + std::strerror(err), err});
		}
		auto &kdev = backend->devices.emplace_back(std::make_unique<kms_device>(*dev));
		kdev->backend = backend.get();
		if (status s = create_outputs(*backend, *kdev); !s) {
			return fail(s.err());
		}
		auto alloc = kms_allocator::create(*dev, cache);
		if (!alloc) {
			return fail(alloc.err());
		}
		kdev->allocator = *alloc;
		kdev->writeback = kms_writeback::create(*dev, wl_display_get_event_loop(display));
		kdev->source =
		    wl_event_loop_add_fd(wl_display_get_event_loop(display), fd, WL_EVENT_READABLE,
		                         handle_drm_event, kdev.get());
		if (kdev->source == nullptr) {
			int err = errno;
			return fail(error{
			    dev->name() + ": cannot watch for page flips: " + std::strerror(err),
			    err});
		}
		wlr_log(WLR_INFO, "KMS on %s: %zu output(s), DRM master %s", dev->name().c_str(),
		        kdev->outputs.size(), drmIsMaster(fd) ? "yes" : "no");
	}
	return backend.release()->base();
}

bool backend_is_kms(wlr_backend *backend) {
	return backend != nullptr && backend->impl == &backend_impl;
}

wlr_allocator *kms_output_allocator(wlr_output *output) {
	if (output == nullptr || output->impl != &output_impl) {
		return nullptr;
	}
	return kms_output::from_wlr(output)->dev->allocator->base();
}

bool kms_output_capture(wlr_output *output, writeback_done done) {
	if (output == nullptr || output->impl != &output_impl) {
		return false;
	}
	kms_output &out = *kms_output::from_wlr(output);
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
			}
		}
		done(std::move(img));
	});
	wlr_output_update_needs_frame(output); // a commit, even without damage
	return true;
}

const kms_output_stats *kms_output_get_stats(wlr_output *output) {
	if (output == nullptr || output->impl != &output_impl) {
		return nullptr;
	}
	return &kms_output::from_wlr(output)->stats;
}

} // namespace wlprime

namespace wlprime {

kms_scanout_state kms_output_get_scanout(wlr_output *output) {
	kms_scanout_state state;
	if (output == nullptr || output->impl != &output_impl) {
		return state;
	}
	const kms_output *out = kms_output::from_wlr(output);
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
	return state;
}

} // namespace wlprime

namespace wlprime {

void kms_backend_set_active(wlr_backend *b, bool active) {
	if (!backend_is_kms(b)) {
		return;
	}
	kms_backend &backend = *kms_backend::from_wlr(b);
	if (backend.paused == !active) {
		return;
	}
	backend.paused = !active;
	if (!active) {
		backend.refused_commits = 0;
		wlr_log(WLR_INFO, "KMS: session inactive: no commits until it is active again");
		return;
	}
	wlr_log(WLR_INFO,
	        "KMS: session active again (%llu commits were not done meanwhile): "
	        "mode-setting and repainting every lit output",
	        static_cast<unsigned long long>(backend.refused_commits));
	for (auto &kdev : backend.devices) {
		for (kms_output *out : kdev->outputs) {
			if (!out->active && !out->base()->enabled) {
				continue;
			}
			// Another master (a VT, another compositor) may have set its
			// own state meanwhile: the next commit sets the whole state.
			out->active = false;
			wlr_output_update_needs_frame(out->base());
			wlr_output_schedule_frame(out->base());
		}
	}
}

} // namespace wlprime
