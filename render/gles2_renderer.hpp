// gles2_renderer.hpp: composition on the GPU: wlroots 0.15's GLES2 renderer
// on wlprime's own EGL display, with client buffers textured once per Import.
//
// Ownership (who holds whom):
//
//   gles2_renderer
//     ├─ node_fd_      its own file description of the node it renders on
//     │                (never the import library's: Mesa makes GEM handles
//     │                on it, and those must not meet the library's)
//     ├─ gbm_ / EGL display and context / wlr_egl / the inner wlr_renderer
//     ├─ allocator_    a GBM allocator on a further description of the node
//     │                (the outputs' buffers; on DRM/KMS through a
//     │                kms_render_allocator per display device)
//     ├─ probe_fd_     software GL only: a description for the per-Import
//     │                check below, whose GEM handles live for one call
//     └─ base_         the wlr_renderer everyone else is given: the inner
//                      renderer's calls, but textures of client dma-bufs made
//                      once per Import (import_textures.cpp)
//
//   Import ──lasting attachment──> import_texture (one per Import)
//     └─ a wlr_buffer of the Import's layout, on which the inner renderer
//        keeps its EGLImage and texture (wlroots' texture addon): a
//        re-created wl_buffer, or another client's buffer of the same
//        dma-buf, finds it there and costs no EGL import. The record also
//        keeps the decision for that Import: EGL, or the CPU path (mapped
//        and uploaded) with the reason — made once, never retried.
//
// Per-wl_buffer textures wrap the Import's one and hold a lock on their own
// wl_buffer's wlr_buffer for as long as they live, as the pixman renderer's
// do: wl_buffer.release comes exactly when it would with pixman.
//
// Before EGL sees a buffer: on Mesa's software rasteriser a dma-buf that the
// rendering device did not export cannot be sampled (bookworm's Mesa 22.3
// crashes the process in the attempt; 25 fails with GL_OUT_OF_MEMORY). The
// rasteriser reads every buffer through a dumb-buffer mapping, and the
// kernel refuses DRM_IOCTL_MODE_MAP_DUMB on an imported object (EINVAL): so
// the check is that very ioctl on a probe description (PRIME import, MAP_DUMB,
// GEM_CLOSE, once per Import). On a GPU, EGL is asked and glGetError read.

#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "import/kernel.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"
#include "render/renderer_choice.hpp"
#include "render/renderer_formats.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class dmabuf_import;
class import_texture;

// The facts choose_renderer() needs of the main device at path (its driver,
// render and primary nodes), read on a description of its own, closed again.
result<render_device_facts> read_render_device_facts(const std::string &path);

// Counters of the per-Import texture cache (wlprime-debug, tests).
struct gles2_texture_stats {
	uint64_t egl_imports = 0;    // EGLImages made (one per Import on the EGL path)
	uint64_t egl_reuses = 0;     // textures of an Import's EGLImage made again
	uint64_t egl_failures = 0;   // EGL refused an Import (then the CPU path)
	uint64_t cpu_uploads = 0;    // CPU-path textures uploaded (one per commit)
	uint64_t cpu_imports = 0;    // Imports on the CPU path
	uint64_t probe_refusals = 0; // software GL: Imports the probe kept from EGL
	uint64_t textures_live = 0;  // per-wl_buffer textures alive now
};

class gles2_renderer {
public:
	// Renders on choice.node (a gles2 choice). kernel: the seam the probe's
	// ioctls go through (counted with the import library's).
	static result<std::unique_ptr<gles2_renderer>> create(const renderer_choice &choice,
	                                                      kernel_api &kernel);
	~gles2_renderer();
	gles2_renderer(const gles2_renderer &) = delete;
	gles2_renderer &operator=(const gles2_renderer &) = delete;

	// What the server, the outputs and the surfaces render with.
	wlr_renderer *wlr() { return &base_.base; }
	// GBM buffers on the renderer's node, for the headless outputs.
	wlr_allocator *allocator() const { return allocator_; }
	// Its own file description of the node (same-device checks).
	int drm_fd() const { return node_fd_.get(); }
	// The gles2_renderer behind r, or null if r is another renderer.
	static gles2_renderer *from_wlr(wlr_renderer *r);

	const renderer_choice &choice() const { return choice_; }
	const std::string &gl_renderer() const { return gl_renderer_; } // GL_RENDERER
	const std::string &gl_version() const { return gl_version_; }
	const gles2_texture_stats &stats() const { return stats_; }
	// The dma-buf formats and modifiers its EGL display imports.
	const egl_format_offer &format_offer() const { return offer_; }
	// What linux-dmabuf advertises with this renderer: the CPU path's pairs
	// and EGL's (renderer_formats.hpp), decided once at creation.
	const composition_formats &formats() const { return formats_; }
	// Why import is on the CPU path ("" if it is on EGL, or not decided).
	std::string cpu_reason(const dmabuf_import &import) const;
	// "egl", "cpu" or "" (never textured).
	const char *path_of(const dmabuf_import &import) const;

	// --- import_textures.cpp (the wrapper's texture_from_buffer) ---
	wlr_texture *texture_from_buffer(wlr_buffer *buffer);
	void texture_destroyed() { stats_.textures_live--; }
	wlr_renderer *inner() const { return inner_; }

private:
	friend class import_texture;
	gles2_renderer(renderer_choice choice, kernel_api &kernel);
	status init();
	void log_formats() const;
	import_texture &record_of(dmabuf_import &import);
	// Software GL: whether the rendering device exported every dma-buf of
	// import (the probe). "" if so, else why not.
	std::string probe(const dmabuf_import &import);
	wlr_texture *egl_texture(import_texture &record, dmabuf_import &import);
	wlr_texture *cpu_texture(wlr_buffer *buffer);

	renderer_choice choice_;
	kernel_api &kernel_;
	struct wlr_part {
		wlr_renderer base; // first: from_wlr() casts
		gles2_renderer *owner;
	} base_{};
	wlr_renderer *inner_ = nullptr;
	unique_fd node_fd_;
	unique_fd probe_fd_;
	gbm_device *gbm_ = nullptr;
	EGLDisplay display_ = EGL_NO_DISPLAY;
	EGLContext context_ = EGL_NO_CONTEXT;
	wlr_egl *egl_ = nullptr;
	wlr_allocator *allocator_ = nullptr;
	std::string gl_renderer_;
	std::string gl_version_;
	egl_format_offer offer_;
	composition_formats formats_;
	gles2_texture_stats stats_;
	std::set<import_texture *> records_; // every record alive
};

} // namespace wlprime
