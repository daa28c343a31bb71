#include "compositor/surface_feedback.hpp"

#include <cstddef>

#include "render/kms_backend.hpp"

namespace wlprime {

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

std::optional<scanout_tranche> scanout_tranches::for_surface(wlr_surface *surface) const {
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
	const kms_plane *plane = scanout.primary_plane;
	if (plane == nullptr || plane->formats.empty()) {
		return std::nullopt; // its formats could not be read: logged by kms_planes
	}
	return scanout_tranche{display.info().rdev, plane->formats, display.name(), out->name};
}

} // namespace wlprime
