#include "compositor/surface_feedback.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <xf86drmMode.h>

#include "render/kms_backend.hpp"
#include "render/kms_props.hpp"

namespace wlprime {

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

result<format_set> primary_plane_formats(int fd, uint32_t crtc_id) {
	drmModeRes *res = drmModeGetResources(fd);
	if (res == nullptr) {
		return error{std::string("drmModeGetResources: ") + std::strerror(errno), errno};
	}
	int crtc_index = -1;
	for (int i = 0; i < res->count_crtcs; i++) {
		if (res->crtcs[i] == crtc_id) {
			crtc_index = i;
		}
	}
	drmModeFreeResources(res);
	if (crtc_index < 0) {
		return error{"no CRTC " + std::to_string(crtc_id), ENOENT};
	}
	drmModePlaneRes *planes = drmModeGetPlaneResources(fd);
	if (planes == nullptr) {
		return error{std::string("drmModeGetPlaneResources: ") + std::strerror(errno),
		             errno};
	}
	// The primary plane bound to the CRTC now, else the first primary plane
	// that can be.
	drmModePlane *chosen = nullptr;
	for (uint32_t i = 0; i < planes->count_planes; i++) {
		drmModePlane *plane = drmModeGetPlane(fd, planes->planes[i]);
		if (plane == nullptr) {
			continue;
		}
		const bool usable = (plane->possible_crtcs & (1u << crtc_index)) != 0 &&
		                    kms_prop_value(fd, plane->plane_id, DRM_MODE_OBJECT_PLANE,
		                                   "type") == uint64_t(DRM_PLANE_TYPE_PRIMARY);
		if (usable && (chosen == nullptr || plane->crtc_id == crtc_id)) {
			drmModeFreePlane(chosen);
			chosen = plane;
		} else {
			drmModeFreePlane(plane);
		}
	}
	drmModeFreePlaneResources(planes);
	if (chosen == nullptr) {
		return error{"no primary plane for CRTC " + std::to_string(crtc_id), ENOENT};
	}

	result<format_set> formats = format_set{};
	std::optional<kms_prop> in_formats =
	    kms_find_prop(fd, chosen->plane_id, DRM_MODE_OBJECT_PLANE, "IN_FORMATS");
	std::optional<uint64_t> blob_id;
	if (in_formats) {
		blob_id = in_formats->value;
	}
	if (blob_id && *blob_id != 0) {
		drmModePropertyBlobRes *blob = drmModeGetPropertyBlob(fd, uint32_t(*blob_id));
		if (blob == nullptr) {
			formats = error{"plane " + std::to_string(chosen->plane_id) +
			                    ": IN_FORMATS blob " + std::to_string(*blob_id) + ": " +
			                    std::strerror(errno),
			                errno};
		} else {
			formats = parse_in_formats(blob->data, blob->length);
			drmModeFreePropertyBlob(blob);
		}
	} else {
		// No modifiers on this device: linear, or whatever the buffer's
		// implicit layout is.
		format_set set;
		for (uint32_t i = 0; i < chosen->count_formats; i++) {
			set.add(chosen->formats[i], DRM_FORMAT_MOD_LINEAR);
			set.add(chosen->formats[i], DRM_FORMAT_MOD_INVALID);
		}
		formats = std::move(set);
	}
	drmModeFreePlane(chosen);
	return formats;
}

wlr_scene_surface *find_scene_surface(wlr_scene_node *root, wlr_surface *surface) {
	if (root->type == WLR_SCENE_NODE_SURFACE) {
		wlr_scene_surface *s = wlr_scene_surface_from_node(root);
		return s->surface == surface ? s : nullptr;
	}
	wl_list *children = &root->state.children;
	for (wl_list *link = children->next; link != children; link = link->next) {
		auto *child = reinterpret_cast<wlr_scene_node *>(
		    reinterpret_cast<char *>(link) - offsetof(wlr_scene_node, state) -
		    offsetof(wlr_scene_node_state, link));
		if (wlr_scene_surface *found = find_scene_surface(child, surface)) {
			return found;
		}
	}
	return nullptr;
}

std::optional<scanout_tranche> scanout_tranches::for_surface(wlr_surface *surface) {
	wlr_scene_surface *node = find_scene_surface(&scene_->node, surface);
	if (node == nullptr || node->primary_output == nullptr) {
		return std::nullopt;
	}
	wlr_output *out = node->primary_output;
	kms_scanout_state scanout = kms_output_get_scanout(out);
	if (scanout.device == nullptr || scanout.crtc_id == 0) {
		return std::nullopt; // not a KMS output
	}
	const device &display = *scanout.device;
	const auto key = std::make_pair(display.info().rdev, scanout.crtc_id);
	auto it = plane_formats_.find(key);
	if (it == plane_formats_.end()) {
		result<format_set> formats = primary_plane_formats(display.fd(), scanout.crtc_id);
		if (!formats) {
			wlr_log(
			    WLR_ERROR,
			    "surface feedback: no scanout tranche for output %s: %s, CRTC %u: %s "
			    "(errno %d)",
			    out->name, display.name().c_str(), scanout.crtc_id,
			    formats.err().message.c_str(), formats.err().errnum);
			it = plane_formats_.emplace(key, format_set{}).first;
		} else {
			wlr_log(WLR_INFO,
			        "surface feedback: output %s: primary plane of CRTC %u on %s takes "
			        "%zu format/modifier pairs",
			        out->name, scanout.crtc_id, display.name().c_str(),
			        formats->pairs().size());
			it = plane_formats_.emplace(key, std::move(*formats)).first;
		}
	}
	if (it->second.empty()) {
		return std::nullopt;
	}
	return scanout_tranche{display.info().rdev, it->second, display.name(), out->name};
}

} // namespace wlprime
