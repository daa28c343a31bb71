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
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

namespace {

struct client {
	wl_compositor *compositor = nullptr;
	wl_shm *shm = nullptr;
	xdg_wm_base *wm_base = nullptr;
	wl_seat *seat = nullptr;
	wl_keyboard *keyboard = nullptr;
	wl_surface *surface = nullptr;
	wl_buffer *buffer = nullptr;
	std::string ready_file;
	bool entered = false;
	long exit_key = -1;
	bool done = false;
};

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...) {
	va_list args;
	va_start(args, fmt);
	std::vprintf(fmt, args);
	va_end(args);
	std::putchar('\n');
	std::fflush(stdout);
}

void keymap(void *, wl_keyboard *, uint32_t format, int32_t fd, uint32_t size) {
	say("keymap %u %u", format, size);
	close(fd);
}

void enter(void *data, wl_keyboard *, uint32_t, wl_surface *, wl_array *) {
	auto *c = static_cast<client *>(data);
	say("enter");
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

void leave(void *, wl_keyboard *, uint32_t, wl_surface *) {
	say("leave");
}

void key(void *data, wl_keyboard *, uint32_t, uint32_t, uint32_t code, uint32_t state) {
	auto *c = static_cast<client *>(data);
	bool pressed = state == WL_KEYBOARD_KEY_STATE_PRESSED;
	say("key %u %s", code, pressed ? "pressed" : "released");
	if (!pressed && static_cast<long>(code) == c->exit_key) {
		c->done = true;
	}
}

void modifiers(void *, wl_keyboard *, uint32_t, uint32_t depressed, uint32_t latched,
               uint32_t locked, uint32_t group) {
	say("modifiers %u %u %u %u", depressed, latched, locked, group);
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
		say("seat has a keyboard");
	} else if (!(caps & WL_SEAT_CAPABILITY_KEYBOARD) && c->keyboard != nullptr) {
		// Its wl_keyboard is inert now; a new one when a keyboard is back.
		wl_keyboard_release(c->keyboard);
		c->keyboard = nullptr;
		say("seat has no keyboard");
	}
}
void seat_name(void *, wl_seat *, const char *) {}
const wl_seat_listener seat_listener = {.capabilities = seat_caps, .name = seat_name};

void ping(void *, xdg_wm_base *base, uint32_t serial) {
	xdg_wm_base_pong(base, serial);
}
const xdg_wm_base_listener wm_base_listener = {.ping = ping};

void global(void *data, wl_registry *registry, uint32_t name, const char *interface, uint32_t) {
	auto *c = static_cast<client *>(data);
	std::string_view iface = interface;
	if (iface == wl_compositor_interface.name) {
		c->compositor = static_cast<wl_compositor *>(
		    wl_registry_bind(registry, name, &wl_compositor_interface, 4));
	} else if (iface == wl_shm_interface.name) {
		c->shm =
		    static_cast<wl_shm *>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
	} else if (iface == xdg_wm_base_interface.name) {
		c->wm_base = static_cast<xdg_wm_base *>(
		    wl_registry_bind(registry, name, &xdg_wm_base_interface, 1));
		xdg_wm_base_add_listener(c->wm_base, &wm_base_listener, c);
	} else if (iface == wl_seat_interface.name && c->seat == nullptr) {
		c->seat =
		    static_cast<wl_seat *>(wl_registry_bind(registry, name, &wl_seat_interface, 5));
		wl_seat_add_listener(c->seat, &seat_listener, c);
	}
}
void global_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {.global = global, .global_remove = global_remove};

constexpr int width = 320, height = 240;

wl_buffer *make_buffer(wl_shm *shm) {
	const int stride = width * 4, size = stride * height;
	int fd = memfd_create("wlprime-key-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, size) != 0) {
		return nullptr;
	}
	void *data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		close(fd);
		return nullptr;
	}
	auto *pixels = static_cast<uint32_t *>(data);
	for (int i = 0; i < width * height; i++) {
		pixels[i] = 0xff20a040;
	}
	munmap(data, size);
	wl_shm_pool *pool = wl_shm_create_pool(shm, fd, size);
	wl_buffer *buffer =
	    wl_shm_pool_create_buffer(pool, 0, width, height, stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

void configure(void *data, xdg_surface *xdg, uint32_t serial) {
	auto *c = static_cast<client *>(data);
	xdg_surface_ack_configure(xdg, serial);
	if (c->buffer == nullptr) {
		c->buffer = make_buffer(c->shm);
		if (c->buffer == nullptr) {
			std::fprintf(stderr, "wlprime-key-client: cannot make a shm buffer: %s\n",
			             std::strerror(errno));
			std::exit(1);
		}
	}
	wl_surface_attach(c->surface, c->buffer, 0, 0);
	wl_surface_damage(c->surface, 0, 0, width, height);
	wl_surface_commit(c->surface);
}
const xdg_surface_listener xdg_surface_listener_ = {.configure = configure};

void toplevel_configure(void *, xdg_toplevel *, int32_t, int32_t, wl_array *) {}
void toplevel_close(void *data, xdg_toplevel *) {
	static_cast<client *>(data)->done = true;
}
const xdg_toplevel_listener toplevel_listener = {.configure = toplevel_configure,
                                                 .close = toplevel_close};

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
	wl_display *display = wl_display_connect(nullptr);
	if (display == nullptr) {
		std::fprintf(stderr, "wlprime-key-client: cannot connect to the compositor: %s\n",
		             std::strerror(errno));
		return 1;
	}
	wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, &c);
	wl_display_roundtrip(display);
	if (c.compositor == nullptr || c.shm == nullptr || c.wm_base == nullptr ||
	    c.seat == nullptr) {
		std::fprintf(stderr, "wlprime-key-client: wl_compositor, wl_shm, xdg_wm_base or "
		                     "wl_seat missing\n");
		return 1;
	}
	c.surface = wl_compositor_create_surface(c.compositor);
	xdg_surface *xdg = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(xdg, &xdg_surface_listener_, &c);
	xdg_toplevel *toplevel = xdg_surface_get_toplevel(xdg);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, &c);
	xdg_toplevel_set_title(toplevel, "wlprime-key-client");
	wl_surface_commit(c.surface);
	while (!c.done) {
		if (wl_display_dispatch(display) < 0) {
			std::fprintf(stderr, "wlprime-key-client: connection lost: %s\n",
			             std::strerror(errno));
			return 1;
		}
	}
	say("done");
	// Every proxy goes before the connection (LeakSanitizer in the
	// sanitizer build of the guest suites counts the ones left).
	if (c.keyboard != nullptr) {
		wl_keyboard_release(c.keyboard);
	}
	if (c.buffer != nullptr) {
		wl_buffer_destroy(c.buffer);
	}
	xdg_toplevel_destroy(toplevel);
	xdg_surface_destroy(xdg);
	wl_surface_destroy(c.surface);
	wl_seat_release(c.seat);
	xdg_wm_base_destroy(c.wm_base);
	wl_shm_destroy(c.shm);
	wl_compositor_destroy(c.compositor);
	wl_registry_destroy(registry);
	wl_display_roundtrip(display);
	wl_display_disconnect(display);
	return 0;
}
