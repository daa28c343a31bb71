// dumb_export.hpp: "make a dumb buffer and export it as a dma-buf", the way a
// client (or a test) gets a dma-buf from vgem, written once. Through a
// kernel_api, so that it works on the kernel model as on the real kernel.

#pragma once

#include <cstdint>

#include "import/kernel.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"

namespace wlprime::clients {

// A dumb buffer and its dma-buf. The caller owns both: dumb.handle on the
// file description it was made on (gem_close() or destroy_dumb()), and the
// dma-buf fd.
struct exported_dumb {
	dumb_buffer dumb;
	unique_fd dmabuf;
};

// DRM_IOCTL_MODE_CREATE_DUMB of width x height x bpp on dev_fd, then its
// PRIME export (DRM_CLOEXEC | DRM_RDWR). With close_handle, dev_fd's handle is
// closed once exported: the dma-buf alone holds the buffer (dumb.handle is
// then stale). An error names the step, the sizes and the errno; nothing is
// left behind on failure.
result<exported_dumb> export_dumb(kernel_api &kernel, int dev_fd, uint32_t width, uint32_t height,
                                  uint32_t bpp, bool close_handle);

} // namespace wlprime::clients
