// SPDX-License-Identifier: MIT
#include "formats.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <drm_fourcc.h>
#include <xf86drm.h>

namespace wlprime {

namespace {

// Shorthands for the table: a plane of `bytes` per sample, full resolution;
// a chroma plane subsampled h x v; a packed 4:2:2 plane (2 pixels a block).
constexpr plane_geometry full(uint8_t bytes) {
	return {bytes, 1, 1, 1};
}
constexpr plane_geometry sub(uint8_t bytes, uint8_t h, uint8_t v) {
	return {bytes, 1, h, v};
}
constexpr plane_geometry pair422(uint8_t bytes) {
	return {bytes, 2, 1, 1};
}

constexpr format_info formats[] = {
    // packed RGB
    {DRM_FORMAT_XRGB8888, 1, {full(4)}},
    {DRM_FORMAT_ARGB8888, 1, {full(4)}},
    {DRM_FORMAT_XBGR8888, 1, {full(4)}},
    {DRM_FORMAT_ABGR8888, 1, {full(4)}},
    {DRM_FORMAT_RGBX8888, 1, {full(4)}},
    {DRM_FORMAT_RGBA8888, 1, {full(4)}},
    {DRM_FORMAT_BGRX8888, 1, {full(4)}},
    {DRM_FORMAT_BGRA8888, 1, {full(4)}},
    {DRM_FORMAT_XRGB2101010, 1, {full(4)}},
    {DRM_FORMAT_ARGB2101010, 1, {full(4)}},
    {DRM_FORMAT_XBGR2101010, 1, {full(4)}},
    {DRM_FORMAT_ABGR2101010, 1, {full(4)}},
    {DRM_FORMAT_RGB888, 1, {full(3)}},
    {DRM_FORMAT_BGR888, 1, {full(3)}},
    {DRM_FORMAT_RGB565, 1, {full(2)}},
    {DRM_FORMAT_BGR565, 1, {full(2)}},
    {DRM_FORMAT_XRGB16161616F, 1, {full(8)}},
    {DRM_FORMAT_ARGB16161616F, 1, {full(8)}},
    {DRM_FORMAT_R8, 1, {full(1)}},
    {DRM_FORMAT_GR88, 1, {full(2)}},
    // packed YUV 4:2:2: one 4-byte macropixel per two pixels
    {DRM_FORMAT_YUYV, 1, {pair422(4)}},
    {DRM_FORMAT_YVYU, 1, {pair422(4)}},
    {DRM_FORMAT_UYVY, 1, {pair422(4)}},
    {DRM_FORMAT_VYUY, 1, {pair422(4)}},
    // semi-planar YUV: Y, then interleaved CbCr
    {DRM_FORMAT_NV12, 2, {full(1), sub(2, 2, 2)}},
    {DRM_FORMAT_NV21, 2, {full(1), sub(2, 2, 2)}},
    {DRM_FORMAT_NV16, 2, {full(1), sub(2, 2, 1)}},
    {DRM_FORMAT_NV61, 2, {full(1), sub(2, 2, 1)}},
    {DRM_FORMAT_P010, 2, {full(2), sub(4, 2, 2)}},
    // planar YUV
    {DRM_FORMAT_YUV420, 3, {full(1), sub(1, 2, 2), sub(1, 2, 2)}},
    {DRM_FORMAT_YVU420, 3, {full(1), sub(1, 2, 2), sub(1, 2, 2)}},
    {DRM_FORMAT_YUV422, 3, {full(1), sub(1, 2, 1), sub(1, 2, 1)}},
    {DRM_FORMAT_YVU422, 3, {full(1), sub(1, 2, 1), sub(1, 2, 1)}},
    {DRM_FORMAT_YUV444, 3, {full(1), full(1), full(1)}},
    {DRM_FORMAT_YVU444, 3, {full(1), full(1), full(1)}},
};

uint64_t div_up(uint64_t a, uint64_t b) {
	return (a + b - 1) / b;
}

} // namespace

const format_info *lookup_format(uint32_t fourcc) {
	for (const format_info &info : formats)
		if (info.fourcc == fourcc)
			return &info;
	return nullptr;
}

uint32_t plane_rows(const format_info &info, uint32_t plane, uint32_t height) {
	return static_cast<uint32_t>(div_up(height, info.plane[plane].vsub));
}

uint64_t plane_bytes_per_row(const format_info &info, uint32_t plane, uint32_t width) {
	const plane_geometry &g = info.plane[plane];
	return div_up(div_up(width, g.hsub), g.block_w) * g.bytes;
}

std::optional<std::string> check_plane_bounds(const format_info &info, uint32_t plane,
                                              uint32_t width, uint32_t height, uint64_t offset,
                                              uint64_t stride, uint64_t size) {
	const uint64_t rows = plane_rows(info, plane, height);
	const uint64_t row_bytes = plane_bytes_per_row(info, plane, width);
	const std::string where = "plane " + std::to_string(plane) + " (a " + std::to_string(size) +
	                          "-byte dma-buf): offset " + std::to_string(offset) + ", stride " +
	                          std::to_string(stride) + ", " + std::to_string(rows) +
	                          " rows of " + std::to_string(row_bytes) + " bytes";
	if (stride < row_bytes)
		return where + ": the stride is smaller than one row";
	// Inputs are 32-bit values (width, height, offset, stride), so this
	// cannot overflow 64 bits; checked anyway, it costs nothing.
	uint64_t last_row = 0, end = 0;
	if (rows == 0 || __builtin_mul_overflow(stride, rows - 1, &last_row) ||
	    __builtin_add_overflow(last_row, offset, &end) ||
	    __builtin_add_overflow(end, row_bytes, &end) || end > size)
		return where + ": needs " + std::to_string(offset) + " + " +
		       std::to_string(stride) + " * " + std::to_string(rows ? rows - 1 : 0) +
		       " + " + std::to_string(row_bytes) + " bytes";
	return std::nullopt;
}

std::string format_name(uint32_t fourcc) {
	char code[5];
	for (int i = 0; i < 4; i++) {
		char c = static_cast<char>((fourcc >> (8 * i)) & 0xff);
		code[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	code[4] = '\0';
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%s (0x%08x)", code, fourcc);
	return buf;
}

std::string modifier_name(uint64_t modifier) {
	char buf[32];
	std::snprintf(buf, sizeof(buf), " (0x%llx)", static_cast<unsigned long long>(modifier));
	std::string name = "unknown";
	if (modifier == DRM_FORMAT_MOD_INVALID) {
		name = "INVALID";
	} else if (char *n = drmGetFormatModifierName(modifier)) {
		name = n;
		free(n);
	}
	return name + buf;
}

void format_set::add(uint32_t format, uint64_t modifier) {
	Pair p{format, modifier};
	auto it = std::lower_bound(pairs_.begin(), pairs_.end(), p);
	if (it == pairs_.end() || *it != p)
		pairs_.insert(it, p);
}

bool format_set::contains(uint32_t format, uint64_t modifier) const {
	return std::binary_search(pairs_.begin(), pairs_.end(), Pair{format, modifier});
}

bool format_set::has_format(uint32_t format) const {
	auto it = std::lower_bound(pairs_.begin(), pairs_.end(), Pair{format, 0});
	return it != pairs_.end() && it->first == format;
}

} // namespace wlprime
