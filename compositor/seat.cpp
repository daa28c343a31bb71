#include "compositor/seat.hpp"

#include <algorithm>
#include <linux/input-event-codes.h>

#include "compositor/server.hpp"
#include "compositor/view.hpp"

namespace wlprime {

seat::seat(server &srv, wl_display *display, wlr_backend *backend, wlr_output_layout *layout)
    : server_(srv) {
	seat_ = wlr_seat_create(display, "seat0");
	cursor_ = wlr_cursor_create();
	wlr_cursor_attach_output_layout(cursor_, layout);
	// Xcursor theme from XCURSOR_THEME (null: default), 24 px.
	cursor_mgr_ = wlr_xcursor_manager_create(nullptr, 24);
	wlr_xcursor_manager_load(cursor_mgr_, 1);

	new_input_.connect(&backend->events.new_input,
	                   [this](wlr_input_device *device) { handle_new_input(device); });

	motion_.connect(&cursor_->events.motion,
	                [this](wlr_event_pointer_motion *event) { handle_motion(event); });
	motion_absolute_.connect(
	    &cursor_->events.motion_absolute,
	    [this](wlr_event_pointer_motion_absolute *event) { handle_motion_absolute(event); });
	button_.connect(&cursor_->events.button,
	                [this](wlr_event_pointer_button *event) { handle_button(event); });
	axis_.connect(&cursor_->events.axis, [this](wlr_event_pointer_axis *event) {
		wlr_seat_pointer_notify_axis(seat_, event->time_msec, event->orientation,
		                             event->delta, event->delta_discrete, event->source);
	});
	frame_.connect(&cursor_->events.frame, [this] { wlr_seat_pointer_notify_frame(seat_); });

	request_set_cursor_.connect(
	    &seat_->events.request_set_cursor,
	    [this](wlr_seat_pointer_request_set_cursor_event *event) {
		    // Only the client with pointer focus may set the cursor image.
		    if (event->seat_client == seat_->pointer_state.focused_client) {
			    wlr_cursor_set_surface(cursor_, event->surface, event->hotspot_x,
			                           event->hotspot_y);
			    own_image_ = false;
		    }
	    });
	request_set_selection_.connect(&seat_->events.request_set_selection,
	                               [this](wlr_seat_request_set_selection_event *event) {
		                               wlr_seat_set_selection(seat_, event->source,
		                                                      event->serial);
	                               });

	update_capabilities();
}

seat::~seat() {
	// Listeners first (they point into the objects freed below).
	new_input_.disconnect();
	motion_.disconnect();
	motion_absolute_.disconnect();
	button_.disconnect();
	axis_.disconnect();
	frame_.disconnect();
	request_set_cursor_.disconnect();
	request_set_selection_.disconnect();
	keyboards_.clear();
	wlr_xcursor_manager_destroy(cursor_mgr_);
	wlr_cursor_destroy(cursor_);
	wlr_seat_destroy(seat_);
}

void seat::handle_new_input(wlr_input_device *device) {
	switch (device->type) {
	case WLR_INPUT_DEVICE_KEYBOARD:
		keyboards_.push_back(std::make_unique<keyboard>(*this, device));
		break;
	case WLR_INPUT_DEVICE_POINTER:
		// wlr_cursor detaches it by itself when the device goes.
		wlr_cursor_attach_input_device(cursor_, device);
		break;
	default:
		break;
	}
	wlr_log(WLR_INFO, "input device %s (type %d) added", device->name,
	        static_cast<int>(device->type));
	update_capabilities();
	// A keyboard back after every keyboard had gone (a VT switch makes
	// libinput remove and add them again): dropping the keyboard capability
	// cleared the focus; give it back to the topmost view.
	if (device->type == WLR_INPUT_DEVICE_KEYBOARD && keyboard_focus() == nullptr) {
		for (const std::unique_ptr<view> &v : server_.views()) {
			if (v->mapped()) {
				server_.focus_view(v.get());
				break;
			}
		}
	}
}

void seat::update_capabilities() {
	// There is always a cursor, so always a pointer capability.
	uint32_t caps = WL_SEAT_CAPABILITY_POINTER;
	if (!keyboards_.empty()) {
		caps |= WL_SEAT_CAPABILITY_KEYBOARD;
	}
	wlr_seat_set_capabilities(seat_, caps);
}

void seat::use_keyboard(wlr_input_device *device) {
	wlr_seat_set_keyboard(seat_, device);
}

void seat::remove_keyboard(keyboard *kb) {
	auto it = std::find_if(keyboards_.begin(), keyboards_.end(),
	                       [kb](const std::unique_ptr<keyboard> &k) { return k.get() == kb; });
	if (it != keyboards_.end()) {
		keyboards_.erase(it);
	}
	update_capabilities();
}

void seat::keyboard_enter(wlr_surface *surface) {
	if (surface == nullptr) {
		wlr_seat_keyboard_notify_clear_focus(seat_);
		return;
	}
	if (wlr_keyboard *kb = wlr_seat_get_keyboard(seat_)) {
		wlr_seat_keyboard_notify_enter(seat_, surface, kb->keycodes, kb->num_keycodes,
		                               &kb->modifiers);
	} else {
		wlr_seat_keyboard_notify_enter(seat_, surface, nullptr, 0, nullptr);
	}
}

void seat::handle_motion(wlr_event_pointer_motion *event) {
	wlr_cursor_move(cursor_, event->device, event->delta_x, event->delta_y);
	process_motion(event->time_msec);
}

void seat::handle_motion_absolute(wlr_event_pointer_motion_absolute *event) {
	wlr_cursor_warp_absolute(cursor_, event->device, event->x, event->y);
	process_motion(event->time_msec);
}

void seat::handle_button(wlr_event_pointer_button *event) {
	wlr_seat_pointer_notify_button(seat_, event->time_msec, event->button, event->state);
	if (event->state == WLR_BUTTON_RELEASED) {
		grab_ = grab_mode::none;
		grab_view_ = nullptr;
		return;
	}
	// Focus on click; Alt + the left button moves the window (the
	// compositor's own grab, whether the client asks for one or not).
	double sx = 0;
	double sy = 0;
	wlr_surface *surface = nullptr;
	if (view *v = server_.view_at(cursor_->x, cursor_->y, &surface, &sx, &sy)) {
		server_.focus_view(v);
		wlr_keyboard *kb = wlr_seat_get_keyboard(seat_);
		if (event->button == BTN_LEFT && kb != nullptr &&
		    (wlr_keyboard_get_modifiers(kb) & WLR_MODIFIER_ALT)) {
			start_move(v);
		}
	}
}

void seat::process_motion(uint32_t time_msec) {
	switch (grab_) {
	case grab_mode::move:
		process_grab_move();
		return;
	case grab_mode::resize:
		process_grab_resize();
		return;
	case grab_mode::none:
		break;
	}
	update_pointer_focus(time_msec);
}

void seat::update_pointer_focus(uint32_t time_msec) {
	double sx = 0;
	double sy = 0;
	wlr_surface *surface = nullptr;
	view *v = server_.view_at(cursor_->x, cursor_->y, &surface, &sx, &sy);
	if (v == nullptr && !own_image_) {
		// Over the background: our own cursor image (set once: each
		// setting is a new image for the output, rendered and tested).
		wlr_xcursor_manager_set_cursor_image(cursor_mgr_, "left_ptr", cursor_);
		own_image_ = true;
	}
	if (surface != nullptr) {
		// wlroots sends enter only on a change of surface.
		wlr_seat_pointer_notify_enter(seat_, surface, sx, sy);
		wlr_seat_pointer_notify_motion(seat_, time_msec, sx, sy);
	} else {
		wlr_seat_pointer_clear_focus(seat_);
	}
}

bool seat::grab_allowed(view *v) const {
	wlr_surface *focused = seat_->pointer_state.focused_surface;
	return focused != nullptr && wlr_surface_get_root_surface(focused) == v->surface();
}

void seat::begin_move(view *v) {
	if (grab_allowed(v)) {
		start_move(v);
	}
}

void seat::start_move(view *v) {
	grab_ = grab_mode::move;
	grab_view_ = v;
	grab_x_ = cursor_->x - v->x();
	grab_y_ = cursor_->y - v->y();
}

void seat::begin_resize(view *v, uint32_t edges) {
	if (!grab_allowed(v)) {
		return;
	}
	wlr_box geo = v->geometry();
	// The grabbed edges, in layout coordinates.
	double edge_x = v->x() + geo.x + ((edges & WLR_EDGE_RIGHT) ? geo.width : 0);
	double edge_y = v->y() + geo.y + ((edges & WLR_EDGE_BOTTOM) ? geo.height : 0);
	grab_ = grab_mode::resize;
	grab_view_ = v;
	grab_x_ = cursor_->x - edge_x;
	grab_y_ = cursor_->y - edge_y;
	grab_box_ = geo;
	grab_box_.x += v->x();
	grab_box_.y += v->y();
	grab_edges_ = edges;
}

void seat::forget_view(view *v) {
	if (grab_view_ == v) {
		grab_ = grab_mode::none;
		grab_view_ = nullptr;
	}
}

void seat::process_grab_move() {
	grab_view_->move_to(static_cast<int>(cursor_->x - grab_x_),
	                    static_cast<int>(cursor_->y - grab_y_));
}

void seat::process_grab_resize() {
	// The new position of the grabbed edges; the others stay. A window is at
	// least 1x1. The position is applied at once, the size when the client
	// follows the configure: good enough without a transaction system.
	int edge_x = static_cast<int>(cursor_->x - grab_x_);
	int edge_y = static_cast<int>(cursor_->y - grab_y_);
	int left = grab_box_.x;
	int right = grab_box_.x + grab_box_.width;
	int top = grab_box_.y;
	int bottom = grab_box_.y + grab_box_.height;
	if (grab_edges_ & WLR_EDGE_TOP) {
		top = std::min(edge_y, bottom - 1);
	} else if (grab_edges_ & WLR_EDGE_BOTTOM) {
		bottom = std::max(edge_y, top + 1);
	}
	if (grab_edges_ & WLR_EDGE_LEFT) {
		left = std::min(edge_x, right - 1);
	} else if (grab_edges_ & WLR_EDGE_RIGHT) {
		right = std::max(edge_x, left + 1);
	}
	wlr_box geo = grab_view_->geometry();
	grab_view_->move_to(left - geo.x, top - geo.y);
	grab_view_->request_size(right - left, bottom - top);
}

} // namespace wlprime
