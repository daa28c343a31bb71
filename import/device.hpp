// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <string>

#include "handle_table.hpp"
#include "kernel.hpp"
#include "result.hpp"
#include "unique_fd.hpp"

namespace wlprime {

/*
 * A DRM device as the import subsystem sees it: its own file description
 * (opened here, never dup()ed from or shared with GBM, EGL or wlroots, because
 * GEM handles belong to a file description), what the device is, and the
 * table of the GEM handles held on it.
 *
 * Owned by whoever opened it (the compositor's device list, a test). It must
 * outlive every gem_ref and every dmabuf_import that used it.
 */
class device {
public:
	// Opens path. The device owns the new file description.
	static result<std::unique_ptr<device>> open(kernel_api &kernel, const std::string &path);
	// Takes fd, a file description of the node at path that someone else
	// opened (a seat session: DRM master belongs to that file description, so
	// it is used as is, not re-opened). The device owns fd (give it a dup()
	// of the session's); the file description is shared with the session and
	// its daemon, which only set and drop DRM master on it: the GEM handles
	// on it are still ours alone.
	static result<std::unique_ptr<device>> adopt(kernel_api &kernel, unique_fd fd,
	                                             const std::string &path);
	// Opens anew the node that other_fd (borrowed, e.g. wlroots' or GBM's)
	// refers to, so that our handles never mix with the other user's.
	static result<std::unique_ptr<device>> reopen(kernel_api &kernel, int other_fd);

	~device();
	device(const device &) = delete;
	device &operator=(const device &) = delete;

	const device_info &info() const { return info_; }
	// Borrowed; valid for the device's life.
	int fd() const { return fd_.get(); }
	kernel_api &kernel() { return kernel_; }
	handle_table &handles() { return handles_; }
	// "vgem /dev/dri/card0 (226:0)": how logs name the device.
	const std::string &name() const { return name_; }

private:
	device(kernel_api &kernel, unique_fd fd, device_info info);
	// open() and adopt(): describes fd and logs `how`.
	static result<std::unique_ptr<device>> make(kernel_api &kernel, unique_fd fd,
	                                            const std::string &path, const char *how);

	kernel_api &kernel_;
	unique_fd fd_;
	device_info info_;
	std::string name_;
	handle_table handles_; // last: destroyed first, while fd_ is still open
};

} // namespace wlprime
