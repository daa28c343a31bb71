// display_pump.hpp: one round of a client connection without blocking (or
// with a bounded wait), for the in-process tests and the test clients. Does
// not include the Wayland client headers, so that a test can include it beside
// the compositor's.

#pragma once

struct wl_display;

namespace wlprime::clients {

// Dispatches the events already queued, flushes the requests, waits at most
// timeout_ms (0: not at all, -1: until something comes) for the socket, reads
// and dispatches what came. Returns false once the connection has failed (the
// compositor went away or posted a protocol error).
bool pump_display(wl_display *display, int timeout_ms = 0);

} // namespace wlprime::clients
