// cpu_format.hpp: which formats the CPU path (pixman composition and the
// multi-GPU copy) shows, and how it reads each.
//
// The single table behind three decisions, so they cannot disagree:
//  - what linux-dmabuf advertises for composition (cpu_format_set());
//  - how a buffer's pixels reach pixman (render/cpu_picture.hpp): read in
//    place from the dma-buf's mapping, or converted first into a picture
//    kept with the Import;
//  - the pixman format that a reader of that picture (the copy path) uses.
//
// Formats are DRM fourccs, little-endian, as drm_fourcc.h defines them.

#pragma once

#include <cstdint>
#include <pixman.h>
#include <span>

#include "import/formats.hpp"

namespace wlprime {

enum class cpu_reader : uint8_t {
	// wlroots' pixman renderer reads the mapping as it is (when the
	// stride is a multiple of 4 bytes, as pixman requires; else the rows
	// are converted like a `pixman` format).
	direct,
	// pixman reads it but wlroots does not take it (RGB888): converted
	// with pixman into the `shown_as` format.
	pixman,
	// YUV: converted with libyuv (render/yuv_convert.hpp) into XRGB8888.
	yuv,
};

// The colour conversion of every YUV format: BT.601, limited range
// (Y 16..235, CbCr 16..240). No protocol wlprime offers lets a client say
// otherwise (see README, "Formats").
inline constexpr const char yuv_encoding_name[] = "BT.601 limited range";

struct cpu_format {
	uint32_t fourcc;
	cpu_reader reader;
	// The DRM format of what pixman is handed: the fourcc itself for
	// `direct`, else ARGB8888 (alpha kept) or XRGB8888.
	uint32_t shown_as;
	// The source's pixman format (direct, pixman); 0 for YUV.
	pixman_format_code_t pixman;
};

// Every format the CPU path shows, in the order of the table.
std::span<const cpu_format> cpu_formats();
// nullptr if the CPU path cannot show fourcc.
const cpu_format *find_cpu_format(uint32_t fourcc);
// The pixman format of a picture handed to pixman (a `shown_as` format):
// 0 if it is none.
pixman_format_code_t pixman_format_of(uint32_t shown_as);

// What composition can read, as linux-dmabuf advertises it: every format
// of the table with DRM_FORMAT_MOD_LINEAR and DRM_FORMAT_MOD_INVALID (an
// implicit layout, read only if its exporter's layout is linear, see
// import/implicit_layout.hpp).
format_set cpu_format_set();

} // namespace wlprime
