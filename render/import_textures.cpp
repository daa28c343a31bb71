// import_textures.cpp: the GLES2 renderer's textures of client buffers, one
// EGL import per Import (render/gles2_renderer.hpp has the ownership).

#include <algorithm>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "render/buffer_import.hpp"
#include "render/gles2_renderer.hpp"

namespace wlprime {

// The Import's record, its lasting attachment: the decision (EGL or the
// CPU path, and why) and, on the EGL path, the wlr_buffer of the Import's
// layout that the inner renderer keeps its texture on.
class import_texture final : public import_attachment {
public:
	import_texture(gles2_renderer &owner, dmabuf_import &import)
	    : owner_(&owner), import_(&import) {
		owner.records_.insert(this);
	}
	~import_texture() override {
		if (owner_ != nullptr) {
			owner_->records_.erase(this);
			drop_buffer();
		}
	}
	// The renderer goes first: its textures go now, and this record is left
	// empty for the Import to free.
	void orphan() {
		drop_buffer();
		owner_ = nullptr;
	}

	// The Import's layout as a wlr_buffer (made on first use).
	wlr_buffer *buffer();
	void drop_buffer() {
		if (buffer_ != nullptr)
			wlr_buffer_drop(&std::exchange(buffer_, nullptr)->base);
	}

	enum class path { undecided, egl, cpu };
	path chosen = path::undecided;
	std::string cpu_reason; // on the CPU path: why
	bool egl_imported = false;

	static import_texture *of(const dmabuf_import &import) {
		return dynamic_cast<import_texture *>(import.lasting_attachment());
	}

private:
	// A wlr_buffer whose dma-buf is the Import's (fds borrowed from it).
	struct layout_buffer {
		wlr_buffer base; // first: the impl casts
		dmabuf_import *import;
	};
	static bool get_dmabuf(wlr_buffer *b, wlr_dmabuf_attributes *attribs);
	static void destroy(wlr_buffer *b) { delete reinterpret_cast<layout_buffer *>(b); }
	static const wlr_buffer_impl layout_impl;

	gles2_renderer *owner_;
	dmabuf_import *import_;
	layout_buffer *buffer_ = nullptr;
};

const wlr_buffer_impl import_texture::layout_impl = {
    .destroy = import_texture::destroy,
    .get_dmabuf = import_texture::get_dmabuf,
    .get_shm = nullptr,
    .begin_data_ptr_access = nullptr,
    .end_data_ptr_access = nullptr,
};

bool import_texture::get_dmabuf(wlr_buffer *b, wlr_dmabuf_attributes *attribs) {
	dmabuf_attributes_of(*reinterpret_cast<layout_buffer *>(b)->import, attribs);
	return true;
}

wlr_buffer *import_texture::buffer() {
	if (buffer_ == nullptr) {
		buffer_ = new layout_buffer{};
		buffer_->import = import_;
		wlr_buffer_init(&buffer_->base, &layout_impl, import_->key().width,
		                import_->key().height);
	}
	return &buffer_->base;
}

namespace {

// One wl_buffer's texture: the inner renderer's texture (the Import's, or a
// CPU upload) and a lock on the wl_buffer's wlr_buffer, so that its release
// comes when this texture goes, as with pixman.
struct buffer_texture {
	wlr_texture base; // first: the impl casts
	gles2_renderer *owner;
	wlr_texture *inner;
	wlr_buffer *locked;
	bool y_flip; // a y-inverted Import through EGL: drawn upside down
};

buffer_texture *buffer_texture_of(wlr_texture *t);

bool bt_is_opaque(wlr_texture *t) {
	wlr_texture *inner = buffer_texture_of(t)->inner;
	return inner->impl->is_opaque != nullptr && inner->impl->is_opaque(inner);
}
void bt_destroy(wlr_texture *t) {
	buffer_texture *bt = buffer_texture_of(t);
	wlr_texture_destroy(bt->inner); // the Import's: unlocks its layout buffer
	wlr_buffer_unlock(bt->locked);
	bt->owner->texture_destroyed();
	delete bt;
}
const wlr_texture_impl buffer_texture_impl = {
    .is_opaque = bt_is_opaque,
    .write_pixels = nullptr,
    .destroy = bt_destroy,
};

buffer_texture *buffer_texture_of(wlr_texture *t) {
	return reinterpret_cast<buffer_texture *>(t);
}

} // namespace

wlr_texture *inner_texture_of(wlr_texture *texture, bool *y_flip) {
	if (texture->impl != &buffer_texture_impl) {
		*y_flip = false;
		return texture;
	}
	buffer_texture *ours = buffer_texture_of(texture);
	*y_flip = ours->y_flip;
	return ours->inner;
}

gles2_renderer::~gles2_renderer() {
	wlr_log(WLR_INFO,
	        "gles2: %llu EGL imports, %llu textures of them made again, %llu EGL failures, "
	        "%llu Imports on the CPU path (%llu kept from EGL by the software-GL check), "
	        "%llu CPU uploads, %llu textures alive",
	        static_cast<unsigned long long>(stats_.egl_imports),
	        static_cast<unsigned long long>(stats_.egl_reuses),
	        static_cast<unsigned long long>(stats_.egl_failures),
	        static_cast<unsigned long long>(stats_.cpu_imports),
	        static_cast<unsigned long long>(stats_.probe_refusals),
	        static_cast<unsigned long long>(stats_.cpu_uploads),
	        static_cast<unsigned long long>(stats_.textures_live));
	for (import_texture *record : std::exchange(records_, {}))
		record->orphan();
	if (base_.base.impl != nullptr)
		wlr_renderer_destroy(&base_.base); // its destroy signal; a no-op otherwise
	if (allocator_ != nullptr)
		wlr_allocator_destroy(allocator_);
	if (inner_ != nullptr)
		wlr_renderer_destroy(inner_); // and wlr_egl with it
	else if (egl_ != nullptr)
		wlr_egl_destroy(egl_);
	if (context_ != EGL_NO_CONTEXT)
		eglDestroyContext(display_, context_);
	if (display_ != EGL_NO_DISPLAY)
		eglTerminate(display_);
	if (gbm_ != nullptr)
		gbm_device_destroy(gbm_);
}

import_texture &gles2_renderer::record_of(dmabuf_import &import) {
	if (import_texture *r = import_texture::of(import))
		return *r;
	auto made = std::make_unique<import_texture>(*this, import);
	import_texture &r = *made;
	import.set_lasting_attachment(std::move(made));
	return r;
}

std::string gles2_renderer::cpu_reason(const dmabuf_import &import) const {
	const import_texture *r = import_texture::of(import);
	return r != nullptr ? r->cpu_reason : "";
}

const char *gles2_renderer::path_of(const dmabuf_import &import) const {
	const import_texture *r = import_texture::of(import);
	if (r == nullptr || r->chosen == import_texture::path::undecided)
		return "";
	return r->chosen == import_texture::path::egl ? "egl" : "cpu";
}

std::string gles2_renderer::probe(const dmabuf_import &import) {
	const import_key &key = import.key();
	const long page = sysconf(_SC_PAGESIZE);
	std::vector<int> seen;
	for (uint32_t i = 0; i < key.n_planes; i++) {
		const int fd = import.plane_fd(i);
		if (std::find(seen.begin(), seen.end(), fd) != seen.end())
			continue;
		seen.push_back(fd);
		uint32_t handle = 0;
		if (int err = kernel_.prime_fd_to_handle(probe_fd_.get(), fd, &handle); err != 0)
			return choice_.node + " cannot import plane " + std::to_string(i) +
			       "'s dma-buf: " + std::strerror(err) + " (errno " +
			       std::to_string(err) + ")";
		void *map = nullptr;
		const int err =
		    kernel_.map_dumb(probe_fd_.get(), handle, uint64_t(page), PROT_READ, &map);
		if (err == 0)
			munmap(map, size_t(page));
		kernel_.gem_close(probe_fd_.get(), handle);
		if (err != 0)
			return "plane " + std::to_string(i) + "'s dma-buf was not made by " +
			       choice_.node + " (MAP_DUMB: " + std::strerror(err) +
			       "): Mesa's software rasteriser cannot sample it";
	}
	return "";
}

wlr_texture *gles2_renderer::texture_from_buffer(wlr_buffer *buffer) {
	dmabuf_import *import = import_of(buffer);
	if (import == nullptr) // wl_shm, pixels: the inner renderer's own
		return inner_->impl->texture_from_buffer(inner_, buffer);
	import_texture &record = record_of(*import);
	if (record.chosen == import_texture::path::undecided) {
		std::string why;
		const import_key &key = import->key();
		if (!formats_.egl.contains(key.format, key.modifier))
			why = format_name(key.format) + " " + modifier_name(key.modifier) +
			      " is not one EGL shows here (" +
			      (std::find(formats_.yuv_by_cpu.begin(), formats_.yuv_by_cpu.end(),
			                 key.format) != formats_.yuv_by_cpu.end()
			           ? "YUV without an external-only modifier: wlroots 0.15 would "
			             "sample "
			             "it as GL_TEXTURE_2D, which shows black"
			           : "not in its dma-buf format list") +
			      ")";
		else if (choice_.software_gl)
			why = probe(*import);
		record.chosen = why.empty() ? import_texture::path::egl : import_texture::path::cpu;
		if (!why.empty()) {
			record.cpu_reason = why;
			stats_.cpu_imports++;
			if (choice_.software_gl && formats_.egl.contains(key.format, key.modifier))
				stats_.probe_refusals++;
			wlr_log(WLR_INFO, "import #%llu: composed through the CPU path: %s",
			        static_cast<unsigned long long>(import->serial()), why.c_str());
		}
	}
	wlr_texture *inner =
	    record.chosen == import_texture::path::egl ? egl_texture(record, *import) : nullptr;
	// The EGLImage has the rows as they lie in memory (wlroots 0.15 has no
	// y_invert); the CPU upload below is already turned the right way up.
	const bool y_flip = inner != nullptr && (import->key().flags & dmabuf_flag_y_invert);
	if (inner == nullptr && record.chosen == import_texture::path::cpu)
		inner = cpu_texture(buffer);
	if (inner == nullptr)
		return nullptr;
	auto *bt = new buffer_texture{};
	wlr_texture_init(&bt->base, &buffer_texture_impl, inner->width, inner->height);
	bt->owner = this;
	bt->inner = inner;
	bt->locked = wlr_buffer_lock(buffer);
	bt->y_flip = y_flip;
	stats_.textures_live++;
	return &bt->base;
}

wlr_texture *gles2_renderer::egl_texture(import_texture &record, dmabuf_import &import) {
	wlr_texture *t = inner_->impl->texture_from_buffer(inner_, record.buffer());
	GLenum gl_error = GL_NO_ERROR;
	// Asked mid-frame (the scene draws as it goes) the context is current
	// and must stay so: only a context made current here is unset.
	const bool was_current = wlr_egl_is_current(egl_);
	if (t != nullptr && !record.egl_imported && (was_current || wlr_egl_make_current(egl_))) {
		// Mesa 25's software rasteriser takes a foreign buffer and fails
		// only when it is bound: GL_OUT_OF_MEMORY.
		gl_error = glGetError();
		if (!was_current)
			wlr_egl_unset_current(egl_);
	}
	if (t != nullptr && gl_error == GL_NO_ERROR) {
		(record.egl_imported ? stats_.egl_reuses : stats_.egl_imports)++;
		record.egl_imported = true;
		return t;
	}
	if (t != nullptr)
		wlr_texture_destroy(t);
	record.drop_buffer(); // and the EGLImage with it
	record.chosen = import_texture::path::cpu;
	record.cpu_reason =
	    t == nullptr ? "EGL refused its dma-buf (the EGL error is logged above)"
	                 : "GL error 0x" + std::to_string(gl_error) + " binding its EGLImage";
	stats_.egl_failures++;
	stats_.cpu_imports++;
	wlr_log(WLR_ERROR, "import #%llu: composed through the CPU path from now on: %s",
	        static_cast<unsigned long long>(import.serial()), record.cpu_reason.c_str());
	return nullptr;
}

wlr_texture *gles2_renderer::cpu_texture(wlr_buffer *buffer) {
	void *data = nullptr;
	uint32_t format = 0;
	size_t stride = 0;
	// The wl_buffer's CPU picture (compositor/dmabuf_buffer: mapped, or
	// converted from YUV), as pixman would read it.
	if (!wlr_buffer_begin_data_ptr_access(buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data,
	                                      &format, &stride))
		return nullptr; // why: logged once by the buffer's owner
	const auto pitch = static_cast<ptrdiff_t>(stride);
	const uint32_t rows = uint32_t(buffer->height);
	wlr_texture *t = nullptr;
	if (pitch >= 0) {
		t = wlr_texture_from_pixels(inner_, format, uint32_t(pitch),
		                            uint32_t(buffer->width), rows, data);
	} else {
		// y-inverted: handed out bottom row first with a negative stride,
		// which GL cannot take: the rows top to bottom, copied.
		const size_t row_bytes = size_t(-pitch);
		std::vector<uint8_t> flipped(row_bytes * rows);
		const auto *src = static_cast<const uint8_t *>(data);
		for (uint32_t y = 0; y < rows; y++)
			std::memcpy(flipped.data() + y * row_bytes, src + ptrdiff_t(y) * pitch,
			            row_bytes);
		t = wlr_texture_from_pixels(inner_, format, uint32_t(row_bytes),
		                            uint32_t(buffer->width), rows, flipped.data());
	}
	wlr_buffer_end_data_ptr_access(buffer);
	if (t != nullptr)
		stats_.cpu_uploads++;
	return t;
}

} // namespace wlprime
