#include "tests/clients/dmabuf_pattern.hpp"

#include <drm_fourcc.h>

#include "tests/clients/dmabuf_client.hpp"

namespace wlprime::clients {

uint32_t pattern_pixel(const dmabuf_client_options &opts, int x, int y, int width, int height) {
	if (opts.quadrants) {
		bool right = x >= width / 2;
		bool bottom = y >= height / 2;
		if (right && !bottom) {
			return 0xffff0000;
		}
		if (!right && bottom) {
			return 0xff00ff00;
		}
		if (right && bottom) {
			return 0xff0000ff;
		}
	}
	return opts.color | 0xff000000;
}

ycbcr rgb_to_ycbcr(uint32_t rgb) {
	int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	return {
	    static_cast<uint8_t>(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16),
	    static_cast<uint8_t>(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128),
	    static_cast<uint8_t>(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128),
	};
}

int yuv420_planes(uint32_t format) {
	switch (format) {
	case DRM_FORMAT_NV12:
		return 2;
	case DRM_FORMAT_YUV420:
		return 3;
	default:
		return 0;
	}
}

void draw_yuv420_plane(uint32_t format, int plane, uint8_t *start, uint32_t stride,
                       const dmabuf_client_options &opts, int width, int height) {
	const int rows = plane == 0 ? height : height / 2;
	const int samples = plane == 0 ? width : width / 2;
	for (int r = 0; r < rows; r++) {
		uint8_t *row = start + size_t(r) * stride;
		for (int s = 0; s < samples; s++) {
			if (plane == 0) {
				row[s] = rgb_to_ycbcr(pattern_pixel(opts, s, r, width, height)).y;
				continue;
			}
			// One chroma sample per 2x2 block, from its top-left pixel.
			ycbcr c = rgb_to_ycbcr(pattern_pixel(opts, 2 * s, 2 * r, width, height));
			if (format == DRM_FORMAT_NV12) {
				row[2 * s] = c.cb;
				row[2 * s + 1] = c.cr;
			} else {
				row[s] = plane == 1 ? c.cb : c.cr;
			}
		}
	}
}

} // namespace wlprime::clients
