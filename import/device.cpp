// SPDX-License-Identifier: MIT
#include "device.hpp"

#include <sys/sysmacros.h>

#include "log.hpp"

namespace wlprime {

static std::string device_name(const DeviceInfo &info)
{
	return info.driver + " " + info.path + " (" + std::to_string(major(info.rdev)) + ":" +
	       std::to_string(minor(info.rdev)) + ")";
}

Device::Device(Kernel &kernel, UniqueFd fd, DeviceInfo info)
	: kernel_(kernel), fd_(std::move(fd)), info_(std::move(info)), name_(device_name(info_)),
	  handles_(kernel_, fd_.get(), name_)
{
}

Device::~Device() = default;

Result<std::unique_ptr<Device>> Device::open(Kernel &kernel, const std::string &path)
{
	auto fd = kernel.open_node(path);
	if (!fd)
		return fd.error();
	auto info = kernel.describe(fd->get());
	if (!info)
		return Error{info.error().err, path + ": " + info.error().message};
	if (info->path.empty())
		info->path = path;
	auto device = std::unique_ptr<Device>(new Device(kernel, std::move(*fd), std::move(*info)));
	import_log(LogLevel::info, "opened %s: %s node, PRIME import %s export %s, fb modifiers %s",
		   device->name().c_str(), to_string(device->info().node),
		   device->info().prime_import ? "yes" : "no",
		   device->info().prime_export ? "yes" : "no",
		   device->info().fb_modifiers ? "yes" : "no");
	return device;
}

Result<std::unique_ptr<Device>> Device::reopen(Kernel &kernel, int other_fd)
{
	auto path = kernel.node_path(other_fd);
	if (!path)
		return path.error();
	return open(kernel, *path);
}

} // namespace wlprime
