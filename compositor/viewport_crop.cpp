#include "compositor/viewport_crop.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "import/formats.hpp"

// The crop work-around leans on 0.15.1's pixman renderer ignoring the source
// box's position: with a renderer that honours it, the crop would be applied
// twice.
static_assert(WLR_VERSION_MAJOR == 0 && WLR_VERSION_MINOR == 15,
              "re-check compositor/viewport_crop.cpp: does the renderer honour src_box x/y?");

namespace wlprime {
namespace {

// A window on another buffer: the same pixels, stride and format, from the
// top-left corner of `box` on, box-sized. Only ever handed to the renderer.
class crop_view {
public:
	// Locks source until the view is destroyed. The caller owns the view
	// (wlr_buffer_drop). box must lie inside source.
	static crop_view *create(wlr_buffer *source, const wlr_box &box) {
		return new crop_view(source, box);
	}
	wlr_buffer *base() { return &base_; }

private:
	crop_view(wlr_buffer *source, const wlr_box &box)
	    : source_(wlr_buffer_lock(source)), box_(box) {
		wlr_buffer_init(&base_, &impl_, box.width, box.height);
	}
	~crop_view() { wlr_buffer_unlock(source_); }

	static crop_view *from_base(wlr_buffer *buffer) {
		static_assert(std::is_standard_layout_v<crop_view>);
		assert(buffer->impl == &impl_);
		return reinterpret_cast<crop_view *>(buffer); // base_ is first
	}
	static void destroy(wlr_buffer *buffer) noexcept { delete from_base(buffer); }
	static bool begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
	                                  uint32_t *format, std::size_t *stride) noexcept;
	static void end_data_ptr_access(wlr_buffer *buffer) noexcept {
		wlr_buffer_end_data_ptr_access(from_base(buffer)->source_);
	}

	static const wlr_buffer_impl impl_;

	wlr_buffer base_{};  // first: from_base; zeroed (wlr_buffer_init sets only some fields)
	wlr_buffer *source_; // locked
	wlr_box box_;
};

const wlr_buffer_impl crop_view::impl_ = {
    .destroy = &crop_view::destroy,
    .get_dmabuf = nullptr,
    .get_shm = nullptr,
    .begin_data_ptr_access = &crop_view::begin_data_ptr_access,
    .end_data_ptr_access = &crop_view::end_data_ptr_access,
};

bool crop_view::begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
                                      uint32_t *format, std::size_t *stride) noexcept {
	crop_view *self = from_base(buffer);
	void *pixels = nullptr;
	uint32_t fourcc = 0;
	std::size_t pitch = 0;
	if (!wlr_buffer_begin_data_ptr_access(self->source_, flags, &pixels, &fourcc, &pitch)) {
		return false;
	}
	// One plane of whole pixels: a pixel's address is its row times the
	// stride plus its column times its size.
	const format_info *info = lookup_format(fourcc);
	if (info == nullptr || info->planes != 1 || info->plane[0].block_w != 1 ||
	    info->plane[0].hsub != 1 || info->plane[0].vsub != 1) {
		wlr_buffer_end_data_ptr_access(self->source_);
		return false;
	}
	// The stride may be negative, carried in the size_t (a y-inverted
	// buffer: its first row shown is the last in memory, see
	// render/cpu_picture.hpp): rows are stepped as a signed distance.
	*data = static_cast<unsigned char *>(pixels) +
	        std::ptrdiff_t(self->box_.y) * static_cast<std::ptrdiff_t>(pitch) +
	        std::ptrdiff_t(self->box_.x) * info->plane[0].bytes;
	*format = fourcc;
	*stride = pitch;
	return true;
}

// The surface's crop in buffer pixels, rounded out to whole pixels, inside
// the buffer.
wlr_box crop_of(wlr_surface *surface, const wlr_buffer &buffer) {
	wlr_fbox src{};
	wlr_surface_get_buffer_source_box(surface, &src);
	int x0 = std::clamp(static_cast<int>(std::floor(src.x)), 0, buffer.width);
	int y0 = std::clamp(static_cast<int>(std::floor(src.y)), 0, buffer.height);
	int x1 = std::clamp(static_cast<int>(std::ceil(src.x + src.width)), x0, buffer.width);
	int y1 = std::clamp(static_cast<int>(std::ceil(src.y + src.height)), y0, buffer.height);
	return {x0, y0, x1 - x0, y1 - y0};
}

bool same_box(const wlr_box &a, const wlr_box &b) {
	return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
}

} // namespace

void viewport_crop::restore() {
	if (texture_ == nullptr) {
		return;
	}
	buffer_destroy_.disconnect();
	buffer_->texture = original_;
	// Unlocks the crop view, which unlocks the client's buffer.
	wlr_texture_destroy(texture_);
	texture_ = nullptr;
	original_ = nullptr;
	buffer_ = nullptr;
}

bool viewport_crop::update(wlr_surface *surface) {
	wlr_client_buffer *cb = surface->buffer;
	// source: the client's wlr_buffer, alive while cb's texture (which
	// locks it) is.
	if (cb == nullptr || cb->source == nullptr || !surface->current.viewport.has_src) {
		restore();
		return false;
	}
	wlr_box crop = crop_of(surface, *cb->source);
	if (cb == buffer_ && cb->texture == texture_ && same_box(crop, crop_)) {
		return false; // shown already
	}
	restore();
	wlr_texture *own = cb->texture;
	if (own == nullptr || crop.width <= 0 || crop.height <= 0 ||
	    same_box(crop, {0, 0, cb->source->width, cb->source->height})) {
		return false; // nothing to show, or the whole buffer: as it is
	}

	crop_view *view = crop_view::create(cb->source, crop);
	// The texture locks the view; the view goes with it.
	wlr_texture *texture = wlr_texture_from_buffer(surface->renderer, view->base());
	wlr_buffer_drop(view->base());
	if (texture == nullptr) {
		if (!failure_logged_) {
			failure_logged_ = true;
			wlr_log(
			    WLR_ERROR,
			    "wl_surface %u: viewport crop %d,%d %dx%d: no texture of a crop view "
			    "of "
			    "its buffer (not one plane of whole pixels?): shown from the buffer's "
			    "origin instead",
			    wl_resource_get_id(surface->resource), crop.x, crop.y, crop.width,
			    crop.height);
		}
		return false;
	}
	buffer_ = cb;
	original_ = own;
	texture_ = texture;
	crop_ = crop;
	cb->texture = texture;
	// wlroots destroys cb->texture with cb: by then its own again.
	buffer_destroy_.connect(&cb->base.events.destroy, [this] { restore(); });
	return true;
}

} // namespace wlprime
