// kms_props.hpp: looking up a KMS object's property by name, and the
// properties that put a framebuffer on a plane.
//
// The one place that walks drmModeObjectGetProperties(): the KMS backend
// (atomic property ids, plane types), the writeback capture and the
// per-surface feedback (a plane's IN_FORMATS blob) use it. Every plane the
// backend lights (primary, overlay, cursor) is set with add_plane_state().

#pragma once

#include <cstdint>
#include <optional>

#include "import/kernel.hpp"

namespace wlprime {

struct kms_prop {
	uint32_t id = 0;    // the property id, for atomic requests
	uint64_t value = 0; // the object's current value of it
};

// The property `name` of the object (DRM_MODE_OBJECT_CONNECTOR, _CRTC,
// _PLANE...), or nothing if the object has no such property or cannot be
// queried (that is logged here, with errno; a property that is simply
// absent is the caller's to report).
std::optional<kms_prop> kms_find_prop(int fd, uint32_t object, uint32_t type, const char *name);

// Its id (0 if absent) and its value (0 if absent).
inline uint32_t kms_prop_id(int fd, uint32_t object, uint32_t type, const char *name) {
	std::optional<kms_prop> prop = kms_find_prop(fd, object, type, name);
	return prop ? prop->id : 0;
}
inline uint64_t kms_prop_value(int fd, uint32_t object, uint32_t type, const char *name) {
	std::optional<kms_prop> prop = kms_find_prop(fd, object, type, name);
	return prop ? prop->value : 0;
}

// Where a plane shows a framebuffer: on the CRTC (x, y may be negative:
// partly off screen) and the part of the framebuffer it reads.
struct plane_rect {
	int32_t x = 0, y = 0;
	uint32_t width = 0, height = 0;
	uint32_t src_x = 0, src_y = 0, src_width = 0, src_height = 0;
	bool operator==(const plane_rect &) const = default;
};

// The ids of the plane properties that add_plane_state() sets.
struct kms_plane_props {
	uint32_t fb_id = 0, crtc_id = 0;
	uint32_t src_x = 0, src_y = 0, src_w = 0, src_h = 0;
	uint32_t crtc_x = 0, crtc_y = 0, crtc_w = 0, crtc_h = 0;
};

// The plane's ids of them; nothing if one is missing or cannot be read
// (logged, naming the device and the plane's role, e.g. "overlay").
std::optional<kms_plane_props> kms_find_plane_props(int fd, uint32_t plane, const char *device_name,
                                                    const char *role);

// Adds to req: plane shows fb_id on crtc_id at r; fb_id 0: the plane off
// (FB_ID and CRTC_ID 0, nothing else).
void add_plane_state(atomic_request &req, uint32_t plane, const kms_plane_props &p, uint32_t fb_id,
                     uint32_t crtc_id, const plane_rect &r);

} // namespace wlprime
