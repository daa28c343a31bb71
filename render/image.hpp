// image.hpp: a CPU image in wlprime's capture format.

#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wlprime {

// Pixels are XRGB8888 as DRM_FORMAT_XRGB8888 defines it: one native-endian
// uint32_t per pixel, 0xXXRRGGBB. Rows are packed (stride == width).
// Captures set the X byte to 0xff.
struct image {
	int width = 0;
	int height = 0;
	std::vector<uint32_t> pixels;

	// Only for 0 <= x < width, 0 <= y < height.
	uint32_t at(int x, int y) const {
		return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
		              static_cast<std::size_t>(x)];
	}
};

// The 0x00RRGGBB part of an XRGB8888 pixel.
constexpr uint32_t rgb(uint32_t xrgb) {
	return xrgb & 0x00ffffffu;
}

} // namespace wlprime
