// scanout_copy.hpp: the copy fallback of a KMS output.
//
// When the only thing on a KMS output is one client dma-buf that covers it
// exactly (what direct scanout would show) but the output's display device
// cannot scan that buffer out — it could not import it (PRIME), could not make
// a framebuffer of it (ADDFB2: format, modifier, stride), or its plane refused
// it (atomic TEST_ONLY) — the frame is not composed from the scene: the
// client buffer's damaged region is copied from the Import's cached mapping
// (read between DMA_BUF_IOCTL_SYNC start and end, through the buffer's
// wlr_buffer data-pointer access, compositor/dmabuf_buffer.hpp) into
// a buffer of the display device (the output's swapchain), converting the
// pixel format with pixman where the two differ, and that buffer is scanned
// out.
//
// The damage is the output's wlr_output_damage (the scene puts the surface's
// buffer damage there on every commit) accumulated over the age of the
// swapchain buffer: the whole buffer when the age is unknown or older than
// what wlr_output_damage remembers, and after any frame that this copy path
// did not commit itself (a composed frame or a direct scanout).
//
// Whether the display device can scan the Import out is the Import's scanout
// verdict for that device (import/import.hpp), kept with its device_import:
// this path keeps no list of its own. While the verdict is unknown it asks
// once with wlr_output_test(): the KMS backend's atomic TEST_ONLY commit, or
// the import or ADDFB2 failure before it, which import/ caches with its
// errno; the backend records a TEST_ONLY refusal in the verdict. A refusal
// is logged once, when this test finds it, and not asked again: the next
// frames of that Import go straight to the copy. A verdict "scans out" goes
// to the scene (which tests it again at each direct-scanout frame).
//
// The client buffer's Import is the one attached to it (buffer_import.hpp).
//
// Lifetime: one per KMS output, a member of compositor/output; the import
// cache is borrowed and outlives it.

#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "render/wlr.hpp"

namespace wlprime {

class device;
class dmabuf_import;
class import_cache;

// One frame copied, for whoever watches (the compositor's --trace): the
// Import, the display device, what was copied (the damaged region) and why
// the device could not scan the Import out (its scanout verdict).
struct copy_event {
	const dmabuf_import &import;
	const device &dev;
	uint64_t bytes = 0;
	uint32_t rects = 0;
	const char *reason = nullptr; // "import", "framebuffer" or "atomic_test"
	int errnum = 0;
	std::string message; // the verdict's message, with its errno
};
using copy_observer = std::function<void(const copy_event &)>;

// What the copy path did on one output.
struct copy_stats {
	uint64_t copies = 0;       // frames copied and committed
	uint64_t bytes = 0;        // bytes copied (of the source buffer)
	uint64_t whole_frames = 0; // copies of the whole buffer (no usable damage)
	// Copies by why the display device could not scan the buffer out:
	// "import", "framebuffer", "atomic_test".
	std::map<std::string, uint64_t> by_reason;
};

// An Import that the output's display device cannot scan out: its scanout
// verdict (import/import.hpp), as the debug dump shows it.
struct copy_refusal {
	uint64_t import = 0; // the Import's serial
	std::string device;  // the display device's name
	std::string reason;  // "import", "framebuffer" or "atomic_test"
	std::string message; // the error, with its errno
	int errnum = 0;
};

class scanout_copy {
public:
	// output: a KMS output (borrowed); cache: may be null (then nothing is
	// ever copied); on_copy: told of every copied frame (may be empty).
	scanout_copy(wlr_output *output, import_cache *cache, copy_observer on_copy);
	scanout_copy(const scanout_copy &) = delete;
	scanout_copy &operator=(const scanout_copy &) = delete;

	// Called from the output's frame handler, before the scene. Returns
	// true if it took care of the frame (copied and committed, or nothing
	// to do), false if the scene should render it as usual (direct scanout
	// possible, or not one fullscreen client dma-buf, or the copy cannot be
	// done).
	bool frame(wlr_scene_output *scene_output);

	const copy_stats &stats() const { return stats_; }
	// The cached Imports that the output's display device cannot scan out,
	// by serial: read from their scanout verdicts.
	std::vector<copy_refusal> refusals() const;

private:
	wlr_output *output_; // not owned
	import_cache *cache_;
	copy_observer on_copy_;
	copy_stats stats_;
	// wlr_output::commit_seq after our last copy commit: if the output
	// committed something else since, the swapchain buffers' content is
	// not what our damage history assumes.
	uint32_t last_copy_seq_ = 0;
	bool copied_before_ = false;
	bool cannot_convert_logged_ = false;
};

} // namespace wlprime
