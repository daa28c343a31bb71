#include "compositor/keyboard.hpp"

#include "compositor/seat.hpp"

namespace wlprime {

keyboard::keyboard(seat &owner, wlr_input_device *device) : seat_(owner), device_(device) {
	// The default keymap: XKB_DEFAULT_RULES/MODEL/LAYOUT/... from the
	// environment, else xkbcommon's built-in default (us).
	xkb_context *context = xkb_context_new(XKB_CONTEXT_NO_FLAGS);
	if (context != nullptr) {
		xkb_keymap *keymap =
		    xkb_keymap_new_from_names(context, nullptr, XKB_KEYMAP_COMPILE_NO_FLAGS);
		if (keymap != nullptr) {
			wlr_keyboard_set_keymap(device_->keyboard, keymap);
			xkb_keymap_unref(keymap);
		} else {
			wlr_log(WLR_ERROR, "keyboard %s: cannot compile the default keymap",
			        device_->name);
		}
		xkb_context_unref(context);
	}
	wlr_keyboard_set_repeat_info(device_->keyboard, 25, 600);

	key_.connect(&device_->keyboard->events.key,
	             [this](wlr_event_keyboard_key *event) { handle_key(event); });
	modifiers_.connect(&device_->keyboard->events.modifiers, [this] { handle_modifiers(); });
	destroy_.connect(&device_->events.destroy, [this] {
		// Frees this: nothing after it.
		seat_.remove_keyboard(this);
	});
	seat_.use_keyboard(device_);
}

void keyboard::handle_key(wlr_event_keyboard_key *event) {
	// No compositor key bindings yet: every key goes to the focused client.
	seat_.use_keyboard(device_);
	wlr_seat_keyboard_notify_key(seat_.wlr(), event->time_msec, event->keycode, event->state);
}

void keyboard::handle_modifiers() {
	seat_.use_keyboard(device_);
	wlr_seat_keyboard_notify_modifiers(seat_.wlr(), &device_->keyboard->modifiers);
}

} // namespace wlprime
