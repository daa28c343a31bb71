// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wlprime {

/*
 * How one memory plane of a format is laid out: the single description of
 * geometry that validation, composition, copies and scanout all read, so
 * that what passes validation is exactly what every later stage may touch.
 *
 * A plane is ceil(width / hsub) x ceil(height / vsub) samples; samples are
 * grouped in blocks of block_w (2 for packed 4:2:2 YUV, whose 4-byte
 * macropixel holds two pixels), each of `bytes` bytes.
 */
struct plane_geometry {
	uint8_t bytes = 0;   // bytes per block
	uint8_t block_w = 1; // samples per block, horizontally
	uint8_t hsub = 1;    // horizontal subsampling against the image
	uint8_t vsub = 1;    // vertical subsampling against the image
};

// The layout facts of a DRM fourcc with a linear layout.
struct format_info {
	uint32_t fourcc;
	uint8_t planes; // memory planes
	plane_geometry plane[3];
};

// nullptr for a format wlprime does not know.
const format_info *lookup_format(uint32_t fourcc);
// Rows of plane `plane` of an image `height` rows high.
uint32_t plane_rows(const format_info &info, uint32_t plane, uint32_t height);
// Bytes that one row of plane `plane` of an image `width` pixels wide covers.
uint64_t plane_bytes_per_row(const format_info &info, uint32_t plane, uint32_t width);

/*
 * The bounds rule, in 64-bit arithmetic: stride >= bytes per row, and
 * offset + stride * (rows - 1) + bytes per row <= size of the plane's
 * dma-buf. nullopt if the plane fits, else a message naming the plane and
 * the values ("plane 1 (a 8192-byte dma-buf): offset 4096, stride 32, 32 rows of
 * 64 bytes: ...").
 */
std::optional<std::string> check_plane_bounds(const format_info &info, uint32_t plane,
                                              uint32_t width, uint32_t height, uint64_t offset,
                                              uint64_t stride, uint64_t size);

// "XR24 (0x34325258)" and "LINEAR (0x0)": how logs and errors name them.
std::string format_name(uint32_t fourcc);
std::string modifier_name(uint64_t modifier);

/*
 * A set of (format, modifier) pairs a device supports: what linux-dmabuf
 * advertises and what the validator accepts. Sorted, no duplicates.
 */
class format_set {
public:
	using Pair = std::pair<uint32_t, uint64_t>;

	void add(uint32_t format, uint64_t modifier);
	bool contains(uint32_t format, uint64_t modifier) const;
	bool has_format(uint32_t format) const;
	const std::vector<Pair> &pairs() const { return pairs_; }
	bool empty() const { return pairs_.empty(); }

private:
	std::vector<Pair> pairs_;
};

} // namespace wlprime
