// keyboard.hpp: one keyboard input device of the seat.

#pragma once

#include "compositor/listener.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class seat;

class keyboard {
public:
	// device->type must be WLR_INPUT_DEVICE_KEYBOARD. Gives it the default
	// XKB keymap (from XKB_DEFAULT_* / "us") and makes it the seat's
	// keyboard. The seat owns the keyboard and frees it when the device goes.
	keyboard(seat &owner, wlr_input_device *device);

	keyboard(const keyboard &) = delete;
	keyboard &operator=(const keyboard &) = delete;

	wlr_input_device *device() const { return device_; }

private:
	void handle_key(wlr_event_keyboard_key *event);
	void handle_modifiers();

	seat &seat_;
	wlr_input_device *device_; // not owned

	listener<wlr_event_keyboard_key *> key_;
	listener<void> modifiers_;
	listener<void> destroy_;
};

} // namespace wlprime
