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
	scanout_tranche t{display.info().rdev, {}, display.name(), out->name, {}};
	// A window (not covering its output) would be scanned out on an overlay
	// plane: the one it is on, else any that the output may get.
	wlr_scene_output *so = wlr_scene_get_scene_output(scene_, out);
	int x = 0, y = 0;
	wlr_scene_node_coords(&node->node, &x, &y);
	bool covers = so != nullptr && x - so->x <= 0 && y - so->y <= 0 &&
	              x - so->x + surface->current.width >= out->width &&
	              y - so->y + surface->current.height >= out->height;
	if (!covers && kms_output_overlay_planes(out) > 0) {
		uint32_t plane = 0;
		for (const kms_overlay_shown &s : kms_output_get_overlays(out)) {
			if (s.candidate == reinterpret_cast<uintptr_t>(surface)) {
				plane = s.plane_id; // (the queued one, listed last, wins)
			}
		}
		t.formats = kms_output_overlay_formats(out, plane);
		t.plane =
		    plane != 0 ? "overlay plane " + std::to_string(plane) : "its overlay planes";
		if (!t.formats.empty()) {
			return t;
		}
	}
	const kms_plane *primary = scanout.primary_plane;
	if (primary == nullptr || primary->formats.empty()) {
		return std::nullopt; // its formats could not be read: logged by kms_planes
	}
	t.formats = primary->formats;
	t.plane = "primary plane " + std::to_string(primary->id);
	return t;
}

} // namespace wlprime
