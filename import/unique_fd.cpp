// SPDX-License-Identifier: MIT
#include "unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace wlprime {

void unique_fd::reset(int fd) {
	if (fd_ >= 0 && fd_ != fd) {
		int saved = errno;
		::close(fd_);
		errno = saved;
	}
	fd_ = fd;
}

unique_fd unique_fd::duplicate() const {
	if (fd_ < 0) {
		errno = EBADF;
		return unique_fd();
	}
	return unique_fd(::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
}

} // namespace wlprime
