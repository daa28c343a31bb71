#include "render/renderer_choice.hpp"

namespace wlprime {

std::optional<renderer_request> parse_renderer_request(std::string_view text) {
	if (text == "auto")
		return renderer_request::automatic;
	if (text == "gles2")
		return renderer_request::gles2;
	if (text == "pixman")
		return renderer_request::pixman;
	return std::nullopt;
}

const char *to_string(renderer_request request) {
	switch (request) {
	case renderer_request::automatic:
		return "auto";
	case renderer_request::gles2:
		return "gles2";
	case renderer_request::pixman:
		return "pixman";
	}
	return "?";
}

const char *to_string(renderer_kind kind) {
	return kind == renderer_kind::gles2 ? "gles2" : "pixman";
}

bool mesa_renders_on_gpu(std::string_view driver) {
	// The kernel drivers of the GPUs Mesa has hardware GL drivers for.
	// virtio_gpu is not among them: without virgl (QEMU's default) it has
	// no 3D, and Mesa would fall back to software.
	static constexpr std::string_view gpu_drivers[] = {
	    "amdgpu",  "radeon", "i915", "xe",      "nouveau", "msm",   "panfrost",
	    "panthor", "lima",   "v3d",  "etnaviv", "asahi",   "tegra", "vmwgfx",
	};
	for (std::string_view d : gpu_drivers) {
		if (d == driver)
			return true;
	}
	return false;
}

result<renderer_choice> choose_renderer(renderer_request request,
                                        const std::optional<render_device_facts> &device) {
	renderer_choice pixman;
	if (request == renderer_request::pixman) {
		pixman.reason = "asked for (--renderer pixman)";
		return pixman;
	}
	if (!device) {
		if (request == renderer_request::gles2)
			return error{"--renderer gles2 needs a DRM device, and there is none "
			             "(--render-device)"};
		pixman.reason = "no DRM device to render on";
		return pixman;
	}
	const std::string what = device->path + " (" + device->driver + ")";
	const bool gpu = mesa_renders_on_gpu(device->driver);
	if (request == renderer_request::automatic && !gpu) {
		pixman.reason = "auto: " + what +
		                " is no GPU that Mesa renders with (software GL only when asked: "
		                "--renderer gles2)";
		return pixman;
	}
	renderer_choice gles2;
	gles2.kind = renderer_kind::gles2;
	const char *why = request == renderer_request::automatic ? "auto" : "asked for";
	if (gpu) {
		gles2.node = !device->render_node.empty() ? device->render_node : device->path;
		gles2.reason = std::string(why) + ": " + what + " is a GPU that Mesa renders with";
		return gles2;
	}
	if (device->primary_node.empty())
		return error{"--renderer gles2: " + what +
		             " is no GPU, and Mesa's software rasteriser needs its primary node "
		             "(dumb buffers), which was not found"};
	gles2.software_gl = true;
	gles2.node = device->primary_node;
	gles2.reason = std::string(why) + ": " + what +
	               " is no GPU: Mesa's software rasteriser, on the primary node " +
	               device->primary_node + " (it needs dumb buffers)";
	return gles2;
}

} // namespace wlprime
