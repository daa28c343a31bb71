// viewport_crop.hpp: shows a wp_viewport crop from the crop's origin on
// wlroots 0.15.1's pixman renderer.
//
// The renderer scales by the source box's size but ignores its x and y: it
// samples from the texture's origin (render/wlr.hpp, item 9), so a crop that
// does not start at 0,0 would show the wrong part of the buffer. For such a
// surface, the texture of its wlr_client_buffer (a public field) is swapped
// for the texture of a crop view: a wlr_buffer whose data pointer starts at
// the crop's top-left pixel of the client's buffer, with the crop's size and
// the buffer's stride and format (no copy: the renderer reads it through the
// client buffer's data-pointer access at every frame, as it reads the
// buffer itself). The scene's source box keeps the crop's size, so the
// renderer scales the view to the destination exactly as wlroots meant.
//
// The crop is rounded out to whole pixels (x and y down, the far edges up):
// a fractional crop is shown up to a pixel off. Formats: whatever the client
// buffer's data-pointer access hands out, if it is one plane of whole pixels:
// every RGB format, and YUV through its converted picture
// (render/cpu_picture.hpp; the crop view reads that picture, converted as
// the renderer would read it). A negative stride (a y-inverted buffer) is
// stepped as such. Otherwise the surface is shown as the renderer draws it,
// and that is logged once.
//
// The swapped texture is put back (and the view's freed) when the crop ends
// or covers the whole buffer, when the surface has another buffer, when the
// client buffer is destroyed (before wlroots destroys its texture) and in
// the destructor.

#pragma once

#include "compositor/listener.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class viewport_crop {
public:
	viewport_crop() = default;
	~viewport_crop() { restore(); }
	viewport_crop(const viewport_crop &) = delete;
	viewport_crop &operator=(const viewport_crop &) = delete;

	// After a commit of surface: shows its current crop. Returns true if
	// what the surface shows changed without the client's damage saying so
	// (a new crop view): the caller damages the surface.
	bool update(wlr_surface *surface);
	// Puts the client buffer's own texture back. Idempotent.
	void restore();
	bool active() const { return texture_ != nullptr; }

private:
	wlr_client_buffer *buffer_ = nullptr; // whose texture is swapped; not owned
	wlr_texture *original_ = nullptr;     // buffer_'s own, owned by buffer_
	wlr_texture *texture_ = nullptr;      // the crop view's, owned; buffer_->texture meanwhile
	wlr_box crop_{};
	bool failure_logged_ = false;
	listener<void> buffer_destroy_; // of buffer_
};

} // namespace wlprime
