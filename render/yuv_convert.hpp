// yuv_convert.hpp: YUV rows to XRGB8888, with libyuv.
//
// One entry point for every YUV format of render/cpu_format.hpp, so that the
// per-format calls into libyuv (which plane is U, which order a macropixel
// has) live in one place, tested against reference values in
// tests/unit/yuv_convert_test.cpp. The colour conversion is
// yuv_encoding_name (BT.601, limited range).
//
// Reads exactly the bytes import/formats.hpp says a plane's rows cover
// (plane_bytes_per_row() of each of plane_rows() rows), never more: libyuv
// handles odd widths and heights and the last, partial SIMD block itself.

#pragma once

#include <cstdint>

namespace wlprime {

struct yuv_planes {
	// Each plane at the row that holds the band's first image row.
	const uint8_t *data[3] = {};
	// Bytes between rows of each plane.
	uint32_t stride[3] = {};
};

/*
 * Converts `rows` image rows of `width` pixels, starting at an image row
 * that is a multiple of the format's vertical subsampling, to XRGB8888
 * (alpha 0xff) at dst, dst_stride bytes apart. False if fourcc is no YUV
 * format of the table, or a plane's stride or address is not a multiple of
 * its sample size (P010's 16-bit samples).
 */
bool yuv_to_xrgb8888(uint32_t fourcc, const yuv_planes &src, uint8_t *dst, uint32_t dst_stride,
                     uint32_t width, uint32_t rows);

} // namespace wlprime
