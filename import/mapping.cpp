// SPDX-License-Identifier: MIT
#include "mapping.hpp"

#include <cerrno>
#include <cstring>
#include <linux/dma-buf.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>

namespace wlprime {

static size_t page_size() {
	static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
	return size;
}

// The reservation behind a mapping: the dma-buf's pages, rounded up, and one
// PROT_NONE guard page after them.
static size_t reserved_size(size_t size) {
	return (size + page_size() - 1) / page_size() * page_size() + page_size();
}

dmabuf_mapping::~dmabuf_mapping() {
	if (data_)
		munmap(data_, reserved_size(size_));
}

dmabuf_mapping::dmabuf_mapping(dmabuf_mapping &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

dmabuf_mapping &dmabuf_mapping::operator=(dmabuf_mapping &&other) noexcept {
	if (this != &other) {
		if (data_)
			munmap(data_, reserved_size(size_));
		data_ = std::exchange(other.data_, nullptr);
		size_ = std::exchange(other.size_, 0);
	}
	return *this;
}

result<dmabuf_mapping> dmabuf_mapping::map(int fd, size_t size) {
	if (size == 0)
		return error{"mmap of dma-buf fd " + std::to_string(fd) + ": size unknown", EINVAL};
	auto failed = [&](const char *what) -> error {
		int err = errno;
		return error{std::string(what) + " of " + std::to_string(size) +
		                 " bytes of dma-buf fd " + std::to_string(fd) + ": " +
		                 std::strerror(err),
		             err};
	};
	// Reserve the pages and a guard page first, then map the dma-buf over
	// the start: the page after its last byte is PROT_NONE, never another
	// mapping of the compositor, so a read past the end faults at once
	// instead of showing the compositor's memory.
	const size_t reserved = reserved_size(size);
	void *base = mmap(nullptr, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return failed("address reservation");
	void *data = mmap(base, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	if (data == MAP_FAILED) {
		error e = failed("mmap");
		munmap(base, reserved);
		return e;
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
