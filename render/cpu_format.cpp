#include "render/cpu_format.hpp"

#include <drm_fourcc.h>

namespace wlprime {

namespace {

constexpr cpu_format direct(uint32_t fourcc, pixman_format_code_t pixman) {
	return {fourcc, cpu_reader::direct, fourcc, pixman};
}
constexpr cpu_format via_pixman(uint32_t fourcc, pixman_format_code_t pixman) {
	uint32_t shown = PIXMAN_FORMAT_A(pixman) != 0 ? DRM_FORMAT_ARGB8888 : DRM_FORMAT_XRGB8888;
	return {fourcc, cpu_reader::pixman, shown, pixman};
}
constexpr cpu_format yuv(uint32_t fourcc) {
	return {fourcc, cpu_reader::yuv, DRM_FORMAT_XRGB8888, pixman_format_code_t(0)};
}

// `direct`: the formats of wlroots 0.15's pixman renderer (its
// render/pixman/pixel_format.c), little-endian; a compositor test checks
// them against wlr_renderer_get_shm_texture_formats().
constexpr cpu_format table[] = {
    direct(DRM_FORMAT_ARGB8888, PIXMAN_a8r8g8b8),
    direct(DRM_FORMAT_XRGB8888, PIXMAN_x8r8g8b8),
    direct(DRM_FORMAT_ABGR8888, PIXMAN_a8b8g8r8),
    direct(DRM_FORMAT_XBGR8888, PIXMAN_x8b8g8r8),
    direct(DRM_FORMAT_RGBA8888, PIXMAN_r8g8b8a8),
    direct(DRM_FORMAT_RGBX8888, PIXMAN_r8g8b8x8),
    direct(DRM_FORMAT_BGRA8888, PIXMAN_b8g8r8a8),
    direct(DRM_FORMAT_BGRX8888, PIXMAN_b8g8r8x8),
    direct(DRM_FORMAT_RGB565, PIXMAN_r5g6b5),
    direct(DRM_FORMAT_BGR565, PIXMAN_b5g6r5),
    direct(DRM_FORMAT_ARGB2101010, PIXMAN_a2r10g10b10),
    direct(DRM_FORMAT_XRGB2101010, PIXMAN_x2r10g10b10),
    direct(DRM_FORMAT_ABGR2101010, PIXMAN_a2b10g10r10),
    direct(DRM_FORMAT_XBGR2101010, PIXMAN_x2b10g10r10),
    via_pixman(DRM_FORMAT_RGB888, PIXMAN_r8g8b8),
    via_pixman(DRM_FORMAT_BGR888, PIXMAN_b8g8r8),
    yuv(DRM_FORMAT_YUYV),
    yuv(DRM_FORMAT_YVYU),
    yuv(DRM_FORMAT_UYVY),
    yuv(DRM_FORMAT_VYUY),
    yuv(DRM_FORMAT_NV12),
    yuv(DRM_FORMAT_NV21),
    yuv(DRM_FORMAT_NV16),
    yuv(DRM_FORMAT_NV61),
    yuv(DRM_FORMAT_P010),
    yuv(DRM_FORMAT_YUV420),
    yuv(DRM_FORMAT_YVU420),
    yuv(DRM_FORMAT_YUV422),
    yuv(DRM_FORMAT_YVU422),
    yuv(DRM_FORMAT_YUV444),
    yuv(DRM_FORMAT_YVU444),
};

} // namespace

std::span<const cpu_format> cpu_formats() {
	return table;
}

const cpu_format *find_cpu_format(uint32_t fourcc) {
	for (const cpu_format &f : table)
		if (f.fourcc == fourcc)
			return &f;
	return nullptr;
}

pixman_format_code_t pixman_format_of(uint32_t shown_as) {
	const cpu_format *f = find_cpu_format(shown_as);
	return f && f->reader == cpu_reader::direct ? f->pixman : pixman_format_code_t(0);
}

format_set cpu_format_set() {
	format_set set;
	for (const cpu_format &f : table) {
		set.add(f.fourcc, DRM_FORMAT_MOD_LINEAR);
		set.add(f.fourcc, DRM_FORMAT_MOD_INVALID);
	}
	return set;
}

} // namespace wlprime
