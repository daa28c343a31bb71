// wlprime-copy-client: one output-sized window drawn into vgem dma-bufs of a
// chosen format, for the copy-fallback tests (tests/multigpu/multigpu-test).
//
// It takes the size of the first wl_output's current mode (the output wlprime
// puts new windows on, at 0,0), so that the window covers that output
// exactly, as direct scanout (or the copy fallback) needs. Every frame fills
// the whole buffer with the background colour and draws a 64x64 square of
// the square colour at a position that moves 80 px to the right per frame, and
// damages (wl_surface.damage_buffer) only the old and the new square: the
// compositor may copy just that, but must remember the damage of earlier
// frames for the older buffers of its swapchain, or an old square stays on
// screen. Frames are paced by frame callbacks; after the last one is done
// (on a KMS output: flipped) it prints where the last square is and, with
// --background-when-done, forks and keeps the window up until the
// compositor goes away.
//
//   wlprime-copy-client --format ARGB8888 --frames 5 --color 2040c0
//       --square-color ffff00 --background-when-done
// (one command line) prints
//   copy-client: 1024x768 ARGB8888 LINEAR, 5 frames, 2 dma-bufs, square at
//   320,100 (last at 240,100)

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include <drm_fourcc.h>

#include "tests/clients/client_base.hpp"
#include "tests/clients/dmabuf_alloc.hpp"

namespace {

using namespace wlprime;
using namespace wlprime::clients;

constexpr int square = 64;
constexpr int square_y = 100;

struct app {
	client_base base{{.dmabuf_max = 3, .dmabuf_min = 3}};
	xdg_window window;
	frame_pacer frame;
	wl_output *output = nullptr; // the first one
	int mode_w = 0, mode_h = 0;
};

void output_geometry(void *, wl_output *, int32_t, int32_t, int32_t, int32_t, int32_t, const char *,
                     const char *, int32_t) {}
void output_mode(void *data, wl_output *, uint32_t flags, int32_t w, int32_t h, int32_t) {
	auto *a = static_cast<app *>(data);
	if (flags & WL_OUTPUT_MODE_CURRENT) {
		a->mode_w = w;
		a->mode_h = h;
	}
}
void output_done(void *, wl_output *) {}
void output_scale(void *, wl_output *, int32_t) {}
const wl_output_listener output_listener = {output_geometry, output_mode, output_done,
                                            output_scale};

// An opaque RRGGBB colour as a texel of format (0 if unsupported).
bool texel_of(uint32_t format, uint32_t rgb, uint32_t *texel) {
	uint32_t r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
	switch (format) {
	case DRM_FORMAT_ARGB8888:
	case DRM_FORMAT_XRGB8888:
		*texel = 0xff000000u | (r << 16) | (g << 8) | b;
		return true;
	case DRM_FORMAT_ABGR8888:
	case DRM_FORMAT_XBGR8888:
		*texel = 0xff000000u | (b << 16) | (g << 8) | r;
		return true;
	default:
		return false;
	}
}

uint32_t format_of(const std::string &name) {
	if (name == "ARGB8888")
		return DRM_FORMAT_ARGB8888;
	if (name == "XRGB8888")
		return DRM_FORMAT_XRGB8888;
	if (name == "ABGR8888")
		return DRM_FORMAT_ABGR8888;
	if (name == "XBGR8888")
		return DRM_FORMAT_XBGR8888;
	return 0;
}

int square_x(int frame, int width) {
	int steps = (width - square) / 80 + 1;
	return (frame % steps) * 80;
}

int usage(const char *why) {
	std::fprintf(stderr,
	             "copy-client: %s\nusage: wlprime-copy-client [--format ARGB8888|XRGB8888|"
	             "ABGR8888|XBGR8888] [--frames N] [--color RRGGBB] [--square-color RRGGBB] "
	             "[--background-when-done]\n",
	             why);
	return 2;
}

} // namespace

int main(int argc, char **argv) {
	std::string format_name = "ARGB8888";
	int frames = 5;
	uint32_t color = 0x2040c0, square_color = 0xffff00;
	bool background = false;
	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
		if (arg == "--format" && v) {
			format_name = argv[++i];
		} else if (arg == "--frames" && v) {
			frames = std::atoi(argv[++i]);
		} else if (arg == "--color" && v) {
			color = uint32_t(std::strtoul(argv[++i], nullptr, 16));
		} else if (arg == "--square-color" && v) {
			square_color = uint32_t(std::strtoul(argv[++i], nullptr, 16));
		} else if (arg == "--background-when-done") {
			background = true;
		} else {
			return usage(("unknown argument " + arg).c_str());
		}
	}
	uint32_t format = format_of(format_name);
	uint32_t bg = 0, fg = 0;
	if (format == 0 || !texel_of(format, color, &bg) || !texel_of(format, square_color, &fg))
		return usage(("unsupported format " + format_name).c_str());
	if (frames < 1)
		return usage("--frames needs a number >= 1");

	app a;
	a.base.on_global = [&a](wl_registry *reg, uint32_t name, std::string_view iface, uint32_t) {
		if (iface == wl_output_interface.name &&
		    bind_once(reg, name, wl_output_interface, 2, &a.output))
			wl_output_add_listener(a.output, &output_listener, &a);
	};
	std::string error;
	if (!a.base.connect(nullptr, &error)) {
		std::fprintf(stderr, "copy-client: cannot connect: %s\n", std::strerror(errno));
		return 1;
	}
	a.base.roundtrip();
	a.base.roundtrip();
	if (!a.base.compositor || !a.base.wm_base || !a.base.dmabuf || !a.output || a.mode_w <= 0) {
		std::fprintf(stderr, "copy-client: missing globals or output mode\n");
		return 1;
	}
	const int w = a.mode_w, h = a.mode_h;

	auto alloc = open_allocator(alloc_kind::vgem);
	if (!alloc) {
		std::fprintf(stderr, "copy-client: %s\n", alloc.err().message.c_str());
		return 1;
	}
	constexpr int n_buffers = 2;
	std::vector<std::unique_ptr<dmabuf_bo>> bos;
	std::vector<wl_buffer *> buffers;
	for (int i = 0; i < n_buffers; i++) {
		auto bo = (*alloc)->allocate(uint32_t(w), uint32_t(h), 4);
		if (!bo) {
			std::fprintf(stderr, "copy-client: %s\n", bo.err().message.c_str());
			return 1;
		}
		zwp_linux_buffer_params_v1 *params =
		    zwp_linux_dmabuf_v1_create_params(a.base.dmabuf);
		zwp_linux_buffer_params_v1_add(params, (*bo)->fd(), 0, 0, (*bo)->stride(),
		                               uint32_t(DRM_FORMAT_MOD_LINEAR >> 32),
		                               uint32_t(DRM_FORMAT_MOD_LINEAR & 0xffffffff));
		buffers.push_back(zwp_linux_buffer_params_v1_create_immed(params, w, h, format, 0));
		zwp_linux_buffer_params_v1_destroy(params);
		bos.push_back(std::move(*bo));
	}

	a.window.create(a.base, "wlprime-copy-client");
	a.window.initial_commit();
	wl_surface *surface = a.window.surface;
	a.base.dispatch_until([&a] { return a.window.configured; });
	// Waits for the frame callback of the last commit; false if the
	// connection failed (or the window was closed) first.
	auto frame_done = [&a] {
		a.base.dispatch_until(
		    [&a] { return !a.frame.pending() || a.window.close_requested; });
		return !a.frame.pending();
	};

	int last_x = -1;
	for (int f = 0; f < frames; f++) {
		if (!frame_done()) {
			std::fprintf(stderr, "copy-client: connection lost at frame %d\n", f);
			return 1;
		}
		int x = square_x(f, w);
		dmabuf_bo &bo = *bos[size_t(f % n_buffers)];
		status s = bo.write([&](uint8_t *data) {
			for (int y = 0; y < h; y++) {
				auto *row =
				    reinterpret_cast<uint32_t *>(data + size_t(y) * bo.stride());
				for (int i = 0; i < w; i++)
					row[i] = bg;
				if (y >= square_y && y < square_y + square)
					for (int i = x; i < x + square; i++)
						row[i] = fg;
			}
		});
		if (!s) {
			std::fprintf(stderr, "copy-client: drawing: %s\n", s.err().message.c_str());
			return 1;
		}
		wl_surface_attach(surface, buffers[size_t(f % n_buffers)], 0, 0);
		if (f == 0) {
			wl_surface_damage_buffer(surface, 0, 0, w, h);
		} else {
			wl_surface_damage_buffer(surface, last_x, square_y, square, square);
			wl_surface_damage_buffer(surface, x, square_y, square, square);
		}
		a.frame.request(surface);
		wl_surface_commit(surface);
		if (f + 1 < frames)
			last_x = x;
		else
			last_x = f > 0 ? square_x(f - 1, w) : -1;
	}
	// The last frame is shown when its frame callback is done.
	if (!frame_done()) {
		std::fprintf(stderr,
		             "copy-client: connection lost before the last frame was done\n");
		return 1;
	}
	std::printf("copy-client: %dx%d %s LINEAR, %d frames, %d dma-bufs, square at %d,%d "
	            "(last at %d,%d)\n",
	            w, h, format_name.c_str(), frames, n_buffers, square_x(frames - 1, w), square_y,
	            last_x, square_y);
	std::fflush(stdout);
	if (background) {
		pid_t pid = fork();
		if (pid < 0) {
			std::fprintf(stderr, "copy-client: fork: %s\n", std::strerror(errno));
			return 1;
		}
		if (pid > 0) {
			// The child carries on with the connection and every proxy.
			std::fflush(nullptr);
			_exit(0);
		}
		a.base.dispatch_until([&a] { return a.window.close_requested; });
	}
	// Every proxy goes before the connection (LeakSanitizer in the
	// sanitizer build of the guest suites counts the ones left): the
	// window and the globals go with a.
	for (wl_buffer *b : buffers)
		wl_buffer_destroy(b);
	if (a.output != nullptr)
		wl_output_destroy(a.output);
	return 0;
}
