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
 * outlive every GemRef and every Import that used it.
 */
class Device {
public:
	// Opens path. The Device owns the new file description.
	static Result<std::unique_ptr<Device>> open(Kernel &kernel, const std::string &path);
	// Opens anew the node that other_fd (borrowed, e.g. wlroots' or GBM's)
	// refers to, so that our handles never mix with the other user's.
	static Result<std::unique_ptr<Device>> reopen(Kernel &kernel, int other_fd);

	~Device();
	Device(const Device &) = delete;
	Device &operator=(const Device &) = delete;

	const DeviceInfo &info() const { return info_; }
	// Borrowed; valid for the Device's life.
	int fd() const { return fd_.get(); }
	Kernel &kernel() { return kernel_; }
	HandleTable &handles() { return handles_; }
	// "vgem /dev/dri/card0 (226:0)": how logs name the device.
	const std::string &name() const { return name_; }

private:
	Device(Kernel &kernel, UniqueFd fd, DeviceInfo info);

	Kernel &kernel_;
	UniqueFd fd_;
	DeviceInfo info_;
	std::string name_;
	HandleTable handles_; // last: destroyed first, while fd_ is still open
};

} // namespace wlprime
