// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wlprime {

// The layout facts of a DRM fourcc that validation and composition need.
struct format_info {
	uint32_t fourcc;
	uint8_t planes; // number of memory planes with a linear layout
	uint8_t hsub;   // horizontal chroma subsampling of planes 1..
	uint8_t vsub;   // vertical chroma subsampling of planes 1..
	uint8_t cpp[3]; // bytes per pixel (per sample group for packed YUV)
};

// nullptr for a format wlprime does not know.
const format_info *lookup_format(uint32_t fourcc);
// Height in rows of plane `plane` of a buffer `height` rows high.
uint32_t plane_height(const format_info &info, uint32_t plane, uint32_t height);

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
