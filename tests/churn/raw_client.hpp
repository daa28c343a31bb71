// raw_client.hpp: a Wayland client that can send what no well-behaved client
// library would: a request naming an object id of its own choosing (another
// client's wl_buffer id, say), written straight onto the socket.
//
// Non-blocking, like tests/clients/: it binds wl_compositor when the
// registry announces it; drive it with clients::pump_display() (the in-process
// harness does). The header does not include the Wayland client headers, so
// that a test can include it beside the compositor's.

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct wl_display;

namespace wlprime::churn {

class raw_client {
public:
	// Connects to socket in $XDG_RUNTIME_DIR; null with *error set.
	static std::unique_ptr<raw_client> connect(const char *socket, std::string *error);
	~raw_client();
	raw_client(const raw_client &) = delete;
	raw_client &operator=(const raw_client &) = delete;

	wl_display *display() const;
	// wl_compositor is bound and a wl_surface made (its id: surface_id()).
	bool ready() const;
	uint32_t surface_id() const;

	// wl_surface.attach(buffer_id, 0, 0) on our surface, marshalled by hand
	// so that buffer_id can be any number; then wl_surface.commit.
	// False if the write failed.
	bool send_attach(uint32_t buffer_id);

	// The connection's error (errno, EPROTO for a protocol error), 0 if none.
	int error() const;
	// With error() == EPROTO: the interface and id of the object the error
	// was posted on, and its code.
	uint32_t protocol_error(std::string *interface, uint32_t *object_id) const;

	struct state;

private:
	explicit raw_client(std::unique_ptr<state> s);
	std::unique_ptr<state> s_;
};

} // namespace wlprime::churn
