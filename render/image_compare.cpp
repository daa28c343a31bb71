#include "render/image_compare.hpp"

#include <algorithm>
#include <cstdlib>

namespace wlprime {

namespace {

int channel_difference(uint32_t a, uint32_t b) {
	int d = 0;
	for (int shift : {16, 8, 0}) {
		d = std::max(d, std::abs(static_cast<int>((a >> shift) & 0xff) -
		                         static_cast<int>((b >> shift) & 0xff)));
	}
	return d;
}

} // namespace

image_difference compare_images(const image &got, const image &want, int tolerance) {
	image_difference diff;
	if (got.width != want.width || got.height != want.height) {
		diff.same_size = false;
		return diff;
	}
	for (int y = 0; y < got.height; y++) {
		for (int x = 0; x < got.width; x++) {
			int d = channel_difference(got.at(x, y), want.at(x, y));
			diff.max_channel = std::max(diff.max_channel, d);
			if (d <= tolerance) {
				continue;
			}
			if (diff.pixels++ == 0) {
				diff.first_x = x;
				diff.first_y = y;
				diff.first_got = rgb(got.at(x, y));
				diff.first_want = rgb(want.at(x, y));
			}
		}
	}
	return diff;
}

image difference_image(const image &got, const image &want, int tolerance) {
	image out = got;
	for (int y = 0; y < got.height; y++) {
		for (int x = 0; x < got.width; x++) {
			uint32_t &p =
			    out.pixels[static_cast<size_t>(y) * static_cast<size_t>(got.width) +
			               static_cast<size_t>(x)];
			bool inside = x < want.width && y < want.height;
			if (!inside ||
			    channel_difference(got.at(x, y), want.at(x, y)) > tolerance) {
				p = 0xffff0000u;
			} else {
				p = 0xff000000u | ((p >> 2) & 0x003f3f3fu);
			}
		}
	}
	return out;
}

} // namespace wlprime
