// import_context.hpp: the import subsystem as the compositor holds it.
//
// One owner for what import/ needs at run time and for the compositor's
// records of it: the kernel seam (the real kernel, or a test's) behind its
// ioctl counter, the main device (--render-device, the linux-dmabuf device)
// and the KMS backend's display devices (--drm-device), the re-import cache
// with its idle-trim timer, the registry of dma-buf wl_buffers, and the
// --trace writer watching the cache and the registry. The server makes one
// as soon as it needs a device (the KMS backend or a main device) and reads
// it through import_context (the debug dump, the outputs' copy path).
//
// Lifetime: destroyed after the wl_display, when every wlr_buffer, and with
// it every import_ref, is gone: the cache first (framebuffers removed,
// handles closed), then the registry and the trace, then the devices, then
// the counter, whose totals are logged.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compositor/config.hpp"
#include "compositor/dmabuf_buffer.hpp"
#include "compositor/trace.hpp"
#include "import/device.hpp"
#include "import/fault_kernel.hpp"
#include "import/import_cache.hpp"
#include "import/kernel.hpp"
#include "import/result.hpp"

struct wl_event_loop;
struct wl_event_source;

namespace wlprime {

class import_context {
public:
	// kernel: the seam to count (borrowed; null for the real kernel). Opens
	// --trace if given. import/ logs through wlr_log from here on.
	static result<std::unique_ptr<import_context>> create(const config &cfg,
	                                                      kernel_api *kernel);
	~import_context();
	import_context(const import_context &) = delete;
	import_context &operator=(const import_context &) = delete;

	// Opens the main device on the counting seam; the cache knows it from
	// then on. Once.
	result<device *> open_main(const std::string &path);
	// Adopts a display device (opened on kernel()); the cache knows it.
	device &add_display(std::unique_ptr<device> dev);
	// Idle Imports pin their dma-bufs: from now on those unused for 30 s
	// are let go of (checked every 5 s on loop), until stop_trim(), which
	// must come before the loop is destroyed (the context outlives it).
	void start_trim(wl_event_loop *loop);
	void stop_trim();

	kernel_api &kernel() { return *counts_; }
	const counting_kernel &counts() const { return *counts_; }
	import_cache &cache() { return *cache_; }
	const import_cache &cache() const { return *cache_; }
	buffer_registry &buffers() { return *buffers_; }
	const buffer_registry &buffers() const { return *buffers_; }
	// Null without one.
	device *main_device() const { return main_.get(); }
	const std::vector<std::unique_ptr<device>> &display_devices() const { return displays_; }
	// Null without --trace.
	trace_writer *trace() const { return trace_.get(); }

private:
	import_context() = default;

	// Logs the ioctl totals when destroyed.
	struct totals_log {
		const counting_kernel *kernel = nullptr;
		const fault_kernel *faults = nullptr; // and what each rule injected
		~totals_log();
	};

	// Destroyed in reverse order, as the header comment says: every
	// import_ref is gone by then (the wl_display went first); freeing the
	// cache removes the framebuffers and closes the handles, telling the
	// trace; then the devices can go; then the totals are logged.
	std::unique_ptr<kernel_api> real_kernel_; // null when a test gave one
	std::unique_ptr<fault_kernel> faults_;    // $WLPRIME_INJECT_FAULTS only
	std::unique_ptr<counting_kernel> counts_;
	totals_log totals_;
	std::unique_ptr<device> main_;
	std::vector<std::unique_ptr<device>> displays_;
	std::unique_ptr<trace_writer> trace_;
	std::unique_ptr<buffer_registry> buffers_;
	std::unique_ptr<import_cache> cache_;
	wl_event_source *trim_timer_ = nullptr;
};

} // namespace wlprime
