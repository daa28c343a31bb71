// dmabuf_client.hpp: a linux-dmabuf client for the compositor tests
// (in-process) and as a standalone program (wlprime-dmabuf-client).
//
// It binds zwp_linux_dmabuf_v1 (version 4 by default, or 3), learns the
// formats (v4: the default feedback, its main device, the read-only mapped
// format table and its tranches, then the surface feedback; v3: the modifier
// events), allocates dma-bufs with a dmabuf_allocator (udmabuf, vgem, gbm, or
// a test's callback), draws a known XRGB8888 pattern into them (or the same
// pattern as NV12 or YUV420 planes), maps an xdg_toplevel and commits frames:
//
//  - frames mode: `frames` commits cycling `buffers` dma-bufs, each with one
//    wl_buffer made once; or, with new_wl_buffer_per_frame, a new wl_buffer
//    every frame from the fixed pool of dma-bufs (as video players do), the
//    old one destroyed after its release. A dma-buf is reused only once the
//    compositor has released it (with two buffers or more).
//  - bad-request mode: one malformed request of the protocol (see
//    bad_request) and the outcome it got (a protocol error, a failed or
//    created event, or a local error).
//  - manual mode (tests): the window is mapped on the first buffer the test
//    attaches; the test drives allocate/create/attach/destroy itself.
//
// It records per wl_buffer: created or failed, the frames it was committed
// in, and each release with the frame number at which it came.
//
// Nothing blocks: drive it with pump_display() (tests/clients/shm_client.hpp)
// or wl_display_dispatch(). The header does not include the Wayland client
// headers, so that a test can include it beside the compositor's.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "tests/clients/dmabuf_alloc.hpp"
#include "tests/clients/presented_frame.hpp"

struct wl_display;

namespace wlprime::clients {

// A malformed (or merely unusual) request of zwp_linux_buffer_params_v1 and
// what the protocol says must follow. See bad_request_info().
enum class bad_request {
	plane_idx,            // add plane 4                        -> plane_idx
	plane_set,            // add plane 0 twice                  -> plane_set
	incomplete_gap,       // planes 0 and 2 of XRGB8888         -> incomplete
	no_planes,            // create without any add             -> incomplete
	too_many_planes,      // XRGB8888, LINEAR, planes 0 and 1   -> incomplete
	invalid_format,       // fourcc 0x20202020 ("    ")          -> invalid_format
	invalid_modifier,     // XRGB8888 with a vendor modifier     -> invalid_format
	mismatched_modifiers, // plane 0 LINEAR, plane 1 INVALID     -> invalid_format (at add)
	zero_width,           // 0 x H                              -> invalid_dimensions
	negative_height,      // W x -1                             -> invalid_dimensions
	offset_past_end,      // offset = dma-buf size              -> out_of_bounds
	stride_too_big,       // stride * height > size             -> out_of_bounds
	u32_overflow,         // offset + stride * height > 2^32    -> out_of_bounds
	// Regressions of issue 12, accepted and composited past the dma-buf:
	stride_zero,         // stride 0                           -> out_of_bounds
	stride_below_row,    // stride 255 < 64 * 4 bytes a row     -> out_of_bounds
	row_past_end,        // 64x1 starting 4 bytes before the end -> out_of_bounds
	y_invert,            // flags y_invert, create             -> failed event
	y_invert_immed,      // flags y_invert, create_immed       -> invalid_wl_buffer
	unknown_flags,       // flags 0x8, create                  -> failed event
	unknown_flags_immed, // flags 0x8, create_immed            -> invalid_wl_buffer
	interlaced,          // flags interlaced, create           -> failed event
	interlaced_immed,    // flags interlaced, create_immed     -> invalid_wl_buffer
	add_after_create,    // create, then add                   -> already_used
	create_twice,        // create, then create                -> already_used
	not_dmabuf,          // a memfd the kernel does not know    -> failed event
	not_dmabuf_immed,    // same with create_immed              -> invalid_wl_buffer
	pipe_fd,             // a pipe (no size, no dma-buf)        -> failed event
	dev_null_fd,         // /dev/null (size 0)                  -> out_of_bounds
	closed_fd,           // an fd closed before sending: libwayland-client
	                     // cannot marshal it                   -> local EBADF
};

// What came back for a request.
struct outcome {
	enum class kind {
		none,           // nothing (yet)
		created,        // created event, or create_immed that was not refused
		failed,         // failed event
		protocol_error, // fatal protocol error on `interface`
		local_error,    // the client library refused (errnum)
	};
	kind what = kind::none;
	std::string interface; // protocol_error: the interface of the object
	uint32_t code = 0;     // protocol_error: the error code
	std::string message;   // protocol_error: the compositor's message
	int errnum = 0;        // local_error and lost connections: errno

	bool operator==(const outcome &) const = default;
};
std::string to_string(const outcome &o);

struct bad_request_info {
	bad_request request;
	const char *name; // command line spelling: "plane-idx", ...
	outcome expected; // message left empty
	// Values that the compositor's message must name, e.g. "4" for plane_idx.
	std::vector<std::string> message_names;
};
const std::vector<bad_request_info> &bad_requests();
const bad_request_info *find_bad_request(const std::string &name);
const bad_request_info &info_of(bad_request request);

// YUV 4:2:0 buffers instead of XRGB8888 (tests/clients/dmabuf_pattern.hpp
// has the planes and their samples): NV12 with both planes in one dma-buf
// (one stride, the CbCr plane after the Y rows) or one dma-buf per plane;
// YUV420 with the three planes in one dma-buf (Cb and Cr at half the stride)
// or one dma-buf per plane. Sent even when not advertised.
enum class nv12_layout { none, one_bo, two_bo };
enum class yuv420_layout { none, one_bo, three_bo };

struct dmabuf_client_options {
	// Required: where dma-bufs come from. Shared with the caller.
	std::shared_ptr<dmabuf_allocator> allocator;
	uint32_t protocol_version = 4; // 3 or 4 (capped at what is advertised)
	uint32_t color = 0xff336699;   // XRGB8888 (alpha ignored)
	bool quadrants = false;        // top-right red, bottom-left green,
	                               // bottom-right blue, top-left `color`
	bool draw = true;              // false: leave the dma-buf's bytes alone
	int width = 200;               // used when the compositor leaves it to us
	int height = 150;
	int frames = 1;
	// Go on committing frames (cycling the pool) until this many seconds
	// have passed since the first, and at least `frames` (0: frames only).
	int seconds = 0;
	int buffers = 1; // dma-bufs in the pool
	bool new_wl_buffer_per_frame = false;
	bool create_immed = false;
	uint32_t flags = 0; // zwp_linux_buffer_params_v1 flags of every buffer (y_invert: 1)
	// At most one of these two.
	nv12_layout nv12 = nv12_layout::none;
	yuv420_layout yuv420 = yuv420_layout::none;
	bool unmap_at_end = false; // attach null after the last frame
	std::optional<bad_request> bad;
	bool manual = false;
	std::string title = "wlprime-dmabuf-client";
	// Fullscreen: empty for no; "current" for set_fullscreen(null); else the
	// wl_output to name: its position among the wl_output globals (from 0),
	// or text found in its wl_output.name or description (version 4).
	std::string fullscreen;
	// After frames / 2 frames: set_fullscreen again, on this output (same
	// spelling as fullscreen).
	std::string move_to;
	// A wp_presentation_feedback for every commit (presentation() has what
	// came of each); the run ends once every one is presented or discarded.
	bool presentation_feedback = false;
};

// A (format, modifier) pair.
using format_pair = std::pair<uint32_t, uint64_t>;

struct feedback_tranche {
	dev_t target_device = 0;
	uint32_t flags = 0;
	std::vector<uint16_t> indices;
	std::vector<format_pair> formats; // the indices looked up in the table
};

// A zwp_linux_dmabuf_feedback_v1 as received (v4).
struct dmabuf_feedback {
	bool done = false;
	dev_t main_device = 0;
	uint32_t table_size = 0;
	int table_seals = 0;             // F_GET_SEALS of the table fd
	bool table_writable_map = false; // a shared writable mapping succeeded
	std::vector<format_pair> table;  // the mapped table, in order
	std::vector<feedback_tranche> tranches;
	std::string error; // what was wrong with it, if anything
};

// "XR24/LINEAR": how the client names a pair.
std::string pair_name(const format_pair &pair);

// A wl_output the client bound.
struct output_record {
	uint32_t global = 0;     // registry name
	std::string name;        // wl_output.name (version 4), or ""
	std::string description; // wl_output.description (version 4), or ""
	int width = 0;           // current mode
	int height = 0;
};

// One wl_buffer of the client.
struct buffer_record {
	int dmabuf = -1;           // index of its dma-buf in the pool
	bool created = false;      // created event, or create_immed sent
	bool failed = false;       // failed event
	bool destroyed = false;    // wl_buffer.destroy sent
	std::vector<int> commits;  // frames it was attached in
	std::vector<int> releases; // frame number current at each release
	bool busy = false;         // attached and not yet released
};

struct dmabuf_client_stats {
	int frames_committed = 0;
	int frames_shown = 0; // frame callbacks done
	int dmabufs = 0;
	int wl_buffers = 0; // created or create_immed
	int releases = 0;
	int expected_releases = 0; // commits that replaced another buffer
	int failed = 0;
};

class dmabuf_client {
public:
	// Connects to socket (null: $WAYLAND_DISPLAY) and starts; nothing is read
	// yet. Null with *error set on failure.
	static std::unique_ptr<dmabuf_client>
	connect(const char *socket, const dmabuf_client_options &opts, std::string *error);
	~dmabuf_client();
	dmabuf_client(const dmabuf_client &) = delete;
	dmabuf_client &operator=(const dmabuf_client &) = delete;

	wl_display *display() const;

	// The formats are known (v4 default feedback done; v3 after a roundtrip).
	bool ready() const;
	uint32_t bound_version() const;
	const dmabuf_feedback &default_feedback() const;
	const dmabuf_feedback &surface_feedback() const;
	// Every complete surface feedback received, in order (the last one is
	// surface_feedback()).
	const std::vector<dmabuf_feedback> &surface_feedback_history() const;
	// The wl_outputs, in the order of their globals.
	const std::vector<output_record> &outputs() const;
	// Indices in outputs() of the outputs the surface entered, in order of
	// the enter events (leave events remove them).
	const std::vector<int> &entered_outputs() const;
	// Every enter (+index) and leave (-index - 1), in order.
	const std::vector<int> &output_events() const;
	// opts.presentation_feedback: one record per commit, in order, and
	// wp_presentation.clock_id (~0u if none came).
	const std::vector<presented_frame> &presentation() const;
	uint32_t presentation_clock() const;
	// v3: every modifier event, in order.
	const std::vector<format_pair> &modifier_events() const;

	// The run is over: frames all shown (and checked), or the bad request's
	// outcome is in, or failure() is set.
	bool finished() const;
	// What went wrong, "" if nothing: a protocol error or failure the client
	// did not expect, a lost connection, a failed set-up.
	std::string failure() const;
	// The last protocol error or other outcome observed (bad-request mode).
	const outcome &last_outcome() const;
	// "dmabuf-client: 60 frames, 3 dma-bufs, 60 wl_buffers, 59 releases, 0 failed"
	std::string summary() const;
	// One line per wl_buffer: created, commits, releases.
	std::string details() const;
	const dmabuf_client_stats &stats() const;
	const std::vector<buffer_record> &buffers() const;
	// The window's configure came (and no unmap since).
	bool configured() const;
	int width() const;
	int height() const;

	// --- manual mode (and tests poking at a running client) ---
	// Allocates and draws a dma-buf of the window's size (or the options'
	// before the configure). Returns its index, or -1 with failure() set.
	int allocate_dmabuf();
	// The colour of the dma-bufs allocated from now on.
	void set_color(uint32_t color);
	// Makes a wl_buffer of dma-buf `dmabuf` (create or create_immed).
	// Returns its index; created/failed arrive later.
	int create_wl_buffer(int dmabuf, bool immed);
	// Attaches buffer (-1: null), damages, asks for a frame callback,
	// commits. Needs configured(). After a null buffer (unmap), the window
	// is configured anew: wait for configured() before the next buffer.
	void attach(int buffer);
	// wl_buffer.destroy.
	void destroy_wl_buffer(int buffer);
	// A params object with plane 0 added and nothing else, left as it is.
	void leave_params_half_filled(int dmabuf);
	// Shuts the socket down: the client's objects are never destroyed in
	// the protocol. The client is unusable after this.
	void disconnect_abruptly();
	// Frames mode: commit no new frame from now on; the run ends as after
	// the last frame (the releases are checked). For SIGTERM with --seconds.
	void stop();

	struct state; // implementation, in dmabuf_client.cpp

private:
	explicit dmabuf_client(std::unique_ptr<state> s);
	std::unique_ptr<state> s_;
};

// Captures libwayland-client's log (where a protocol error's message goes)
// so that outcome::message can carry it; passes it on to stderr unless
// quiet. Process-wide, idempotent; connect() installs it.
void capture_wayland_client_log(bool quiet = false);

} // namespace wlprime::clients
