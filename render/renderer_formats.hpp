// renderer_formats.hpp: which (format, modifier) pairs linux-dmabuf
// advertises for composition, from what each way of showing a buffer takes.
//
// Two ways show a client's dma-buf:
//   the CPU path   mapped and read (render/cpu_format.hpp): linear layouts,
//                  and implicit ones that the import library finds linear;
//   EGL (gles2)    what the display's EGL imports
//                  (EGL_EXT_image_dma_buf_import_modifiers): explicit
//                  modifiers, tiled ones included, as the driver lists them;
//                  DRM_FORMAT_MOD_INVALID for every format it imports at
//                  all (an import without modifier attributes takes the
//                  driver's implicit layout); LINEAR too when the driver
//                  lists no modifier for the format (EGL then has no way to
//                  say, and every Mesa driver samples linear).
//
// YUV formats are EGL's only for explicit external-only modifiers:
// wlroots 0.15 binds every other EGLImage as GL_TEXTURE_2D, which Mesa
// samples black for YUV; the CPU path converts them (cpu_format.hpp).
// A buffer is textured through EGL only if its pair is in `egl`
// (gles2_renderer), else through the CPU path.
//
// The union is advertised, minus formats wlprime has no layout description
// for (it could not check their planes against their dma-bufs: see
// import/formats.hpp). A pair only EGL takes has no CPU fallback: if EGL
// refuses one such buffer it is not shown, with the reason (wlprime-debug).
// Pure: gles2_renderer reads the offer off its display.

#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "import/formats.hpp"

namespace wlprime {

// What an EGL display says it imports.
struct egl_format_offer {
	struct modifier {
		uint64_t value;
		bool external_only; // sampled only as GL_TEXTURE_EXTERNAL_OES
	};
	struct format {
		uint32_t fourcc;
		std::vector<modifier> modifiers; // empty: the driver lists none
	};
	std::vector<format> formats;
	bool modifiers_extension = false; // EGL_EXT_image_dma_buf_import_modifiers
};

struct composition_formats {
	format_set advertised;
	format_set egl;                      // the EGL pairs kept (a subset of advertised)
	std::vector<uint32_t> gpu_only;      // formats only EGL shows (no CPU reader)
	std::vector<uint32_t> external_only; // formats with an external-only modifier
	std::vector<format_set::Pair> tiled; // explicit modifiers other than LINEAR
	std::vector<uint32_t> dropped;       // EGL formats without a layout description
	std::vector<uint32_t> yuv_by_cpu;    // YUV formats EGL lists, converted by the CPU path
};

// cpu: the CPU path's pairs (cpu_format_set()). egl: null with pixman.
composition_formats choose_composition_formats(const format_set &cpu, const egl_format_offer *egl);

} // namespace wlprime
