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
	unmap_.connect(&xdg_surface_->events.unmap, [this] {
		remap_ = remap_state::unmapped_in_this_commit;
		server_.view_unmapped(this);
	});
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
	// wlprime does not maximize yet, but xdg-shell wants a configure in
	// reply to the request all the same (an unchanged one), once the surface
	// has had its initial commit.
	request_maximize_.connect(&toplevel->events.request_maximize, [this] {
		if (xdg_surface_->added) {
			wlr_xdg_surface_schedule_configure(xdg_surface_);
		}
	});
	request_fullscreen_.connect(&toplevel->events.request_fullscreen,
	                            [this](wlr_xdg_toplevel_set_fullscreen_event *event) {
		                            request_fullscreen(event->fullscreen, event->output);
	                            });
	commit_.connect(&xdg_surface_->surface->events.commit, [this] { handle_commit(); });
	// wlroots 0.15 announces the xdg_surface at its initial commit: a
	// set_fullscreen sent before reached no view, and is in `requested`.
	if (toplevel->requested.fullscreen) {
		request_fullscreen(true, toplevel->requested.fullscreen_output);
	}
}

void view::request_fullscreen(bool fullscreen, wlr_output *on) {
	if (xdg_surface_->added) {
		set_fullscreen(fullscreen, on);
		return;
	}
	// Before the initial commit: no configure yet; applied at that commit.
	pending_request_ = true;
	pending_fullscreen_ = fullscreen;
	pending_output_ = on;
	pending_output_destroy_.disconnect();
	if (pending_output_ != nullptr) {
		pending_output_destroy_.connect(&pending_output_->events.destroy,
		                                [this] { pending_output_ = nullptr; });
	}
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
	if (x == x_ && y == y_) {
		return;
	}
	x_ = x;
	y_ = y;
	wlr_scene_node_set_position(scene_node_, x_, y_);
	wl_signal_emit(&server_.view_moved, this);
}

void view::set_activated(bool activated) {
	wlr_xdg_toplevel_set_activated(xdg_surface_, activated);
}

void view::request_size(int width, int height) {
	wlr_xdg_toplevel_set_size(xdg_surface_, static_cast<uint32_t>(width),
	                          static_cast<uint32_t>(height));
}

wlr_output *view::current_output() const {
	if (placed_) {
		wlr_box geo = geometry();
		double cx = x_ + geo.x + geo.width / 2.0, cy = y_ + geo.y + geo.height / 2.0;
		if (wlr_output *out = wlr_output_layout_output_at(server_.layout(), cx, cy)) {
			return out;
		}
	}
	output *first = server_.first_output();
	return first != nullptr ? first->wlr() : nullptr;
}

void view::set_fullscreen(bool fullscreen, wlr_output *on) {
	if (fullscreen) {
		if (on == nullptr || wlr_output_layout_get_box(server_.layout(), on) == nullptr) {
			on = fullscreen_output_ != nullptr ? fullscreen_output_ : current_output();
		}
		if (on == nullptr) {
			// No output: nothing to fill; the client still gets its
			// configure.
			wlr_xdg_surface_schedule_configure(xdg_surface_);
			return;
		}
		if (fullscreen_output_ == nullptr && placed_) {
			wlr_box geo = geometry();
			saved_x_ = x_;
			saved_y_ = y_;
			saved_width_ = geo.width;
			saved_height_ = geo.height;
			saved_ = true;
		}
		fullscreen_output_ = on;
		output_destroy_.connect(&on->events.destroy, [this] {
			// Its output is gone: the window stays where it is, not
			// fullscreen any more.
			wlr_log(WLR_INFO, "view %p: fullscreen output destroyed", (void *)this);
			set_fullscreen(false, nullptr);
		});
		const wlr_box *box = wlr_output_layout_get_box(server_.layout(), on);
		wlr_log(WLR_INFO, "view %p (%s): fullscreen on output %s at %d,%d, %dx%d",
		        (void *)this,
		        xdg_surface_->toplevel->title ? xdg_surface_->toplevel->title : "untitled",
		        on->name, box->x, box->y, box->width, box->height);
		wlr_xdg_toplevel_set_fullscreen(xdg_surface_, true);
		wlr_xdg_toplevel_set_size(xdg_surface_, static_cast<uint32_t>(box->width),
		                          static_cast<uint32_t>(box->height));
		placed_ = true;
		place_fullscreen();
		wlr_scene_node_raise_to_top(scene_node_);
		return;
	}
	if (fullscreen_output_ == nullptr) {
		wlr_xdg_surface_schedule_configure(xdg_surface_); // unchanged
		return;
	}
	wlr_log(WLR_INFO, "view %p: fullscreen on %s ends", (void *)this, fullscreen_output_->name);
	fullscreen_output_ = nullptr;
	output_destroy_.disconnect();
	wlr_xdg_toplevel_set_fullscreen(xdg_surface_, false);
	if (saved_) {
		wlr_xdg_toplevel_set_size(xdg_surface_, static_cast<uint32_t>(saved_width_),
		                          static_cast<uint32_t>(saved_height_));
		move_to(saved_x_, saved_y_);
	} else {
		// Fullscreen from the start: the client picks its size, and the
		// window is centred again when it next maps or commits.
		wlr_xdg_toplevel_set_size(xdg_surface_, 0, 0);
		placed_ = false;
	}
}

void view::place_fullscreen() {
	const wlr_box *box = wlr_output_layout_get_box(server_.layout(), fullscreen_output_);
	if (box == nullptr) {
		return;
	}
	wlr_box geo = geometry();
	move_to(box->x - geo.x, box->y - geo.y);
}

void view::handle_commit() {
	// xdg-shell: a toplevel unmapped by a null buffer is back in its initial
	// state, and its next commit asks for a configure as the very first one
	// did. wlroots 0.15 only answers the first (toplevel->added stays set):
	// the client would wait for a configure forever. The commit that
	// unmapped it does not count; the one after it does.
	if (remap_ == remap_state::unmapped_in_this_commit) {
		remap_ = remap_state::awaiting_initial_commit;
	} else if (remap_ == remap_state::awaiting_initial_commit) {
		remap_ = remap_state::none;
		if (!xdg_surface_->configured && !mapped()) {
			wlr_log(WLR_DEBUG,
			        "view %p: initial commit after an unmap: configure again",
			        static_cast<void *>(this));
			wlr_xdg_surface_schedule_configure(xdg_surface_);
		}
	}
	if (pending_request_ && xdg_surface_->added) {
		pending_request_ = false;
		pending_output_destroy_.disconnect();
		wlr_output *on = pending_output_;
		pending_output_ = nullptr;
		set_fullscreen(pending_fullscreen_, on);
	}
	if (fullscreen_output_ != nullptr) {
		// The window geometry may have changed with the commit.
		place_fullscreen();
	} else if (!placed_ && mapped()) {
		place_initially();
		placed_ = true;
	}
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
