// SPDX-License-Identifier: MIT
#pragma once

#include <utility>

namespace wlprime {

/*
 * A file descriptor with exactly one owner. Move-only; the destructor closes
 * it. This is the only place in wlprime that calls close() on an fd: every
 * other fd is held in a UniqueFd from the moment it is received (from a
 * client, from the kernel, from open()) to the moment it is closed.
 */
class UniqueFd {
public:
	UniqueFd() = default;
	// Takes ownership of fd (which may be -1).
	explicit UniqueFd(int fd) : fd_(fd) {}
	~UniqueFd() { reset(); }

	UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		if (this != &other)
			reset(other.release());
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;

	int get() const { return fd_; }
	bool valid() const { return fd_ >= 0; }
	explicit operator bool() const { return valid(); }

	// Gives up ownership: the caller now owns the returned fd.
	[[nodiscard]] int release() { return std::exchange(fd_, -1); }
	// Closes the current fd (if any) and takes ownership of fd.
	void reset(int fd = -1);

	// A new fd (F_DUPFD_CLOEXEC) for the same open file description, owned by
	// the caller; invalid with errno set on failure. Note: a duplicate shares
	// the file description, so it is no isolation for DRM handles.
	UniqueFd duplicate() const;

private:
	int fd_ = -1;
};

} // namespace wlprime
