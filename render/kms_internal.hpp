// kms_internal.hpp: the KMS backend's own objects, shared by its files.
//
//   kms_device.cpp   device setup: outputs from connectors, CRTCs and the
//                    plane inventory; the wlr_backend; teardown
//   kms_commit.cpp   output state: TEST_ONLY, commit, page flip, release
//                    after flip, the scanout verdicts it records
//   kms_session.cpp  the seat session: pause and resume
//   kms_overlay_state.cpp  windows on overlay planes: assignment (through
//                    kms_overlays, libliftoff), plane-only commits
//   kms_cursor.cpp   the pointer on the cursor plane
//
// Ownership: the kms_backend owns its kms_devices; a kms_device owns its
// allocator, writeback, plane inventory and event source, and its
// kms_outputs through their wlr_outputs (freed by output_destroy). Nothing
// here is visible outside render/kms_*.cpp: the public face is
// kms_backend.hpp.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <xf86drmMode.h>

#include "import/device.hpp"
#include "import/import_cache.hpp"
#include "import/kernel.hpp"
#include "render/kms_backend.hpp"
#include "render/kms_buffer.hpp"
#include "render/kms_overlays.hpp"
#include "render/kms_planes.hpp"
#include "render/kms_props.hpp"
#include "render/kms_render_target.hpp"
#include "render/kms_writeback.hpp"
#include "render/wlr.hpp"

namespace wlprime {

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

// A client buffer on an overlay plane: where, and the lock and Import that
// keep it (and its framebuffer) until the flip that replaced it.
struct overlay_slot {
	overlay_plane_use use;
	scanout_slot slot;
};

struct prop_ids {
	uint32_t conn_crtc_id = 0;
	uint32_t crtc_mode_id = 0, crtc_active = 0;
	kms_plane_props plane; // of the primary plane
};

// The output's cursor plane (kms_cursor.cpp), when its device has one for
// its CRTC: wlroots renders the pointer into a buffer of the output's
// allocator and hands it over (set_cursor); the position comes with
// move_cursor. Each commit of the output carries the cursor's state; a
// change alone makes a plane-only commit at the next frame. The buffers
// are released after the flip that replaced them, like the primary's.
struct cursor_image {
	scanout_slot slot; // the buffer and its framebuffer on the device
	int hotspot_x = 0, hotspot_y = 0;
};
struct cursor_plane {
	uint32_t plane_id = 0; // 0: none (wlroots draws a software cursor)
	kms_plane_props props;
	int width = 64, height = 64;  // DRM_CAP_CURSOR_WIDTH/HEIGHT
	wlr_drm_format_set formats{}; // for get_cursor_formats (ours)
	// What the next commit shows (null: the plane off), where (the
	// pointer's position on the output, in its buffer's pixels), and
	// whether that differs from what the last commit showed.
	std::shared_ptr<cursor_image> pending;
	int x = 0, y = 0;
	bool dirty = false;
	// What the queued commit shows, and what is on screen.
	std::optional<std::shared_ptr<cursor_image>> queued;
	std::shared_ptr<cursor_image> on_screen;
	// Why the last image did not go on the plane (software cursor), if so.
	std::string refused;
	uint64_t images = 0, moves = 0, commits = 0;

	cursor_plane() = default;
	cursor_plane(const cursor_plane &) = delete;
	cursor_plane &operator=(const cursor_plane &) = delete;
	~cursor_plane();
};

struct kms_output {
	struct wlr_part {
		wlr_output base;
		kms_output *owner;
	};
	wlr_part wlr_{};
	kms_device *dev = nullptr;
	uint32_t connector_id = 0, crtc_id = 0;
	uint32_t plane_id = 0; // its primary plane (dev->planes.primary_of(crtc_id))
	int crtc_index = -1;   // in the device's CRTC list (possible_crtcs bits)
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
	// A commit is queued and its page flip not yet seen (a commit of the
	// primary plane, `queued`, or of the overlay planes alone).
	bool flip_pending = false;
	// Overlay planes (kms_overlays.hpp): what they show, what the queued
	// commit puts on them (set: it changes them), and what the next commit
	// will put on them (assigned by kms_output_assign_overlays(); a commit
	// without an assignment turns the lit ones off).
	std::vector<overlay_slot> overlays_on_screen;
	std::optional<std::vector<overlay_slot>> overlays_queued;
	std::vector<overlay_slot> overlays_pending;
	// With a GPU renderer whose buffers the display cannot import: the CPU
	// copy of each frame into the display's dumb buffers (made at the first).
	std::unique_ptr<kms_display_copy> display_copy;
	cursor_plane cursor;
	kms_output_stats stats;

	wlr_output *base() { return &wlr_.base; }
	static kms_output *from_wlr(wlr_output *o) {
		return reinterpret_cast<wlr_part *>(o)->owner;
	}
};

struct kms_device {
	device &dev;
	kms_backend *backend = nullptr;
	kms_allocator *allocator = nullptr; // owned: dumb buffers (pixman, copies)
	// owned; with a GPU renderer: what the outputs compose into (GBM on the
	// render device, kms_render_target.hpp); null with pixman.
	kms_render_allocator *render_allocator = nullptr;
	std::unique_ptr<kms_writeback> writeback; // null: the device has none
	wl_event_source *source = nullptr;
	kms_planes planes; // read once, at setup
	// Its overlay planes, assigned by libliftoff; null: none (or not used).
	std::unique_ptr<kms_overlays> overlays;
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

extern const wlr_output_impl kms_output_impl;

// The kms_output behind a wlr_output of this backend, or null for an output
// of another backend (or null).
inline kms_output *kms_output_of(wlr_output *o) {
	return o != nullptr && o->impl == &kms_output_impl ? kms_output::from_wlr(o) : nullptr;
}

// kms_commit.cpp: adds the properties that show `fb_id` full-screen on out
// (fb_id 0: off; modeset: the connector and CRTC too).
void add_output_state(atomic_request &req, kms_output &out, uint32_t fb_id, bool modeset);
// kms_commit.cpp: the Import (attached) and framebuffer on out's device of
// a buffer to scan out, locked in a slot; the framebuffer's error if none.
result<scanout_slot> scanout_of(kms_output &out, wlr_buffer *buffer);
// kms_overlay_state.cpp: adds the overlay planes' state of the next commit
// to req: the pending assignment on its planes (all_off: none), every other
// lit plane of the output off. No-op on a device without overlays.
void add_overlay_state(atomic_request &req, const kms_output &out, bool all_off = false);
// After a successful commit that carried add_overlay_state(): the pending
// assignment is what the flip will show.
void overlays_committed(kms_output &out);
// Everything the output's overlay planes showed or were to show is let go
// (the CRTC is off, or the output gone).
void overlays_reset(kms_output &out);
// kms_cursor.cpp: the cursor plane of out (find it at setup; a commit's
// state; after a commit; at the flip; the CRTC off or the output gone).
void cursor_setup(kms_output &out);
void add_cursor_state(atomic_request &req, const kms_output &out, bool off = false);
void cursor_committed(kms_output &out);
void cursor_flipped(kms_output &out);
void cursor_reset(kms_output &out);
bool output_set_cursor(wlr_output *o, wlr_buffer *buffer, int hotspot_x, int hotspot_y) noexcept;
bool output_move_cursor(wlr_output *o, int x, int y) noexcept;
const wlr_drm_format_set *output_get_cursor_formats(wlr_output *o, uint32_t buffer_caps) noexcept;
void output_get_cursor_size(wlr_output *o, int *width, int *height) noexcept;
// kms_commit.cpp: the device fd is readable: page-flip events.
int handle_drm_event(int fd, uint32_t mask, void *data) noexcept;

} // namespace wlprime
