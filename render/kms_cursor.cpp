// kms_cursor.cpp: the pointer on a KMS output's cursor plane (see
// cursor_plane in kms_internal.hpp).
//
// wlroots (types/output/cursor.c) renders the pointer's image into a buffer
// of the output's allocator, sized and formatted as get_cursor_size and
// get_cursor_formats say, and calls set_cursor with it; move_cursor with each
// motion. Neither commits: the state goes with the output's next commit, a
// composed frame or a plane-only one (kms_output_commit_planes), so a moving
// pointer costs one atomic commit per refresh at most and no composition.
// set_cursor returning false makes wlroots draw a software cursor.

#include <cerrno>
#include <cstring>
#include <xf86drm.h>

#include "render/kms_internal.hpp"

namespace wlprime {
namespace {

bool lit(const cursor_plane &c) {
	return c.on_screen != nullptr || (c.queued && *c.queued != nullptr);
}

// The image refused: wlroots draws the pointer itself. Logged when the
// reason changes (set_cursor comes with every new image).
bool refuse(kms_output &out, std::string why) {
	cursor_plane &c = out.cursor;
	if (why != c.refused) {
		wlr_log(WLR_INFO, "output %s: software cursor: %s", out.base()->name, why.c_str());
	}
	c.refused = std::move(why);
	return false;
}

// Where the cursor plane shows image with the pointer at x, y: the whole
// buffer, its hotspot at the pointer.
plane_rect cursor_rect(const cursor_image &image, int x, int y) {
	auto w = static_cast<uint32_t>(image.slot.buffer->width);
	auto h = static_cast<uint32_t>(image.slot.buffer->height);
	return {x - image.hotspot_x, y - image.hotspot_y, w, h, 0, 0, w, h};
}

} // namespace

void cursor_setup(kms_output &out) {
	cursor_plane &c = out.cursor;
	const device &dev = out.dev->dev;
	const kms_plane *plane = out.dev->planes.free_plane(DRM_PLANE_TYPE_CURSOR, out.crtc_index);
	if (plane == nullptr) {
		c.refused =
		    dev.name() + " has no cursor plane for CRTC " + std::to_string(out.crtc_id);
		return;
	}
	std::optional<kms_plane_props> props =
	    kms_find_plane_props(dev.fd(), plane->id, dev.name().c_str(), "cursor");
	if (!props || plane->formats_error) {
		c.refused = "cursor plane " + std::to_string(plane->id) + " of " + dev.name() +
		            (props ? " has no readable format list" : " lacks a plane property");
		wlr_log(WLR_ERROR, "%s: not used", c.refused.c_str());
		return;
	}
	out.dev->planes.use_for(plane->id, out.crtc_id);
	c.plane_id = plane->id;
	c.props = *props;
	// With LINEAR also the implicit modifier: buffers of the output's
	// allocators are linear then (dumb buffers; GBM asked for scanout),
	// and wlroots' pixman renderer offers no other.
	for (const auto &[format, modifier] : plane->formats.pairs()) {
		wlr_drm_format_set_add(&c.formats, format, modifier);
		if (modifier == DRM_FORMAT_MOD_LINEAR) {
			wlr_drm_format_set_add(&c.formats, format, DRM_FORMAT_MOD_INVALID);
		}
	}
	uint64_t w = 0, h = 0;
	if (drmGetCap(dev.fd(), DRM_CAP_CURSOR_WIDTH, &w) == 0 && w > 0) {
		c.width = static_cast<int>(w);
	}
	if (drmGetCap(dev.fd(), DRM_CAP_CURSOR_HEIGHT, &h) == 0 && h > 0) {
		c.height = static_cast<int>(h);
	}
	wlr_log(WLR_DEBUG, "%s: CRTC %u: cursor plane %u, %dx%d", dev.name().c_str(), out.crtc_id,
	        c.plane_id, c.width, c.height);
}

cursor_plane::~cursor_plane() {
	wlr_drm_format_set_finish(&formats);
}

void add_cursor_state(atomic_request &req, const kms_output &out, bool off) {
	const cursor_plane &c = out.cursor;
	if (c.plane_id == 0) {
		return;
	}
	if (off || c.pending == nullptr) {
		if (lit(c)) {
			add_plane_state(req, c.plane_id, c.props, 0, 0, {});
		}
		return;
	}
	add_plane_state(req, c.plane_id, c.props, c.pending->slot.fb_id, out.crtc_id,
	                cursor_rect(*c.pending, c.x, c.y));
}

void cursor_committed(kms_output &out) {
	cursor_plane &c = out.cursor;
	if (c.plane_id == 0 || !c.dirty) {
		return; // the plane keeps its state
	}
	c.queued = c.pending;
	c.dirty = false;
	c.commits++;
}

void cursor_flipped(kms_output &out) {
	cursor_plane &c = out.cursor;
	if (!c.queued) {
		return;
	}
	uint32_t before = c.on_screen ? c.on_screen->slot.fb_id : 0;
	uint32_t now = *c.queued ? (*c.queued)->slot.fb_id : 0;
	if (before != now) {
		wlr_log(WLR_DEBUG, "output %s: cursor plane %u: fb %u on screen, fb %u released",
		        out.base()->name, c.plane_id, now, before);
	}
	c.on_screen = std::move(*c.queued);
	c.queued.reset();
}

void cursor_reset(kms_output &out) {
	cursor_plane &c = out.cursor;
	c.on_screen.reset();
	c.queued.reset();
	c.dirty = c.pending != nullptr; // shown again when the CRTC is on again
}

bool output_set_cursor(wlr_output *o, wlr_buffer *buffer, int hotspot_x, int hotspot_y) noexcept {
	kms_output &out = *kms_output::from_wlr(o);
	cursor_plane &c = out.cursor;
	if (c.plane_id == 0) {
		return false; // why: c.refused, from the setup
	}
	if (buffer == nullptr) { // hidden
		if (c.pending != nullptr) {
			c.pending.reset();
			c.dirty = true;
			wlr_output_schedule_frame(o);
		}
		return true;
	}
	const std::string &dev = out.dev->dev.name();
	auto slot = scanout_of(out, buffer);
	if (!slot) {
		return refuse(out, "no framebuffer on " + dev +
		                       " for the cursor image: " + slot.err().message);
	}
	auto image = std::make_shared<cursor_image>();
	image->slot = std::move(*slot);
	image->hotspot_x = hotspot_x;
	image->hotspot_y = hotspot_y;
	// A new image is asked of the kernel once (TEST_ONLY, the cursor plane
	// alone over the CRTC's current state); a move is not.
	if (out.active && !out.dev->backend->paused) {
		atomic_request req;
		add_plane_state(req, c.plane_id, c.props, image->slot.fb_id, out.crtc_id,
		                cursor_rect(*image, c.x, c.y));
		int err = out.dev->dev.kernel().atomic_commit(out.dev->dev.fd(), req,
		                                              DRM_MODE_ATOMIC_TEST_ONLY, nullptr);
		if (err != 0) {
			return refuse(out, "cursor plane " + std::to_string(c.plane_id) + " of " +
			                       dev + " refused fb " +
			                       std::to_string(image->slot.fb_id) +
			                       " (TEST_ONLY): " + std::strerror(err) + " (errno " +
			                       std::to_string(err) + ")");
		}
	}
	if (!c.refused.empty() && c.images > 0) {
		wlr_log(WLR_INFO, "output %s: the cursor is on plane %u again", o->name,
		        c.plane_id);
	}
	c.refused.clear();
	c.pending = std::move(image);
	c.dirty = true;
	c.images++;
	wlr_output_schedule_frame(o);
	return true;
}

bool output_move_cursor(wlr_output *o, int x, int y) noexcept {
	cursor_plane &c = kms_output::from_wlr(o)->cursor;
	if (c.plane_id == 0 || (c.x == x && c.y == y)) {
		return c.plane_id != 0;
	}
	c.x = x;
	c.y = y;
	c.moves++;
	if (c.pending != nullptr) {
		c.dirty = true;
		wlr_output_schedule_frame(o);
	}
	return true;
}

const wlr_drm_format_set *output_get_cursor_formats(wlr_output *o, uint32_t) noexcept {
	const cursor_plane &c = kms_output::from_wlr(o)->cursor;
	return c.plane_id != 0 ? &c.formats : nullptr;
}

void output_get_cursor_size(wlr_output *o, int *width, int *height) noexcept {
	const cursor_plane &c = kms_output::from_wlr(o)->cursor;
	*width = c.width;
	*height = c.height;
}

kms_cursor_shown kms_output_get_cursor(wlr_output *output) {
	kms_cursor_shown s;
	const kms_output *out = kms_output_of(output);
	if (out == nullptr) {
		return s;
	}
	const cursor_plane &c = out->cursor;
	s.plane_id = c.plane_id;
	s.refused = c.refused;
	const cursor_image *shown = c.on_screen.get();
	s.on_screen = shown != nullptr;
	if (shown == nullptr && c.queued) {
		shown = c.queued->get();
	}
	if (shown != nullptr) {
		s.fb_id = shown->slot.fb_id;
		s.import = shown->slot.import ? shown->slot.import->serial() : 0;
		s.width = shown->slot.buffer->width;
		s.height = shown->slot.buffer->height;
		s.hotspot_x = shown->hotspot_x;
		s.hotspot_y = shown->hotspot_y;
	}
	s.x = c.x;
	s.y = c.y;
	s.images = c.images;
	s.moves = c.moves;
	s.commits = c.commits;
	return s;
}

} // namespace wlprime
