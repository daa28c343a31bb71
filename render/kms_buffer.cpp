#include "render/kms_buffer.hpp"

#include "render/buffer_import.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

namespace wlprime {

const wlr_allocator_interface kms_allocator::impl = {
    .create_buffer = &kms_allocator::create_buffer,
    .destroy = &kms_allocator::destroy,
};

const wlr_buffer_impl kms_buffer::impl = {
    .destroy = &kms_buffer::destroy,
    .get_dmabuf = &kms_buffer::get_dmabuf,
    .get_shm = nullptr,
    .begin_data_ptr_access = &kms_buffer::begin_data_ptr_access,
    .end_data_ptr_access = &kms_buffer::end_data_ptr_access,
};

kms_allocator::kms_allocator(device &display, import_cache &cache, unique_fd alloc_fd)
    : display_(display), cache_(cache), alloc_fd_(std::move(alloc_fd)) {
	wlr_.owner = this;
	wlr_allocator_init(&wlr_.base, &impl, WLR_BUFFER_CAP_DMABUF | WLR_BUFFER_CAP_DATA_PTR);
}

result<kms_allocator *> kms_allocator::create(device &display, import_cache &cache) {
	auto fd = display.kernel().open_node(display.info().path);
	if (!fd) {
		return error{"allocator for " + display.name() + ": " + fd.err().message,
		             fd.err().errnum};
	}
	return new kms_allocator(display, cache, std::move(*fd));
}

kms_allocator *kms_allocator::from_wlr(wlr_allocator *alloc) {
	return reinterpret_cast<wlr_part *>(alloc)->owner;
}

void kms_allocator::destroy(wlr_allocator *alloc) noexcept {
	delete from_wlr(alloc);
}

wlr_buffer *kms_allocator::create_buffer(wlr_allocator *alloc, int width, int height,
                                         const wlr_drm_format *format) noexcept {
	kms_allocator *self = from_wlr(alloc);
	const char *dev = self->display_.name().c_str();
	if (format->format != DRM_FORMAT_XRGB8888 && format->format != DRM_FORMAT_ARGB8888) {
		wlr_log(WLR_ERROR, "kms allocator on %s: format 0x%08x not supported", dev,
		        format->format);
		return nullptr;
	}
	bool linear_ok = format->len == 0;
	for (size_t i = 0; i < format->len; i++) {
		linear_ok = linear_ok || format->modifiers[i] == DRM_FORMAT_MOD_LINEAR ||
		            format->modifiers[i] == DRM_FORMAT_MOD_INVALID;
	}
	if (!linear_ok) {
		wlr_log(WLR_ERROR, "kms allocator on %s: dumb buffers are linear, not asked for",
		        dev);
		return nullptr;
	}

	kernel_api &kernel = self->display_.kernel();
	int alloc_fd = self->alloc_fd_.get();
	dumb_buffer dumb;
	if (int err = kernel.create_dumb(alloc_fd, static_cast<uint32_t>(width),
	                                 static_cast<uint32_t>(height), 32, &dumb)) {
		wlr_log(WLR_ERROR, "kms allocator on %s: CREATE_DUMB %dx%d: %s (errno %d)", dev,
		        width, height, std::strerror(err), err);
		return nullptr;
	}
	// Export, then let go of our handle at once: the dma-buf is the buffer now.
	int out = -1;
	int err = kernel.prime_handle_to_fd(alloc_fd, dumb.handle, DRM_CLOEXEC | DRM_RDWR, &out);
	unique_fd dmabuf(err == 0 ? out : -1);
	if (int destroy_err = kernel.destroy_dumb(alloc_fd, dumb.handle)) {
		// The handle (and the buffer's memory) stays on our file
		// description until the allocator goes.
		wlr_log(WLR_ERROR,
		        "kms allocator on %s: DESTROY_DUMB of dumb handle %u: %s (errno %d)", dev,
		        dumb.handle, std::strerror(destroy_err), destroy_err);
	}
	if (err != 0) {
		wlr_log(WLR_ERROR,
		        "kms allocator on %s: PRIME export of dumb handle %u: %s (errno %d)", dev,
		        dumb.handle, std::strerror(err), err);
		return nullptr;
	}
	void *data = mmap(nullptr, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf.get(), 0);
	if (data == MAP_FAILED) {
		int map_err = errno;
		wlr_log(WLR_ERROR,
		        "kms allocator on %s: mmap of dma-buf (%llu bytes): %s (errno %d)", dev,
		        static_cast<unsigned long long>(dumb.size), std::strerror(map_err),
		        map_err);
		return nullptr;
	}

	dmabuf_attributes attribs;
	attribs.width = width;
	attribs.height = height;
	attribs.format = format->format;
	attribs.modifier = DRM_FORMAT_MOD_LINEAR;
	attribs.n_planes = 1;
	attribs.planes[0].fd = dmabuf.duplicate();
	if (!attribs.planes[0].fd) {
		int dup_err = errno;
		wlr_log(WLR_ERROR, "kms allocator on %s: dup of dma-buf fd %d: %s (errno %d)", dev,
		        dmabuf.get(), std::strerror(dup_err), dup_err);
		munmap(data, dumb.size);
		return nullptr;
	}
	attribs.planes[0].stride = dumb.pitch;
	auto import = self->cache_.acquire(std::move(attribs));
	if (!import) {
		wlr_log(WLR_ERROR, "kms allocator on %s: %s", dev, import.err().message.c_str());
		munmap(data, dumb.size);
		return nullptr;
	}
	auto *buffer = new kms_buffer(width, height, dumb.pitch, std::move(dmabuf), data, dumb.size,
	                              std::move(*import));
	wlr_log(WLR_DEBUG, "kms allocator on %s: %dx%d buffer, pitch %u, import #%llu", dev, width,
	        height, dumb.pitch, static_cast<unsigned long long>(buffer->import()->serial()));
	return buffer->base();
}

kms_buffer::kms_buffer(int width, int height, uint32_t stride, unique_fd dmabuf, void *data,
                       size_t size, import_ref import)
    : stride_(stride), dmabuf_(std::move(dmabuf)), data_(data), size_(size),
      import_(std::move(import)) {
	wlr_.owner = this;
	wlr_buffer_init(&wlr_.base, &impl, width, height);
	attach_import(&wlr_.base, import_, buffer_origin::output); // found by import_of()
}

kms_buffer::~kms_buffer() {
	munmap(data_, size_);
}

kms_buffer *kms_buffer::from_wlr(wlr_buffer *buffer) {
	if (buffer == nullptr || buffer->impl != &impl) {
		return nullptr;
	}
	return reinterpret_cast<wlr_part *>(buffer)->owner;
}

void kms_buffer::destroy(wlr_buffer *buffer) noexcept {
	delete from_wlr(buffer);
}

bool kms_buffer::get_dmabuf(wlr_buffer *buffer, wlr_dmabuf_attributes *attribs) noexcept {
	kms_buffer *self = from_wlr(buffer);
	*attribs = {};
	attribs->width = buffer->width;
	attribs->height = buffer->height;
	attribs->format = self->import_->key().format;
	attribs->modifier = DRM_FORMAT_MOD_LINEAR;
	attribs->n_planes = 1;
	attribs->fd[0] = self->dmabuf_.get(); // borrowed
	attribs->stride[0] = self->stride_;
	return true;
}

// DMA_BUF_IOCTL_SYNC on the buffer's dma-buf; 0 or errno, logged once per
// buffer and direction.
int kms_buffer::sync(uint64_t flags) {
	dma_buf_sync sync = {flags | DMA_BUF_SYNC_RW};
	if (drmIoctl(dmabuf_.get(), DMA_BUF_IOCTL_SYNC, &sync) == 0) {
		return 0;
	}
	int err = errno;
	bool start = (flags & DMA_BUF_SYNC_END) == 0;
	bool &logged = start ? sync_start_failed_ : sync_end_failed_;
	if (!logged) {
		wlr_log(WLR_ERROR,
		        "kms buffer import #%llu (dma-buf fd %d): DMA_BUF_IOCTL_SYNC %s: %s (errno "
		        "%d)%s",
		        static_cast<unsigned long long>(import_->serial()), dmabuf_.get(),
		        start ? "START" : "END", std::strerror(err), err,
		        start ? "; not composed into" : "");
		logged = true;
	}
	return err;
}

bool kms_buffer::begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
                                       uint32_t *format, size_t *stride) noexcept {
	kms_buffer *self = from_wlr(buffer);
	// Without the sync the CPU may see (or leave) stale cache lines: no
	// access, the renderer skips this frame.
	if (self->sync(DMA_BUF_SYNC_START) != 0) {
		return false;
	}
	*data = self->data_;
	*format = self->import_->key().format;
	*stride = self->stride_;
	return true;
}

void kms_buffer::end_data_ptr_access(wlr_buffer *buffer) noexcept {
	// Nothing to undo if it fails: logged once, the next START syncs again.
	(void)from_wlr(buffer)->sync(DMA_BUF_SYNC_END);
}

} // namespace wlprime
