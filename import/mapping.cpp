// SPDX-License-Identifier: MIT
#include "mapping.hpp"

#include <cerrno>
#include <cstring>
#include <linux/dma-buf.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <utility>

namespace wlprime {

dmabuf_mapping::~dmabuf_mapping() {
	if (data_)
		munmap(data_, size_);
}

dmabuf_mapping::dmabuf_mapping(dmabuf_mapping &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

dmabuf_mapping &dmabuf_mapping::operator=(dmabuf_mapping &&other) noexcept {
	if (this != &other) {
		if (data_)
			munmap(data_, size_);
		data_ = std::exchange(other.data_, nullptr);
		size_ = std::exchange(other.size_, 0);
	}
	return *this;
}

result<dmabuf_mapping> dmabuf_mapping::map(int fd, size_t size) {
	if (size == 0)
		return error{"mmap of dma-buf fd " + std::to_string(fd) + ": size unknown", EINVAL};
	void *data = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		int err = errno;
		return error{"mmap of " + std::to_string(size) + " bytes of dma-buf fd " +
		                 std::to_string(fd) + ": " + std::strerror(err),
		             err};
	}
	dmabuf_mapping m;
	m.data_ = data;
	m.size_ = size;
	return m;
}

static status sync(int fd, uint64_t flags) {
	struct dma_buf_sync args = {flags};
	int ret;
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &args);
	} while (ret != 0 && (errno == EINTR || errno == EAGAIN));
	if (ret != 0 && errno != ENOTTY) {
		int err = errno;
		return error{"DMA_BUF_IOCTL_SYNC on fd " + std::to_string(fd) + ": " +
		                 std::strerror(err),
		             err};
	}
	return done{};
}

status dmabuf_mapping::begin_read(int fd) {
	return sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
}

status dmabuf_mapping::end_read(int fd) {
	return sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
}

} // namespace wlprime
