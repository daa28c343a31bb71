// presented_frame.hpp: what a test client was told of one commit through
// wp_presentation (tests/clients/presentation_log.hpp asks). Free of the
// Wayland headers, for the compositor tests and the clients' public headers.

#pragma once

#include <cstdint>
#include <string>

struct wl_output;

namespace wlprime::clients {

// What the compositor said of one commit's wp_presentation_feedback.
struct presented_frame {
	int frame = 0;          // the client's frame number of the commit
	bool done = false;      // presented or discarded came
	bool presented = false; // presented (else discarded, once done)
	uint64_t when_ns = 0;   // tv_sec * 1e9 + tv_nsec, on clock_id's clock
	uint32_t tv_nsec = 0;   // as sent (the spec: below 1e9)
	uint32_t refresh_ns = 0;
	uint64_t seq = 0;
	uint32_t flags = 0;                 // wp_presentation_feedback.kind bits
	int sync_outputs = 0;               // sync_output events
	wl_output *synced_output = nullptr; // the last one's output
};

// "vsync|hw_clock|hw_completion|zero_copy" ("none" for 0).
std::string presentation_flags_text(uint32_t flags);

} // namespace wlprime::clients
