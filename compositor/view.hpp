// view.hpp: an xdg-shell toplevel window in the scene.
//
// A view is created for every xdg toplevel (mapped or not) and destroyed with
// its xdg_surface. The server owns it (server::views_); the view's destroy
// handler asks the server to free it.

#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"

namespace wlprime {

class server;

class view {
public:
	// xdg_surface must be a toplevel. Adds a scene tree for it under the
	// server's view layer and stores that node in xdg_surface->data, where
	// popups find their parent (see server::handle_new_xdg_surface).
	view(server &srv, wlr_xdg_surface *xdg_surface);
	~view();

	view(const view &) = delete;
	view &operator=(const view &) = delete;

	wlr_xdg_surface *xdg_surface() const { return xdg_surface_; }
	wlr_surface *surface() const { return xdg_surface_->surface; }
	wlr_scene_node *scene_node() const { return scene_node_; }
	bool mapped() const { return xdg_surface_->mapped; }

	// Position of the surface's origin (not of its window geometry) in
	// layout coordinates.
	int x() const { return x_; }
	int y() const { return y_; }
	void move_to(int x, int y);

	// Window geometry (wlr_xdg_surface_get_geometry) in surface coordinates.
	wlr_box geometry() const;

	void set_activated(bool activated);
	// Asks the client for a new size of its window geometry.
	void request_size(int width, int height);

private:
	void handle_map();
	void place_initially();

	server &server_;
	wlr_xdg_surface *xdg_surface_; // not owned
	wlr_scene_node *scene_node_;   // owned by the scene; destroyed with xdg_surface_
	int x_ = 0;
	int y_ = 0;
	bool placed_ = false;

	listener<void> map_;
	listener<void> unmap_;
	listener<void> destroy_;
	listener<wlr_xdg_toplevel_move_event *> request_move_;
	listener<wlr_xdg_toplevel_resize_event *> request_resize_;
	listener<void> request_maximize_;
	listener<void> request_fullscreen_;
};

} // namespace wlprime
