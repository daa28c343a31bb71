// kms_overlays.hpp: windows scanned out on overlay planes, the planes chosen
// by libliftoff.
//
// One kms_overlays per display device that has overlay planes. It holds a
// libliftoff device on a dup() of the device's fd: libliftoff owns the fd it
// is given and closes it, and the dup shares the open file description, so
// the framebuffers it names and the DRM master it tests with are the
// device's own. Only the overlay planes are registered with libliftoff: the
// primary plane of each CRTC stays the backend's and always carries the
// composed frame (the background and every surface not on a plane), so no
// composition layer is given to libliftoff; cursor planes stay apart.
//
// Per output (CRTC), one libliftoff layer per candidate, kept from frame to
// frame by the candidate's id (libliftoff keeps an allocation whose layers
// only changed framebuffers: one TEST_ONLY commit, not a search). assign()
// runs libliftoff's TEST_ONLY commits on top of the rest of the output's
// commit (its primary plane state), then reads which layer got which plane.
// libliftoff's tests go to the kernel directly, past the kernel seam
// (import/kernel.hpp); the real commit does not: add_state() writes the
// very plane state libliftoff tested into the backend's atomic_request,
// which goes through the seam and is counted. So the kernel model of the
// unit tests never sees libliftoff; the real-kernel guest does.
//
// Ordering: planes stack above the primary plane, and libliftoff is told no
// zpos, so the compositor only offers surfaces that nothing above them
// overlaps (compositor/overlay_frame.hpp): two candidates never intersect,
// and the composed frame is always under them.
//
// Lifetime: owned by the backend's kms_device; the device (borrowed) outlives
// it. Layers are destroyed with their output's state or when their
// candidate is gone.

#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "import/device.hpp"
#include "import/kernel.hpp"
#include "render/kms_planes.hpp"
#include "render/kms_props.hpp"

struct liftoff_device;
struct liftoff_output;
struct liftoff_layer;

namespace wlprime {

// Where a plane shows a framebuffer: CRTC_* in output pixels, SRC_* in
// buffer pixels (whole pixels; 16.16 is made when the props are written).
// A layer offered to libliftoff: a framebuffer on the device and where.
struct overlay_layer {
	uint64_t id = 0; // the candidate's id, stable across frames
	uint32_t fb_id = 0;
	plane_rect rect;
};

// What one overlay plane shows (plane_id with fb_id), for add_state().
struct overlay_plane_use {
	uint32_t plane_id = 0;
	uint64_t layer_id = 0;
	uint32_t fb_id = 0;
	plane_rect rect;
};

class kms_overlays {
public:
	// The overlay planes of planes (dev's inventory) registered with a
	// libliftoff device on a dup of dev's fd. Null when the device has no
	// overlay plane, or libliftoff cannot be set up (logged with errno).
	static std::unique_ptr<kms_overlays> create(device &dev, const kms_planes &planes);
	~kms_overlays();

	kms_overlays(const kms_overlays &) = delete;
	kms_overlays &operator=(const kms_overlays &) = delete;

	// The overlay planes that can show CRTC number crtc_index.
	std::vector<const kms_plane *> planes_for(int crtc_index) const;
	size_t plane_count() const { return planes_.size(); }

	// Which of layers go on which plane of crtc_id, tested by libliftoff on
	// top of base (the rest of the commit) with the commit's flags. One
	// entry per layer, in order: its plane id, or 0 (composed). A failure
	// of libliftoff itself (not a refusal) is logged with errno and puts
	// every layer in composition.
	std::vector<uint32_t> assign(uint32_t crtc_id, const std::vector<overlay_layer> &layers,
	                             const atomic_request &base, uint32_t flags);

	// Adds to req the state of the overlay planes of crtc_id: `shown` on
	// their planes, and every plane in `lit` (what the CRTC's planes show
	// now) that is not in `shown` turned off.
	void add_state(atomic_request &req, uint32_t crtc_id,
	               const std::vector<overlay_plane_use> &shown,
	               const std::vector<overlay_plane_use> &lit) const;

	// Forgets crtc_id's layers (its output is gone or off).
	void drop_output(uint32_t crtc_id);

private:
	struct registered {
		const kms_plane *plane;
		kms_plane_props props;
	};
	struct output_layers {
		liftoff_output *output = nullptr;
		std::map<uint64_t, liftoff_layer *> layers; // by candidate id
	};

	kms_overlays(device &dev, liftoff_device *lo) : dev_(dev), device_(lo) {}
	output_layers *output_of(uint32_t crtc_id);
	const registered *find(uint32_t plane_id) const;

	device &dev_;
	liftoff_device *device_ = nullptr; // owned
	std::vector<registered> planes_;
	std::map<uint32_t, output_layers> outputs_; // by CRTC id
};

} // namespace wlprime
