// SPDX-License-Identifier: MIT
#include "dmabuf_fence.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>

#include "enum_name.hpp"

namespace wlprime {

// linux/dma-buf.h of kernels before 6.0 lacks the sync_file export; the
// uapi is stable, so define it where the headers are older.
#ifndef DMA_BUF_IOCTL_EXPORT_SYNC_FILE
struct dma_buf_export_sync_file {
	__u32 flags;
	__s32 fd;
};
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE _IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)
#endif

const char *to_string(fence_method method) {
	static constexpr const char *names[] = {"sync_file", "dma-buf poll"};
	return enum_name(method, names);
}

result<dmabuf_write_fence> dmabuf_write_fence::export_from(int dmabuf_fd, fence_method method) {
	if (method == fence_method::sync_file) {
		dma_buf_export_sync_file args = {};
		args.flags = DMA_BUF_SYNC_READ;
		args.fd = -1;
		int ret;
		do {
			ret = ioctl(dmabuf_fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &args);
		} while (ret != 0 && (errno == EINTR || errno == EAGAIN));
		if (ret == 0) {
			return dmabuf_write_fence(unique_fd(args.fd), fence_method::sync_file);
		}
		if (errno != ENOTTY) {
			int err = errno;
			return error{"DMA_BUF_IOCTL_EXPORT_SYNC_FILE on dma-buf fd " +
			                 std::to_string(dmabuf_fd) + ": " + std::strerror(err),
			             err};
		}
		// ENOTTY: a kernel before 6.0, or no dma-buf at all.
	}
	int dup_fd = fcntl(dmabuf_fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		int err = errno;
		return error{"dup of dma-buf fd " + std::to_string(dmabuf_fd) +
		                 " to poll its fences: " + std::strerror(err),
		             err};
	}
	return dmabuf_write_fence(unique_fd(dup_fd), fence_method::dmabuf_poll);
}

bool dmabuf_write_fence::signaled() const {
	pollfd p = {fd_.get(), POLLIN, 0};
	int ret;
	do {
		ret = poll(&p, 1, 0);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		return true;
	}
	return ret > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) != 0;
}

result<std::vector<dmabuf_write_fence>> unsignaled_write_fences(const std::vector<int> &dmabuf_fds,
                                                                fence_method method) {
	std::vector<dmabuf_write_fence> fences;
	for (size_t i = 0; i < dmabuf_fds.size(); i++) {
		int fd = dmabuf_fds[i];
		if (std::find(dmabuf_fds.begin(), dmabuf_fds.begin() + long(i), fd) !=
		    dmabuf_fds.begin() + long(i)) {
			continue;
		}
		auto fence = dmabuf_write_fence::export_from(fd, method);
		if (!fence) {
			return fence.err();
		}
		if (!fence->signaled()) {
			fences.push_back(std::move(*fence));
		}
	}
	return fences;
}

} // namespace wlprime
