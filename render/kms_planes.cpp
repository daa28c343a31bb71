#include "render/kms_planes.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <drm_fourcc.h>
#include <xf86drmMode.h>

#include "import/enum_name.hpp"
#include "render/wlr.hpp"

namespace wlprime {
namespace {

// The (format, modifier) pairs plane takes: its IN_FORMATS blob, or without
// one (no modifiers on this device) its format list as LINEAR and INVALID
// (whatever the buffer's implicit layout is).
result<format_set> plane_formats(int fd, const drmModePlane &plane) {
	std::optional<kms_prop> in_formats =
	    kms_find_prop(fd, plane.plane_id, DRM_MODE_OBJECT_PLANE, "IN_FORMATS");
	if (!in_formats || in_formats->value == 0) {
		format_set set;
		for (uint32_t i = 0; i < plane.count_formats; i++) {
			set.add(plane.formats[i], DRM_FORMAT_MOD_LINEAR);
			set.add(plane.formats[i], DRM_FORMAT_MOD_INVALID);
		}
		return set;
	}
	drmModePropertyBlobRes *blob = drmModeGetPropertyBlob(fd, uint32_t(in_formats->value));
	if (blob == nullptr) {
		int err = errno;
		return error{"plane " + std::to_string(plane.plane_id) + ": IN_FORMATS blob " +
		                 std::to_string(in_formats->value) + ": " + std::strerror(err),
		             err};
	}
	result<format_set> set = parse_in_formats(blob->data, blob->length);
	drmModeFreePropertyBlob(blob);
	if (!set) {
		return error{"plane " + std::to_string(plane.plane_id) + ": " + set.err().message,
		             set.err().errnum};
	}
	return set;
}

// The rotation and zpos properties of p (what the kernel says of their
// ranges and values).
void read_placement(int fd, kms_plane &p) {
	p.rotation = kms_find_prop(fd, p.id, DRM_MODE_OBJECT_PLANE, "rotation");
	if (p.rotation) {
		if (drmModePropertyRes *prop = drmModeGetProperty(fd, p.rotation->id)) {
			for (int i = 0; i < prop->count_enums; i++) {
				p.rotations |= uint64_t(1) << prop->enums[i].value;
			}
			drmModeFreeProperty(prop);
		}
	}
	p.zpos = kms_find_prop(fd, p.id, DRM_MODE_OBJECT_PLANE, "zpos");
	if (p.zpos) {
		if (drmModePropertyRes *prop = drmModeGetProperty(fd, p.zpos->id)) {
			if (prop->count_values >= 2) {
				p.zpos_min = prop->values[0];
				p.zpos_max = prop->values[1];
			}
			p.zpos_immutable = (prop->flags & DRM_MODE_PROP_IMMUTABLE) != 0;
			drmModeFreeProperty(prop);
		}
	}
}

const char *plane_type_name(uint64_t type) {
	// DRM_PLANE_TYPE_OVERLAY, _PRIMARY, _CURSOR: 0, 1, 2.
	static constexpr const char *names[] = {"overlay", "primary", "cursor"};
	return enum_name(type, names, "overlay");
}

} // namespace

kms_planes kms_planes::read(const device &dev) {
	kms_planes inventory;
	int fd = dev.fd();
	drmModePlaneRes *res = drmModeGetPlaneResources(fd);
	if (res == nullptr) {
		int err = errno;
		wlr_log(WLR_ERROR, "%s: drmModeGetPlaneResources: %s (errno %d)",
		        dev.name().c_str(), std::strerror(err), err);
		return inventory;
	}
	for (uint32_t i = 0; i < res->count_planes; i++) {
		drmModePlane *plane = drmModeGetPlane(fd, res->planes[i]);
		if (plane == nullptr) {
			int err = errno;
			wlr_log(WLR_ERROR, "%s: drmModeGetPlane(%u): %s (errno %d)",
			        dev.name().c_str(), res->planes[i], std::strerror(err), err);
			continue;
		}
		kms_plane &p = inventory.planes_.emplace_back();
		p.id = plane->plane_id;
		p.possible_crtcs = plane->possible_crtcs;
		p.crtc_id = plane->crtc_id;
		p.type = kms_prop_value(fd, p.id, DRM_MODE_OBJECT_PLANE, "type");
		if (result<format_set> formats = plane_formats(fd, *plane)) {
			p.formats = std::move(*formats);
		} else {
			p.formats_error = formats.err();
			wlr_log(WLR_ERROR, "%s: %s (errno %d): the plane scans nothing out",
			        dev.name().c_str(), formats.err().message.c_str(),
			        formats.err().errnum);
		}
		drmModeFreePlane(plane);
		read_placement(fd, p);
		char rotation[32] = "none", zpos[64] = "none";
		if (p.rotation) {
			std::snprintf(rotation, sizeof(rotation), "0x%llx of 0x%llx",
			              static_cast<unsigned long long>(p.rotation->value),
			              static_cast<unsigned long long>(p.rotations));
		}
		if (p.zpos) {
			std::snprintf(zpos, sizeof(zpos), "%llu in [%llu, %llu]%s",
			              static_cast<unsigned long long>(p.zpos->value),
			              static_cast<unsigned long long>(p.zpos_min),
			              static_cast<unsigned long long>(p.zpos_max),
			              p.zpos_immutable ? ", fixed" : "");
		}
		wlr_log(WLR_DEBUG,
		        "%s: plane %u (%s, CRTCs 0x%x): %zu format/modifier pairs, rotation %s, "
		        "zpos %s",
		        dev.name().c_str(), p.id, plane_type_name(p.type), p.possible_crtcs,
		        p.formats.pairs().size(), rotation, zpos);
	}
	drmModeFreePlaneResources(res);
	return inventory;
}

const kms_plane *kms_planes::find(uint32_t plane_id) const {
	for (const kms_plane &p : planes_) {
		if (p.id == plane_id) {
			return &p;
		}
	}
	return nullptr;
}

const kms_plane *kms_planes::free_plane(uint64_t type, int crtc_index) const {
	if (crtc_index < 0 || crtc_index >= 32) {
		return nullptr;
	}
	for (const kms_plane &p : planes_) {
		if (p.type == type && p.used_by_crtc == 0 &&
		    (p.possible_crtcs & (1u << crtc_index)) != 0) {
			return &p;
		}
	}
	return nullptr;
}

void kms_planes::use_for(uint32_t plane_id, uint32_t crtc_id) {
	for (kms_plane &p : planes_) {
		if (p.id == plane_id) {
			p.used_by_crtc = crtc_id;
		}
	}
}

const kms_plane *kms_planes::used_for(uint64_t type, uint32_t crtc_id) const {
	for (const kms_plane &p : planes_) {
		if (crtc_id != 0 && p.type == type && p.used_by_crtc == crtc_id) {
			return &p;
		}
	}
	return nullptr;
}

result<format_set> parse_in_formats(const void *blob, size_t size) {
	drm_format_modifier_blob header;
	if (blob == nullptr || size < sizeof(header)) {
		return error{"IN_FORMATS blob of " + std::to_string(size) +
		                 " bytes: shorter than its " + std::to_string(sizeof(header)) +
		                 "-byte header",
		             EINVAL};
	}
	std::memcpy(&header, blob, sizeof(header));
	if (header.version != FORMAT_BLOB_CURRENT) {
		return error{"IN_FORMATS blob version " + std::to_string(header.version) +
		                 ", not " + std::to_string(FORMAT_BLOB_CURRENT),
		             EINVAL};
	}
	const auto *bytes = static_cast<const uint8_t *>(blob);
	const uint64_t formats_end =
	    uint64_t(header.formats_offset) + uint64_t(header.count_formats) * sizeof(uint32_t);
	const uint64_t modifiers_end =
	    uint64_t(header.modifiers_offset) +
	    uint64_t(header.count_modifiers) * sizeof(drm_format_modifier);
	if (formats_end > size || modifiers_end > size) {
		return error{"IN_FORMATS blob of " + std::to_string(size) +
		                 " bytes: " + std::to_string(header.count_formats) +
		                 " formats at " + std::to_string(header.formats_offset) + " and " +
		                 std::to_string(header.count_modifiers) + " modifiers at " +
		                 std::to_string(header.modifiers_offset) + " do not fit",
		             EINVAL};
	}
	format_set set;
	for (uint32_t m = 0; m < header.count_modifiers; m++) {
		drm_format_modifier mod;
		std::memcpy(&mod, bytes + header.modifiers_offset + m * sizeof(mod), sizeof(mod));
		// mod.formats: bit i stands for format number mod.offset + i.
		for (uint32_t bit = 0; bit < 64; bit++) {
			if ((mod.formats & (uint64_t(1) << bit)) == 0) {
				continue;
			}
			const uint64_t index = uint64_t(mod.offset) + bit;
			if (index >= header.count_formats) {
				return error{"IN_FORMATS blob: modifier " +
				                 modifier_name(mod.modifier) +
				                 " names format number " + std::to_string(index) +
				                 " of " + std::to_string(header.count_formats),
				             EINVAL};
			}
			uint32_t format;
			std::memcpy(&format,
			            bytes + header.formats_offset + index * sizeof(uint32_t),
			            sizeof(format));
			set.add(format, mod.modifier);
		}
	}
	return set;
}

} // namespace wlprime
