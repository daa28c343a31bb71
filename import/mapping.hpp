// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>

#include "result.hpp"

namespace wlprime {

/*
 * A read-only CPU mapping of a whole dma-buf (mmap of the dma-buf fd: the
 * kernel refuses MAP_DUMB on imported handles, so this is the way to read a
 * client's buffer). Move-only; unmapped by the destructor. Reads must be
 * bracketed by begin_read()/end_read() (DMA_BUF_IOCTL_SYNC), which keep the
 * CPU's view coherent with the device's writes.
 */
class dmabuf_mapping {
public:
	dmabuf_mapping() = default;
	~dmabuf_mapping();
	dmabuf_mapping(dmabuf_mapping &&other) noexcept;
	dmabuf_mapping &operator=(dmabuf_mapping &&other) noexcept;
	dmabuf_mapping(const dmabuf_mapping &) = delete;
	dmabuf_mapping &operator=(const dmabuf_mapping &) = delete;

	// Maps `size` bytes of fd, followed by a PROT_NONE guard page, so that
	// a read past the last page faults (fd borrowed; the mapping outlives no one's need
	// of the fd: mmap holds its own reference to the dma-buf).
	static result<dmabuf_mapping> map(int fd, size_t size);

	const uint8_t *data() const { return static_cast<const uint8_t *>(data_); }
	size_t size() const { return size_; }
	bool mapped() const { return data_ != nullptr; }

	// DMA_BUF_IOCTL_SYNC start/end of a CPU read. A file that is no dma-buf
	// (ENOTTY: a memfd in the kernel model) needs no sync and succeeds.
	static status begin_read(int fd);
	static status end_read(int fd);

private:
	void *data_ = nullptr;
	size_t size_ = 0;
};

} // namespace wlprime
