#include "render/kms_props.hpp"

#include <cerrno>
#include <cstring>

#include <xf86drmMode.h>

#include "render/wlr.hpp"

namespace wlprime {

std::optional<kms_prop> kms_find_prop(int fd, uint32_t object, uint32_t type, const char *name) {
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, object, type);
	if (props == nullptr) {
		int err = errno;
		wlr_log(WLR_ERROR,
		        "fd %d: properties of object %u (type 0x%x), looking for %s: %s (errno %d)",
		        fd, object, type, name, std::strerror(err), err);
		return std::nullopt;
	}
	std::optional<kms_prop> found;
	for (uint32_t i = 0; i < props->count_props && !found; i++) {
		drmModePropertyRes *prop = drmModeGetProperty(fd, props->props[i]);
		if (prop == nullptr) {
			int err = errno;
			wlr_log(WLR_ERROR, "fd %d: property %u of object %u: %s (errno %d)", fd,
			        props->props[i], object, std::strerror(err), err);
			continue;
		}
		if (std::strcmp(prop->name, name) == 0) {
			found = kms_prop{.id = prop->prop_id, .value = props->prop_values[i]};
		}
		drmModeFreeProperty(prop);
	}
	drmModeFreeObjectProperties(props);
	return found;
}

} // namespace wlprime
