#include "tests/clients/shm_client.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

namespace wlprime::clients {

struct shm_client::state {
	shm_client_options opts;
	wl_display *display = nullptr;
	wl_registry *registry = nullptr;
	wl_compositor *compositor = nullptr;
	wl_shm *shm = nullptr;
	xdg_wm_base *wm_base = nullptr;
	wl_callback *sync = nullptr;
	wl_surface *surface = nullptr;
	xdg_surface *xdg = nullptr;
	xdg_toplevel *toplevel = nullptr;
	wl_buffer *buffer = nullptr;
	wl_callback *frame = nullptr;

	std::set<std::string> globals;
	int buffer_width = 0;
	int buffer_height = 0;
	int pending_width = 0;
	int pending_height = 0;
	bool pending_activated = false;
	bool activated = false;
	bool configured = false;
	bool shown = false;
	bool close_requested = false;
	std::string failure;

	~state();
	void create_window();
	bool make_buffer(int width, int height);
	void on_configure(uint32_t serial);
};

namespace {

void wm_base_ping(void *, xdg_wm_base *wm_base, uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}
const xdg_wm_base_listener wm_base_listener = {.ping = wm_base_ping};

void registry_global(void *data, wl_registry *registry, uint32_t name, const char *interface,
                     uint32_t version) {
	auto *s = static_cast<shm_client::state *>(data);
	s->globals.insert(interface);
	std::string_view iface = interface;
	if (iface == wl_compositor_interface.name && s->compositor == nullptr) {
		s->compositor = static_cast<wl_compositor *>(
		    wl_registry_bind(registry, name, &wl_compositor_interface, 4));
	} else if (iface == wl_shm_interface.name && s->shm == nullptr) {
		s->shm =
		    static_cast<wl_shm *>(wl_registry_bind(registry, name, &wl_shm_interface, 1));
	} else if (iface == xdg_wm_base_interface.name && s->wm_base == nullptr) {
		s->wm_base = static_cast<xdg_wm_base *>(
		    wl_registry_bind(registry, name, &xdg_wm_base_interface, 1));
		xdg_wm_base_add_listener(s->wm_base, &wm_base_listener, s);
	}
	(void)version;
}
void registry_global_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {
    .global = registry_global,
    .global_remove = registry_global_remove,
};

void sync_done(void *data, wl_callback *callback, uint32_t) {
	auto *s = static_cast<shm_client::state *>(data);
	wl_callback_destroy(callback);
	s->sync = nullptr;
	s->create_window();
}
const wl_callback_listener sync_listener = {.done = sync_done};

void frame_done(void *data, wl_callback *callback, uint32_t) {
	auto *s = static_cast<shm_client::state *>(data);
	wl_callback_destroy(callback);
	s->frame = nullptr;
	s->shown = true;
}
const wl_callback_listener frame_listener = {.done = frame_done};

void xdg_surface_configure(void *data, xdg_surface *, uint32_t serial) {
	static_cast<shm_client::state *>(data)->on_configure(serial);
}
const xdg_surface_listener xdg_surface_listener_impl = {.configure = xdg_surface_configure};

void toplevel_configure(void *data, xdg_toplevel *, int32_t width, int32_t height,
                        wl_array *states) {
	auto *s = static_cast<shm_client::state *>(data);
	s->pending_width = width;
	s->pending_height = height;
	s->pending_activated = false;
	const auto *begin = static_cast<const uint32_t *>(states->data);
	for (std::size_t i = 0; i < states->size / sizeof(uint32_t); i++) {
		if (begin[i] == XDG_TOPLEVEL_STATE_ACTIVATED) {
			s->pending_activated = true;
		}
	}
}
void toplevel_close(void *data, xdg_toplevel *) {
	static_cast<shm_client::state *>(data)->close_requested = true;
}
const xdg_toplevel_listener toplevel_listener = {
    .configure = toplevel_configure,
    .close = toplevel_close,
};

} // namespace

shm_client::state::~state() {
	if (frame != nullptr) {
		wl_callback_destroy(frame);
	}
	if (buffer != nullptr) {
		wl_buffer_destroy(buffer);
	}
	if (toplevel != nullptr) {
		xdg_toplevel_destroy(toplevel);
	}
	if (xdg != nullptr) {
		xdg_surface_destroy(xdg);
	}
	if (surface != nullptr) {
		wl_surface_destroy(surface);
	}
	if (sync != nullptr) {
		wl_callback_destroy(sync);
	}
	if (wm_base != nullptr) {
		xdg_wm_base_destroy(wm_base);
	}
	if (shm != nullptr) {
		wl_shm_destroy(shm);
	}
	if (compositor != nullptr) {
		wl_compositor_destroy(compositor);
	}
	if (registry != nullptr) {
		wl_registry_destroy(registry);
	}
	if (display != nullptr) {
		wl_display_disconnect(display);
	}
}

void shm_client::state::create_window() {
	if (compositor == nullptr || shm == nullptr || wm_base == nullptr) {
		failure = "the compositor lacks wl_compositor, wl_shm or xdg_wm_base";
		return;
	}
	surface = wl_compositor_create_surface(compositor);
	xdg = xdg_wm_base_get_xdg_surface(wm_base, surface);
	xdg_surface_add_listener(xdg, &xdg_surface_listener_impl, this);
	toplevel = xdg_surface_get_toplevel(xdg);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, this);
	xdg_toplevel_set_title(toplevel, opts.title.c_str());
	// The initial commit, without a buffer: asks for the first configure.
	wl_surface_commit(surface);
}

bool shm_client::state::make_buffer(int width, int height) {
	const int stride = width * 4;
	const std::size_t size =
	    static_cast<std::size_t>(stride) * static_cast<std::size_t>(height);
	int fd = memfd_create("wlprime-shm-client", MFD_CLOEXEC);
	if (fd < 0) {
		failure = std::string("memfd_create: ") + std::strerror(errno);
		return false;
	}
	if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
		failure = std::string("ftruncate: ") + std::strerror(errno);
		close(fd);
		return false;
	}
	void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		failure = std::string("mmap: ") + std::strerror(errno);
		close(fd);
		return false;
	}
	auto *pixels = static_cast<uint32_t *>(map);
	for (std::size_t i = 0; i < size / 4; i++) {
		pixels[i] = opts.color;
	}
	munmap(map, size);

	wl_shm_pool *pool = wl_shm_create_pool(shm, fd, static_cast<int32_t>(size));
	close(fd); // the compositor has its own copy once the request is sent
	if (buffer != nullptr) {
		wl_buffer_destroy(buffer);
	}
	buffer = wl_shm_pool_create_buffer(pool, 0, width, height, stride, WL_SHM_FORMAT_ARGB8888);
	wl_shm_pool_destroy(pool);
	buffer_width = width;
	buffer_height = height;
	return true;
}

void shm_client::state::on_configure(uint32_t serial) {
	xdg_surface_ack_configure(xdg, serial);
	activated = pending_activated;
	int width = pending_width > 0 ? pending_width : opts.width;
	int height = pending_height > 0 ? pending_height : opts.height;
	if (buffer == nullptr || width != buffer_width || height != buffer_height) {
		if (!make_buffer(width, height)) {
			return;
		}
	}
	wl_surface_attach(surface, buffer, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, width, height);
	if (frame == nullptr && !shown) {
		frame = wl_surface_frame(surface);
		wl_callback_add_listener(frame, &frame_listener, this);
	}
	wl_surface_commit(surface);
	configured = true;
}

std::unique_ptr<shm_client> shm_client::connect(const char *socket, const shm_client_options &opts,
                                                std::string *error) {
	auto s = std::make_unique<state>();
	s->opts = opts;
	s->display = wl_display_connect(socket);
	if (s->display == nullptr) {
		*error = std::string("cannot connect to ") +
		         (socket ? socket : "$WAYLAND_DISPLAY") + ": " + std::strerror(errno);
		return nullptr;
	}
	s->registry = wl_display_get_registry(s->display);
	wl_registry_add_listener(s->registry, &registry_listener, s.get());
	// Once the globals are in (the sync's done comes after them), the
	// window is created.
	s->sync = wl_display_sync(s->display);
	wl_callback_add_listener(s->sync, &sync_listener, s.get());
	wl_display_flush(s->display);
	return std::unique_ptr<shm_client>(new shm_client(std::move(s)));
}

shm_client::shm_client(std::unique_ptr<state> s) : s_(std::move(s)) {}
shm_client::~shm_client() = default;

wl_display *shm_client::display() const {
	return s_->display;
}
const std::set<std::string> &shm_client::globals() const {
	return s_->globals;
}
bool shm_client::configured() const {
	return s_->configured;
}
bool shm_client::shown() const {
	return s_->shown;
}
bool shm_client::activated() const {
	return s_->activated;
}
bool shm_client::close_requested() const {
	return s_->close_requested;
}
int shm_client::width() const {
	return s_->buffer_width;
}
int shm_client::height() const {
	return s_->buffer_height;
}

void shm_client::unmap_and_remap() {
	state &s = *s_;
	wl_surface_attach(s.surface, nullptr, 0, 0);
	wl_surface_commit(s.surface); // unmapped: back to the initial state
	if (s.frame != nullptr) {
		wl_callback_destroy(s.frame);
		s.frame = nullptr;
	}
	s.configured = false;
	s.shown = false;
	wl_surface_commit(s.surface); // the initial commit again
}

std::string shm_client::failure() const {
	if (!s_->failure.empty()) {
		return s_->failure;
	}
	if (int err = wl_display_get_error(s_->display); err != 0) {
		return std::string("Wayland connection failed: ") + std::strerror(err);
	}
	return {};
}

bool pump_display(wl_display *display) {
	if (wl_display_flush(display) < 0 && errno != EAGAIN) {
		return false;
	}
	if (wl_display_prepare_read(display) == 0) {
		pollfd pfd = {.fd = wl_display_get_fd(display), .events = POLLIN, .revents = 0};
		if (poll(&pfd, 1, 0) > 0) {
			if (wl_display_read_events(display) < 0) {
				return false;
			}
		} else {
			wl_display_cancel_read(display);
		}
	}
	if (wl_display_dispatch_pending(display) < 0) {
		return false;
	}
	return wl_display_flush(display) >= 0 || errno == EAGAIN;
}

bool parse_color(const std::string &text, uint32_t *argb) {
	if (text.size() != 6 && text.size() != 8) {
		return false;
	}
	uint32_t value = 0;
	for (char c : text) {
		int digit = 0;
		if (c >= '0' && c <= '9') {
			digit = c - '0';
		} else if (c >= 'a' && c <= 'f') {
			digit = c - 'a' + 10;
		} else if (c >= 'A' && c <= 'F') {
			digit = c - 'A' + 10;
		} else {
			return false;
		}
		value = (value << 4) | static_cast<uint32_t>(digit);
	}
	*argb = text.size() == 6 ? (0xff000000u | value) : value;
	return true;
}

} // namespace wlprime::clients
