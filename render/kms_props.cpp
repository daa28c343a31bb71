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

std::optional<kms_plane_props> kms_find_plane_props(int fd, uint32_t plane, const char *device_name,
                                                    const char *role) {
	kms_plane_props p;
	for (auto [id, name] : {std::pair{&p.fb_id, "FB_ID"},
	                        {&p.crtc_id, "CRTC_ID"},
	                        {&p.src_x, "SRC_X"},
	                        {&p.src_y, "SRC_Y"},
	                        {&p.src_w, "SRC_W"},
	                        {&p.src_h, "SRC_H"},
	                        {&p.crtc_x, "CRTC_X"},
	                        {&p.crtc_y, "CRTC_Y"},
	                        {&p.crtc_w, "CRTC_W"},
	                        {&p.crtc_h, "CRTC_H"}}) {
		*id = kms_prop_id(fd, plane, DRM_MODE_OBJECT_PLANE, name);
		if (*id == 0) {
			wlr_log(WLR_ERROR,
			        "%s: %s plane %u has no property %s (or it cannot be read)",
			        device_name, role, plane, name);
			return std::nullopt;
		}
	}
	return p;
}

void add_plane_state(atomic_request &req, uint32_t plane, const kms_plane_props &p, uint32_t fb_id,
                     uint32_t crtc_id, const plane_rect &r) {
	req.add(plane, p.fb_id, fb_id);
	req.add(plane, p.crtc_id, fb_id != 0 ? crtc_id : 0);
	if (fb_id == 0) {
		return;
	}
	req.add(plane, p.src_x, uint64_t{r.src_x} << 16);
	req.add(plane, p.src_y, uint64_t{r.src_y} << 16);
	req.add(plane, p.src_w, uint64_t{r.src_width} << 16);
	req.add(plane, p.src_h, uint64_t{r.src_height} << 16);
	// Signed properties: the two's complement of a negative position.
	req.add(plane, p.crtc_x, static_cast<uint64_t>(int64_t{r.x}));
	req.add(plane, p.crtc_y, static_cast<uint64_t>(int64_t{r.y}));
	req.add(plane, p.crtc_w, r.width);
	req.add(plane, p.crtc_h, r.height);
}

} // namespace wlprime
