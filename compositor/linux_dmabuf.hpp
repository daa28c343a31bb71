// linux_dmabuf.hpp: wlprime's own zwp_linux_dmabuf_v1 (versions 3 and 4).
//
// Not wlroots' wlr_linux_dmabuf_v1: params go to the import subsystem's
// validator (import/dmabuf_params), buffers to its re-import cache, and the
// import into the main device is checked when the buffer is created, and kept
// in the cache. Every protocol error is posted as the spec names it, with a
// message that names the values; every fd a client sends has one owner on
// every path.
//
// Version 4: the default and per-surface feedback, one sealed memfd format
// table for both. The default feedback has one tranche: the main device, every
// pair of the table. A surface's feedback has, while the scanout source (see
// set_scanout_source) gives the surface a tranche, first a scanout tranche
// (the display device, flags scanout, the pairs its plane takes that the
// table holds: what the plane takes and the import subsystem accepts), then
// the main tranche. It is re-sent (every event, then done) when that changes:
// after the surface's commits and when the compositor moves things
// (update_surface_feedback). A surface feedback whose wl_surface is destroyed
// becomes inert. Versions 1 to 3: at bind each format once as a `format`
// event, and at version 3 every (format, modifier) pair as a `modifier` event
// too; version 4 sends neither (the spec deprecates both).
//
// Lifetime: owned by the server; the main device and the cache it is given
// must outlive it and every wl_buffer it made. Destroy it after the clients.

#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include "compositor/client_limits.hpp"
#include "compositor/dmabuf_buffer.hpp"
#include "compositor/surface_feedback.hpp"
#include "render/wlr.hpp"
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

	// The formats a composited buffer may have with pixman: what the CPU
	// path shows (render/cpu_format.hpp), linear or with an implicit
	// modifier. (With GLES2, the renderer's own: render/renderer_formats.hpp.)
	static format_set composition_formats();

	device &main_device() { return main_; }
	import_cache &cache() { return cache_; }
	const format_set &formats() const { return formats_; }

	// Sends a complete feedback (v4) on a zwp_linux_dmabuf_feedback_v1:
	// with a scanout tranche first if `scanout` has pairs.
	void send_feedback(wl_resource *feedback,
	                   const std::optional<scanout_tranche> &scanout = std::nullopt) const;

	// Where surfaces' scanout tranches come from (the server's
	// scanout_tranches over the scene); none: the main tranche only.
	using scanout_source = std::function<std::optional<scanout_tranche>(wlr_surface *)>;
	void set_scanout_source(scanout_source source);
	// The surfaces may have moved: re-evaluates every surface feedback (at
	// once) and re-sends those whose tranches changed.
	void update_surface_feedback();
	// The same, from an idle callback of the event loop (after the scene has
	// handled the commit being dispatched).
	void schedule_surface_feedback_update();
	// A surface's scanout tranche as it would be sent now (intersected with
	// the table), or none.
	std::optional<scanout_tranche> scanout_for(wlr_surface *surface) const;

	// How buffer creations went (also shown by the debug tool later).
	struct counters {
		uint64_t created = 0; // wl_buffers made
		uint64_t failed = 0;  // failed events / invalid_wl_buffer
		uint64_t protocol_errors = 0;
		uint64_t surface_feedback_sent = 0; // surface feedbacks sent (first and re-sent)
	};
	counters &stats() { return stats_; }
	buffer_registry *registry() const { return registry_; }
	// Per-client accounting and limits (tests may change the limits).
	client_limits &limits() { return limits_; }

private:
	struct surface_entry; // a surface feedback resource (linux_dmabuf.cpp)
	friend void make_surface_feedback(wl_client *, wl_resource *, uint32_t, wl_resource *);
	friend void surface_feedback_resource_destroy(wl_resource *);

	linux_dmabuf(device &main, import_cache &cache, format_set formats);
	void refresh(surface_entry &entry, bool force);

	device &main_;
	import_cache &cache_;
	format_set formats_;
	unique_fd table_fd_; // sealed memfd: the v4 format table
	size_t table_size_ = 0;
	wl_global *global_ = nullptr;
	buffer_registry *registry_ = nullptr;
	counters stats_;
	client_limits limits_;
	wl_display *display_ = nullptr;
	scanout_source scanout_source_;
	std::list<std::unique_ptr<surface_entry>> surfaces_;
	wl_event_source *update_idle_ = nullptr; // pending schedule_surface_feedback_update
};

} // namespace wlprime
