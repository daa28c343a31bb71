// fault_kernel.hpp: ioctl failures injected through the kernel seam.
//
// A kernel_api that forwards to another (which must outlive it) and makes
// chosen calls fail with a chosen errno, without calling the kernel: how a
// test shows what wlprime does when a device refuses. Rules come from one
// string ($WLPRIME_INJECT_FAULTS, read by compositor/main.cpp), separated by
// commas:
//
//   CALL[@NODE][:foreign][#N]=ERRNO
//
//   CALL     PRIME_FD_TO_HANDLE, PRIME_HANDLE_TO_FD, GEM_CLOSE, ADDFB2, RMFB,
//            ATOMIC_COMMIT (real commits), ATOMIC_TEST_ONLY, CREATE_DUMB,
//            MAP_DUMB or DESTROY_DUMB (the names wlprime-debug counts under)
//   @NODE    only on file descriptions of this DRM node (/dev/dri/card2)
//   :foreign PRIME_FD_TO_HANDLE only: only dma-bufs that were not exported
//            through this seam by a description of the same node — a display
//            that imports nothing but its own buffers (many display
//            controllers needing contiguous or VRAM memory do so)
//   #N       only the Nth call that matches the rest (1-based); without it,
//            every one
//   ERRNO    a name (EINVAL, ENOMEM, ENOSPC, EBUSY, EINTR, EAGAIN, EACCES,
//            EPERM, ENOENT, ENODEV, EOPNOTSUPP, ERANGE, EFAULT, E2BIG,
//            EMFILE) or a number
//
// Each injected failure is counted per rule (injected()) so tests can tell a
// fault that never fired from one that was handled.

#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel.hpp"

namespace wlprime {

struct fault_rule {
	std::string call;     // e.g. "ADDFB2"
	std::string node;     // "" for every node
	bool foreign = false; // PRIME_FD_TO_HANDLE of dma-bufs not exported on node
	uint64_t nth = 0;     // 0: every matching call
	int errnum = 0;
	std::string text;     // as written
	uint64_t matched = 0; // calls that matched so far
	uint64_t injected = 0;
};

// The rules of spec, or why it does not parse.
result<std::vector<fault_rule>> parse_fault_rules(const std::string &spec);

class fault_kernel final : public kernel_api {
public:
	fault_kernel(kernel_api &inner, std::vector<fault_rule> rules)
	    : inner_(inner), rules_(std::move(rules)) {}

	const std::vector<fault_rule> &rules() const { return rules_; }

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
	// The errno to fail this call with, 0 to forward it. dmabuf_fd: for
	// PRIME_FD_TO_HANDLE (the :foreign check), else -1.
	int fault(const char *call, int dev_fd, int dmabuf_fd = -1);

	kernel_api &inner_;
	std::vector<fault_rule> rules_;
	// Per node: the dma-bufs (by inode) exported by its descriptions.
	std::map<std::string, std::set<uint64_t>> exported_;
};

} // namespace wlprime
