// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <sys/types.h>

#include "result.hpp"
#include "unique_fd.hpp"

namespace wlprime {

enum class NodeType { primary, render, other };
const char *to_string(NodeType type);

// What a DRM device file description tells about itself.
struct DeviceInfo {
	std::string path;     // node path, e.g. /dev/dri/card0
	dev_t rdev = 0;       // st_rdev of the node
	std::string driver;   // drmGetVersion() name, e.g. "vgem"
	NodeType node = NodeType::other;
	bool prime_import = false; // DRM_CAP_PRIME & DRM_PRIME_CAP_IMPORT
	bool prime_export = false; // DRM_CAP_PRIME & DRM_PRIME_CAP_EXPORT
	bool fb_modifiers = false; // DRM_CAP_ADDFB2_MODIFIERS
};

// The arguments of ADDFB2.
struct FbRequest {
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
 * the real kernel (LinuxKernel, in the QEMU guest).
 *
 * ioctl-like calls return 0 or a positive errno, never throw and never leave
 * an fd behind on failure. Implementations must be thread-safe.
 */
class Kernel {
public:
	virtual ~Kernel() = default;

	// Opens a DRM node read-write, close-on-exec. The caller owns the fd.
	virtual Result<UniqueFd> open_node(const std::string &path) = 0;
	// The node path of the DRM device that fd refers to (to re-open it).
	virtual Result<std::string> node_path(int fd) = 0;
	virtual Result<DeviceInfo> describe(int fd) = 0;

	// DRM_IOCTL_PRIME_FD_TO_HANDLE. The kernel does not count handles.
	virtual int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) = 0;
	// DRM_IOCTL_PRIME_HANDLE_TO_FD; on success the caller owns *fd.
	virtual int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) = 0;
	// DRM_IOCTL_GEM_CLOSE: removes the handle for every user of dev_fd.
	virtual int gem_close(int dev_fd, uint32_t handle) = 0;
	// DRM_IOCTL_MODE_ADDFB2, with DRM_MODE_FB_MODIFIERS when `modifiers`.
	virtual int add_fb2(int dev_fd, const FbRequest &request, uint32_t *fb_id) = 0;
	// DRM_IOCTL_MODE_CLOSEFB where the kernel has it (6.8+: leaves a
	// framebuffer on screen until replaced), else DRM_IOCTL_MODE_RMFB.
	virtual int remove_fb(int dev_fd, uint32_t fb_id) = 0;
};

// The real kernel, through libdrm.
class LinuxKernel final : public Kernel {
public:
	Result<UniqueFd> open_node(const std::string &path) override;
	Result<std::string> node_path(int fd) override;
	Result<DeviceInfo> describe(int fd) override;
	int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) override;
	int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) override;
	int gem_close(int dev_fd, uint32_t handle) override;
	int add_fb2(int dev_fd, const FbRequest &request, uint32_t *fb_id) override;
	int remove_fb(int dev_fd, uint32_t fb_id) override;
};

// How many of each call went through a CountingKernel.
struct IoctlCounts {
	uint64_t fd_to_handle = 0;
	uint64_t handle_to_fd = 0;
	uint64_t gem_close = 0;
	uint64_t add_fb = 0;
	uint64_t remove_fb = 0;

	uint64_t prime() const { return fd_to_handle + handle_to_fd; }
	uint64_t total() const { return prime() + gem_close + add_fb + remove_fb; }
	IoctlCounts operator-(const IoctlCounts &o) const
	{
		return {fd_to_handle - o.fd_to_handle, handle_to_fd - o.handle_to_fd,
			gem_close - o.gem_close, add_fb - o.add_fb, remove_fb - o.remove_fb};
	}
	bool operator==(const IoctlCounts &) const = default;
};

/*
 * A Kernel that counts the ioctls it forwards to another (which must outlive
 * it). This is how wlprime measures ioctls per frame and how the tests prove
 * that a cache hit costs nothing.
 */
class CountingKernel final : public Kernel {
public:
	explicit CountingKernel(Kernel &inner) : inner_(inner) {}

	IoctlCounts counts() const;

	Result<UniqueFd> open_node(const std::string &path) override
	{
		return inner_.open_node(path);
	}
	Result<std::string> node_path(int fd) override { return inner_.node_path(fd); }
	Result<DeviceInfo> describe(int fd) override { return inner_.describe(fd); }
	int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) override;
	int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) override;
	int gem_close(int dev_fd, uint32_t handle) override;
	int add_fb2(int dev_fd, const FbRequest &request, uint32_t *fb_id) override;
	int remove_fb(int dev_fd, uint32_t fb_id) override;

private:
	Kernel &inner_;
	std::atomic<uint64_t> fd_to_handle_{0};
	std::atomic<uint64_t> handle_to_fd_{0};
	std::atomic<uint64_t> gem_close_{0};
	std::atomic<uint64_t> add_fb_{0};
	std::atomic<uint64_t> remove_fb_{0};
};

} // namespace wlprime
