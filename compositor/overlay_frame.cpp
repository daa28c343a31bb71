// overlay_frame.cpp: windows on overlay planes, the rest composed (see
// overlay_frame.hpp).

#include "compositor/overlay_frame.hpp"

#include <algorithm>

#include "import/formats.hpp"
#include "render/buffer_import.hpp"

namespace wlprime {
namespace {

bool intersects(const wlr_box &a, const wlr_box &b) {
	wlr_box common;
	return wlr_box_intersection(&common, &a, &b);
}

bool same_box(const wlr_box &a, const wlr_box &b) {
	return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
}

// Formats whose pixels carry alpha (the linux-dmabuf formats wlprime takes).
bool has_alpha(uint32_t format) {
	switch (format) {
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_ABGR8888:
	case DRM_FORMAT_RGBA8888:
	case DRM_FORMAT_BGRA8888:
	case DRM_FORMAT_ARGB2101010:
	case DRM_FORMAT_ABGR2101010:
	case DRM_FORMAT_RGBA1010102:
	case DRM_FORMAT_BGRA1010102:
	case DRM_FORMAT_ARGB16161616F:
	case DRM_FORMAT_ABGR16161616F:
	case DRM_FORMAT_ARGB4444:
	case DRM_FORMAT_ABGR4444:
	case DRM_FORMAT_ARGB1555:
	case DRM_FORMAT_ABGR1555:
		return true;
	default:
		return false;
	}
}

// Whether the surface's opaque region covers all of it (box: its size).
bool opaque_over(wlr_surface *surface, const wlr_box &box) {
	pixman_box32_t all{0, 0, box.width, box.height};
	return pixman_region32_contains_rectangle(&surface->opaque_region, &all) ==
	       PIXMAN_REGION_IN;
}

std::string describe(wlr_surface *surface) {
	pid_t pid = 0;
	wl_client_get_credentials(wl_resource_get_client(surface->resource), &pid, nullptr,
	                          nullptr);
	return "wl_surface@" + std::to_string(wl_resource_get_id(surface->resource)) + " of pid " +
	       std::to_string(pid);
}

void walk(wlr_scene_node *node, int x, int y, std::vector<wlr_scene_node *> &nodes,
          std::vector<wlr_box> &boxes) {
	if (!node->state.enabled) {
		return;
	}
	x += node->state.x;
	y += node->state.y;
	int w = 0, h = 0;
	switch (node->type) {
	case WLR_SCENE_NODE_SURFACE: {
		wlr_surface *s = wlr_scene_surface_from_node(node)->surface;
		w = s->current.width;
		h = s->current.height;
		break;
	}
	case WLR_SCENE_NODE_RECT: {
		auto *rect = reinterpret_cast<wlr_scene_rect *>(node);
		w = rect->width;
		h = rect->height;
		break;
	}
	case WLR_SCENE_NODE_BUFFER: {
		auto *buffer = reinterpret_cast<wlr_scene_buffer *>(node);
		w = buffer->dst_width > 0 ? buffer->dst_width
		                          : (buffer->buffer ? buffer->buffer->width : 0);
		h = buffer->dst_height > 0 ? buffer->dst_height
		                           : (buffer->buffer ? buffer->buffer->height : 0);
		break;
	}
	default:
		break;
	}
	if (w > 0 && h > 0) {
		nodes.push_back(node);
		boxes.push_back({x, y, w, h});
	}
	wlr_scene_node *child;
	wl_list_for_each(child, &node->state.children, state.link) {
		walk(child, x, y, nodes, boxes);
	}
}

} // namespace

overlay_frame::overlay_frame(wlr_output *output, wlr_presentation *presentation,
                             change_observer on_change)
    : output_(output), presentation_(presentation), on_change_(std::move(on_change)) {}

// What the output shows, top of the stack first, in output coordinates.
std::vector<overlay_frame::entry> overlay_frame::visible(wlr_scene_output *so) const {
	std::vector<wlr_scene_node *> nodes;
	std::vector<wlr_box> boxes;
	walk(&so->scene->node, -so->x, -so->y, nodes, boxes);
	const wlr_box screen{0, 0, output_->width, output_->height};
	std::vector<entry> out;
	for (size_t i = nodes.size(); i-- > 0;) {
		if (!intersects(boxes[i], screen)) {
			continue;
		}
		wlr_surface *s = nodes[i]->type == WLR_SCENE_NODE_SURFACE
		                     ? wlr_scene_surface_from_node(nodes[i])->surface
		                     : nullptr;
		out.push_back({nodes[i], s, boxes[i]});
	}
	return out;
}

void overlay_frame::leave(wlr_scene_output *so) {
	for (const on_plane &p : on_planes_) {
		wlr_box b = p.box;
		wlr_output_damage_add_box(so->damage, &b);
	}
	on_planes_.clear();
	if (!verdicts_.empty()) {
		note_changes({});
	}
}

bool overlay_frame::frame(wlr_scene_output *so) {
	if (kms_output_overlay_planes(output_) == 0 ||
	    output_->transform != WL_OUTPUT_TRANSFORM_NORMAL || output_->scale != 1.0f) {
		leave(so);
		return false;
	}
	std::vector<entry> shown = visible(so);
	const wlr_box screen{0, 0, output_->width, output_->height};
	// A single surface over the whole output: direct scanout or its copy.
	if (shown.size() == 1 && shown[0].surface != nullptr && same_box(shown[0].box, screen)) {
		leave(so);
		return false;
	}
	// Software cursors are drawn over everything composed.
	std::vector<wlr_box> cursors;
	wlr_output_cursor *cursor;
	wl_list_for_each(cursor, &output_->cursors, link) {
		if (cursor->enabled && cursor->visible && output_->hardware_cursor != cursor) {
			cursors.push_back({static_cast<int>(cursor->x) - cursor->hotspot_x,
			                   static_cast<int>(cursor->y) - cursor->hotspot_y,
			                   static_cast<int>(cursor->width),
			                   static_cast<int>(cursor->height)});
		}
	}

	std::vector<surface_plane_verdict> next;
	std::vector<overlay_candidate> candidates;
	std::vector<size_t> candidate_of; // index into next
	std::vector<wlr_scene_node *> candidate_node;
	for (size_t i = 0; i < shown.size(); i++) {
		const entry &e = shown[i];
		if (e.surface == nullptr) {
			continue;
		}
		wlr_surface *s = e.surface;
		surface_plane_verdict v;
		v.surface = describe(s);
		v.box = e.box;
		wlr_buffer *buffer = s->buffer != nullptr ? &s->buffer->base : nullptr;
		dmabuf_import *import = buffer != nullptr ? import_of(buffer) : nullptr;
		v.import = import != nullptr ? import->serial() : 0;
		auto covering =
		    std::find_if(shown.begin(), shown.begin() + i,
		                 [&](const entry &above) { return intersects(above.box, e.box); });
		bool under_cursor =
		    std::any_of(cursors.begin(), cursors.end(),
		                [&](const wlr_box &c) { return intersects(c, e.box); });
		if (import == nullptr) {
			v.reason = "not a dma-buf (wl_shm, or its wl_buffer is gone)";
		} else if (e.box.x < 0 || e.box.y < 0 || e.box.x + e.box.width > screen.width ||
		           e.box.y + e.box.height > screen.height) {
			v.reason = "partly off the output";
		} else if (covering != shown.begin() + i) {
			v.reason = covering->surface != nullptr
			               ? "covered by " + describe(covering->surface) + " above it"
			               : "covered by a scene element above it";
		} else if (under_cursor) {
			v.reason = "under the software cursor";
		} else if (s->current.transform != WL_OUTPUT_TRANSFORM_NORMAL) {
			v.reason = "buffer transform " + std::to_string(s->current.transform) +
			           ": planes are not rotated";
		} else if (s->current.viewport.has_src) {
			v.reason = "cropped by wp_viewport";
		} else if (has_alpha(import->key().format) && !opaque_over(s, e.box)) {
			v.reason =
			    format_name(import->key().format) +
			    " with alpha and no opaque region over it: blended by composition";
		} else {
			overlay_candidate c;
			c.id = reinterpret_cast<uintptr_t>(s);
			c.buffer = buffer;
			c.rect = {e.box.x,
			          e.box.y,
			          static_cast<uint32_t>(e.box.width),
			          static_cast<uint32_t>(e.box.height),
			          0,
			          0,
			          static_cast<uint32_t>(buffer->width),
			          static_cast<uint32_t>(buffer->height)};
			candidates.push_back(c);
			candidate_of.push_back(next.size());
			candidate_node.push_back(e.node);
		}
		next.push_back(std::move(v));
	}
	std::vector<overlay_verdict> verdicts = kms_output_assign_overlays(output_, candidates);
	std::vector<on_plane> planes_now;
	std::vector<wlr_scene_node *> left_out;
	for (size_t c = 0; c < candidates.size(); c++) {
		surface_plane_verdict &v = next[candidate_of[c]];
		const overlay_verdict &o = verdicts[c];
		v.plane_id = o.plane_id;
		v.fb_id = o.fb_id;
		v.reason = o.reason;
		v.err = o.err;
		if (o.plane_id != 0) {
			auto *s = reinterpret_cast<wlr_surface *>(
			    static_cast<uintptr_t>(candidates[c].id));
			planes_now.push_back({s, v.box});
			left_out.push_back(candidate_node[c]);
		}
	}

	// Damage: what leaves a plane is composed again; what stays on its
	// plane, at the same place, damages nothing composed.
	for (const on_plane &before : on_planes_) {
		auto still =
		    std::find_if(planes_now.begin(), planes_now.end(), [&](const on_plane &p) {
			    return p.surface == before.surface && same_box(p.box, before.box);
		    });
		wlr_box b = before.box;
		if (still == planes_now.end()) {
			wlr_output_damage_add_box(so->damage, &b);
		} else {
			pixman_region32_t stay;
			pixman_region32_init_rect(&stay, b.x, b.y, b.width, b.height);
			pixman_region32_subtract(&so->damage->current, &so->damage->current, &stay);
			pixman_region32_fini(&stay);
		}
	}
	on_planes_ = std::move(planes_now);
	note_changes(next);
	// A capture (writeback) is made by a commit with a composed frame.
	if (kms_output_wants_buffer_commit(output_)) {
		wlr_output_damage_add_whole(so->damage);
	}

	switch (render_and_commit(so, left_out)) {
	case outcome::committed:
		break;
	case outcome::nothing:
		// Nothing composed: the planes alone, if they change.
		if (kms_output_commit_planes(output_)) {
			overlay_only_++;
		}
		break;
	case outcome::failed:
		leave(so); // nothing went on a plane
		return true;
	}
	// Surfaces on planes were not sampled by the render: they are shown.
	if (presentation_ != nullptr) {
		for (const on_plane &p : on_planes_) {
			wlr_presentation_surface_sampled_on_output(presentation_, p.surface,
			                                           output_);
		}
	}
	return true;
}

// Composes the damage with left_out hidden and commits it (with the planes'
// assignment): nothing when there is no damage.
overlay_frame::outcome
overlay_frame::render_and_commit(wlr_scene_output *so,
                                 const std::vector<wlr_scene_node *> &left_out) {
	bool needs_frame = false; // not used: see below
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	if (!wlr_output_damage_attach_render(so->damage, &needs_frame, &damage)) {
		pixman_region32_fini(&damage);
		return outcome::failed;
	}
	// wlroots' needs_frame is set by every scheduled frame (a surface's
	// commit); what counts here is whether anything composed changed.
	if (!pixman_region32_not_empty(&damage)) {
		pixman_region32_fini(&damage);
		wlr_output_rollback(output_);
		return outcome::nothing;
	}
	wlr_renderer *renderer = output_->renderer;
	wlr_renderer_begin(renderer, output_->width, output_->height);
	int nrects = 0;
	pixman_box32_t *rects = pixman_region32_rectangles(&damage, &nrects);
	const float black[4] = {0.0f, 0.0f, 0.0f, 1.0f};
	for (int i = 0; i < nrects; i++) {
		wlr_box box{rects[i].x1, rects[i].y1, rects[i].x2 - rects[i].x1,
		            rects[i].y2 - rects[i].y1};
		wlr_renderer_scissor(renderer, &box);
		wlr_renderer_clear(renderer, black);
	}
	// Left out of this render only: no damage, no scene change.
	for (wlr_scene_node *n : left_out) {
		n->state.enabled = false;
	}
	wlr_scene_render_output(so->scene, output_, so->x, so->y, &damage);
	for (wlr_scene_node *n : left_out) {
		n->state.enabled = true;
	}
	wlr_output_render_software_cursors(output_, &damage);
	wlr_renderer_end(renderer);
	pixman_region32_fini(&damage);
	wlr_output_set_damage(output_, &so->damage->current);
	if (!wlr_output_commit(output_)) {
		wlr_log(WLR_DEBUG, "output %s: composed frame commit failed", output_->name);
		return outcome::failed;
	}
	composed_++;
	return outcome::committed;
}

void overlay_frame::note_changes(const std::vector<surface_plane_verdict> &next) {
	if (on_change_) {
		for (const surface_plane_verdict &v : next) {
			auto before = std::find_if(
			    verdicts_.begin(), verdicts_.end(),
			    [&](const surface_plane_verdict &b) { return b.surface == v.surface; });
			if (before == verdicts_.end() || before->plane_id != v.plane_id ||
			    before->reason != v.reason) {
				on_change_(output_->name, v);
			}
		}
	}
	verdicts_ = next;
}

} // namespace wlprime
