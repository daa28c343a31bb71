// overlay_frame.hpp: the frames of a KMS output whose device has overlay
// planes: windows scanned out on planes, the rest composed under them.
//
// Each frame: the visible surfaces of the output, top of the stack first,
// are classified. A surface is offered for a plane (an overlay_candidate of
// render/kms_backend.hpp) when it is a dma-buf, opaque (a format without
// alpha, or an opaque region over all of it), wholly on the output, not
// transformed or cropped, and nothing drawn above it overlaps it (another
// surface, a software cursor): so planes never need an order among
// themselves, and the composed frame below them is right. The backend
// chooses planes (libliftoff) and says why the others are composed. Every
// surface gets a verdict, kept for wlprime-debug; a change of verdict is a
// trace line.
//
// Then the frame is composed from the scene as wlroots' scene would, but
// with the surfaces on planes left out (disabled for the render only, so
// the scene, frame callbacks and presentation still count them) and out of
// the damage: a surface that stays on its plane and commits a new buffer
// damages nothing composed. A surface leaving a plane has its box damaged,
// so it is composed in the very commit that turns its plane off (no gap);
// one entering is composed without it in the commit that lights its plane.
// With no damage left, the planes alone are committed
// (kms_output_commit_overlays): no composed frame.
//
// A single surface covering the output (direct scanout, or the copy of a
// fullscreen buffer) is not this class's: frame() returns false and the
// output goes the usual way; the planes it lit are then turned off by that
// commit, and their surfaces' boxes damaged.
//
// Lifetime: owned by the output (compositor/output.hpp); the wlr_output
// outlives it. Holds surface pointers only between frames for their boxes,
// never dereferenced after they are gone (they are compared, not used).

#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "render/kms_backend.hpp"
#include "render/wlr.hpp"

namespace wlprime {

// Where one visible surface of the output went in the last frame.
struct surface_plane_verdict {
	std::string surface; // "wl_surface@ID of pid PID (TITLE)"
	wlr_box box{};       // on the output
	uint64_t import = 0; // its buffer's Import serial, 0: none
	uint32_t plane_id = 0;
	uint32_t fb_id = 0;
	std::string reason; // why composed; "" on a plane
	int err = 0;
};

class overlay_frame {
public:
	// on_change: told of every verdict that changed (may be empty).
	using change_observer =
	    std::function<void(const char *output, const surface_plane_verdict &)>;
	overlay_frame(wlr_output *output, wlr_presentation *presentation,
	              change_observer on_change);

	// One frame of so: true if handled here (committed, or nothing to do);
	// false: a single surface covers the output, or the output has no
	// overlay plane: the caller commits the scene as usual (leave() first).
	bool frame(wlr_scene_output *so);
	// The surfaces on planes leave them: their boxes are damaged (the
	// composed frame has stale pixels there). The next commit without an
	// assignment turns the planes off.
	void leave(wlr_scene_output *so);

	const std::vector<surface_plane_verdict> &verdicts() const { return verdicts_; }
	uint64_t composed_frames() const { return composed_; }
	uint64_t overlay_only_frames() const { return overlay_only_; }

private:
	struct entry {
		wlr_scene_node *node;
		wlr_surface *surface; // null: not a surface (a rect, a buffer)
		wlr_box box;          // on the output
	};
	struct on_plane {
		wlr_surface *surface; // from the last frame: compared, not used after
		wlr_box box;
	};

	std::vector<entry> visible(wlr_scene_output *so) const;
	enum class outcome { committed, nothing, failed };
	outcome render_and_commit(wlr_scene_output *so,
	                          const std::vector<wlr_scene_node *> &left_out);
	void note_changes(const std::vector<surface_plane_verdict> &next);

	wlr_output *output_;
	wlr_presentation *presentation_; // may be null
	change_observer on_change_;
	std::vector<on_plane> on_planes_; // after the last frame
	std::vector<surface_plane_verdict> verdicts_;
	uint64_t composed_ = 0;
	uint64_t overlay_only_ = 0;
};

} // namespace wlprime
