// kms_props.hpp: looking up a KMS object's property by name.
//
// The one place that walks drmModeObjectGetProperties(): the KMS backend
// (atomic property ids, plane types), the writeback capture and the
// per-surface feedback (a plane's IN_FORMATS blob) use it.

#pragma once

#include <cstdint>
#include <optional>

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

} // namespace wlprime
