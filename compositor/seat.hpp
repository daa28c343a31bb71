// seat.hpp: the seat, its cursor and its input devices.
//
// One seat ("seat0"). Pointer events go to the surface under the cursor;
// a button press focuses (raises, activates, gives keyboard focus to) the
// view under the cursor. A client's move/resize request starts a grab that
// moves or resizes its view until the buttons are released.

#pragma once

#include <list>
#include <memory>

#include "compositor/keyboard.hpp"
#include "compositor/listener.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class server;
class view;

class seat {
public:
	// Creates the wl_seat global, the cursor (attached to layout) and
	// listens for the backend's input devices.
	seat(server &srv, wl_display *display, wlr_backend *backend, wlr_output_layout *layout);
	// Frees keyboards, cursor and seat. Must run before the backend and the
	// output layout are destroyed.
	~seat();

	seat(const seat &) = delete;
	seat &operator=(const seat &) = delete;

	wlr_seat *wlr() const { return seat_; }
	wlr_cursor *cursor() const { return cursor_; }

	// Gives keyboard focus to surface (null: none).
	void keyboard_enter(wlr_surface *surface);
	wlr_surface *keyboard_focus() const { return seat_->keyboard_state.focused_surface; }

	// Grabs for xdg_toplevel.move / resize. Ignored unless the view's
	// surface has pointer focus (the client got the button press).
	void begin_move(view *v);
	void begin_resize(view *v, uint32_t edges);
	// Ends a grab of v, if any (v is going away).
	void forget_view(view *v);

	// Called by a keyboard that is going away; frees it.
	void remove_keyboard(keyboard *kb);
	// Called by a keyboard: make its device the seat's keyboard.
	void use_keyboard(wlr_input_device *device);

	// Sends pointer focus and motion for the current cursor position.
	void update_pointer_focus(uint32_t time_msec);

private:
	enum class grab_mode { none, move, resize };

	void handle_new_input(wlr_input_device *device);
	void update_capabilities();
	void handle_motion(wlr_event_pointer_motion *event);
	void handle_motion_absolute(wlr_event_pointer_motion_absolute *event);
	void handle_button(wlr_event_pointer_button *event);
	void process_motion(uint32_t time_msec);
	void start_move(view *v);
	void process_grab_move();
	void process_grab_resize();
	bool grab_allowed(view *v) const;

	server &server_;
	wlr_seat *seat_ = nullptr;                  // owned
	wlr_cursor *cursor_ = nullptr;              // owned
	wlr_xcursor_manager *cursor_mgr_ = nullptr; // owned
	bool own_image_ = false;                    // the cursor shows our left_ptr, not a client's
	std::list<std::unique_ptr<keyboard>> keyboards_;

	grab_mode grab_ = grab_mode::none;
	view *grab_view_ = nullptr; // not owned; cleared by forget_view
	double grab_x_ = 0;
	double grab_y_ = 0;
	wlr_box grab_box_{};
	uint32_t grab_edges_ = 0;

	listener<wlr_input_device *> new_input_;
	listener<wlr_event_pointer_motion *> motion_;
	listener<wlr_event_pointer_motion_absolute *> motion_absolute_;
	listener<wlr_event_pointer_button *> button_;
	listener<wlr_event_pointer_axis *> axis_;
	listener<void> frame_;
	listener<wlr_seat_pointer_request_set_cursor_event *> request_set_cursor_;
	listener<wlr_seat_request_set_selection_event *> request_set_selection_;
};

} // namespace wlprime
