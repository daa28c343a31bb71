#include "render/yuv_convert.hpp"

#include <drm_fourcc.h>
#include <libyuv.h>
#include <vector>

namespace wlprime {

namespace {

// (libyuv's kYvu* constants are not for YVU input: with them it writes
// red and blue swapped. YVU formats pass their planes swapped instead.)
const libyuv::YuvConstants *const bt601 = &libyuv::kYuvI601Constants;

int i(uint32_t v) {
	return static_cast<int>(v);
}

// Packed 4:2:2 with the chroma bytes in another order than YUYV/UYVY:
// reordered into `to` (a 4-byte shuffle of each macropixel, which
// ARGBShuffle does 4 bytes at a time), then converted.
bool packed_reordered(const yuv_planes &src, const uint8_t shuffle[16],
                      int (*to_argb)(const uint8_t *, int, uint8_t *, int, int, int), uint8_t *dst,
                      uint32_t dst_stride, uint32_t width, uint32_t rows) {
	const uint32_t macropixels = (width + 1) / 2;
	std::vector<uint8_t> packed(size_t(macropixels) * 4 * rows);
	if (libyuv::ARGBShuffle(src.data[0], i(src.stride[0]), packed.data(), i(macropixels * 4),
	                        shuffle, i(macropixels), i(rows)) != 0)
		return false;
	return to_argb(packed.data(), i(macropixels * 4), dst, i(dst_stride), i(width), i(rows)) ==
	       0;
}

// NV16/NV61: the interleaved chroma split into two planes first (first
// and second byte of each pair; swapped for NV61, whose pairs are V, U).
bool semi_planar_422(const yuv_planes &src, bool vu, uint8_t *dst, uint32_t dst_stride,
                     uint32_t width, uint32_t rows) {
	const uint32_t cw = (width + 1) / 2;
	std::vector<uint8_t> first(size_t(cw) * rows), second(size_t(cw) * rows);
	libyuv::SplitUVPlane(src.data[1], i(src.stride[1]), first.data(), i(cw), second.data(),
	                     i(cw), i(cw), i(rows));
	const uint8_t *u = vu ? second.data() : first.data();
	const uint8_t *v = vu ? first.data() : second.data();
	return libyuv::I422ToARGBMatrix(src.data[0], i(src.stride[0]), u, i(cw), v, i(cw), dst,
	                                i(dst_stride), bt601, i(width), i(rows)) == 0;
}

// Three planes; for the YVU formats plane 1 is V and plane 2 is U.
using planar_fn = int (*)(const uint8_t *, int, const uint8_t *, int, const uint8_t *, int,
                          uint8_t *, int, const libyuv::YuvConstants *, int, int);
int planar(planar_fn fn, bool vu, const yuv_planes &s, uint8_t *dst, uint32_t dst_stride,
           uint32_t width, uint32_t rows) {
	const int u = vu ? 2 : 1, v = vu ? 1 : 2;
	return fn(s.data[0], i(s.stride[0]), s.data[u], i(s.stride[u]), s.data[v], i(s.stride[v]),
	          dst, i(dst_stride), bt601, i(width), i(rows));
}

bool p010(const yuv_planes &src, uint8_t *dst, uint32_t dst_stride, uint32_t width, uint32_t rows) {
	// libyuv takes 16-bit pointers, strides in samples.
	for (int p = 0; p < 2; p++)
		if (src.stride[p] % 2 != 0 || reinterpret_cast<uintptr_t>(src.data[p]) % 2 != 0)
			return false;
	return libyuv::P010ToARGBMatrix(
	           reinterpret_cast<const uint16_t *>(src.data[0]), i(src.stride[0] / 2),
	           reinterpret_cast<const uint16_t *>(src.data[1]), i(src.stride[1] / 2), dst,
	           i(dst_stride), bt601, i(width), i(rows)) == 0;
}

// YVYU (Y0 V Y1 U) to YUYV (Y0 U Y1 V), VYUY (V Y0 U Y1) to UYVY (U Y0 V Y1).
constexpr uint8_t yvyu_to_yuyv[16] = {0, 3, 2, 1, 4, 7, 6, 5, 8, 11, 10, 9, 12, 15, 14, 13};
constexpr uint8_t vyuy_to_uyvy[16] = {2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11, 14, 13, 12, 15};

} // namespace

bool yuv_to_xrgb8888(uint32_t fourcc, const yuv_planes &s, uint8_t *dst, uint32_t dst_stride,
                     uint32_t width, uint32_t rows) {
	if (rows == 0 || width == 0)
		return true;
	const int w = i(width), h = i(rows), ds = i(dst_stride);
	int r = -1;
	switch (fourcc) {
	case DRM_FORMAT_YUYV:
		r = libyuv::YUY2ToARGB(s.data[0], i(s.stride[0]), dst, ds, w, h);
		break;
	case DRM_FORMAT_UYVY:
		r = libyuv::UYVYToARGB(s.data[0], i(s.stride[0]), dst, ds, w, h);
		break;
	case DRM_FORMAT_YVYU:
		return packed_reordered(s, yvyu_to_yuyv, libyuv::YUY2ToARGB, dst, dst_stride, width,
		                        rows);
	case DRM_FORMAT_VYUY:
		return packed_reordered(s, vyuy_to_uyvy, libyuv::UYVYToARGB, dst, dst_stride, width,
		                        rows);
	case DRM_FORMAT_NV12:
		r = libyuv::NV12ToARGBMatrix(s.data[0], i(s.stride[0]), s.data[1], i(s.stride[1]),
		                             dst, ds, bt601, w, h);
		break;
	case DRM_FORMAT_NV21:
		r = libyuv::NV21ToARGBMatrix(s.data[0], i(s.stride[0]), s.data[1], i(s.stride[1]),
		                             dst, ds, bt601, w, h);
		break;
	case DRM_FORMAT_NV16:
	case DRM_FORMAT_NV61:
		return semi_planar_422(s, fourcc == DRM_FORMAT_NV61, dst, dst_stride, width, rows);
	case DRM_FORMAT_P010:
		return p010(s, dst, dst_stride, width, rows);
	case DRM_FORMAT_YUV420:
	case DRM_FORMAT_YVU420:
		r = planar(libyuv::I420ToARGBMatrix, fourcc == DRM_FORMAT_YVU420, s, dst,
		           dst_stride, width, rows);
		break;
	case DRM_FORMAT_YUV422:
	case DRM_FORMAT_YVU422:
		r = planar(libyuv::I422ToARGBMatrix, fourcc == DRM_FORMAT_YVU422, s, dst,
		           dst_stride, width, rows);
		break;
	case DRM_FORMAT_YUV444:
	case DRM_FORMAT_YVU444:
		r = planar(libyuv::I444ToARGBMatrix, fourcc == DRM_FORMAT_YVU444, s, dst,
		           dst_stride, width, rows);
		break;
	default:
		return false;
	}
	return r == 0;
}

} // namespace wlprime
