// kms_render_target.hpp: the output buffers of a KMS output when a GPU
// renderer composes (--renderer gles2): GBM buffers on the render device,
// scanned out on the display device.
//
// A kms_render_allocator wraps the renderer's GBM allocator (borrowed: the
// renderer's, on its own file description of the render node). Each buffer
// it makes becomes an Import of the import cache at once — its dma-buf, as
// GBM exported it — attached to the buffer as an output buffer
// (render/buffer_import.hpp). From then on it is scanned out like every
// other buffer of the backend: framebuffer_on(display device), one
// FD_TO_HANDLE and one ADDFB2 per buffer, then nothing.
//
// The layout, chosen once per display device and logged with its reason:
//   render device == display device: the modifiers wlroots asks for (the
//     renderer's render formats) that the device's primary planes take
//     (IN_FORMATS), else LINEAR;
//   render device != display device: LINEAR, the layout a display can import
//     from another device (the render GPU's tiled layouts mean nothing to
//     it). Zero-copy if the display then takes the buffer (PRIME import and
//     ADDFB2), tried on the first buffer; if it does not, every frame is
//     copied by the CPU into dumb buffers of the display (kms_display_copy
//     below, "cpu-copy"), said once with the display's errno.
//
// Lifetime: owned by the kms_device (one per display device), destroyed with
// it; its buffers are GBM's (they keep no pointer to the wrapper).

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "import/device.hpp"
#include "import/formats.hpp"
#include "import/import_cache.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class kms_render_allocator {
public:
	// inner: the renderer's GBM allocator, render_fd its DRM fd (both
	// borrowed, outliving this); display, cache borrowed; plane_formats: what
	// the display's primary planes take.
	static kms_render_allocator *create(wlr_allocator *inner, int render_fd, device &display,
	                                    import_cache &cache, format_set plane_formats);
	// wlr_allocator_destroy(base()) frees it.
	wlr_allocator *base() { return &wlr_.base; }

	// What was chosen and why (wlprime-debug, logs): "zero-copy" or
	// "cpu-copy"; "" before the first buffer.
	const std::string &path() const { return path_; }
	const std::string &reason() const { return reason_; }

	kms_render_allocator(const kms_render_allocator &) = delete;
	kms_render_allocator &operator=(const kms_render_allocator &) = delete;

private:
	kms_render_allocator(wlr_allocator *inner, bool same_device, device &display,
	                     import_cache &cache, format_set plane_formats);
	~kms_render_allocator() = default;
	static kms_render_allocator *from_wlr(wlr_allocator *alloc);
	static wlr_buffer *create_buffer(wlr_allocator *alloc, int width, int height,
	                                 const wlr_drm_format *format) noexcept;
	static void destroy(wlr_allocator *alloc) noexcept;
	static const wlr_allocator_interface impl;
	wlr_buffer *make(int width, int height, const wlr_drm_format &format);

	struct wlr_part {
		wlr_allocator base;
		kms_render_allocator *owner;
	};
	wlr_part wlr_{};
	wlr_allocator *inner_;
	bool same_device_;
	device &display_;
	import_cache &cache_;
	format_set plane_formats_;
	std::string path_, reason_;
};

// The CPU copy of an output's frames for a display that cannot import the
// render device's buffers: a ring of up to three dumb buffers of the display
// (its kms_allocator), each frame copied whole from the rendered buffer's
// mapping (its Import's, made once) between the two dma-bufs' syncs. One per
// KMS output, made at its first copied frame.
class kms_display_copy {
public:
	// dumb: the display's dumb-buffer allocator (borrowed, outliving this).
	explicit kms_display_copy(wlr_allocator *dumb) : dumb_(dumb) {}
	~kms_display_copy(); // drops its locks; buffers on screen stay until their flip
	kms_display_copy(const kms_display_copy &) = delete;
	kms_display_copy &operator=(const kms_display_copy &) = delete;

	// frame (an output buffer with its Import) copied into a free buffer of
	// the ring, returned locked for the caller; null if it cannot be (why:
	// logged once).
	wlr_buffer *copy(wlr_buffer *frame, const char *output);

	uint64_t frames() const { return frames_; }
	uint64_t bytes() const { return bytes_; }

private:
	wlr_buffer *free_buffer(int width, int height, uint32_t format);
	void fail(const char *output, const std::string &why);

	wlr_allocator *dumb_;
	std::vector<wlr_buffer *> ring_; // each locked once by us
	uint64_t frames_ = 0, bytes_ = 0;
	bool failure_logged_ = false;
};

} // namespace wlprime
