// SPDX-License-Identifier: MIT
#pragma once

#include <utility>

namespace wlprime {

/*
 * A file descriptor with exactly one owner. Move-only; the destructor closes
 * it. This is the only place in wlprime that calls close() on an fd: every
 * other fd is held in a unique_fd from the moment it is received (from a
 * client, from the kernel, from open()) to the moment it is closed.
 */
class unique_fd {
public:
	unique_fd() = default;
	// Takes ownership of fd (which may be -1).
	explicit unique_fd(int fd) : fd_(fd) {}
	~unique_fd() { reset(); }

	unique_fd(unique_fd &&other) noexcept : fd_(other.release()) {}
	unique_fd &operator=(unique_fd &&other) noexcept {
		if (this != &other)
			reset(other.release());
		return *this;
	}
	unique_fd(const unique_fd &) = delete;
	unique_fd &operator=(const unique_fd &) = delete;

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
	unique_fd duplicate() const;

private:
	int fd_ = -1;
};

} // namespace wlprime
