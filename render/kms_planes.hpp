// kms_planes.hpp: the plane inventory of one KMS device.
//
// Read once, when the KMS backend sets up a display device (after
// DRM_CLIENT_CAP_UNIVERSAL_PLANES, so primary and cursor planes are listed):
// every plane with its type, the CRTCs it can show, the (format, modifier)
// pairs it takes (its IN_FORMATS blob; without the blob, its format list with
// LINEAR and INVALID), its rotation and zpos properties; and which plane the
// backend uses for what (the primary plane of each CRTC it drives, and its
// cursor plane when the device has one; overlay planes are libliftoff's).
//
// The one place that lists planes and parses IN_FORMATS. Surface feedback
// asks the backend for the plane of an output (kms_output_primary_plane(),
// kms_backend.hpp) instead of choosing one itself, so its scanout tranche is
// always the plane that direct scanout uses.
//
// Failures (a plane that cannot be read, an IN_FORMATS blob that does not
// parse) are logged once, here, and kept with the plane.
//
// Lifetime: owned by the backend's device, for the backend's life. Plane
// properties are as read at setup: rotation and zpos values are the state
// of then (the backend sets neither today).

#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "import/device.hpp"
#include "import/formats.hpp"
#include "import/result.hpp"
#include "render/kms_props.hpp"

namespace wlprime {

struct kms_plane {
	uint32_t id = 0;
	uint64_t type = 0;           // DRM_PLANE_TYPE_OVERLAY, _PRIMARY or _CURSOR
	uint32_t possible_crtcs = 0; // bit i: the device's CRTC number i
	uint32_t crtc_id = 0;        // the CRTC it showed when read, 0 if none
	// What it can scan out; empty when formats_error is set.
	format_set formats;
	std::optional<error> formats_error;
	// "rotation": its id and value when read, and the DRM_MODE_ROTATE_* /
	// DRM_MODE_REFLECT_* bits it takes. Absent: the plane does not rotate.
	std::optional<kms_prop> rotation;
	uint64_t rotations = 0;
	// "zpos": its id and value when read, its range, and whether it is
	// fixed (immutable). Absent: the driver does not say.
	std::optional<kms_prop> zpos;
	uint64_t zpos_min = 0;
	uint64_t zpos_max = 0;
	bool zpos_immutable = false;
	// The CRTC the backend uses it for, as a plane of its type (the primary
	// or the cursor plane of that CRTC); 0: not used.
	uint32_t used_by_crtc = 0;
};

class kms_planes {
public:
	// The planes of dev (borrowed, for this call only), by plane id.
	// Failures are logged; a device whose planes cannot be listed has none.
	static kms_planes read(const device &dev);

	const std::vector<kms_plane> &planes() const { return planes_; }
	// The plane with this id, or null.
	const kms_plane *find(uint32_t plane_id) const;

	// The first plane of this type (DRM_PLANE_TYPE_PRIMARY or _CURSOR)
	// that can show CRTC number crtc_index (its bit in possible_crtcs) and
	// is not used yet, or null.
	const kms_plane *free_plane(uint64_t type, int crtc_index) const;
	// From now on plane_id is crtc_id's plane of its type.
	void use_for(uint32_t plane_id, uint32_t crtc_id);
	// The plane of this type the backend uses for crtc_id, or null.
	const kms_plane *used_for(uint64_t type, uint32_t crtc_id) const;

private:
	std::vector<kms_plane> planes_;
};

// Parses a plane's IN_FORMATS property blob (struct drm_format_modifier_blob,
// version 1). A blob whose counts or offsets point outside it is an error
// that names them. Pure.
result<format_set> parse_in_formats(const void *blob, size_t size);

} // namespace wlprime
