// SPDX-License-Identifier: MIT
#include "unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace wlprime {

void UniqueFd::reset(int fd)
{
	if (fd_ >= 0 && fd_ != fd) {
		int saved = errno;
		::close(fd_);
		errno = saved;
	}
	fd_ = fd;
}

UniqueFd UniqueFd::duplicate() const
{
	if (fd_ < 0) {
		errno = EBADF;
		return UniqueFd();
	}
	return UniqueFd(::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
}

} // namespace wlprime
