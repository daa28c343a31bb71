// SPDX-License-Identifier: MIT
#include "formats.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <drm_fourcc.h>
#include <xf86drm.h>

namespace wlprime {

static constexpr format_info formats[] = {
    // packed RGB
    {DRM_FORMAT_XRGB8888, 1, 1, 1, {4}},
    {DRM_FORMAT_ARGB8888, 1, 1, 1, {4}},
    {DRM_FORMAT_XBGR8888, 1, 1, 1, {4}},
    {DRM_FORMAT_ABGR8888, 1, 1, 1, {4}},
    {DRM_FORMAT_RGBX8888, 1, 1, 1, {4}},
    {DRM_FORMAT_RGBA8888, 1, 1, 1, {4}},
    {DRM_FORMAT_BGRX8888, 1, 1, 1, {4}},
    {DRM_FORMAT_BGRA8888, 1, 1, 1, {4}},
    {DRM_FORMAT_XRGB2101010, 1, 1, 1, {4}},
    {DRM_FORMAT_ARGB2101010, 1, 1, 1, {4}},
    {DRM_FORMAT_XBGR2101010, 1, 1, 1, {4}},
    {DRM_FORMAT_ABGR2101010, 1, 1, 1, {4}},
    {DRM_FORMAT_RGB888, 1, 1, 1, {3}},
    {DRM_FORMAT_BGR888, 1, 1, 1, {3}},
    {DRM_FORMAT_RGB565, 1, 1, 1, {2}},
    {DRM_FORMAT_XRGB16161616F, 1, 1, 1, {8}},
    {DRM_FORMAT_ARGB16161616F, 1, 1, 1, {8}},
    {DRM_FORMAT_R8, 1, 1, 1, {1}},
    {DRM_FORMAT_GR88, 1, 1, 1, {2}},
    // packed YUV
    {DRM_FORMAT_YUYV, 1, 2, 1, {4}},
    {DRM_FORMAT_UYVY, 1, 2, 1, {4}},
    // semi-planar YUV
    {DRM_FORMAT_NV12, 2, 2, 2, {1, 2}},
    {DRM_FORMAT_NV21, 2, 2, 2, {1, 2}},
    {DRM_FORMAT_NV16, 2, 2, 1, {1, 2}},
    {DRM_FORMAT_P010, 2, 2, 2, {2, 4}},
    // planar YUV
    {DRM_FORMAT_YUV420, 3, 2, 2, {1, 1, 1}},
    {DRM_FORMAT_YVU420, 3, 2, 2, {1, 1, 1}},
    {DRM_FORMAT_YUV444, 3, 1, 1, {1, 1, 1}},
};

const format_info *lookup_format(uint32_t fourcc) {
	for (const format_info &info : formats)
		if (info.fourcc == fourcc)
			return &info;
	return nullptr;
}

uint32_t plane_height(const format_info &info, uint32_t plane, uint32_t height) {
	if (plane == 0 || info.vsub <= 1)
		return height;
	return (height + info.vsub - 1) / info.vsub;
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
