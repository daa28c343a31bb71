// key_client.cpp: wlprime-key-client, an xdg toplevel that prints what its
// wl_keyboard receives, for the seat-session test (tests/session).
//
//	wlprime-key-client [--ready FILE] [--exit-after-key CODE]
//
// Shows a 320x240 wl_shm window and prints one line per keyboard event on
// stdout (flushed): "keymap FORMAT SIZE", "enter", "leave", "key CODE
// pressed|released" (CODE: the evdev code, as wl_keyboard sends it),
// "modifiers D L K G". On the first wl_keyboard.enter it creates FILE (so a
// test knows the window has keyboard focus). It exits 0 after the release of
// CODE, 1 on a protocol or connection error, 2 on a bad command line.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <unistd.h>

#include "tests/clients/client_base.hpp"

namespace {

using namespace wlprime::clients;

struct client {
	client_base base{{.compositor = true, .shm = true, .wm_base = true}};
	xdg_window window;
	wl_seat *seat = nullptr;
	wl_keyboard *keyboard = nullptr;
	wl_buffer *buffer = nullptr;
	std::string ready_file;
	bool entered = false;
	long exit_key = -1;
	bool done = false;
	line_log log;
};

void keymap(void *data, wl_keyboard *, uint32_t format, int32_t fd, uint32_t size) {
	static_cast<client *>(data)->log.say("keymap %u %u", format, size);
	close(fd);
}

void enter(void *data, wl_keyboard *, uint32_t, wl_surface *, wl_array *) {
	auto *c = static_cast<client *>(data);
	c->log.say("enter");
	if (!c->entered && !c->ready_file.empty()) {
		int fd = open(c->ready_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			std::fprintf(stderr, "wlprime-key-client: %s: %s\n", c->ready_file.c_str(),
			             std::strerror(errno));
		} else {
			close(fd);
		}
	}
	c->entered = true;
}

void leave(void *data, wl_keyboard *, uint32_t, wl_surface *) {
	static_cast<client *>(data)->log.say("leave");
}

void key(void *data, wl_keyboard *, uint32_t, uint32_t, uint32_t code, uint32_t state) {
	auto *c = static_cast<client *>(data);
	bool pressed = state == WL_KEYBOARD_KEY_STATE_PRESSED;
	c->log.say("key %u %s", code, pressed ? "pressed" : "released");
	if (!pressed && static_cast<long>(code) == c->exit_key) {
		c->done = true;
	}
}

void modifiers(void *data, wl_keyboard *, uint32_t, uint32_t depressed, uint32_t latched,
               uint32_t locked, uint32_t group) {
	static_cast<client *>(data)->log.say("modifiers %u %u %u %u", depressed, latched, locked,
	                                     group);
}

void repeat_info(void *, wl_keyboard *, int32_t, int32_t) {}

const wl_keyboard_listener keyboard_listener = {
    .keymap = keymap,
    .enter = enter,
    .leave = leave,
    .key = key,
    .modifiers = modifiers,
    .repeat_info = repeat_info,
};

void seat_caps(void *data, wl_seat *seat, uint32_t caps) {
	auto *c = static_cast<client *>(data);
	if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) && c->keyboard == nullptr) {
		c->keyboard = wl_seat_get_keyboard(seat);
		wl_keyboard_add_listener(c->keyboard, &keyboard_listener, c);
		c->log.say("seat has a keyboard");
	} else if (!(caps & WL_SEAT_CAPABILITY_KEYBOARD) && c->keyboard != nullptr) {
		// Its wl_keyboard is inert now; a new one when a keyboard is back.
		wl_keyboard_release(c->keyboard);
		c->keyboard = nullptr;
		c->log.say("seat has no keyboard");
	}
}
void seat_name(void *, wl_seat *, const char *) {}
const wl_seat_listener seat_listener = {.capabilities = seat_caps, .name = seat_name};

constexpr int width = 320, height = 240;

void configure(client *c) {
	if (c->buffer == nullptr) {
		std::string error;
		c->buffer = make_shm_buffer(c->base.shm, width, height, WL_SHM_FORMAT_XRGB8888,
		                            0xff20a040, &error);
		if (c->buffer == nullptr) {
			std::fprintf(stderr, "wlprime-key-client: cannot make a shm buffer: %s\n",
			             error.c_str());
			std::exit(1);
		}
	}
	wl_surface_attach(c->window.surface, c->buffer, 0, 0);
	wl_surface_damage(c->window.surface, 0, 0, width, height);
	wl_surface_commit(c->window.surface);
}

} // namespace

int main(int argc, char *argv[]) {
	client c;
	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		if (arg == "--ready" && i + 1 < argc) {
			c.ready_file = argv[++i];
		} else if (arg == "--exit-after-key" && i + 1 < argc) {
			c.exit_key = std::strtol(argv[++i], nullptr, 10);
		} else {
			std::fprintf(
			    stderr,
			    "usage: wlprime-key-client [--ready FILE] [--exit-after-key CODE]\n");
			return 2;
		}
	}
	c.base.on_global = [&c](wl_registry *registry, uint32_t name, std::string_view iface,
	                        uint32_t) {
		if (iface == wl_seat_interface.name &&
		    bind_once(registry, name, wl_seat_interface, 5, &c.seat))
			wl_seat_add_listener(c.seat, &seat_listener, &c);
	};
	std::string error;
	if (!c.base.connect(nullptr, &error)) {
		std::fprintf(stderr, "wlprime-key-client: cannot connect to the compositor: %s\n",
		             std::strerror(errno));
		return 1;
	}
	c.base.roundtrip();
	if (c.base.compositor == nullptr || c.base.shm == nullptr || c.base.wm_base == nullptr ||
	    c.seat == nullptr) {
		std::fprintf(stderr, "wlprime-key-client: wl_compositor, wl_shm, xdg_wm_base or "
		                     "wl_seat missing\n");
		return 1;
	}
	c.window.on_configure = [&c](uint32_t) { configure(&c); };
	c.window.on_close = [&c] { c.done = true; };
	c.window.create(c.base, "wlprime-key-client");
	c.window.initial_commit();
	if (!c.base.dispatch_until([&c] { return c.done; })) {
		std::fprintf(stderr, "wlprime-key-client: connection lost: %s\n",
		             std::strerror(errno));
		return 1;
	}
	c.log.say("done");
	// Every proxy goes before the connection (LeakSanitizer in the
	// sanitizer build of the guest suites counts the ones left); the
	// globals go with c.
	if (c.keyboard != nullptr) {
		wl_keyboard_release(c.keyboard);
	}
	if (c.buffer != nullptr) {
		wl_buffer_destroy(c.buffer);
	}
	c.window.destroy();
	wl_seat_release(c.seat);
	c.base.roundtrip();
	return 0;
}
