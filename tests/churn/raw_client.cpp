#include "tests/churn/raw_client.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <wayland-client.h>

namespace wlprime::churn {

struct raw_client::state {
	wl_display *display = nullptr;
	wl_registry *registry = nullptr;
	wl_compositor *compositor = nullptr;
	wl_surface *surface = nullptr;

	~state() {
		if (surface != nullptr)
			wl_surface_destroy(surface);
		if (compositor != nullptr)
			wl_compositor_destroy(compositor);
		if (registry != nullptr)
			wl_registry_destroy(registry);
		if (display != nullptr)
			wl_display_disconnect(display);
	}
};

namespace {

void handle_global(void *data, wl_registry *registry, uint32_t name, const char *interface,
                   uint32_t) {
	auto *s = static_cast<raw_client::state *>(data);
	if (std::strcmp(interface, wl_compositor_interface.name) == 0 && s->compositor == nullptr) {
		s->compositor = static_cast<wl_compositor *>(
		    wl_registry_bind(registry, name, &wl_compositor_interface, 4));
		s->surface = wl_compositor_create_surface(s->compositor);
	}
}

void handle_global_remove(void *, wl_registry *, uint32_t) {}

const wl_registry_listener registry_listener = {
    .global = handle_global,
    .global_remove = handle_global_remove,
};

} // namespace

raw_client::raw_client(std::unique_ptr<state> s) : s_(std::move(s)) {}
raw_client::~raw_client() = default;

std::unique_ptr<raw_client> raw_client::connect(const char *socket, std::string *error) {
	auto s = std::make_unique<state>();
	s->display = wl_display_connect(socket);
	if (s->display == nullptr) {
		*error = std::string("cannot connect to ") +
		         (socket ? socket : "$WAYLAND_DISPLAY") + ": " + std::strerror(errno);
		return nullptr;
	}
	s->registry = wl_display_get_registry(s->display);
	wl_registry_add_listener(s->registry, &registry_listener, s.get());
	wl_display_flush(s->display);
	return std::unique_ptr<raw_client>(new raw_client(std::move(s)));
}

wl_display *raw_client::display() const {
	return s_->display;
}

bool raw_client::ready() const {
	return s_->surface != nullptr;
}

uint32_t raw_client::surface_id() const {
	return s_->surface ? wl_proxy_get_id(reinterpret_cast<wl_proxy *>(s_->surface)) : 0;
}

bool raw_client::send_attach(uint32_t buffer_id) {
	if (wl_display_flush(s_->display) < 0)
		return false;
	// The wire format: object id, (size << 16 | opcode), then the
	// arguments, 32 bits each, in the host's byte order.
	const uint32_t surface = surface_id();
	const uint32_t attach[] = {surface, (20u << 16) | WL_SURFACE_ATTACH, buffer_id, 0, 0};
	const uint32_t commit[] = {surface, (8u << 16) | WL_SURFACE_COMMIT};
	const int fd = wl_display_get_fd(s_->display);
	return send(fd, attach, sizeof(attach), MSG_NOSIGNAL) == ssize_t(sizeof(attach)) &&
	       send(fd, commit, sizeof(commit), MSG_NOSIGNAL) == ssize_t(sizeof(commit));
}

int raw_client::error() const {
	return wl_display_get_error(s_->display);
}

uint32_t raw_client::protocol_error(std::string *interface, uint32_t *object_id) const {
	const wl_interface *iface = nullptr;
	uint32_t code = wl_display_get_protocol_error(s_->display, &iface, object_id);
	*interface = iface != nullptr ? iface->name : "";
	return code;
}

} // namespace wlprime::churn
