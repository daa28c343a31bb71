#include "render/frame_capture.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "render/memory_buffer.hpp"

namespace wlprime {

result<image> capture_output(wlr_scene *scene, wlr_output *output) {
	std::string name = output->name != nullptr ? output->name : "?";
	if (output->renderer == nullptr) {
		return error{"output " + name + " has no renderer"};
	}
	if (!output->enabled || output->width <= 0 || output->height <= 0) {
		return error{"output " + name + " is disabled"};
	}

	// The target: memory for a renderer that draws into memory (pixman);
	// else (GLES2) a buffer of the output's own allocator, read back.
	wlr_renderer *renderer = output->renderer;
	wlr_buffer *target = nullptr;
	if (renderer->impl->get_render_buffer_caps(renderer) & WLR_BUFFER_CAP_DATA_PTR) {
		if (memory_buffer *m = memory_buffer::create(output->width, output->height))
			target = m->base();
	} else if (output->allocator != nullptr) {
		// XRGB8888, the layout left to the allocator (implicit modifier).
		alignas(wlr_drm_format) unsigned char
		    storage[sizeof(wlr_drm_format) + sizeof(uint64_t)];
		auto *format = reinterpret_cast<wlr_drm_format *>(storage);
		format->format = DRM_FORMAT_XRGB8888;
		format->len = 1;
		format->capacity = 1;
		format->modifiers[0] = DRM_FORMAT_MOD_INVALID;
		target = wlr_allocator_create_buffer(output->allocator, output->width,
		                                     output->height, format);
	}
	if (target == nullptr) {
		return error{"cannot allocate a capture buffer for output " + name};
	}
	if (!wlr_renderer_begin_with_buffer(renderer, target)) {
		wlr_buffer_drop(target);
		return error{"renderer cannot bind the capture buffer of output " + name};
	}

	int x = 0;
	int y = 0;
	if (wlr_scene_output *scene_output = wlr_scene_get_scene_output(scene, output)) {
		x = scene_output->x;
		y = scene_output->y;
	}
	wlr_renderer_clear(renderer, capture_background);
	wlr_scene_render_output(scene, output, x, y, nullptr);

	image img;
	img.width = output->width;
	img.height = output->height;
	img.pixels.resize(static_cast<std::size_t>(img.width) *
	                  static_cast<std::size_t>(img.height));
	// Read back while the target is bound (both renderers read their
	// current buffer), rows top to bottom.
	uint32_t flags = 0;
	const bool read = wlr_renderer_read_pixels(
	    renderer, DRM_FORMAT_XRGB8888, &flags, uint32_t(img.width) * sizeof(uint32_t),
	    uint32_t(img.width), uint32_t(img.height), 0, 0, 0, 0, img.pixels.data());
	wlr_renderer_end(renderer);
	wlr_buffer_drop(target);
	if (!read) {
		return error{"the renderer cannot read back output " + name + " as XRGB8888"};
	}
	if (flags & WLR_RENDERER_READ_PIXELS_Y_INVERT) {
		for (int row = 0; row < img.height / 2; row++) {
			std::swap_ranges(img.pixels.begin() + row * img.width,
			                 img.pixels.begin() + (row + 1) * img.width,
			                 img.pixels.begin() + (img.height - 1 - row) * img.width);
		}
	}
	for (uint32_t &px : img.pixels) {
		px |= 0xff000000u;
	}
	return img;
}

} // namespace wlprime
