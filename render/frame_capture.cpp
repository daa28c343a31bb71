#include "render/frame_capture.hpp"

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

	memory_buffer *target = memory_buffer::create(output->width, output->height);
	if (target == nullptr) {
		return error{"cannot allocate a capture buffer for output " + name};
	}
	wlr_renderer *renderer = output->renderer;
	if (!wlr_renderer_begin_with_buffer(renderer, target->base())) {
		wlr_buffer_drop(target->base());
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
	wlr_renderer_end(renderer);

	image img;
	img.width = output->width;
	img.height = output->height;
	img.pixels.resize(static_cast<std::size_t>(img.width) *
	                  static_cast<std::size_t>(img.height));
	std::memcpy(img.pixels.data(), target->data(), img.pixels.size() * sizeof(uint32_t));
	for (uint32_t &px : img.pixels) {
		px |= 0xff000000u;
	}
	wlr_buffer_drop(target->base());
	return img;
}

} // namespace wlprime
