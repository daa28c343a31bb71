// SPDX-License-Identifier: MIT
#include "device.hpp"

#include <cerrno>
#include <sys/sysmacros.h>

#include "log.hpp"

namespace wlprime {

static std::string device_name(const device_info &info) {
	return info.driver + " " + info.path + " (" + std::to_string(major(info.rdev)) + ":" +
	       std::to_string(minor(info.rdev)) + ")";
}

device::device(kernel_api &kernel, unique_fd fd, device_info info)
    : kernel_(kernel), fd_(std::move(fd)), info_(std::move(info)), name_(device_name(info_)),
      handles_(kernel_, fd_.get(), name_) {}

device::~device() = default;

result<std::unique_ptr<device>> device::make(kernel_api &kernel, unique_fd fd,
                                             const std::string &path, const char *how) {
	auto info = kernel.describe(fd.get());
	if (!info)
		return error{path + ": " + info.err().message, info.err().errnum};
	if (info->path.empty())
		info->path = path;
	auto dev = std::unique_ptr<device>(new device(kernel, std::move(fd), std::move(*info)));
	import_log(log_level::info, "%s %s: %s node, PRIME import %s export %s, fb modifiers %s",
	           how, dev->name().c_str(), to_string(dev->info().node),
	           dev->info().prime_import ? "yes" : "no", dev->info().prime_export ? "yes" : "no",
	           dev->info().fb_modifiers ? "yes" : "no");
	return dev;
}

result<std::unique_ptr<device>> device::open(kernel_api &kernel, const std::string &path) {
	auto fd = kernel.open_node(path);
	if (!fd)
		return fd.err();
	return make(kernel, std::move(*fd), path, "opened");
}

result<std::unique_ptr<device>> device::adopt(kernel_api &kernel, unique_fd fd,
                                              const std::string &path) {
	if (!fd)
		return error{path + ": no file descriptor to adopt", EBADF};
	return make(kernel, std::move(fd), path, "adopted a shared file description of");
}

result<std::unique_ptr<device>> device::reopen(kernel_api &kernel, int other_fd) {
	auto path = kernel.node_path(other_fd);
	if (!path)
		return path.err();
	return open(kernel, *path);
}

} // namespace wlprime
