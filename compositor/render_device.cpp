#include "compositor/render_device.hpp"

#include <cerrno>
#include <cstring>

#include <sys/stat.h>

namespace wlprime {

status check_drm_device_path(const std::string &path) {
	struct stat st {};
	if (stat(path.c_str(), &st) != 0) {
		return error{path + ": " + std::strerror(errno)};
	}
	if (!S_ISCHR(st.st_mode)) {
		return error{path + ": not a character device"};
	}
	return done{};
}

} // namespace wlprime
