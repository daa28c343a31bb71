// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "device.hpp"

/*
 * Buffers with the implicit modifier (DRM_FORMAT_MOD_INVALID) have the layout
 * their exporter chose, known only to that driver. What wlprime may do with
 * one depends on who exported it:
 *
 *  - CPU reads (composition, the copy path) treat the buffer as linear: only
 *    right when the exporter lays implicit buffers out linearly (dumb-buffer
 *    drivers, vgem, udmabuf, dma-heaps, V4L2's videobuf2).
 *  - A framebuffer (scanout) is made only on the exporting device, or on any
 *    device when the layout is known to be linear (then there is nothing
 *    driver-private about it).
 *
 * The exporter is the dma-buf's fdinfo `exp_name`. Every DRM driver's PRIME
 * export says "drm" (measured on 6.12: vgem, vkms and cirrus alike), so a
 * DRM exporter is resolved against the devices the compositor holds: if
 * each is a linear-layout driver, so was the exporter; if exactly one is
 * not, that one is taken to be the exporter. A DRM device that wlprime does
 * not hold is not considered (documented limit).
 */

namespace wlprime {

// Whether `driver` (drmGetVersion name) lays implicit-modifier buffers out
// linearly: drivers with dumb buffers only and no tiling of their own.
bool driver_implicit_linear(const std::string &driver);
// The same for a non-DRM exporter's exp_name.
bool exporter_implicit_linear(const std::string &exp_name);

struct implicit_layout {
	bool linear = false;       // CPU reads as linear are right
	dev_t exporter = 0;        // rdev of the exporting device, 0 if unknown
	std::string exporter_name; // the exp_name ("drm", "udmabuf", ...)
	std::string why;           // when !linear: why, for logs and the debug tool
};

// The layout of a dma-buf whose fdinfo exporter is `exp_name`, against the
// devices the compositor holds (borrowed, outlive the call).
implicit_layout resolve_implicit_layout(const std::string &exp_name,
                                        const std::vector<device *> &devices);

} // namespace wlprime
