// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel.hpp"

namespace wlprime::test {

/*
 * A model of the kernel's PRIME and GEM semantics, for unit tests with no DRM
 * device. What it models (each fact measured on the real kernel, see
 * shared/DESIGN.md, and checked by running the same tests in the guest):
 *
 *  - GEM handles belong to a file description: each open_node() makes a new
 *    one (a memfd stands for it, so dup()ed fds share it, as in the kernel);
 *    handles are small integers from 1, per file description.
 *  - A buffer object (BO) has at most one dma-buf while any handle to it
 *    exists (the obj->dma_buf link); exporting twice gives two fds of that
 *    one dma-buf (same inode); re-exporting an imported handle gives back the
 *    original dma-buf; importing a dma-buf already imported on a file
 *    description returns the same handle, including self-import on the
 *    exporting file description.
 *  - GEM_CLOSE is not counted: one close removes the handle; a second close
 *    is EINVAL. Export of an unknown handle: ENOENT. dmabuf_import of an fd that is
 *    not a dma-buf: EINVAL; of a closed fd: EBADF.
 *  - BOs and dma-bufs are whole pages, as in the kernel.
 *  - ADDFB2 checks handles (ENOENT), sizes (EINVAL when a pitch is smaller
 *    than a row or the last row ends past the BO, check_plane_bounds()) and
 *    counts framebuffers per file description;
 *    RMFB/CLOSEFB of an unknown fb: ENOENT.
 *
 *
 * The KMS output calls (render/), minimally:
 *  - atomic_commit() checks the file description (EBADF/ENOTTY), that the
 *    request is valid() and not empty (EINVAL). It knows no KMS objects: any
 *    other request is accepted (0). No CRTC, plane, mode or page-flip event
 *    is modelled, and no WRITEBACK_OUT_FENCE_PTR is written. It counts the
 *    requests it accepted (atomic_count(), test_count()).
 *  - create_dumb() makes a BO of pitch * height bytes (pitch = width * bpp / 8
 *    rounded up to 64 bytes) on that file description, like create_bo();
 *    EINVAL for a zero size or bpp. map_dumb() maps the BO's memory (the
 *    memfd its dma-buf is) for a handle made by create_dumb()/create_bo() on
 *    that file description, EINVAL for an imported handle (as the real
 *    kernel's MAP_DUMB), ENOENT for an unknown one; destroy_dumb() is
 *    gem_close().
 *
 * A dma-buf is a memfd of the BO's size; its inode is its identity, as for a
 * real dma-buf. Thread-safe: one mutex, like the kernel's object_name_lock.
 */
class kernel_model final : public kernel_api {
public:
	// Declares a device node that open_node(path) can open.
	void add_node(const std::string &path, const std::string &driver, node_type type,
	              dev_t rdev);

	result<unique_fd> open_node(const std::string &path) override;
	result<std::string> node_path(int fd) override;
	result<device_info> describe(int fd) override;
	int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) override;
	int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) override;
	int gem_close(int dev_fd, uint32_t handle) override;
	int add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) override;
	int remove_fb(int dev_fd, uint32_t fb_id) override;
	// "drm" for a BO's export, "udmabuf" for a foreign dma-buf.
	result<std::string> dmabuf_exporter(int dmabuf_fd) override;

	int atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
	                  void *user_data) override;
	int create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
	                dumb_buffer *out) override;
	int map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) override;
	int destroy_dumb(int dev_fd, uint32_t handle) override;
	// Atomic requests accepted (real commits, TEST_ONLY).
	uint64_t atomic_count() const { return atomic_commits_; }
	uint64_t test_count() const { return atomic_tests_; }

	// Like DRM_IOCTL_MODE_CREATE_DUMB on dev_fd: a new BO and its handle.
	int create_bo(int dev_fd, uint64_t size, uint32_t *handle);
	// A dma-buf exported by something that is not a DRM device (udmabuf).
	unique_fd create_foreign_dmabuf(uint64_t size);
	// Handles open on the file description of dev_fd (leak checks).
	size_t handle_count(int dev_fd);
	size_t fb_count(int dev_fd);

private:
	struct Bo {
		uint64_t size = 0;
		unique_fd dmabuf;              // the obj->dma_buf link: set while handles exist
		uint32_t handles = 0;          // over all file descriptions
		const void *creator = nullptr; // the File of create_bo()/create_dumb()
		bool foreign = false;          // made by create_foreign_dmabuf()
	};
	struct File {
		std::string node;
		uint32_t next_handle = 1;
		std::map<uint32_t, Bo *> handles;
		std::map<uint32_t, uint64_t> fbs; // fb id -> unused
	};
	struct Node {
		std::string driver;
		node_type type;
		dev_t rdev;
	};

	File *file_of(int fd); // nullptr if fd is no model device
	uint32_t new_handle(File &file, Bo *bo);
	void drop_handle(File &file, uint32_t handle);

	std::mutex mutex_;
	std::map<std::string, Node> nodes_;
	std::map<ino_t, std::unique_ptr<File>> files_; // by the memfd's inode
	std::map<ino_t, Bo *> dmabufs_;                // dma-buf inode -> BO
	std::vector<std::unique_ptr<Bo>> bos_;         // BOs live as long as the model
	uint32_t next_fb_ = 1;

	// KMS output calls.
	unique_fd &memory_of(Bo &bo); // its dma-buf memfd, made on first use
	std::atomic<uint64_t> atomic_commits_{0};
	std::atomic<uint64_t> atomic_tests_{0};
};

} // namespace wlprime::test
