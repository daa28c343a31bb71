#include "tests/clients/client_base.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

namespace wlprime::clients {

namespace {

void wm_base_ping(void *, xdg_wm_base *wm_base, uint32_t serial) {
	xdg_wm_base_pong(wm_base, serial);
}
const xdg_wm_base_listener wm_base_listener = {.ping = wm_base_ping};

void registry_global(void *data, wl_registry *, uint32_t name, const char *interface,
                     uint32_t version) {
	static_cast<client_base *>(data)->handle_global(name, interface, version);
}
void registry_global_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {
    .global = registry_global,
    .global_remove = registry_global_remove,
};

void globals_done(void *data, wl_callback *, uint32_t) {
	static_cast<client_base *>(data)->handle_globals_done();
}
const wl_callback_listener globals_listener = {.done = globals_done};

void xdg_surface_configure(void *data, xdg_surface *, uint32_t serial) {
	static_cast<xdg_window *>(data)->handle_configure(serial);
}
const xdg_surface_listener xdg_surface_listener_impl = {.configure = xdg_surface_configure};

void toplevel_configure(void *data, xdg_toplevel *, int32_t width, int32_t height,
                        wl_array *states) {
	static_cast<xdg_window *>(data)->handle_toplevel_configure(width, height, states);
}
void toplevel_close(void *data, xdg_toplevel *) {
	static_cast<xdg_window *>(data)->handle_close();
}
const xdg_toplevel_listener toplevel_listener = {
    .configure = toplevel_configure,
    .close = toplevel_close,
};

void frame_done(void *data, wl_callback *callback, uint32_t) {
	static_cast<frame_pacer *>(data)->handle_done(callback);
}
const wl_callback_listener frame_listener = {.done = frame_done};

} // namespace

// --- client_base ----------------------------------------------------------------

client_base::~client_base() {
	if (globals_sync_ != nullptr)
		wl_callback_destroy(globals_sync_);
	if (dmabuf != nullptr)
		zwp_linux_dmabuf_v1_destroy(dmabuf);
	if (wm_base != nullptr)
		xdg_wm_base_destroy(wm_base);
	if (shm != nullptr)
		wl_shm_destroy(shm);
	if (compositor != nullptr)
		wl_compositor_destroy(compositor);
	if (registry != nullptr)
		wl_registry_destroy(registry);
	if (display != nullptr)
		wl_display_disconnect(display);
}

bool client_base::connect(const char *socket, std::string *error,
                          std::function<void()> on_globals) {
	display = wl_display_connect(socket);
	if (display == nullptr) {
		*error = std::string("cannot connect to ") +
		         (socket ? socket : "$WAYLAND_DISPLAY") + ": " + std::strerror(errno);
		return false;
	}
	registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, this);
	if (on_globals) {
		// The sync's done comes after the globals.
		on_globals_ = std::move(on_globals);
		globals_sync_ = wl_display_sync(display);
		wl_callback_add_listener(globals_sync_, &globals_listener, this);
	}
	wl_display_flush(display);
	return true;
}

void client_base::handle_global(uint32_t name, const char *interface, uint32_t version) {
	globals.insert(interface);
	std::string_view iface = interface;
	if (iface == wl_compositor_interface.name && wants_.compositor) {
		bind_once(registry, name, wl_compositor_interface, 4, &compositor);
	} else if (iface == wl_shm_interface.name && wants_.shm) {
		bind_once(registry, name, wl_shm_interface, 1, &shm);
	} else if (iface == xdg_wm_base_interface.name && wants_.wm_base) {
		if (bind_once(registry, name, xdg_wm_base_interface, 1, &wm_base))
			xdg_wm_base_add_listener(wm_base, &wm_base_listener, this);
	} else if (iface == zwp_linux_dmabuf_v1_interface.name && wants_.dmabuf_max > 0 &&
	           dmabuf == nullptr && version >= wants_.dmabuf_min) {
		dmabuf_advertised = version;
		dmabuf_version = std::min(version, wants_.dmabuf_max);
		bind_once(registry, name, zwp_linux_dmabuf_v1_interface, dmabuf_version, &dmabuf);
	}
	if (on_global)
		on_global(registry, name, iface, version);
}

void client_base::handle_globals_done() {
	wl_callback_destroy(globals_sync_);
	globals_sync_ = nullptr;
	on_globals_();
}

bool client_base::roundtrip() {
	return wl_display_roundtrip(display) >= 0;
}

bool client_base::dispatch_until(const std::function<bool()> &done) {
	while (!done()) {
		if (wl_display_dispatch(display) < 0)
			return false;
	}
	return true;
}

void client_base::abandon() {
	wl_display_disconnect(display);
	display = nullptr;
	registry = nullptr;
	compositor = nullptr;
	shm = nullptr;
	wm_base = nullptr;
	dmabuf = nullptr;
	globals_sync_ = nullptr;
}

bool pump_display(wl_display *display, int timeout_ms) {
	while (wl_display_prepare_read(display) != 0) {
		if (wl_display_dispatch_pending(display) < 0)
			return false;
	}
	if (wl_display_flush(display) < 0 && errno != EAGAIN) {
		wl_display_cancel_read(display);
		return false;
	}
	pollfd pfd = {.fd = wl_display_get_fd(display), .events = POLLIN, .revents = 0};
	if (poll(&pfd, 1, timeout_ms) > 0) {
		if (wl_display_read_events(display) < 0)
			return false;
	} else {
		wl_display_cancel_read(display);
	}
	if (wl_display_dispatch_pending(display) < 0)
		return false;
	return wl_display_flush(display) >= 0 || errno == EAGAIN;
}

// --- xdg_window -----------------------------------------------------------------

xdg_window::~xdg_window() {
	destroy();
}

void xdg_window::destroy() {
	if (toplevel != nullptr)
		xdg_toplevel_destroy(toplevel);
	if (xdg != nullptr)
		xdg_surface_destroy(xdg);
	if (surface != nullptr)
		wl_surface_destroy(surface);
	abandon();
}

void xdg_window::create(client_base &base, const char *title, wl_surface *given) {
	surface = given != nullptr ? given : wl_compositor_create_surface(base.compositor);
	xdg = xdg_wm_base_get_xdg_surface(base.wm_base, surface);
	xdg_surface_add_listener(xdg, &xdg_surface_listener_impl, this);
	toplevel = xdg_surface_get_toplevel(xdg);
	xdg_toplevel_add_listener(toplevel, &toplevel_listener, this);
	xdg_toplevel_set_title(toplevel, title);
}

void xdg_window::initial_commit() {
	wl_surface_commit(surface);
}

void xdg_window::abandon() {
	toplevel = nullptr;
	xdg = nullptr;
	surface = nullptr;
}

void xdg_window::handle_toplevel_configure(int32_t w, int32_t h, wl_array *states) {
	pending_width_ = w;
	pending_height_ = h;
	pending_activated_ = false;
	const auto *begin = static_cast<const uint32_t *>(states->data);
	for (std::size_t i = 0; i < states->size / sizeof(uint32_t); i++) {
		if (begin[i] == XDG_TOPLEVEL_STATE_ACTIVATED)
			pending_activated_ = true;
	}
}

void xdg_window::handle_configure(uint32_t serial) {
	xdg_surface_ack_configure(xdg, serial);
	width = pending_width_;
	height = pending_height_;
	activated = pending_activated_;
	configured = true;
	if (on_configure)
		on_configure(serial);
}

void xdg_window::handle_close() {
	close_requested = true;
	if (on_close)
		on_close();
}

// --- frame_pacer ----------------------------------------------------------------

frame_pacer::~frame_pacer() {
	cancel();
}

void frame_pacer::request(wl_surface *surface) {
	if (callback_ != nullptr)
		return;
	callback_ = wl_surface_frame(surface);
	wl_callback_add_listener(callback_, &frame_listener, this);
}

void frame_pacer::cancel() {
	if (callback_ != nullptr)
		wl_callback_destroy(callback_);
	callback_ = nullptr;
}

void frame_pacer::handle_done(wl_callback *callback) {
	wl_callback_destroy(callback);
	callback_ = nullptr;
	done_++;
	if (on_done_)
		on_done_();
}

// --- shm buffers, logging -------------------------------------------------------

wl_buffer *make_shm_buffer(wl_shm *shm, int width, int height, uint32_t format, uint32_t pixel,
                           std::string *error) {
	const int stride = width * 4;
	const std::size_t size =
	    static_cast<std::size_t>(stride) * static_cast<std::size_t>(height);
	auto fail = [&](const char *what, int fd) -> wl_buffer * {
		*error = std::string(what) + ": " + std::strerror(errno);
		if (fd >= 0)
			close(fd);
		return nullptr;
	};
	int fd = memfd_create("wlprime-shm-buffer", MFD_CLOEXEC);
	if (fd < 0)
		return fail("memfd_create", fd);
	if (ftruncate(fd, static_cast<off_t>(size)) != 0)
		return fail("ftruncate", fd);
	void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap", fd);
	std::fill_n(static_cast<uint32_t *>(map), size / 4, pixel);
	munmap(map, size);
	wl_shm_pool *pool = wl_shm_create_pool(shm, fd, static_cast<int32_t>(size));
	close(fd); // the compositor has its own once the request is sent
	wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, width, height, stride, format);
	wl_shm_pool_destroy(pool);
	return buffer;
}

void line_log::say(const char *fmt, ...) const {
	if (stamped_)
		std::printf("%lld ", ms());
	va_list args;
	va_start(args, fmt);
	std::vprintf(fmt, args);
	va_end(args);
	std::putchar('\n');
	std::fflush(stdout);
}

long long line_log::ms() const {
	return std::chrono::duration_cast<std::chrono::milliseconds>(
	           std::chrono::steady_clock::now() - start_)
	    .count();
}

} // namespace wlprime::clients
