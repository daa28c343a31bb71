// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <vector>

#include "result.hpp"
#include "unique_fd.hpp"

/*
 * DOC: implicit sync, the reader's side
 *
 * A client may hand wlprime a dma-buf that its GPU is still writing. The
 * kernel tracks those writes as fences in the dma-buf's reservation object;
 * a reader must not look at the buffer (CPU read through a mapping, or a KMS
 * plane scanning it out) before the write fences have signalled.
 *
 * dmabuf_write_fence is that wait, as one pollable fd, taken at one moment:
 *  - kernels 6.0 and later: DMA_BUF_IOCTL_EXPORT_SYNC_FILE with
 *    DMA_BUF_SYNC_READ gives a sync_file of the fences a reader waits for
 *    (the writers'). It is readable (POLLIN) once they have signalled. Fences
 *    that writers add later are not in it: it is a snapshot.
 *  - older kernels (the ioctl fails with ENOTTY): the dma-buf fd itself,
 *    duplicated. poll() on a dma-buf reports POLLIN once its write fences
 *    have signalled; it is no snapshot, later writes count too.
 * A file that is no dma-buf (a memfd in the kernel model) has no fences: the
 * fallback fd is always readable, the fence is signalled.
 *
 * Ownership: a dmabuf_write_fence owns its fd (closed with it). It borrows
 * nothing: the dma-buf may go away while someone waits on the fence.
 * Nothing here blocks; waiting is the caller's (the compositor polls fd() on
 * its event loop).
 */

namespace wlprime {

enum class fence_method {
	sync_file,   // DMA_BUF_IOCTL_EXPORT_SYNC_FILE (6.0+)
	dmabuf_poll, // poll() on a duplicate of the dma-buf fd
};
const char *to_string(fence_method method);

class dmabuf_write_fence {
public:
	/*
	 * The writes to dmabuf_fd (borrowed) that a reader waits for. `method`
	 * sync_file falls back to dmabuf_poll where the kernel lacks the ioctl
	 * (ENOTTY); dmabuf_poll is used as asked (tests of the fallback). An
	 * error (EBADF, EMFILE, ...) names the fd and the errno.
	 */
	static result<dmabuf_write_fence>
	export_from(int dmabuf_fd, fence_method method = fence_method::sync_file);

	// Borrowed, valid for the fence's life: POLLIN once signalled.
	int fd() const { return fd_.get(); }
	fence_method method() const { return method_; }
	// poll(fd, POLLIN, 0): whether the writes have finished now. A poll
	// error (POLLERR, POLLNVAL) counts as signalled: nothing to wait for.
	bool signaled() const;

private:
	dmabuf_write_fence(unique_fd fd, fence_method method)
	    : fd_(std::move(fd)), method_(method) {}

	unique_fd fd_;
	fence_method method_;
};

/*
 * The write fences of the distinct dma-bufs among `dmabuf_fds` (borrowed;
 * the same fd twice, as for NV12 on one BO, is one dma-buf) that have not
 * signalled yet. Empty: the buffer can be read now.
 */
result<std::vector<dmabuf_write_fence>>
unsignaled_write_fences(const std::vector<int> &dmabuf_fds,
                        fence_method method = fence_method::sync_file);

} // namespace wlprime
