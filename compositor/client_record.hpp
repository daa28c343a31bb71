// client_record.hpp: what --report says of one client, and the lint
// findings: mistakes of dmabuf clients that cost a compositor (this one or
// another) work, frames or memory. Filled by client_activity, written by
// client_report.

#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace wlprime {

enum class lint {
	new_wl_buffer_per_frame,    // the same dma-buf committed through a new wl_buffer
	attached_before_release,    // a wl_buffer committed again before its release
	commits_faster_than_frames, // a new buffer before the previous one was shown
	implicit_modifier,          // DRM_FORMAT_MOD_INVALID although explicit ones were offered
	size_mismatch,        // buffer size vs the configured size, or not a multiple of the scale
	params_not_destroyed, // zwp_linux_buffer_params_v1 alive at disconnect
	buffers_alive_at_disconnect, // dma-buf wl_buffers alive at disconnect
	unsignalled_write_fence,     // committed while its write fence was unsignalled
};
inline constexpr size_t lint_count = 8;

// "new_wl_buffer_per_frame", ...: the id in the report.
const char *lint_id(lint which);
// One sentence: what was seen and what it costs.
const char *lint_explanation(lint which);

struct lint_finding {
	uint64_t count = 0;
	// The first occurrence: seconds since start, the client's object ids
	// (0 where none applies).
	double first_s = 0;
	uint32_t wl_buffer = 0;
	uint32_t surface = 0;
};

// Median and 99th percentile of a series, in milliseconds.
struct ms_series {
	std::vector<double> samples;
	void add(double ms) { samples.push_back(ms); }
};

struct client_record {
	pid_t pid = 0;
	std::string command; // /proc/PID/comm
	bool exec_descendant = false;
	double connected_s = 0;
	double disconnected_s = -1; // still connected

	std::vector<std::pair<std::string, uint32_t>> globals; // interface, version, bind order

	struct buffer_kind {
		uint32_t format = 0;
		uint64_t modifier = 0;
		std::string exporter; // the dma-buf's exp_name
		uint64_t count = 0;
	};
	uint64_t dmabuf_buffers = 0; // wl_buffers made
	uint64_t dmabuf_failed = 0;  // failed events
	std::vector<buffer_kind> kinds;

	uint64_t default_feedbacks = 0;
	uint64_t surface_feedbacks = 0;
	uint64_t in_scanout_tranche = 0;     // buffer commits on a surface with feedback
	uint64_t not_in_scanout_tranche = 0; // whose tranche did not have the pair

	uint64_t imports_created = 0; // cache misses: a new Import for a wl_buffer
	uint64_t cache_hits = 0;      // a wl_buffer of an Import that existed

	uint64_t commits = 0;
	uint64_t buffer_commits = 0;
	uint64_t frames_presented = 0; // output frames that showed a new buffer of it
	uint64_t frame_callbacks_done = 0;
	ms_series release_latency;         // buffer commit to wl_buffer.release
	ms_series frame_interval;          // between frames presented
	ms_series frame_callback_interval; // between frame callbacks done

	struct posted_error {
		std::string interface;
		uint32_t object = 0;
		uint32_t code = 0;
		std::string message;
		double time_s = 0;
	};
	std::vector<posted_error> protocol_errors;

	std::array<lint_finding, lint_count> findings{};
};

} // namespace wlprime
