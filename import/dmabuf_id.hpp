// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>

#include "result.hpp"

namespace wlprime {

/*
 * The identity of a dma-buf: every dma-buf is one file with its own inode, so
 * (st_dev, st_ino) from fstat() names it across fds, wl_buffers and clients.
 * An identity is only stable while someone holds the dma-buf alive (an fd or
 * a GEM handle): whoever keys a lookup on it must hold such a reference.
 */
struct dmabuf_id {
	dev_t dev = 0;
	ino_t ino = 0;

	bool operator==(const dmabuf_id &) const = default;
	auto operator<=>(const dmabuf_id &) const = default;
};

// fstat() of fd; EBADF and friends as the error.
result<dmabuf_id> dmabuf_id_of(int fd);

// "dev:ino" in hex dev, decimal inode, e.g. "d:4211" — used in logs.
std::string to_string(const dmabuf_id &id);

// Size of a dma-buf from lseek(fd, 0, SEEK_END), restoring nothing (dma-bufs
// have no file position that matters). errno as the error (ESPIPE for pipes).
result<uint64_t> dmabuf_size_of(int fd);

} // namespace wlprime

template <>
struct std::hash<wlprime::dmabuf_id> {
	size_t operator()(const wlprime::dmabuf_id &id) const noexcept {
		return std::hash<uint64_t>()(static_cast<uint64_t>(id.ino) * 0x9e3779b97f4a7c15ull ^
		                             static_cast<uint64_t>(id.dev));
	}
};
