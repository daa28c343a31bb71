// presentation_log.hpp: wp_presentation for the test clients: one
// wp_presentation_feedback per commit asked for, and what came of each
// (presented, with its time, refresh, sequence and flags, or discarded).
// Private to tests/clients/: includes the Wayland client headers.

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <wayland-client.h>

#include "presentation-time-client-protocol.h"
#include "tests/clients/presented_frame.hpp"

namespace wlprime::clients {

class presentation_log {
public:
	presentation_log() = default;
	~presentation_log(); // destroys the feedbacks still pending and the global
	presentation_log(const presentation_log &) = delete;
	presentation_log &operator=(const presentation_log &) = delete;

	// Binds wp_presentation v1 if `interface` is it (from on_global).
	void on_global(wl_registry *registry, uint32_t name, const std::string &interface);
	bool bound() const { return presentation_ != nullptr; }
	uint32_t clock_id() const { return clock_id_; }

	// A feedback for surface's next commit, recorded as frame `frame`.
	void request(wl_surface *surface, int frame);
	// Feedbacks asked for that have had no answer yet.
	int pending() const;
	const std::vector<presented_frame> &frames() const { return frames_; }

	// Listener data: one per feedback, heap-allocated, never moved.
	struct entry {
		presentation_log *log = nullptr;
		struct wp_presentation_feedback *feedback =
		    nullptr;      // (struct: a request has its name)
		size_t index = 0; // in frames_
	};
	void handle_sync_output(entry *e, wl_output *output);
	void handle_presented(entry *e, const presented_frame &f);
	void handle_discarded(entry *e);
	void handle_clock_id(uint32_t clock_id) { clock_id_ = clock_id; }

private:
	void finish(entry *e);

	wp_presentation *presentation_ = nullptr;
	uint32_t clock_id_ = ~0u;
	std::vector<presented_frame> frames_;
	std::vector<std::unique_ptr<entry>> entries_; // the pending ones
};

} // namespace wlprime::clients
