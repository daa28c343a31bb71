#include "tests/clients/dumb_export.hpp"

#include <cstring>
#include <string>

#include <fcntl.h>
#include <xf86drm.h>

namespace wlprime::clients {

result<exported_dumb> export_dumb(kernel_api &kernel, int dev_fd, uint32_t width, uint32_t height,
                                  uint32_t bpp, bool close_handle) {
	exported_dumb out;
	if (int err = kernel.create_dumb(dev_fd, width, height, bpp, &out.dumb)) {
		return error{"DRM_IOCTL_MODE_CREATE_DUMB " + std::to_string(width) + "x" +
		                 std::to_string(height) + "x" + std::to_string(bpp) + " on fd " +
		                 std::to_string(dev_fd) + ": " + std::strerror(err),
		             err};
	}
	const uint32_t handle = out.dumb.handle;
	int fd = -1;
	int export_err = kernel.prime_handle_to_fd(dev_fd, handle, DRM_CLOEXEC | DRM_RDWR, &fd);
	out.dmabuf = unique_fd(export_err == 0 ? fd : -1);
	if (export_err != 0 || close_handle) {
		if (int err = kernel.gem_close(dev_fd, handle)) {
			return error{"GEM_CLOSE of dumb handle " + std::to_string(handle) +
			                 " on fd " + std::to_string(dev_fd) + ": " +
			                 std::strerror(err),
			             err};
		}
	}
	if (export_err != 0) {
		return error{"PRIME export of dumb handle " + std::to_string(handle) + " on fd " +
		                 std::to_string(dev_fd) + ": " + std::strerror(export_err),
		             export_err};
	}
	return out;
}

} // namespace wlprime::clients
