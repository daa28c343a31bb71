// linux_dmabuf.hpp: wlprime's own zwp_linux_dmabuf_v1 (versions 3 and 4).
//
// Not wlroots' wlr_linux_dmabuf_v1: params go to the import subsystem's
// validator (import/dmabuf_params), buffers to its re-import cache, and the
// import into the main device is checked when the buffer is created, and kept
// in the cache. Every protocol error is posted as the spec names it, with a
// message that names the values; every fd a client sends has one owner on
// every path.
//
// Version 4: the default and per-surface feedback (main device, one tranche
// of the main device's formats, a sealed memfd format table). Version 3: the
// format and modifier events on bind.
//
// Lifetime: owned by the server; the main device and the cache it is given
// must outlive it and every wl_buffer it made. Destroy it after the clients.

#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "compositor/client_limits.hpp"
#include "compositor/dmabuf_buffer.hpp"
#include "compositor/wlr.hpp"
#include "import/device.hpp"
#include "import/formats.hpp"
#include "import/import_cache.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"

namespace wlprime {

class linux_dmabuf {
public:
	// The highest version advertised.
	static constexpr uint32_t version = 4;

	// Advertises the global on display. main and cache are borrowed.
	// registry (may be null) gets every wl_buffer made; borrowed.
	// limits: per client, see client_limits.hpp.
	static result<std::unique_ptr<linux_dmabuf>> create(wl_display *display, device &main,
	                                                    import_cache &cache, format_set formats,
	                                                    buffer_registry *registry = nullptr,
	                                                    client_limit_values limits = {});
	~linux_dmabuf();
	linux_dmabuf(const linux_dmabuf &) = delete;
	linux_dmabuf &operator=(const linux_dmabuf &) = delete;

	// The formats a composited buffer may have: what the pixman renderer
	// reads, linear or with an implicit modifier.
	static format_set composition_formats();

	device &main_device() { return main_; }
	import_cache &cache() { return cache_; }
	const format_set &formats() const { return formats_; }

	// Sends a complete feedback (v4) on a zwp_linux_dmabuf_feedback_v1.
	void send_feedback(wl_resource *feedback) const;

	// How buffer creations went (also shown by the debug tool later).
	struct counters {
		uint64_t created = 0; // wl_buffers made
		uint64_t failed = 0;  // failed events / invalid_wl_buffer
		uint64_t protocol_errors = 0;
	};
	counters &stats() { return stats_; }
	buffer_registry *registry() const { return registry_; }
	// Per-client accounting and limits (tests may change the limits).
	client_limits &limits() { return limits_; }

private:
	linux_dmabuf(device &main, import_cache &cache, format_set formats);

	device &main_;
	import_cache &cache_;
	format_set formats_;
	unique_fd table_fd_; // sealed memfd: the v4 format table
	size_t table_size_ = 0;
	wl_global *global_ = nullptr;
	buffer_registry *registry_ = nullptr;
	counters stats_;
	client_limits limits_;
};

} // namespace wlprime
