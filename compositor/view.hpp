// view.hpp: an xdg-shell toplevel window in the scene.
//
// A view is created for every xdg toplevel (mapped or not) and destroyed with
// its xdg_surface. The server owns it (server::views_); the view's destroy
// handler asks the server to free it.
//
// Fullscreen (xdg_toplevel.set_fullscreen / unset_fullscreen): the window
// geometry is placed at the output's layout position and the client is asked
// for the output's size; the output is the one the client named, or, for
// null, the one the view is on (the first output before it is shown). A
// request before the initial commit (which wlroots 0.15 keeps in
// toplevel->requested, as the view does not exist yet) is applied when the
// view is made, so the first configure already carries it.
// unset_fullscreen restores the position and size from before. Every move
// asks linux-dmabuf to look at the surface feedback again (the surface's
// output, and so its scanout tranche, may have changed).

#pragma once

#include "compositor/listener.hpp"
#include "render/wlr.hpp"

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

	// Fullscreen on `on` (null: the output the view is on), or back from it.
	void set_fullscreen(bool fullscreen, wlr_output *on);
	// The output the view is fullscreen on; null when it is not.
	wlr_output *fullscreen_output() const { return fullscreen_output_; }

private:
	void handle_map();
	void handle_commit();
	// A request of the client: applied now, or at the initial commit.
	void request_fullscreen(bool fullscreen, wlr_output *on);
	void place_initially();
	// The output showing the centre of the window geometry, else the first.
	wlr_output *current_output() const;
	// Puts the window geometry on the fullscreen output's top-left corner.
	void place_fullscreen();

	server &server_;
	wlr_xdg_surface *xdg_surface_; // not owned
	wlr_scene_node *scene_node_;   // owned by the scene; destroyed with xdg_surface_
	int x_ = 0;
	int y_ = 0;
	bool placed_ = false;
	wlr_output *fullscreen_output_ = nullptr; // not owned; see output_destroy_
	// Before fullscreen: where the window was and its size (0: none yet).
	int saved_x_ = 0, saved_y_ = 0, saved_width_ = 0, saved_height_ = 0;
	bool saved_ = false;
	// A request that came before the initial commit, applied at it.
	bool pending_request_ = false;
	// Where the view is in an unmap and re-map (see handle_commit).
	enum class remap_state { none, unmapped_in_this_commit, awaiting_initial_commit };
	remap_state remap_ = remap_state::none;
	bool pending_fullscreen_ = false;
	wlr_output *pending_output_ = nullptr;

	listener<void> map_;
	listener<void> unmap_;
	listener<void> destroy_;
	listener<wlr_xdg_toplevel_move_event *> request_move_;
	listener<wlr_xdg_toplevel_resize_event *> request_resize_;
	listener<void> request_maximize_;
	listener<wlr_xdg_toplevel_set_fullscreen_event *> request_fullscreen_;
	listener<void> commit_;
	listener<void> output_destroy_;         // of fullscreen_output_
	listener<void> pending_output_destroy_; // of pending_output_
};

} // namespace wlprime
