// render_device.hpp: which DRM device is wlprime's main device.

#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "import/result.hpp"

namespace wlprime {

// The main DRM device in dri_dir: the render node with the lowest number
// (renderD128 before renderD129), else the primary node with the lowest
// number (card0), else none. Only the names are looked at; the node is not
// opened. An unreadable or missing dri_dir means none.
std::optional<std::string> find_main_drm_device(const std::filesystem::path &dri_dir = "/dev/dri");

// Checks that path names a character device (what --render-device takes).
status check_drm_device_path(const std::string &path);

} // namespace wlprime
