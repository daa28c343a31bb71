// kms_buffer.hpp: output buffers for wlprime's KMS backend.
//
// A kms_allocator makes the buffers that the pixman renderer composes into
// and that the display device scans out: dumb buffers (CREATE_DUMB) made on an
// allocation file description of their own (never the import subsystem's, so
// that the allocator's handles and the handle table's never mix), exported
// once as a dma-buf and closed there at once. From then on a kms_buffer is its
// dma-buf, like any client buffer: it holds an import_ref to the dma-buf's
// Import in the import cache, and is scanned out through the same path,
// dmabuf_import::framebuffer_on() on the display device (FD_TO_HANDLE and
// ADDFB2 once per buffer, then nothing); its Import is attached to it
// (render/buffer_import.hpp). CREATE_DUMB, the export and DESTROY_DUMB go
// through the display device's kernel seam (counted).
//
// Lifetime: the allocator belongs to the KMS backend (one per display
// device) and must outlive no buffer: buffers keep only their dma-buf fd, its
// mapping and their import_ref. A buffer is freed by wlroots when its last
// lock goes (swapchain, output commit, the backend's on-screen slots).

#pragma once

#include <cstdint>

#include "render/wlr.hpp"
#include "import/device.hpp"
#include "import/import.hpp"
#include "import/import_cache.hpp"
#include "import/unique_fd.hpp"

namespace wlprime {

class kms_allocator {
public:
	// Opens its own file description of display's node (display borrowed,
	// cache borrowed; both outlive the allocator and every buffer).
	static result<kms_allocator *> create(device &display, import_cache &cache);
	// wlr_allocator_destroy(base()) frees it.
	wlr_allocator *base() { return &wlr_.base; }

	device &display() { return display_; }

	kms_allocator(const kms_allocator &) = delete;
	kms_allocator &operator=(const kms_allocator &) = delete;

private:
	kms_allocator(device &display, import_cache &cache, unique_fd alloc_fd);
	~kms_allocator() = default;
	static kms_allocator *from_wlr(wlr_allocator *alloc);
	static wlr_buffer *create_buffer(wlr_allocator *alloc, int width, int height,
	                                 const wlr_drm_format *format) noexcept;
	static void destroy(wlr_allocator *alloc) noexcept;
	static const wlr_allocator_interface impl;

	struct wlr_part {
		wlr_allocator base;
		kms_allocator *owner;
	};
	wlr_part wlr_{};
	device &display_;
	import_cache &cache_;
	unique_fd alloc_fd_; // CREATE_DUMB and the export happen here
};

class kms_buffer {
public:
	// The kms_buffer of a wlr_buffer, or null if it is another kind.
	static kms_buffer *from_wlr(wlr_buffer *buffer);

	wlr_buffer *base() { return &wlr_.base; }
	const import_ref &import() const { return import_; }

	kms_buffer(const kms_buffer &) = delete;
	kms_buffer &operator=(const kms_buffer &) = delete;

private:
	friend class kms_allocator;
	kms_buffer(int width, int height, uint32_t stride, unique_fd dmabuf, void *data,
	           size_t size, import_ref import);
	~kms_buffer();

	static void destroy(wlr_buffer *buffer) noexcept;
	static bool get_dmabuf(wlr_buffer *buffer, wlr_dmabuf_attributes *attribs) noexcept;
	static bool begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
	                                  uint32_t *format, size_t *stride) noexcept;
	static void end_data_ptr_access(wlr_buffer *buffer) noexcept;
	int sync(uint64_t flags);
	static const wlr_buffer_impl impl;

	struct wlr_part {
		wlr_buffer base;
		kms_buffer *owner;
	};
	wlr_part wlr_{};
	uint32_t stride_;
	unique_fd dmabuf_;
	void *data_; // read-write mapping of the dma-buf
	size_t size_;
	import_ref import_;
	bool sync_start_failed_ = false, sync_end_failed_ = false; // logged
};

} // namespace wlprime
