// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

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

// What DRM_IOCTL_MODE_CREATE_DUMB made.
struct dumb_buffer {
	uint32_t handle = 0; // a GEM handle on the file description it was made on
	uint32_t pitch = 0;  // bytes per row
	uint64_t size = 0;   // bytes
};

// One property of an atomic request: set `property` of KMS object `object`.
struct atomic_prop {
	uint32_t object = 0;
	uint32_t property = 0;
	uint64_t value = 0;
};

/*
 * The arguments of DRM_IOCTL_MODE_ATOMIC: the properties to set, in the order
 * they were added (a later value of the same property wins, as in libdrm).
 * A property id 0 (a lookup that found nothing) makes the request invalid:
 * atomic_commit() then fails with EINVAL and no ioctl.
 */
class atomic_request {
public:
	void add(uint32_t object, uint32_t property, uint64_t value) {
		if (object == 0 || property == 0)
			invalid_ = true;
		props_.push_back({object, property, value});
	}
	const std::vector<atomic_prop> &props() const { return props_; }
	bool empty() const { return props_.empty(); }
	// False if a property or object id 0 was added.
	bool valid() const { return !invalid_; }

private:
	std::vector<atomic_prop> props_;
	bool invalid_ = false;
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
	// --- KMS output (render/): atomic commits and dumb buffers ---

	// DRM_IOCTL_MODE_ATOMIC with `flags` (DRM_MODE_ATOMIC_TEST_ONLY,
	// _NONBLOCK, _ALLOW_MODESET, DRM_MODE_PAGE_FLIP_EVENT); user_data comes
	// back with the page-flip event. EINVAL without an ioctl if the request
	// is not valid(). A property whose value is a user pointer (a writeback
	// connector's WRITEBACK_OUT_FENCE_PTR) is written by the kernel during
	// the call; the fd it receives then belongs to the caller.
	virtual int atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
	                          void *user_data) = 0;
	// DRM_IOCTL_MODE_CREATE_DUMB (bpp bits per pixel). On success the caller
	// owns out->handle (destroy_dumb() or gem_close()).
	virtual int create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
	                        dumb_buffer *out) = 0;
	// DRM_IOCTL_MODE_MAP_DUMB, then mmap() of `size` bytes of the dumb buffer
	// `handle` (made on dev_fd's file description) with `prot`. On success
	// the caller owns *data and munmap()s it. EINVAL for an imported handle.
	virtual int map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) = 0;
	// DRM_IOCTL_MODE_DESTROY_DUMB: removes the handle (like GEM_CLOSE).
	virtual int destroy_dumb(int dev_fd, uint32_t handle) = 0;
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

	int atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
	                  void *user_data) override;
	int create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
	                dumb_buffer *out) override;
	int map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) override;
	int destroy_dumb(int dev_fd, uint32_t handle) override;
};

// How many of each call went through a counting_kernel.
struct ioctl_counts {
	uint64_t fd_to_handle = 0;
	uint64_t handle_to_fd = 0;
	uint64_t gem_close = 0;
	uint64_t add_fb = 0;
	uint64_t remove_fb = 0;
	// KMS output: atomic commits (TEST_ONLY apart) and dumb buffers.
	uint64_t atomic_commits = 0; // real commits (not TEST_ONLY)
	uint64_t atomic_tests = 0;   // DRM_MODE_ATOMIC_TEST_ONLY commits
	uint64_t create_dumb = 0;
	uint64_t map_dumb = 0;
	uint64_t destroy_dumb = 0;

	uint64_t prime() const { return fd_to_handle + handle_to_fd; }
	uint64_t atomic() const { return atomic_commits + atomic_tests; }
	uint64_t dumb() const { return create_dumb + map_dumb + destroy_dumb; }
	// Every ioctl counted: PRIME, GEM_CLOSE, framebuffers, atomic, dumb.
	uint64_t total() const {
		return prime() + gem_close + add_fb + remove_fb + atomic() + dumb();
	}
	ioctl_counts operator-(const ioctl_counts &o) const {
		ioctl_counts d;
		d.fd_to_handle = fd_to_handle - o.fd_to_handle;
		d.handle_to_fd = handle_to_fd - o.handle_to_fd;
		d.gem_close = gem_close - o.gem_close;
		d.add_fb = add_fb - o.add_fb;
		d.remove_fb = remove_fb - o.remove_fb;
		d.atomic_commits = atomic_commits - o.atomic_commits;
		d.atomic_tests = atomic_tests - o.atomic_tests;
		d.create_dumb = create_dumb - o.create_dumb;
		d.map_dumb = map_dumb - o.map_dumb;
		d.destroy_dumb = destroy_dumb - o.destroy_dumb;
		return d;
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

	int atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
	                  void *user_data) override;
	int create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
	                dumb_buffer *out) override;
	int map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) override;
	int destroy_dumb(int dev_fd, uint32_t handle) override;

private:
	kernel_api &inner_;
	std::atomic<uint64_t> fd_to_handle_{0};
	std::atomic<uint64_t> handle_to_fd_{0};
	std::atomic<uint64_t> gem_close_{0};
	std::atomic<uint64_t> add_fb_{0};
	std::atomic<uint64_t> remove_fb_{0};

	std::atomic<uint64_t> atomic_commits_{0};
	std::atomic<uint64_t> atomic_tests_{0};
	std::atomic<uint64_t> create_dumb_{0};
	std::atomic<uint64_t> map_dumb_{0};
	std::atomic<uint64_t> destroy_dumb_{0};
};

} // namespace wlprime
