// trace.hpp: --trace FILE, one JSON line per import event.
//
// Every event of the import cache (created, hit, imported, import_failed with
// errno, negative_hit, fb_created, fb_failed, fb_removed, mapped, idle,
// evicted), every copy (render/scanout_copy.hpp: a frame of a client buffer
// copied into a buffer of a display device that cannot scan it out, with
// bytes, rects and the reason) and every wl_buffer.release, with a time in seconds since start,
// the Import's serial and what the event is about (format, size, dma-bufs,
// device, handles, framebuffer id, errno and message). Line-buffered, so
// `tail -f` follows it.

#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "import/events.hpp"
#include "import/result.hpp"
#include "render/scanout_copy.hpp"

namespace wlprime {

class dmabuf_buffer;
struct surface_plane_verdict;

class trace_writer {
public:
	static result<std::unique_ptr<trace_writer>> open(const std::string &path);
	~trace_writer();
	trace_writer(const trace_writer &) = delete;
	trace_writer &operator=(const trace_writer &) = delete;

	void import_event(const wlprime::import_event &event);
	void copy(const copy_event &event);
	void release(const dmabuf_buffer &buffer);
	// A surface's overlay plane verdict changed (compositor/overlay_frame.hpp).
	void plane(const char *output, const surface_plane_verdict &verdict);

private:
	explicit trace_writer(std::FILE *file) : file_(file) {}
	void line(const std::string &body);

	std::FILE *file_;
	const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

} // namespace wlprime
