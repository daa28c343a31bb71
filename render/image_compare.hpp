// image_compare.hpp: a frame against a reference picture (--compare).

#pragma once

#include <cstdint>

#include "render/image.hpp"

namespace wlprime {

struct image_difference {
	bool same_size = true;
	uint64_t pixels = 0; // pixels with a channel off by more than the tolerance
	int max_channel = 0; // the largest channel difference seen
	int first_x = -1, first_y = -1;
	uint32_t first_got = 0, first_want = 0; // 0xRRGGBB at the first
	bool differs() const { return !same_size || pixels > 0; }
};

// Compares every pixel's R, G and B (X is ignored); differences up to
// tolerance (0-255) count as equal. Images of different sizes differ.
image_difference compare_images(const image &got, const image &want, int tolerance);

// What a human looks at: the got picture dimmed to a quarter, the
// differing pixels pure red. Sized as got; pixels outside want differ.
image difference_image(const image &got, const image &want, int tolerance);

} // namespace wlprime
