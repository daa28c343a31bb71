#include "tests/churn/raw_client.hpp"

#include <sys/socket.h>

#include "tests/clients/client_base.hpp"

namespace wlprime::churn {

// Binds wl_compositor only, and makes the surface as soon as it is bound.
struct raw_client::state {
	clients::client_base base{{.compositor = true, .wm_base = false}};
	wl_surface *surface = nullptr;

	~state() {
		if (surface != nullptr)
			wl_surface_destroy(surface);
	}
};

raw_client::raw_client(std::unique_ptr<state> s) : s_(std::move(s)) {}
raw_client::~raw_client() = default;

std::unique_ptr<raw_client> raw_client::connect(const char *socket, std::string *error) {
	auto s = std::make_unique<state>();
	state *raw = s.get();
	s->base.on_global = [raw](wl_registry *, uint32_t, std::string_view, uint32_t) {
		if (raw->surface == nullptr && raw->base.compositor != nullptr)
			raw->surface = wl_compositor_create_surface(raw->base.compositor);
	};
	if (!s->base.connect(socket, error)) {
		return nullptr;
	}
	return std::unique_ptr<raw_client>(new raw_client(std::move(s)));
}

wl_display *raw_client::display() const {
	return s_->base.display;
}

bool raw_client::ready() const {
	return s_->surface != nullptr;
}

uint32_t raw_client::surface_id() const {
	return s_->surface ? wl_proxy_get_id(reinterpret_cast<wl_proxy *>(s_->surface)) : 0;
}

bool raw_client::send_attach(uint32_t buffer_id) {
	if (wl_display_flush(s_->base.display) < 0)
		return false;
	// The wire format: object id, (size << 16 | opcode), then the
	// arguments, 32 bits each, in the host's byte order.
	const uint32_t surface = surface_id();
	const uint32_t attach[] = {surface, (20u << 16) | WL_SURFACE_ATTACH, buffer_id, 0, 0};
	const uint32_t commit[] = {surface, (8u << 16) | WL_SURFACE_COMMIT};
	const int fd = wl_display_get_fd(s_->base.display);
	return send(fd, attach, sizeof(attach), MSG_NOSIGNAL) == ssize_t(sizeof(attach)) &&
	       send(fd, commit, sizeof(commit), MSG_NOSIGNAL) == ssize_t(sizeof(commit));
}

int raw_client::error() const {
	return wl_display_get_error(s_->base.display);
}

uint32_t raw_client::protocol_error(std::string *interface, uint32_t *object_id) const {
	const wl_interface *iface = nullptr;
	uint32_t code = wl_display_get_protocol_error(s_->base.display, &iface, object_id);
	*interface = iface != nullptr ? iface->name : "";
	return code;
}

} // namespace wlprime::churn
