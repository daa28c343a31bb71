#include "render/kms_props.hpp"

#include <cstring>

#include <xf86drmMode.h>

namespace wlprime {

std::optional<kms_prop> kms_find_prop(int fd, uint32_t object, uint32_t type, const char *name) {
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, object, type);
	if (props == nullptr) {
		return std::nullopt;
	}
	std::optional<kms_prop> found;
	for (uint32_t i = 0; i < props->count_props && !found; i++) {
		drmModePropertyRes *prop = drmModeGetProperty(fd, props->props[i]);
		if (prop != nullptr && std::strcmp(prop->name, name) == 0) {
			found = kms_prop{.id = prop->prop_id, .value = props->prop_values[i]};
		}
		drmModeFreeProperty(prop);
	}
	drmModeFreeObjectProperties(props);
	return found;
}

} // namespace wlprime
