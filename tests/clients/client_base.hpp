// client_base.hpp: what every test client does the same way, once: connect
// and bind the globals (client_base), an xdg toplevel (xdg_window), frame
// pacing by frame callbacks (frame_pacer) and line logging (line_log).
// Private to the test clients: includes the Wayland client headers (a
// compositor test includes the clients' own headers, which do not).
//
// Ownership: each object owns the proxies it made and destroys them in its
// destructor; declare a client's xdg_window and frame_pacer after its
// client_base, so that they go first (xdg_wm_base must outlive its
// surfaces). None of them may be copied or moved (listener data).

#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include <wayland-client.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "tests/clients/display_pump.hpp"
#include "xdg-shell-client-protocol.h"

namespace wlprime::clients {

// Which globals client_base binds (the first of each that is announced).
// Nothing else is bound: a client binds its own extras in on_global.
struct global_wants {
	bool compositor = true; // wl_compositor v4
	bool shm = false;       // wl_shm v1
	bool wm_base = true;    // xdg_wm_base v1, pings answered
	// zwp_linux_dmabuf_v1: bound at min(advertised, dmabuf_max) if the
	// advertised version is at least dmabuf_min; dmabuf_max 0: not bound.
	uint32_t dmabuf_max = 0;
	uint32_t dmabuf_min = 1;
};

// Binds global `name` of the registry as interface at version into *slot,
// unless *slot is bound already; true if it bound it.
template <class T>
bool bind_once(wl_registry *registry, uint32_t name, const wl_interface &interface,
               uint32_t version, T **slot) {
	if (*slot != nullptr)
		return false;
	*slot = static_cast<T *>(wl_registry_bind(registry, name, &interface, version));
	return true;
}

class client_base {
public:
	explicit client_base(global_wants wants = {}) : wants_(wants) {}
	~client_base();
	client_base(const client_base &) = delete;
	client_base &operator=(const client_base &) = delete;

	// Every global, as the registry announces it, after the base bound it
	// if it is one of its own. Set before connect().
	std::function<void(wl_registry *, uint32_t name, std::string_view interface,
	                   uint32_t version)>
	    on_global;

	// Connects to socket (null: $WAYLAND_DISPLAY), asks for the globals and
	// flushes; nothing is read. With on_globals, a wl_display.sync calls it
	// once every global is in (non-blocking clients); blocking ones call
	// roundtrip() instead. False with *error set ("cannot connect to S: why").
	bool connect(const char *socket, std::string *error, std::function<void()> on_globals = {});
	// wl_display_roundtrip; false once the connection failed.
	bool roundtrip();
	// Blocking dispatch until done() holds; false (and done() unmet) once the
	// connection failed.
	bool dispatch_until(const std::function<bool()> &done);
	// Disconnects without a request: every proxy is left to the disconnect,
	// as a client that just goes away (the windows made on it must be
	// abandoned too).
	void abandon();

	wl_display *display = nullptr;
	wl_registry *registry = nullptr;
	wl_compositor *compositor = nullptr; // may be null: not advertised
	wl_shm *shm = nullptr;
	xdg_wm_base *wm_base = nullptr;
	zwp_linux_dmabuf_v1 *dmabuf = nullptr;
	uint32_t dmabuf_advertised = 0; // version the compositor advertised
	uint32_t dmabuf_version = 0;    // version bound
	std::set<std::string> globals;  // every interface announced

	// Registry listener (client_base.cpp).
	void handle_global(uint32_t name, const char *interface, uint32_t version);
	void handle_globals_done();

private:
	global_wants wants_;
	wl_callback *globals_sync_ = nullptr;
	std::function<void()> on_globals_;
};

// One xdg_toplevel on a wl_surface. Every configure is acknowledged first;
// the size and the activated state of the toplevel's configure are applied
// then, before on_configure runs.
class xdg_window {
public:
	xdg_window() = default;
	~xdg_window(); // destroys the toplevel, its xdg_surface and the surface
	xdg_window(const xdg_window &) = delete;
	xdg_window &operator=(const xdg_window &) = delete;

	std::function<void(uint32_t serial)> on_configure; // after the ack
	std::function<void()> on_close;                    // xdg_toplevel.close

	// Gives surface (taken over; null: a new one of base's compositor) the
	// toplevel role with title. No commit: see initial_commit().
	void create(client_base &base, const char *title, wl_surface *surface = nullptr);
	// The commit without a buffer that asks for the first configure.
	void initial_commit();
	// Destroys the toplevel, its xdg_surface and the surface now (the
	// destructor does it otherwise).
	void destroy();
	// Forgets the proxies without a request (see client_base::abandon).
	void abandon();

	wl_surface *surface = nullptr;
	xdg_surface *xdg = nullptr;
	xdg_toplevel *toplevel = nullptr;
	// From the last configure: 0 leaves the size to the client.
	int width = 0;
	int height = 0;
	bool activated = false;
	bool configured = false; // a configure came (and was acknowledged)
	bool close_requested = false;

	// Listeners (client_base.cpp).
	void handle_toplevel_configure(int32_t width, int32_t height, wl_array *states);
	void handle_configure(uint32_t serial);
	void handle_close();

private:
	int pending_width_ = 0;
	int pending_height_ = 0;
	bool pending_activated_ = false;
};

// One frame callback at a time.
class frame_pacer {
public:
	explicit frame_pacer(std::function<void()> on_done = {}) : on_done_(std::move(on_done)) {}
	~frame_pacer();
	frame_pacer(const frame_pacer &) = delete;
	frame_pacer &operator=(const frame_pacer &) = delete;

	// A frame callback on surface's next commit, unless one is pending.
	void request(wl_surface *surface);
	// Destroys the pending callback (it will not be done).
	void cancel();
	bool pending() const { return callback_ != nullptr; }
	int done_count() const { return done_; } // callbacks done so far

	void handle_done(wl_callback *callback); // listener (client_base.cpp)

private:
	std::function<void()> on_done_;
	wl_callback *callback_ = nullptr;
	int done_ = 0;
};

// A wl_shm buffer of width x height in format (WL_SHM_FORMAT_*, 4 bytes a
// pixel) filled with pixel; the caller owns it. Null with *error set
// ("memfd_create: why").
wl_buffer *make_shm_buffer(wl_shm *shm, int width, int height, uint32_t format, uint32_t pixel,
                           std::string *error);

// Lines on stdout, flushed one by one (a test reads them as they come),
// optionally stamped with the milliseconds since the log was made.
class line_log {
public:
	explicit line_log(bool stamped = false) : stamped_(stamped) {}
	[[gnu::format(printf, 2, 3)]] void say(const char *fmt, ...) const;
	long long ms() const; // since the log was made

private:
	bool stamped_;
	std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace wlprime::clients
