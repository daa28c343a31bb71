// shm_client.hpp: a minimal xdg-shell client drawing one solid colour with
// wl_shm, for the compositor tests (in-process) and as a standalone program
// (wlprime-shm-client).
//
// Usage in-process, where the compositor runs on the same thread and nothing
// may block:
//	auto c = shm_client::connect(socket, {.color = 0xff2040c0});
//	harness.run_until([&] { return pump_display(c->display()) && c->shown(); });
//
// The header does not include the Wayland client headers, so that a test can
// include it beside the compositor's.

#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "tests/clients/display_pump.hpp"

struct wl_display;

namespace wlprime::clients {

struct shm_client_options {
	uint32_t color = 0xff336699; // ARGB8888 (alpha should be 0xff)
	int width = 200;             // used when the compositor leaves the size to us
	int height = 150;
	std::string title = "wlprime-shm-client";
};

class shm_client {
public:
	// Connects to socket (null: $WAYLAND_DISPLAY) and sends the requests for a
	// window; nothing is read yet. Returns null and sets *error on failure.
	static std::unique_ptr<shm_client>
	connect(const char *socket, const shm_client_options &opts, std::string *error);
	~shm_client();

	shm_client(const shm_client &) = delete;
	shm_client &operator=(const shm_client &) = delete;

	wl_display *display() const;

	// Globals the compositor advertised (interface names).
	const std::set<std::string> &globals() const;
	// The first configure came and was answered with a buffer.
	bool configured() const;
	// A frame callback for the first buffer came back: it has been
	// composited into an output frame.
	bool shown() const;
	// The last configure had the activated state.
	bool activated() const;
	// The compositor asked to close the window (xdg_toplevel.close).
	bool close_requested() const;
	// Unmaps the window (a null buffer), then makes the initial commit
	// again: the compositor must configure it anew, and the next configure
	// maps it again with the same buffer (shown() turns true once more).
	void unmap_and_remap();
	// Size of the buffer attached last.
	int width() const;
	int height() const;
	// A fatal error (protocol error, lost connection, failed set-up), or "".
	std::string failure() const;

	struct state; // implementation, in shm_client.cpp

private:
	explicit shm_client(std::unique_ptr<state> s);
	std::unique_ptr<state> s_;
};

// "RRGGBB" or "AARRGGBB" hex; false if malformed. Alpha defaults to 0xff.
bool parse_color(const std::string &text, uint32_t *argb);

} // namespace wlprime::clients
