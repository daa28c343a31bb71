// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstdint>

#include "unique_fd.hpp"

namespace wlprime {

inline constexpr uint32_t max_dmabuf_planes = 4;

// linux-dmabuf's buffer flags, same values as the protocol's enum.
enum dmabuf_flags : uint32_t {
	dmabuf_flag_y_invert = 1,
	dmabuf_flag_interlaced = 2,
	dmabuf_flag_bottom_first = 4,
};

struct dmabuf_plane {
	unique_fd fd; // owned
	uint32_t offset = 0;
	uint32_t stride = 0;
};

/*
 * A complete, validated description of a dma-buf buffer. Owns its plane fds:
 * moving the attributes moves the fds; destroying them closes the fds.
 */
struct dmabuf_attributes {
	int32_t width = 0;
	int32_t height = 0;
	uint32_t format = 0;
	uint64_t modifier = 0;
	uint32_t flags = 0;
	uint32_t n_planes = 0;
	std::array<dmabuf_plane, max_dmabuf_planes> planes;
};

} // namespace wlprime
