// render_device.hpp: the check of --render-device. Which DRM device is the
// main one when none is given: find_main_drm_node() (import/drm_nodes.hpp).

#pragma once

#include <string>

#include "import/result.hpp"

namespace wlprime {

// Checks that path names a character device (what --render-device takes).
status check_drm_device_path(const std::string &path);

} // namespace wlprime
