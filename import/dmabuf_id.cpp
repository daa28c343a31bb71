// SPDX-License-Identifier: MIT
#include "dmabuf_id.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace wlprime {

result<dmabuf_id> dmabuf_id_of(int fd) {
	struct stat st;
	if (::fstat(fd, &st) != 0) {
		int err = errno;
		return error{"fstat(fd " + std::to_string(fd) + "): " + std::strerror(err), err};
	}
	return dmabuf_id{st.st_dev, st.st_ino};
}

std::string to_string(const dmabuf_id &id) {
	char buf[64];
	std::snprintf(buf, sizeof(buf), "%llx:%llu", static_cast<unsigned long long>(id.dev),
	              static_cast<unsigned long long>(id.ino));
	return buf;
}

result<uint64_t> dmabuf_size_of(int fd) {
	off_t size = ::lseek(fd, 0, SEEK_END);
	if (size < 0) {
		int err = errno;
		return error{"lseek(fd " + std::to_string(fd) +
		                 ", 0, SEEK_END): " + std::strerror(err),
		             err};
	}
	return static_cast<uint64_t>(size);
}

} // namespace wlprime
