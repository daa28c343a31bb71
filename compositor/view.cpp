#include "compositor/view.hpp"

#include "compositor/server.hpp"

namespace wlprime {

view::view(server &srv, wlr_xdg_surface *xdg_surface)
    : server_(srv), xdg_surface_(xdg_surface),
      scene_node_(wlr_scene_xdg_surface_create(srv.view_layer(), xdg_surface)) {
	// For view_at(): the node of a view's tree that carries the view.
	scene_node_->data = this;
	// For popups: their parent's scene node.
	xdg_surface_->data = scene_node_;

	map_.connect(&xdg_surface_->events.map, [this] { handle_map(); });
	unmap_.connect(&xdg_surface_->events.unmap, [this] { server_.view_unmapped(this); });
	destroy_.connect(&xdg_surface_->events.destroy, [this] {
		// Frees this: nothing after it.
		server_.remove_view(this);
	});

	wlr_xdg_toplevel *toplevel = xdg_surface_->toplevel;
	request_move_.connect(
	    &toplevel->events.request_move,
	    [this](wlr_xdg_toplevel_move_event *) { server_.input().begin_move(this); });
	request_resize_.connect(&toplevel->events.request_resize,
	                        [this](wlr_xdg_toplevel_resize_event *event) {
		                        server_.input().begin_resize(this, event->edges);
	                        });
	// wlprime does not maximize or go fullscreen yet, but xdg-shell wants a
	// configure in reply to these requests all the same (an unchanged one),
	// once the surface has had its initial commit.
	auto reply_unchanged = [this] {
		if (xdg_surface_->added) {
			wlr_xdg_surface_schedule_configure(xdg_surface_);
		}
	};
	request_maximize_.connect(&toplevel->events.request_maximize, reply_unchanged);
	request_fullscreen_.connect(&toplevel->events.request_fullscreen, reply_unchanged);
}

view::~view() {
	// The scene tree goes with the xdg_surface (wlr_scene_xdg_surface_create
	// listens to its destroy); nothing else to undo.
	xdg_surface_->data = nullptr;
}

wlr_box view::geometry() const {
	wlr_box box{};
	wlr_xdg_surface_get_geometry(xdg_surface_, &box);
	return box;
}

void view::move_to(int x, int y) {
	x_ = x;
	y_ = y;
	wlr_scene_node_set_position(scene_node_, x_, y_);
}

void view::set_activated(bool activated) {
	wlr_xdg_toplevel_set_activated(xdg_surface_, activated);
}

void view::request_size(int width, int height) {
	wlr_xdg_toplevel_set_size(xdg_surface_, static_cast<uint32_t>(width),
	                          static_cast<uint32_t>(height));
}

void view::handle_map() {
	if (!placed_) {
		place_initially();
		placed_ = true;
	}
	server_.focus_view(this);
}

void view::place_initially() {
	// Centre the window geometry on the first output; a window larger than
	// the output starts at the output's top-left corner.
	output *out = server_.first_output();
	if (out == nullptr) {
		move_to(0, 0);
		return;
	}
	const wlr_box *area = wlr_output_layout_get_box(server_.layout(), out->wlr());
	if (area == nullptr) {
		move_to(0, 0);
		return;
	}
	wlr_box geo = geometry();
	int gx = area->x + (geo.width < area->width ? (area->width - geo.width) / 2 : 0);
	int gy = area->y + (geo.height < area->height ? (area->height - geo.height) / 2 : 0);
	move_to(gx - geo.x, gy - geo.y);
}

} // namespace wlprime
