// kms_backend.hpp: wlprime's own atomic KMS backend over the import subsystem.
//
// wlroots' DRM backend makes its framebuffers with short-lived GEM handles on
// its own fd; this backend instead scans out through import/: every buffer
// it shows (a composed frame from its kms_allocator, or a client's dma-buf
// for direct scanout) is an Import of the import cache, and its framebuffer
// is dmabuf_import::framebuffer_on(display device): counted handles, one
// ADDFB2 per (Import, device), failures cached. The Import of a buffer is
// the one attached to it (render/buffer_import.hpp), never looked up again.
//
// Every atomic commit goes through the display device's kernel seam
// (kernel_api::atomic_commit, counted; TEST_ONLY apart). A direct-scanout
// frame costs one TEST_ONLY (wlr_output_test(), which wlroots' scene calls
// before wlr_output_commit(); the commit itself makes no second test) and one
// real commit; a composed frame one real commit.
//
// One wlr_output per connected connector of every display device, with the
// connector's preferred mode (modeset at its first commit). Commits are
// atomic and non-blocking with a page-flip event; the event (drmHandleEvent
// on the device fd, watched by the wl_event_loop) sends wlr_output present and
// frame.
//
// Release after page flip: an output holds the buffer on screen and the one
// queued for the next flip, each as a wlr_buffer lock plus an import_ref
// (which keeps the framebuffer alive, see import/framebuffer.hpp). The
// buffer that was on screen is released only when the flip that replaced it
// has completed.
//
// Lifetime: the display devices and the import cache are borrowed and must
// outlive the backend and every buffer it made (the server owns them).
// wlr_backend_destroy() turns every output off (one blocking commit per
// device), releases what was on screen, destroys the outputs and the
// allocators.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "import/device.hpp"
#include "import/import_cache.hpp"
#include "import/result.hpp"
#include "render/kms_overlays.hpp"
#include "render/kms_planes.hpp"
#include "render/wlr.hpp"

namespace wlprime {

// The primary nodes in dri_dir that have a connected connector (what
// --drm-device defaults to), in name order.
std::vector<std::string> find_display_devices(const std::string &dri_dir = "/dev/dri");

// Creates the backend (not started) on the given devices (borrowed). Sets
// DRM_CLIENT_CAP_UNIVERSAL_PLANES and DRM_CLIENT_CAP_ATOMIC on each device's
// file description; fails if a device cannot do atomic mode setting or has
// no connected connector.
result<wlr_backend *> kms_backend_create(wl_display *display, const std::vector<device *> &devices,
                                         import_cache &cache);
bool backend_is_kms(wlr_backend *backend);

// The seat session's state (compositor/session.hpp). Inactive (VT switched
// away: DRM master is gone): output commits and tests fail at once, with no
// ioctl; page flips already queued still complete. Active again: every
// output that was lit is mode-set again with its whole state at its next
// commit, and a frame is scheduled for it (repaint). No-op for another
// backend.
void kms_backend_set_active(wlr_backend *backend, bool active);

// The allocator of a KMS output's buffers, owned by the backend; null for an
// output of another backend.
// With a GPU renderer: the outputs' buffers, GBM on the render device
// (kms_render_target.hpp); dumb buffers otherwise.
wlr_allocator *kms_output_allocator(wlr_output *output);

// The outputs compose with a GPU renderer: their buffers come from its
// allocator (borrowed, outliving the backend; render_fd its DRM fd) through
// a kms_render_allocator per display device. Before wlr_backend_start().
void kms_backend_render_with(wlr_backend *backend, wlr_allocator *render_allocator, int render_fd);

// What an output did, for logs and tests.
class kms_render_allocator;

struct kms_output_stats {
	uint64_t commits = 0;        // atomic commits that carried a buffer
	uint64_t flips = 0;          // page-flip events
	uint64_t released = 0;       // buffers released after the flip that replaced them
	uint64_t direct_scanout = 0; // commits of a client buffer (no copy)
	uint64_t composed = 0;       // commits of a buffer of our allocator
	// Composed frames the display could not import, copied by the CPU into
	// its own buffers (kms_render_target.hpp), and their bytes.
	uint64_t display_copies = 0;
	uint64_t display_copy_bytes = 0;
	// Commits of the overlay planes alone (nothing composed), and buffers
	// put on an overlay plane (one per plane and frame).
	uint64_t overlay_commits = 0;
	uint64_t overlay_buffers = 0;
};
const kms_output_stats *kms_output_get_stats(wlr_output *output);

// Overlay planes (kms_overlays.hpp). A window the compositor offers for an
// overlay plane: its buffer (what its surface shows; borrowed for the call)
// and where, in output pixels.
struct overlay_candidate {
	uint64_t id = 0; // stable across frames (the compositor's name for the surface)
	wlr_buffer *buffer = nullptr;
	plane_rect rect;
};

// The backend's answer for one candidate: its plane, or why it is composed.
struct overlay_verdict {
	uint32_t plane_id = 0; // 0: composed
	uint64_t import = 0;   // the buffer's Import serial (0: none)
	uint32_t fb_id = 0;    // its framebuffer on the display device (0: none)
	std::string reason;    // why it is composed ("" on a plane)
	int err = 0;           // errno of the failure behind reason, if any
};

// The overlay planes the output can use (0: none, or not a KMS output).
size_t kms_output_overlay_planes(wlr_output *output);

// Chooses planes for candidates (top of the stack first; none overlapping
// another surface above it, see kms_overlays.hpp) with libliftoff's
// TEST_ONLY commits on top of the output's composed frame: one verdict per
// candidate. The assignment goes with the output's next commit, composed
// (wlr_output_commit) or not (kms_output_commit_planes); a commit without
// an assignment before it turns the overlay planes off. Buffers on planes
// are locked and released after the flip that replaced them.
std::vector<overlay_verdict>
kms_output_assign_overlays(wlr_output *output, const std::vector<overlay_candidate> &candidates);

// Commits the overlay planes' assignment and the cursor plane alone (the
// composed frame on screen stays), with a page flip: present and frame
// follow it. False when neither changed, and when the output is off, a flip
// is pending or the commit fails (logged).
bool kms_output_commit_planes(wlr_output *output);

// What an overlay plane of the output takes: plane_id's formats, or with
// plane_id 0 those of every overlay plane libliftoff may give the output
// (their union). Empty: no such plane, or not a KMS output.
format_set kms_output_overlay_formats(wlr_output *output, uint32_t plane_id);

// The output's next commit must carry a composed frame (a writeback
// capture waits for one): the overlay planes alone will not do.
bool kms_output_wants_buffer_commit(wlr_output *output);

// A writeback of the output's CRTC is still being written: true, and a
// frame is scheduled for when it is done. vkms signals a capture when its
// composer has run after the flip; a commit of the overlay planes right
// after that flip can replace the CRTC state first, and the capture's
// out-fence never signals (seen in the guest): the overlay path waits.
bool kms_output_wait_writeback(wlr_output *output);

// A commit of the output waits for its page flip (frame follows it).
bool kms_output_flip_pending(wlr_output *output);

// Overlay planes are not used (--overlay-planes off): before
// wlr_backend_start(). No-op for another backend.
void kms_backend_disable_overlays(wlr_backend *backend);

// What an overlay plane of the output shows (on_screen) or will show after
// the queued flip.
struct kms_overlay_shown {
	uint32_t plane_id = 0;
	uint32_t fb_id = 0;
	uint64_t import = 0;
	uint64_t candidate = 0;
	plane_rect rect;
	bool on_screen = false;
};
std::vector<kms_overlay_shown> kms_output_get_overlays(wlr_output *output);

// The output's cursor plane: what it shows (on screen, else queued; fb 0:
// nothing), where the pointer is, and why the pointer is drawn in software
// when it is (no cursor plane, or its last image refused). All zero and
// empty for another backend.
struct kms_cursor_shown {
	uint32_t plane_id = 0; // 0: none, software cursor
	uint32_t fb_id = 0;
	uint64_t import = 0;
	bool on_screen = false;
	int width = 0, height = 0, hotspot_x = 0, hotspot_y = 0;
	int x = 0, y = 0; // the pointer's position, output pixels
	std::string refused;
	uint64_t images = 0, moves = 0, commits = 0;
};
kms_cursor_shown kms_output_get_cursor(wlr_output *output);

// What a KMS output shows now and what is queued for the next flip: Import
// serials and framebuffer ids (0: nothing). All zero for another backend.
struct kms_scanout_state {
	uint64_t on_screen_import = 0;
	uint32_t on_screen_fb = 0;
	uint64_t queued_import = 0;
	uint32_t queued_fb = 0;
	const wlprime::device *device = nullptr; // the display device
	uint32_t connector_id = 0;
	uint32_t crtc_id = 0;
	// The plane the backend shows the output's frames on, from the device's
	// plane inventory (render/kms_planes.hpp): what surface feedback offers
	// for scanout. Owned by the backend.
	const kms_plane *primary_plane = nullptr;
	// With a GPU renderer: what the output's frames are composed into and
	// how they reach the display (kms_render_target.hpp); null with pixman
	// (dumb buffers on the display device).
	const kms_render_allocator *render_target = nullptr;
};
kms_scanout_state kms_output_get_scanout(wlr_output *output);

} // namespace wlprime
