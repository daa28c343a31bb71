// dmabuf_pattern.hpp: what the dmabuf client draws, so that a test can work
// out every pixel the compositor must show. The RGB pattern is one colour, or
// quadrants (top-left the colour, top-right red, bottom-left green,
// bottom-right blue); the YUV 4:2:0 buffers carry the same pattern as BT.601
// limited-range samples: each luma sample from its pixel, each chroma sample
// from the top-left pixel of its 2x2 block.
//
// Plane layouts (DRM fourccs): NV12 is a Y plane then an interleaved Cb,Cr
// plane of half the rows; YUV420 a Y plane, then a Cb and a Cr plane of half
// the rows and half the width each.

#pragma once

#include <cstdint>

namespace wlprime::clients {

struct dmabuf_client_options;

// XRGB8888 (alpha set) of pixel (x, y) of a width x height window.
uint32_t pattern_pixel(const dmabuf_client_options &opts, int x, int y, int width, int height);

struct ycbcr {
	uint8_t y, cb, cr;
};
// BT.601 limited range (Y 16..235, Cb and Cr 16..240), in integers as
// encoders do (the classic 8-bit formula, rounded).
ycbcr rgb_to_ycbcr(uint32_t rgb);

// The planes of a 4:2:0 fourcc: 2 for NV12, 3 for YUV420, 0 for any other.
int yuv420_planes(uint32_t format);

// Draws plane `plane` of a `format` (NV12 or YUV420) buffer of width x height
// pixels (both even): its rows start at `start`, `stride` bytes apart.
void draw_yuv420_plane(uint32_t format, int plane, uint8_t *start, uint32_t stride,
                       const dmabuf_client_options &opts, int width, int height);

} // namespace wlprime::clients
