// SPDX-License-Identifier: MIT
#include "implicit_layout.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace wlprime {

bool driver_implicit_linear(const std::string &driver) {
	// Display-only or virtual drivers whose buffers are CPU-linear.
	static constexpr std::array<std::string_view, 16> linear = {
	    "vgem", "vkms",      "cirrus",     "cirrus-qemu", "bochs-drm",  "bochs",
	    "qxl",  "simpledrm", "udl",        "gud",         "hyperv_drm", "mgag200",
	    "ast",  "vboxvideo", "virtio_gpu", "gm12u320",
	};
	return std::find(linear.begin(), linear.end(), driver) != linear.end();
}

bool exporter_implicit_linear(const std::string &exp_name) {
	static constexpr std::array<std::string_view, 3> exact = {"udmabuf", "system",
	                                                          "system-uncached"};
	if (std::find(exact.begin(), exact.end(), exp_name) != exact.end())
		return true;
	// V4L2's allocators: videobuf2_vmalloc, videobuf2_dma_contig, _dma_sg.
	return exp_name.starts_with("videobuf2");
}

implicit_layout resolve_implicit_layout(const std::string &exp_name,
                                        const std::vector<device *> &devices) {
	implicit_layout layout;
	layout.exporter_name = exp_name;
	if (exp_name != "drm") {
		layout.linear = exporter_implicit_linear(exp_name);
		if (!layout.linear)
			layout.why = "exporter \"" + exp_name +
			             "\" has a layout of its own for the "
			             "implicit modifier";
		return layout;
	}
	std::vector<const device *> tiling;
	for (const device *dev : devices)
		if (!driver_implicit_linear(dev->info().driver) &&
		    std::none_of(tiling.begin(), tiling.end(), [&](const device *t) {
			    return t->info().rdev == dev->info().rdev;
		    }))
			tiling.push_back(dev);
	if (devices.empty()) {
		layout.why = "a DRM device exported it and wlprime holds none to tell which";
	} else if (tiling.empty()) {
		layout.linear = true; // every candidate exporter lays it out linearly
	} else if (tiling.size() == 1) {
		layout.exporter = tiling.front()->info().rdev;
		layout.why = "exported by " + tiling.front()->name() +
		             " (implicit layout known only to its driver)";
	} else {
		layout.why = "exported by one of " + std::to_string(tiling.size()) +
		             " GPUs with layouts of their own; which one is unknown";
	}
	return layout;
}

} // namespace wlprime
