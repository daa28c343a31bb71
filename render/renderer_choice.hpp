// renderer_choice.hpp: which renderer composes, on which node, and why.
//
// One decision, made once at start-up from the request (--renderer, or
// $WLPRIME_RENDERER) and the main DRM device's driver, and then only read:
// by the server (what it creates), the log and wlprime-debug (what they
// say). Pure: no wlroots, no ioctl (render/gles2_renderer.cpp asks the
// device for the facts).
//
//   pixman  always possible; reads client buffers through CPU mappings.
//   gles2   wlroots' GLES2 renderer over EGL on GBM. `auto` takes it only
//           when the main device's driver is one Mesa renders with on a GPU;
//           on any other (vgem, vkms, cirrus: no GPU) only when asked, and
//           then on Mesa's software rasteriser (kms_swrast), which needs the
//           device's primary node: it keeps every buffer in dumb buffers,
//           and a render node has no dumb-buffer ioctls (measured in the
//           guest: GBM on vgem's render node cannot import a buffer).

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "import/result.hpp"

namespace wlprime {

enum class renderer_request { automatic, gles2, pixman };
enum class renderer_kind { pixman, gles2 };

// "auto", "gles2", "pixman"; nullopt for anything else.
std::optional<renderer_request> parse_renderer_request(std::string_view text);
const char *to_string(renderer_request request);
const char *to_string(renderer_kind kind);

// Drivers Mesa renders with on a GPU (a hardware Gallium or Vulkan-era GL
// driver behind the kernel driver of that name).
bool mesa_renders_on_gpu(std::string_view kernel_driver);

// The main DRM device as the renderer sees it.
struct render_device_facts {
	std::string path;         // the main device's node, as configured
	std::string driver;       // its kernel driver ("vgem", "i915")
	std::string render_node;  // its render node, "" if none
	std::string primary_node; // its primary node, "" if none (or not found)
};

struct renderer_choice {
	renderer_kind kind = renderer_kind::pixman;
	bool software_gl = false; // gles2 on Mesa's software rasteriser
	std::string node;         // the node the renderer opens (gles2)
	std::string reason;       // one sentence: why this renderer
};

// What composes. device: nullopt without a main DRM device. The same on
// every backend: on DRM/KMS the GLES2 renderer composes into GBM buffers of
// the render device that the display devices scan out
// (render/kms_render_target.hpp). An error only when gles2 is asked for and
// cannot be had.
result<renderer_choice> choose_renderer(renderer_request request,
                                        const std::optional<render_device_facts> &device);

} // namespace wlprime
