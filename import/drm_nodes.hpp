// SPDX-License-Identifier: MIT
#pragma once

/*
 * DRM node discovery: which nodes a directory (/dev/dri) holds, which driver
 * each belongs to, which one is "the node of driver X" or the compositor's
 * main device. The one place that scans /dev/dri; used by the compositor, the
 * tests and the test clients.
 *
 * Lifetime rules: everything returned is a value owned by the caller; a node
 * is opened only for the time of its drmGetVersion() and closed again.
 * Card numbers depend on the order the modules were loaded in, so callers ask
 * by driver name, never by number.
 */

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "kernel.hpp"
#include "result.hpp"

namespace wlprime {

// One card* or renderD* node of a DRM directory.
struct drm_node {
	std::string path;                  // e.g. /dev/dri/card1
	node_type type = node_type::other; // primary (cardN) or render (renderDN)
	int number = 0;                    // the N of cardN / renderDN
	std::string driver;                // drmGetVersion() name, "" if unknown
	dev_t rdev = 0;                    // st_rdev, 0 if unknown
	int open_errno = 0;                // why it could not be asked (open,
	                                   // drmGetVersion), 0 if it was
	// "/dev/dri/card1 (vkms)", or "/dev/dri/card1 (Permission denied)".
	std::string describe() const;
};

// The driver name of the DRM device open on fd (drmGetVersion), or the error
// with its errno.
result<std::string> drm_driver_name(int fd);

// Every card* and renderD* node in dri_dir, primary nodes first, each kind in
// numeric order (card2 before card10), each asked for its driver. A node that
// cannot be opened is listed with open_errno set. An error (with errno) only
// if dri_dir cannot be read.
result<std::vector<drm_node>> list_drm_nodes(const std::string &dri_dir = "/dev/dri");

// Path of the first node of `driver` ("vgem", "vkms") of that type. ENODEV,
// with a message that lists every node seen and its driver or errno, if
// there is none.
result<std::string> find_drm_node(std::string_view driver, node_type type,
                                  const std::string &dri_dir = "/dev/dri");

// The compositor's main device when none is given: the render node with the
// lowest number (renderD128 before renderD129), else the primary node with
// the lowest number; nullopt if dri_dir has neither (or cannot be read). By
// name only: nothing is opened.
std::optional<std::string> find_main_drm_node(const std::string &dri_dir = "/dev/dri");

} // namespace wlprime
