// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <sys/types.h>

#include "result.hpp"
#include "unique_fd.hpp"

namespace wlprime {

enum class node_type { primary, render, other };
const char *to_string(node_type type);

// What a DRM device file description tells about itself.
struct device_info {
	std::string path;   // node path, e.g. /dev/dri/card0
	dev_t rdev = 0;     // st_rdev of the node
	std::string driver; // drmGetVersion() name, e.g. "vgem"
	node_type node = node_type::other;
	bool prime_import = false; // DRM_CAP_PRIME & DRM_PRIME_CAP_IMPORT
	bool prime_export = false; // DRM_CAP_PRIME & DRM_PRIME_CAP_EXPORT
	bool fb_modifiers = false; // DRM_CAP_ADDFB2_MODIFIERS
};

// The arguments of ADDFB2.
struct fb_request {
	uint32_t width = 0;
	uint32_t height = 0;
	uint32_t format = 0;
	uint32_t handles[4] = {};
	uint32_t pitches[4] = {};
	uint32_t offsets[4] = {};
	uint64_t modifier = 0;
	bool modifiers = false; // pass `modifier` (DRM_MODE_FB_MODIFIERS)
};

/*
 * The kernel seam: every DRM call of the import subsystem goes through this
 * small interface, so that the unit tests can run the same cases against a
 * model of the kernel's PRIME semantics (tests/unit/kernel_model) and against
 * the real kernel (linux_kernel, in the QEMU guest).
 *
 * ioctl-like calls return 0 or a positive errno, never throw and never leave
 * an fd behind on failure. Implementations must be thread-safe.
 */
class kernel_api {
public:
	virtual ~kernel_api() = default;

	// Opens a DRM node read-write, close-on-exec. The caller owns the fd.
	virtual result<unique_fd> open_node(const std::string &path) = 0;
	// The node path of the DRM device that fd refers to (to re-open it).
	virtual result<std::string> node_path(int fd) = 0;
	virtual result<device_info> describe(int fd) = 0;

	// DRM_IOCTL_PRIME_FD_TO_HANDLE. The kernel does not count handles.
	virtual int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) = 0;
	// DRM_IOCTL_PRIME_HANDLE_TO_FD; on success the caller owns *fd.
	virtual int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) = 0;
	// DRM_IOCTL_GEM_CLOSE: removes the handle for every user of dev_fd.
	virtual int gem_close(int dev_fd, uint32_t handle) = 0;
	// DRM_IOCTL_MODE_ADDFB2, with DRM_MODE_FB_MODIFIERS when `modifiers`.
	virtual int add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) = 0;
	// DRM_IOCTL_MODE_CLOSEFB where the kernel has it (6.8+: leaves a
	// framebuffer on screen until replaced), else DRM_IOCTL_MODE_RMFB.
	virtual int remove_fb(int dev_fd, uint32_t fb_id) = 0;

	// Who exported a dma-buf: the `exp_name` of its fdinfo ("drm" for every
	// DRM driver's PRIME export, "udmabuf", a dma-heap's name, a V4L2
	// videobuf2 allocator's name). An error if fd is no dma-buf.
	virtual result<std::string> dmabuf_exporter(int dmabuf_fd) = 0;
};

// The real kernel, through libdrm.
class linux_kernel final : public kernel_api {
public:
	result<unique_fd> open_node(const std::string &path) override;
	result<std::string> node_path(int fd) override;
	result<device_info> describe(int fd) override;
	int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) override;
	int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) override;
	int gem_close(int dev_fd, uint32_t handle) override;
	int add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) override;
	int remove_fb(int dev_fd, uint32_t fb_id) override;
	result<std::string> dmabuf_exporter(int dmabuf_fd) override;
};

// How many of each call went through a counting_kernel.
struct ioctl_counts {
	uint64_t fd_to_handle = 0;
	uint64_t handle_to_fd = 0;
	uint64_t gem_close = 0;
	uint64_t add_fb = 0;
	uint64_t remove_fb = 0;

	uint64_t prime() const { return fd_to_handle + handle_to_fd; }
	uint64_t total() const { return prime() + gem_close + add_fb + remove_fb; }
	ioctl_counts operator-(const ioctl_counts &o) const {
		return {fd_to_handle - o.fd_to_handle, handle_to_fd - o.handle_to_fd,
		        gem_close - o.gem_close, add_fb - o.add_fb, remove_fb - o.remove_fb};
	}
	bool operator==(const ioctl_counts &) const = default;
};

/*
 * A kernel_api that counts the ioctls it forwards to another (which must outlive
 * it). This is how wlprime measures ioctls per frame and how the tests prove
 * that a cache hit costs nothing.
 */
class counting_kernel final : public kernel_api {
public:
	explicit counting_kernel(kernel_api &inner) : inner_(inner) {}

	ioctl_counts counts() const;

	result<unique_fd> open_node(const std::string &path) override {
		return inner_.open_node(path);
	}
	result<std::string> node_path(int fd) override { return inner_.node_path(fd); }
	result<device_info> describe(int fd) override { return inner_.describe(fd); }
	int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) override;
	int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) override;
	int gem_close(int dev_fd, uint32_t handle) override;
	int add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) override;
	int remove_fb(int dev_fd, uint32_t fb_id) override;
	result<std::string> dmabuf_exporter(int dmabuf_fd) override {
		return inner_.dmabuf_exporter(dmabuf_fd);
	}

private:
	kernel_api &inner_;
	std::atomic<uint64_t> fd_to_handle_{0};
	std::atomic<uint64_t> handle_to_fd_{0};
	std::atomic<uint64_t> gem_close_{0};
	std::atomic<uint64_t> add_fb_{0};
	std::atomic<uint64_t> remove_fb_{0};
};

} // namespace wlprime
