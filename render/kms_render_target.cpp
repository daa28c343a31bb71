// kms_render_target.cpp: GBM output buffers made Imports, scanned out on the
// display device.

#include "render/kms_render_target.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <xf86drm.h>

#include "import/formats.hpp"
#include "render/buffer_import.hpp"

namespace wlprime {

namespace {

// Whether the two DRM fds are nodes of one device (render and primary node
// of one card count as one).
bool same_drm_device(int a, int b) {
	drmDevicePtr da = nullptr, db = nullptr;
	bool same = false;
	if (drmGetDevice2(a, 0, &da) == 0 && drmGetDevice2(b, 0, &db) == 0)
		same = drmDevicesEqual(da, db) != 0;
	drmFreeDevice(&da);
	drmFreeDevice(&db);
	return same;
}

// A wlr_drm_format of fourcc with these modifiers (wlroots frees it with free()).
wlr_drm_format *make_format(uint32_t fourcc, const std::vector<uint64_t> &modifiers) {
	auto *f = static_cast<wlr_drm_format *>(
	    calloc(1, sizeof(wlr_drm_format) + modifiers.size() * sizeof(uint64_t)));
	if (f == nullptr)
		return nullptr;
	f->format = fourcc;
	f->capacity = modifiers.size();
	f->len = modifiers.size();
	for (size_t i = 0; i < modifiers.size(); i++)
		f->modifiers[i] = modifiers[i];
	return f;
}

} // namespace

const wlr_allocator_interface kms_render_allocator::impl = {
    .create_buffer = kms_render_allocator::create_buffer,
    .destroy = kms_render_allocator::destroy,
};

kms_render_allocator *kms_render_allocator::create(wlr_allocator *inner, int render_fd,
                                                   device &display, import_cache &cache,
                                                   format_set plane_formats) {
	return new kms_render_allocator(inner, same_drm_device(render_fd, display.fd()), display,
	                                cache, std::move(plane_formats));
}

kms_render_allocator::kms_render_allocator(wlr_allocator *inner, bool same_device, device &display,
                                           import_cache &cache, format_set plane_formats)
    : inner_(inner), same_device_(same_device), display_(display), cache_(cache),
      plane_formats_(std::move(plane_formats)) {
	wlr_.owner = this;
	wlr_allocator_init(&wlr_.base, &impl, WLR_BUFFER_CAP_DMABUF);
}

kms_render_allocator *kms_render_allocator::from_wlr(wlr_allocator *alloc) {
	return reinterpret_cast<wlr_part *>(alloc)->owner;
}

void kms_render_allocator::destroy(wlr_allocator *alloc) noexcept {
	delete from_wlr(alloc);
}

wlr_buffer *kms_render_allocator::create_buffer(wlr_allocator *alloc, int width, int height,
                                                const wlr_drm_format *format) noexcept {
	return from_wlr(alloc)->make(width, height, *format);
}

wlr_buffer *kms_render_allocator::make(int width, int height, const wlr_drm_format &asked) {
	const char *dev = display_.name().c_str();
	// The layout (see the header): what both the renderer and the plane take
	// on one device; LINEAR across devices.
	std::vector<uint64_t> modifiers;
	std::string why;
	if (same_device_) {
		for (size_t i = 0; i < asked.len; i++)
			if (plane_formats_.contains(asked.format, asked.modifiers[i]))
				modifiers.push_back(asked.modifiers[i]);
		why = "the renderer's modifiers that the primary plane of " + display_.name() +
		      " takes";
	}
	if (modifiers.empty()) {
		modifiers.push_back(DRM_FORMAT_MOD_LINEAR);
		why = same_device_ ? "LINEAR: the renderer and the primary plane share no other "
		                     "modifier"
		                   : "LINEAR: rendered on another device than " + display_.name() +
		                         ", which can import only a linear layout from it";
	}
	wlr_drm_format *format = make_format(asked.format, modifiers);
	if (format == nullptr)
		return nullptr;
	wlr_buffer *buffer = wlr_allocator_create_buffer(inner_, width, height, format);
	free(format);
	if (buffer == nullptr) {
		wlr_log(WLR_ERROR, "output buffers for %s: GBM cannot make a %dx%d %s buffer (%s)",
		        dev, width, height, format_name(asked.format).c_str(), why.c_str());
		return nullptr;
	}
	// Its dma-buf as an Import, attached: scanned out like every buffer.
	wlr_dmabuf_attributes dmabuf{};
	if (!wlr_buffer_get_dmabuf(buffer, &dmabuf)) {
		wlr_buffer_drop(buffer);
		return nullptr;
	}
	dmabuf_attributes attribs;
	attribs.width = dmabuf.width;
	attribs.height = dmabuf.height;
	attribs.format = dmabuf.format;
	attribs.modifier = dmabuf.modifier;
	attribs.n_planes = uint32_t(dmabuf.n_planes);
	for (int i = 0; i < dmabuf.n_planes; i++) {
		attribs.planes[size_t(i)].fd = unique_fd(fcntl(dmabuf.fd[i], F_DUPFD_CLOEXEC, 0));
		attribs.planes[size_t(i)].offset = dmabuf.offset[i];
		attribs.planes[size_t(i)].stride = dmabuf.stride[i];
		if (!attribs.planes[size_t(i)].fd) {
			int err = errno;
			wlr_log(WLR_ERROR,
			        "output buffers for %s: dup of a GBM dma-buf: %s (errno %d)", dev,
			        std::strerror(err), err);
			wlr_buffer_drop(buffer);
			return nullptr;
		}
	}
	auto import = cache_.acquire(std::move(attribs));
	if (!import) {
		wlr_log(WLR_ERROR, "output buffers for %s: %s", dev, import.err().message.c_str());
		wlr_buffer_drop(buffer);
		return nullptr;
	}
	// Zero-copy only if the display takes it: asked once per buffer here
	// (the answer is cached with the Import), the path said once.
	const device_import &on_display = (*import)->framebuffer_on(display_);
	const bool direct = on_display.fb_id() != 0;
	if (path_.empty() || (path_ == "zero-copy" && !direct)) {
		path_ = direct ? "zero-copy" : "cpu-copy";
		if (direct) {
			reason_ = why;
			wlr_log(WLR_INFO,
			        "output buffers for %s: GBM %s %s, scanned out as they are "
			        "(zero-copy): %s",
			        dev, format_name(dmabuf.format).c_str(),
			        modifier_name(dmabuf.modifier).c_str(), why.c_str());
		} else {
			const error &e = on_display.fb_err();
			reason_ = "import #" + std::to_string((*import)->serial()) + " (GBM " +
			          format_name(dmabuf.format) + " " +
			          modifier_name(dmabuf.modifier) + "): " + e.message + " (errno " +
			          std::to_string(e.errnum) + ")";
			wlr_log(
			    WLR_INFO,
			    "output buffers for %s: the display cannot scan out what the renderer "
			    "draws: %s; each frame is copied by the CPU into dumb buffers of %s",
			    dev, reason_.c_str(), dev);
		}
	}
	attach_import(buffer, std::move(*import), buffer_origin::output);
	return buffer;
}

kms_display_copy::~kms_display_copy() {
	// We made them (producer: drop) and hold a lock each; a buffer still on
	// screen or queued goes when that slot lets go of it.
	for (wlr_buffer *b : ring_) {
		wlr_buffer_drop(b);
		wlr_buffer_unlock(b);
	}
}

void kms_display_copy::fail(const char *output, const std::string &why) {
	if (!failure_logged_)
		wlr_log(WLR_ERROR, "output %s: cannot copy the frame for the display: %s", output,
		        why.c_str());
	failure_logged_ = true;
}

wlr_buffer *kms_display_copy::free_buffer(int width, int height, uint32_t format) {
	for (wlr_buffer *b : ring_) // only our lock: neither on screen nor queued
		if (b->n_locks == 1 && b->width == width && b->height == height)
			return b;
	if (ring_.size() >= 3)
		return nullptr;
	wlr_drm_format *f = make_format(format, {DRM_FORMAT_MOD_LINEAR});
	if (f == nullptr)
		return nullptr;
	wlr_buffer *b = wlr_allocator_create_buffer(dumb_, width, height, f);
	free(f);
	if (b != nullptr)
		ring_.push_back(wlr_buffer_lock(b)); // ours, until the ring goes
	return b;
}

wlr_buffer *kms_display_copy::copy(wlr_buffer *frame, const char *output) {
	dmabuf_import *src = import_of(frame);
	if (src == nullptr) {
		fail(output, "the frame has no Import");
		return nullptr;
	}
	const import_key &key = src->key();
	const format_info *info = lookup_format(key.format);
	auto plane = src->map_plane(0);
	if (info == nullptr || info->planes != 1 || !plane) {
		fail(output, "import #" + std::to_string(src->serial()) + ": " +
		                 (plane ? "not a single-plane format" : plane.err().message));
		return nullptr;
	}
	wlr_buffer *dst = free_buffer(int(key.width), int(key.height), key.format);
	if (dst == nullptr) {
		fail(output, "no free dumb buffer on the display (see above)");
		return nullptr;
	}
	void *data = nullptr;
	uint32_t dst_format = 0;
	size_t dst_stride = 0;
	if (!wlr_buffer_begin_data_ptr_access(dst, WLR_BUFFER_DATA_PTR_ACCESS_WRITE, &data,
	                                      &dst_format, &dst_stride)) {
		fail(output, "the display's dumb buffer cannot be written (see above)");
		return nullptr;
	}
	const uint64_t row = plane_bytes_per_row(*info, 0, uint32_t(key.width));
	const uint32_t rows = plane_rows(*info, 0, uint32_t(key.height));
	if (dst_format != key.format || row > dst_stride) {
		wlr_buffer_end_data_ptr_access(dst);
		fail(output, "the display's buffer is " + format_name(dst_format) + ", the frame " +
		                 format_name(key.format));
		return nullptr;
	}
	if (status s = src->begin_read(); !s) {
		wlr_buffer_end_data_ptr_access(dst);
		fail(output, s.err().message);
		return nullptr;
	}
	const uint8_t *from = *plane;
	auto *to = static_cast<uint8_t *>(data);
	for (uint32_t y = 0; y < rows; y++)
		std::memcpy(to + size_t(y) * dst_stride, from + size_t(y) * key.planes[0].stride,
		            size_t(row));
	(void)src->end_read();
	wlr_buffer_end_data_ptr_access(dst);
	frames_++;
	bytes_ += row * rows;
	return wlr_buffer_lock(dst);
}

} // namespace wlprime
