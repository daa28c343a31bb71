// In-process tests of the surface protocols beside xdg-shell: wp_viewporter
// (crop and scale composed, every protocol error), xdg-decoration (always
// client_side) and wp_presentation (presented on the headless output with
// what its backend reports, discarded when not shown). A headless wlprime
// and a raw client on the test's thread (harness.hpp).

#include <csignal>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include <drm_fourcc.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compositor/server.hpp"
#include "compositor/surface_feedback.hpp"
#include "import/unique_fd.hpp"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "presentation-time-client-protocol.h"
#include "tests/clients/client_base.hpp"
#include "tests/clients/presentation_log.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/compositor/model_fixture.hpp"
#include "viewporter-client-protocol.h"
#include "xdg-decoration-unstable-v1-client-protocol.h"

namespace wlprime {
namespace {

// The test pattern: 20x20 cells, each of its own colour.
constexpr int cell = 20;
uint32_t cell_color(int i, int j) {
	return 0xff000000u | uint32_t(i * 60 + 30) << 16 | uint32_t(j * 60 + 30) << 8 | 0x80u;
}

// A client that binds what these tests need besides client_base's globals.
struct client {
	explicit client(bool dmabuf)
	    : base({.compositor = true,
	            .shm = true,
	            .wm_base = true,
	            .dmabuf_max = dmabuf ? 4u : 0u}) {}

	clients::client_base base;
	wp_viewporter *viewporter = nullptr;
	clients::presentation_log presentation;
	zxdg_decoration_manager_v1 *decorations = nullptr;
	wl_output *output = nullptr;
	bool globals_done = false;

	~client() {
		if (viewporter != nullptr)
			wp_viewporter_destroy(viewporter);
		if (decorations != nullptr)
			zxdg_decoration_manager_v1_destroy(decorations);
		if (output != nullptr)
			wl_output_destroy(output);
	}

	// The protocol error the compositor posted: "interface code", or "" if
	// none.
	std::string error() const {
		if (wl_display_get_error(base.display) == 0)
			return "";
		const wl_interface *interface = nullptr;
		uint32_t id = 0;
		uint32_t code = wl_display_get_protocol_error(base.display, &interface, &id);
		return std::string(interface != nullptr ? interface->name : "?") + " " +
		       std::to_string(code);
	}
};

// dmabuf: bind zwp_linux_dmabuf_v1 too.
std::unique_ptr<client> connect_client(harness &h, bool dmabuf = false) {
	auto c = std::make_unique<client>(dmabuf);
	client *self = c.get();
	c->base.on_global = [self](wl_registry *registry, uint32_t name, std::string_view interface,
	                           uint32_t) {
		if (interface == wp_viewporter_interface.name) {
			clients::bind_once(registry, name, wp_viewporter_interface, 1,
			                   &self->viewporter);
		} else if (interface == wp_presentation_interface.name) {
			self->presentation.on_global(registry, name, std::string(interface));
		} else if (interface == zxdg_decoration_manager_v1_interface.name) {
			clients::bind_once(registry, name, zxdg_decoration_manager_v1_interface, 1,
			                   &self->decorations);
		} else if (interface == wl_output_interface.name) {
			clients::bind_once(registry, name, wl_output_interface, 1, &self->output);
		}
	};
	std::string err;
	if (!c->base.connect(h.socket().c_str(), &err, [self] { self->globals_done = true; })) {
		ADD_FAILURE() << err;
		return nullptr;
	}
	h.attach(c->base.display);
	if (!h.run_until([self] { return self->globals_done; })) {
		ADD_FAILURE() << "the globals never came";
		return nullptr;
	}
	return c;
}

// A width x height ARGB8888 wl_shm buffer of the cell pattern.
wl_buffer *pattern_buffer(wl_shm *shm, int width, int height) {
	const int stride = width * 4;
	const std::size_t size = std::size_t(stride) * std::size_t(height);
	unique_fd fd(memfd_create("wlprime-pattern", MFD_CLOEXEC));
	if (!fd || ftruncate(fd.get(), off_t(size)) != 0)
		return nullptr;
	void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	if (map == MAP_FAILED)
		return nullptr;
	auto *px = static_cast<uint32_t *>(map);
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++)
			px[y * width + x] = cell_color(x / cell, y / cell);
	munmap(map, size);
	wl_shm_pool *pool = wl_shm_create_pool(shm, fd.get(), int32_t(size));
	wl_buffer *buffer =
	    wl_shm_pool_create_buffer(pool, 0, width, height, stride, WL_SHM_FORMAT_ARGB8888);
	wl_shm_pool_destroy(pool);
	return buffer;
}

// A mapped toplevel whose surface shows the 80x80 pattern through a
// viewport; the test sets the viewport before show().
struct viewported_window {
	client &c;
	clients::xdg_window win;
	wp_viewport *viewport = nullptr;
	wl_buffer *buffer = nullptr;
	clients::frame_pacer frames;

	explicit viewported_window(client &cl) : c(cl) {
		win.create(c.base, "viewport test");
		viewport = wp_viewporter_get_viewport(c.viewporter, win.surface);
		buffer = pattern_buffer(c.base.shm, 80, 80);
		win.initial_commit();
	}
	~viewported_window() {
		frames.cancel();
		if (viewport != nullptr)
			wp_viewport_destroy(viewport);
		if (buffer != nullptr)
			wl_buffer_destroy(buffer);
	}
	// Commits (with the buffer if attach) and waits for the frame after it.
	bool commit(harness &h, bool attach) {
		if (attach) {
			wl_surface_attach(win.surface, buffer, 0, 0);
			wl_surface_damage_buffer(win.surface, 0, 0, 80, 80);
		}
		int before = frames.done_count();
		frames.request(win.surface);
		wl_surface_commit(win.surface);
		return h.run_until([&] { return frames.done_count() > before; });
	}
};

// The window's surface origin: wlprime centres a new window on the 640x480
// output.
struct origin {
	int x, y;
};
origin centred(int width, int height) {
	return {(640 - width) / 2, (480 - height) / 2};
}

// A harness, a client and a configured viewported_window.
class Viewport : public ::testing::Test {
protected:
	void SetUp() override {
		ASSERT_TRUE(h.ok()) << h.start_error();
		c = connect_client(h);
		ASSERT_NE(c, nullptr);
		ASSERT_NE(c->viewporter, nullptr) << "wp_viewporter is not advertised";
		w = std::make_unique<viewported_window>(*c);
		ASSERT_TRUE(h.run_until([&] { return w->win.configured; }));
	}
	harness h;
	std::unique_ptr<client> c;
	std::unique_ptr<viewported_window> w;
};

TEST_F(Viewport, CropAndScaleComposeTheRightPixels) {

	// Cells (1,1)..(2,2) of the 4x4 pattern, shown twice their size.
	wp_viewport_set_source(w->viewport, wl_fixed_from_int(20), wl_fixed_from_int(20),
	                       wl_fixed_from_int(40), wl_fixed_from_int(40));
	wp_viewport_set_destination(w->viewport, 120, 120);
	ASSERT_TRUE(w->commit(h, true));
	ASSERT_EQ(c->error(), "");
	EXPECT_EQ(h.srv().viewports().cropped_surfaces(), 1);

	image frame = h.capture();
	origin o = centred(120, 120);
	for (int a = 0; a < 2; a++) {
		for (int b = 0; b < 2; b++) {
			SCOPED_TRACE("on-screen cell " + std::to_string(a) + "," +
			             std::to_string(b));
			uint32_t want = rgb(cell_color(1 + a, 1 + b));
			EXPECT_EQ(rgb(frame.at(o.x + 60 * a + 30, o.y + 60 * b + 30)), want);
			EXPECT_EQ(rgb(frame.at(o.x + 60 * a + 3, o.y + 60 * b + 3)), want);
			EXPECT_EQ(rgb(frame.at(o.x + 60 * a + 56, o.y + 60 * b + 56)), want);
		}
	}
	// 120x120, not the buffer's 80x80 nor the crop's 40x40.
	EXPECT_EQ(rgb(frame.at(o.x - 1, o.y + 60)), background);
	EXPECT_EQ(rgb(frame.at(o.x + 120, o.y + 60)), background);
	EXPECT_EQ(rgb(frame.at(o.x + 60, o.y - 1)), background);
	EXPECT_EQ(rgb(frame.at(o.x + 60, o.y + 120)), background);

	// Unset: the whole buffer 1:1 again, from the same origin (the window
	// is not moved), and the crop view is gone.
	wp_viewport_set_source(w->viewport, wl_fixed_from_int(-1), wl_fixed_from_int(-1),
	                       wl_fixed_from_int(-1), wl_fixed_from_int(-1));
	wp_viewport_set_destination(w->viewport, -1, -1);
	ASSERT_TRUE(w->commit(h, false));
	EXPECT_EQ(h.srv().viewports().cropped_surfaces(), 0);
	frame = h.capture();
	EXPECT_EQ(rgb(frame.at(o.x + 10, o.y + 10)), rgb(cell_color(0, 0)));
	EXPECT_EQ(rgb(frame.at(o.x + 70, o.y + 70)), rgb(cell_color(3, 3)));
	EXPECT_EQ(rgb(frame.at(o.x + 79, o.y + 10)), rgb(cell_color(3, 0)));
	EXPECT_EQ(rgb(frame.at(o.x + 80, o.y + 10)), background);
	EXPECT_EQ(c->error(), "");
}

TEST_F(Viewport, CropMovedOverTheSameBufferIsRedrawn) {

	// 40x40 of the buffer at 1:1: cells (2,0), (3,0), (2,1), (3,1).
	wp_viewport_set_source(w->viewport, wl_fixed_from_int(40), wl_fixed_from_int(0),
	                       wl_fixed_from_int(40), wl_fixed_from_int(40));
	ASSERT_TRUE(w->commit(h, true));
	origin o = centred(40, 40);
	image frame = h.capture();
	EXPECT_EQ(rgb(frame.at(o.x + 10, o.y + 10)), rgb(cell_color(2, 0)));
	EXPECT_EQ(rgb(frame.at(o.x + 30, o.y + 30)), rgb(cell_color(3, 1)));
	EXPECT_EQ(rgb(frame.at(o.x + 40, o.y + 10)), background);

	// The crop moves; no new buffer, no damage from the client. The output's
	// next frame must redraw the surface (a capture renders everything, so
	// it cannot tell): the damage it commits covers the surface.
	wlr_output *out = h.srv().first_output()->wlr();
	pixman_region32_t damaged;
	pixman_region32_init(&damaged);
	listener<wlr_output_event_precommit *> precommit;
	precommit.connect(&out->events.precommit, [&](wlr_output_event_precommit *) {
		if (out->pending.committed & WLR_OUTPUT_STATE_DAMAGE) {
			pixman_region32_union(&damaged, &damaged, &out->pending.damage);
		}
	});
	wp_viewport_set_source(w->viewport, wl_fixed_from_int(0), wl_fixed_from_int(40),
	                       wl_fixed_from_int(40), wl_fixed_from_int(40));
	ASSERT_TRUE(w->commit(h, false));
	pixman_box32_t surface_box = {o.x, o.y, o.x + 40, o.y + 40};
	EXPECT_EQ(pixman_region32_contains_rectangle(&damaged, &surface_box), PIXMAN_REGION_IN)
	    << "the moved crop was not redrawn";
	precommit.disconnect();
	pixman_region32_fini(&damaged);
	frame = h.capture();
	EXPECT_EQ(rgb(frame.at(o.x + 10, o.y + 10)), rgb(cell_color(0, 2)));
	EXPECT_EQ(rgb(frame.at(o.x + 30, o.y + 30)), rgb(cell_color(1, 3)));
	EXPECT_EQ(c->error(), "");
}

TEST_F(Viewport, ScaleOnlyStretchesTheWholeBuffer) {

	wp_viewport_set_destination(w->viewport, 160, 240); // x2 wide, x3 high
	ASSERT_TRUE(w->commit(h, true));
	EXPECT_EQ(h.srv().viewports().cropped_surfaces(), 0); // no crop view needed
	origin o = centred(160, 240);
	image frame = h.capture();
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 4; j++) {
			SCOPED_TRACE("cell " + std::to_string(i) + "," + std::to_string(j));
			EXPECT_EQ(rgb(frame.at(o.x + 40 * i + 20, o.y + 60 * j + 30)),
			          rgb(cell_color(i, j)));
		}
	}
	EXPECT_EQ(rgb(frame.at(o.x + 160, o.y + 30)), background);
	EXPECT_EQ(rgb(frame.at(o.x + 20, o.y + 240)), background);
}

// The cell pattern in a linux-dmabuf buffer: a dma-buf of the kernel model
// (the main device's foreign dma-bufs), drawn through its mapping.
class ViewportDmabuf : public ModelHarnessTest {};

TEST_F(ViewportDmabuf, CropOfADmabufIsShownFromItsOrigin) {
	auto c = connect_client(h(), true);
	ASSERT_NE(c, nullptr);
	ASSERT_NE(c->base.dmabuf, nullptr) << "zwp_linux_dmabuf_v1 is not advertised";
	const int size = 80, stride = size * 4;
	unique_fd fd = kernel_.create_foreign_dmabuf(uint64_t(stride) * size);
	ASSERT_TRUE(fd);
	void *map =
	    mmap(nullptr, size_t(stride) * size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	ASSERT_NE(map, MAP_FAILED);
	auto *px = static_cast<uint32_t *>(map);
	for (int y = 0; y < size; y++)
		for (int x = 0; x < size; x++)
			px[y * size + x] = cell_color(x / cell, y / cell);
	munmap(map, size_t(stride) * size);
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c->base.dmabuf);
	zwp_linux_buffer_params_v1_add(params, fd.get(), 0, 0, stride, 0, 0); // LINEAR
	wl_buffer *buffer =
	    zwp_linux_buffer_params_v1_create_immed(params, size, size, DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);

	viewported_window w(*c);
	ASSERT_TRUE(h().run_until([&] { return w.win.configured; }));
	wl_buffer_destroy(w.buffer);
	w.buffer = buffer; // the window's from now on
	// Cells (2,1), (3,1), (2,2), (3,2), twice their size.
	wp_viewport_set_source(w.viewport, wl_fixed_from_int(40), wl_fixed_from_int(20),
	                       wl_fixed_from_int(40), wl_fixed_from_int(40));
	wp_viewport_set_destination(w.viewport, 80, 80);
	ASSERT_TRUE(w.commit(h(), true));
	ASSERT_EQ(c->error(), "");
	EXPECT_EQ(srv().viewports().cropped_surfaces(), 1);
	origin o = centred(80, 80);
	image frame = h().capture();
	for (int a = 0; a < 2; a++) {
		for (int b = 0; b < 2; b++) {
			SCOPED_TRACE("on-screen cell " + std::to_string(a) + "," +
			             std::to_string(b));
			EXPECT_EQ(rgb(frame.at(o.x + 40 * a + 20, o.y + 40 * b + 20)),
			          rgb(cell_color(2 + a, 1 + b)));
		}
	}
	EXPECT_EQ(rgb(frame.at(o.x + 80, o.y + 20)), background);
	// Read through the Import's mapping (dmabuf_buffer's data-ptr access).
	EXPECT_GE(srv().context()->cache().stats().mappings, 1u);
}

TEST_F(ViewportDmabuf, CropOfAnNv12BufferShowsItsConvertedPicture) {
	// 80x80 NV12 on one dma-buf: luma 40 left of x = 40, 200 right of it,
	// chroma neutral (grey). The crop is the right half: the window must be
	// all light grey.
	auto c = connect_client(h(), true);
	ASSERT_NE(c, nullptr);
	ASSERT_NE(c->base.dmabuf, nullptr);
	const int size = 80;
	const uint64_t bytes = uint64_t(size) * size * 3 / 2;
	unique_fd fd = kernel_.create_foreign_dmabuf(bytes);
	ASSERT_TRUE(fd);
	void *map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
	ASSERT_NE(map, MAP_FAILED);
	auto *luma = static_cast<uint8_t *>(map);
	for (int y = 0; y < size; y++)
		for (int x = 0; x < size; x++)
			luma[y * size + x] = x < 40 ? 40 : 200;
	std::memset(luma + size * size, 128, size * size / 2);
	munmap(map, bytes);
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c->base.dmabuf);
	zwp_linux_buffer_params_v1_add(params, fd.get(), 0, 0, size, 0, 0);
	zwp_linux_buffer_params_v1_add(params, fd.get(), 1, size * size, size, 0, 0);
	wl_buffer *buffer =
	    zwp_linux_buffer_params_v1_create_immed(params, size, size, DRM_FORMAT_NV12, 0);
	zwp_linux_buffer_params_v1_destroy(params);

	viewported_window w(*c);
	ASSERT_TRUE(h().run_until([&] { return w.win.configured; }));
	wl_buffer_destroy(w.buffer);
	w.buffer = buffer;
	wp_viewport_set_source(w.viewport, wl_fixed_from_int(40), 0, wl_fixed_from_int(40),
	                       wl_fixed_from_int(80));
	ASSERT_TRUE(w.commit(h(), true));
	ASSERT_EQ(c->error(), "");
	EXPECT_EQ(srv().viewports().cropped_surfaces(), 1);
	origin o = centred(40, 80);
	image frame = h().capture();
	for (int x : {1, 20, 38}) {
		uint32_t px = rgb(frame.at(o.x + x, o.y + 40));
		SCOPED_TRACE("x " + std::to_string(x) + ": " + std::to_string(px));
		EXPECT_GT(px & 0xff, 180u);     // light (luma 200), not dark (luma 40)
		EXPECT_EQ(px >> 16, px & 0xff); // grey
	}
	EXPECT_EQ(rgb(frame.at(o.x + 40, o.y + 40)), background);
}

// A program run beside the test, on the harness's socket; killed at the end.
class child_program {
public:
	child_program(harness &h, std::vector<std::string> argv) {
		setenv("WAYLAND_DISPLAY", h.socket().c_str(), 1);
		std::vector<char *> args;
		for (std::string &a : argv)
			args.push_back(a.data());
		args.push_back(nullptr);
		if (posix_spawnp(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0)
			pid_ = -1;
	}
	~child_program() {
		if (pid_ > 0) {
			// SIGKILL: a Wayland client asked to stop waits for its next
			// frame, which this (not pumping) cannot give it.
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}
	child_program(const child_program &) = delete;
	child_program &operator=(const child_program &) = delete;
	bool started() const { return pid_ > 0; }

private:
	pid_t pid_ = -1;
};

TEST(ViewportRealClient, WestonSimpleDamageCropIsShownFromItsOrigin) {
	// weston-simple-damage --use-viewport draws a white-bordered box at
	// (width/3, height/5) of a buffer it fills with red elsewhere, and crops
	// and scales the box to the whole window: red must never show, and the
	// white border must frame the window.
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	child_program client(
	    h, {"weston-simple-damage", "--use-viewport", "--width=300", "--height=200"});
	ASSERT_TRUE(client.started()) << "weston-simple-damage (Debian's weston) is needed";
	origin o = centred(300, 200);
	auto framed = [&](const image &frame) {
		const uint32_t white = 0xffffff;
		return rgb(frame.at(o.x + 2, o.y + 100)) == white &&
		       rgb(frame.at(o.x + 297, o.y + 100)) == white &&
		       rgb(frame.at(o.x + 150, o.y + 2)) == white &&
		       rgb(frame.at(o.x + 150, o.y + 197)) == white;
	};
	ASSERT_TRUE(h.run_until([&] { return framed(h.capture()); }))
	    << "the white border never framed the 300x200 window";
	image frame = h.capture();
	int red = 0;
	for (int y = 0; y < frame.height; y++)
		for (int x = 0; x < frame.width; x++)
			red += rgb(frame.at(x, y)) == 0xff0000 ? 1 : 0;
	EXPECT_EQ(red, 0) << "pixels from outside the crop are shown";
	EXPECT_EQ(h.srv().viewports().cropped_surfaces(), 1);
}

// How the output's frames were made: composed into the output's own buffer
// (wlr_output_event_commit::buffer set), or a client buffer shown directly.
struct frame_counts {
	int composed = 0;
	int direct = 0;
};

// A fullscreen window showing a width x height buffer through `viewport`
// (called before the commit); returns how its first frame was made.
void fullscreen_frame(int width, int height, const std::function<void(wp_viewport *)> &viewport,
                      frame_counts *counted) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto c = connect_client(h);
	ASSERT_NE(c, nullptr);
	wlr_output *out = h.srv().first_output()->wlr();
	listener<wlr_output_event_commit *> commit;
	commit.connect(&out->events.commit, [counted](wlr_output_event_commit *event) {
		if ((event->committed & WLR_OUTPUT_STATE_BUFFER) != 0)
			(event->buffer != nullptr ? counted->composed : counted->direct)++;
	});
	clients::xdg_window win;
	win.create(c->base, "fullscreen viewport");
	xdg_toplevel_set_fullscreen(win.toplevel, nullptr);
	win.initial_commit();
	ASSERT_TRUE(h.run_until([&] { return win.configured; }));
	ASSERT_EQ(win.width, 640);
	ASSERT_EQ(win.height, 480);
	wp_viewport *vp = wp_viewporter_get_viewport(c->viewporter, win.surface);
	viewport(vp);
	wl_buffer *buffer = pattern_buffer(c->base.shm, width, height);
	wl_surface_attach(win.surface, buffer, 0, 0);
	wl_surface_damage_buffer(win.surface, 0, 0, width, height);
	clients::frame_pacer frames;
	frames.request(win.surface);
	wl_surface_commit(win.surface);
	ASSERT_TRUE(h.run_until([&] { return frames.done_count() > 0; }));
	ASSERT_EQ(c->error(), "");
	commit.disconnect();
	frames.cancel();
	wp_viewport_destroy(vp);
	wl_buffer_destroy(buffer);
}

TEST(ViewportScanout, PlainFullscreenBufferIsShownDirectly) {
	// The control: the headless output takes a client buffer that covers it
	// 1:1 directly, so the tests below can see a direct scanout.
	frame_counts counted;
	fullscreen_frame(
	    640, 480, [](wp_viewport *) {}, &counted);
	EXPECT_GT(counted.direct, 0);
}

TEST(ViewportScanout, CroppedFullscreenBufferIsComposed) {
	frame_counts counted;
	fullscreen_frame(
	    1280, 960,
	    [](wp_viewport *vp) {
		    wp_viewport_set_source(vp, wl_fixed_from_int(320), wl_fixed_from_int(240),
		                           wl_fixed_from_int(640), wl_fixed_from_int(480));
	    },
	    &counted);
	EXPECT_EQ(counted.direct, 0);
	EXPECT_GT(counted.composed, 0);
}

TEST(ViewportScanout, ScaledFullscreenBufferIsComposed) {
	frame_counts counted;
	fullscreen_frame(
	    320, 240, [](wp_viewport *vp) { wp_viewport_set_destination(vp, 640, 480); }, &counted);
	EXPECT_EQ(counted.direct, 0);
	EXPECT_GT(counted.composed, 0);
}

// --- protocol errors -------------------------------------------------------------

// A surface without a role, with a viewport and an 80x80 buffer attached.
struct bare_surface {
	client &c;
	wl_surface *surface = nullptr;
	wp_viewport *viewport = nullptr;
	wl_buffer *buffer = nullptr;

	explicit bare_surface(client &cl) : c(cl) {
		surface = wl_compositor_create_surface(c.base.compositor);
		viewport = wp_viewporter_get_viewport(c.viewporter, surface);
		buffer = pattern_buffer(c.base.shm, 80, 80);
		wl_surface_attach(surface, buffer, 0, 0);
	}
	~bare_surface() {
		if (viewport != nullptr)
			wp_viewport_destroy(viewport);
		if (surface != nullptr)
			wl_surface_destroy(surface);
		if (buffer != nullptr)
			wl_buffer_destroy(buffer);
	}
};

// Sends what `send` sends and returns the protocol error that follows ("" if
// a round trip passes without one).
template <class F>
std::string error_after(harness &h, client &c, F send) {
	send();
	wl_callback *sync = wl_display_sync(c.base.display);
	bool synced = false;
	static const wl_callback_listener listener = {
	    .done = [](void *data, wl_callback *, uint32_t) { *static_cast<bool *>(data) = true; }};
	wl_callback_add_listener(sync, &listener, &synced);
	h.run_until([&] { return synced || wl_display_get_error(c.base.display) != 0; });
	wl_callback_destroy(sync);
	return c.error();
}

std::string viewport_error(uint32_t code) {
	return "wp_viewport " + std::to_string(code);
}

class ViewportErrors : public ::testing::Test {
protected:
	void SetUp() override {
		ASSERT_TRUE(h.ok()) << h.start_error();
		c = connect_client(h);
		ASSERT_NE(c, nullptr);
		ASSERT_NE(c->viewporter, nullptr);
		s = std::make_unique<bare_surface>(*c);
	}
	void TearDown() override {
		if (c != nullptr)
			h.detach(c->base.display);
	}
	harness h;
	std::unique_ptr<client> c;
	std::unique_ptr<bare_surface> s;
};

TEST_F(ViewportErrors, ValidRequestsPostNone) {
	// The control: the same requests as below, with good values.
	EXPECT_EQ(error_after(h, *c,
	                      [&] {
		                      wp_viewport_set_source(
		                          s->viewport, wl_fixed_from_double(10.5), 0,
		                          wl_fixed_from_double(20.5), wl_fixed_from_int(80));
		                      wp_viewport_set_destination(s->viewport, 41, 160);
		                      wl_surface_commit(s->surface);
	                      }),
	          "");
	EXPECT_EQ(error_after(h, *c,
	                      [&] {
		                      wp_viewport_set_destination(s->viewport, -1, -1);
		                      wp_viewport_set_source(s->viewport, 0, 0,
		                                             wl_fixed_from_int(80),
		                                             wl_fixed_from_int(80));
		                      wl_surface_commit(s->surface);
	                      }),
	          "");
}

TEST_F(ViewportErrors, NegativeSourceIsBadValue) {
	EXPECT_EQ(error_after(h, *c,
	                      [&] {
		                      wp_viewport_set_source(s->viewport, wl_fixed_from_int(-2), 0,
		                                             wl_fixed_from_int(10),
		                                             wl_fixed_from_int(10));
	                      }),
	          viewport_error(WP_VIEWPORT_ERROR_BAD_VALUE));
}

TEST_F(ViewportErrors, EmptySourceIsBadValue) {
	EXPECT_EQ(error_after(
	              h, *c,
	              [&] { wp_viewport_set_source(s->viewport, 0, 0, 0, wl_fixed_from_int(10)); }),
	          viewport_error(WP_VIEWPORT_ERROR_BAD_VALUE));
}

TEST_F(ViewportErrors, ZeroDestinationIsBadValue) {
	EXPECT_EQ(error_after(h, *c, [&] { wp_viewport_set_destination(s->viewport, 0, 10); }),
	          viewport_error(WP_VIEWPORT_ERROR_BAD_VALUE));
}

TEST_F(ViewportErrors, FractionalSourceWithoutDestinationIsBadSize) {
	EXPECT_EQ(error_after(h, *c,
	                      [&] {
		                      wp_viewport_set_source(s->viewport, 0, 0,
		                                             wl_fixed_from_double(10.5),
		                                             wl_fixed_from_int(10));
		                      wl_surface_commit(s->surface);
	                      }),
	          viewport_error(WP_VIEWPORT_ERROR_BAD_SIZE));
}

TEST_F(ViewportErrors, SourceBeyondTheBufferIsOutOfBuffer) {
	EXPECT_EQ(error_after(h, *c,
	                      [&] {
		                      wp_viewport_set_source(s->viewport, wl_fixed_from_int(50), 0,
		                                             wl_fixed_from_int(31),
		                                             wl_fixed_from_int(10));
		                      wl_surface_commit(s->surface);
	                      }),
	          viewport_error(WP_VIEWPORT_ERROR_OUT_OF_BUFFER));
}

TEST_F(ViewportErrors, SourceBeyondTheScaledContentIsOutOfBuffer) {
	// Buffer scale 2: the 80x80 buffer is 40x40 of content.
	EXPECT_EQ(error_after(h, *c,
	                      [&] {
		                      wl_surface_set_buffer_scale(s->surface, 2);
		                      wp_viewport_set_source(s->viewport, 0, 0,
		                                             wl_fixed_from_int(41),
		                                             wl_fixed_from_int(10));
		                      wl_surface_commit(s->surface);
	                      }),
	          viewport_error(WP_VIEWPORT_ERROR_OUT_OF_BUFFER));
}

TEST_F(ViewportErrors, RequestAfterTheSurfaceIsGoneIsNoSurface) {
	wl_surface_destroy(s->surface);
	s->surface = nullptr;
	EXPECT_EQ(error_after(h, *c, [&] { wp_viewport_set_destination(s->viewport, 10, 10); }),
	          viewport_error(WP_VIEWPORT_ERROR_NO_SURFACE));
}

TEST_F(ViewportErrors, SecondViewportIsViewportExists) {
	wp_viewport *second = nullptr;
	EXPECT_EQ(
	    error_after(h, *c,
	                [&] { second = wp_viewporter_get_viewport(c->viewporter, s->surface); }),
	    "wp_viewporter " + std::to_string(WP_VIEWPORTER_ERROR_VIEWPORT_EXISTS));
	wp_viewport_destroy(second);
}

// --- xdg-decoration --------------------------------------------------------------

struct decoration_record {
	std::vector<uint32_t> modes; // every configure's mode, in order
};

void decoration_configure(void *data, zxdg_toplevel_decoration_v1 *, uint32_t mode) {
	static_cast<decoration_record *>(data)->modes.push_back(mode);
}
const zxdg_toplevel_decoration_v1_listener decoration_listener = {.configure =
                                                                      decoration_configure};

TEST(Decoration, EveryRequestIsAnsweredClientSide) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto c = connect_client(h);
	ASSERT_NE(c, nullptr);
	ASSERT_NE(c->decorations, nullptr) << "zxdg_decoration_manager_v1 is not advertised";

	clients::xdg_window win;
	win.create(c->base, "decoration test");
	decoration_record record;
	zxdg_toplevel_decoration_v1 *deco =
	    zxdg_decoration_manager_v1_get_toplevel_decoration(c->decorations, win.toplevel);
	zxdg_toplevel_decoration_v1_add_listener(deco, &decoration_listener, &record);
	zxdg_toplevel_decoration_v1_set_mode(deco, ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
	int configures = 0;
	win.on_configure = [&](uint32_t) { configures++; };
	win.initial_commit();
	// The decoration's configure comes before the xdg_surface.configure it
	// belongs to.
	ASSERT_TRUE(h.run_until([&] { return win.configured; }));
	ASSERT_FALSE(record.modes.empty()) << "no decoration configure with the first configure";
	for (uint32_t mode : record.modes) {
		EXPECT_EQ(mode, uint32_t(ZXDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE));
	}

	ASSERT_EQ(record.modes.size(), 1u);

	// Asked again, for server_side, then for the compositor's choice: each
	// time an xdg_surface.configure, and the mode stays client_side (wlroots
	// sends the decoration's configure only when the mode changes).
	for (bool unset : {false, true}) {
		SCOPED_TRACE(unset ? "unset_mode" : "set_mode server_side");
		int configures_before = configures;
		if (unset)
			zxdg_toplevel_decoration_v1_unset_mode(deco);
		else
			zxdg_toplevel_decoration_v1_set_mode(
			    deco, ZXDG_TOPLEVEL_DECORATION_V1_MODE_SERVER_SIDE);
		ASSERT_TRUE(h.run_until([&] { return configures > configures_before; }));
		for (uint32_t mode : record.modes) {
			EXPECT_EQ(mode, uint32_t(ZXDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE));
		}
	}
	EXPECT_EQ(c->error(), "");
	EXPECT_EQ(h.srv().decorations().decorations(), 1u);

	zxdg_toplevel_decoration_v1_destroy(deco);
	ASSERT_TRUE(h.run_until([&] { return h.srv().decorations().decorations() == 0; }));
}

// --- wp_presentation -------------------------------------------------------------

uint64_t ns_of(const timespec &t) {
	return uint64_t(t.tv_sec) * 1000000000u + uint64_t(t.tv_nsec);
}

TEST(Presentation, ShownFrameIsPresentedWithTheHeadlessBackendsValues) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto c = connect_client(h);
	ASSERT_NE(c, nullptr);
	ASSERT_TRUE(c->presentation.bound()) << "wp_presentation is not advertised";
	ASSERT_NE(c->output, nullptr);

	clients::xdg_window win;
	win.create(c->base, "presentation test");
	win.initial_commit();
	ASSERT_TRUE(h.run_until([&] { return win.configured; }));
	wl_buffer *buffer = pattern_buffer(c->base.shm, 64, 64);
	ASSERT_NE(buffer, nullptr);

	for (int frame = 0; frame < 3; frame++) {
		SCOPED_TRACE("frame " + std::to_string(frame));
		timespec before{};
		clock_gettime(CLOCK_MONOTONIC, &before);
		c->presentation.request(win.surface, frame);
		wl_surface_attach(win.surface, buffer, 0, 0);
		wl_surface_damage_buffer(win.surface, 0, 0, 64, 64);
		wl_surface_commit(win.surface);
		const auto &frames = c->presentation.frames();
		ASSERT_TRUE(h.run_until([&] { return frames.back().done; }))
		    << "neither presented nor discarded";
		timespec after{};
		clock_gettime(CLOCK_MONOTONIC, &after);
		const clients::presented_frame &record = frames.back();
		ASSERT_TRUE(record.presented) << "discarded";
		// When: on the presentation clock, between the commit and the event.
		EXPECT_LT(record.tv_nsec, 1000000000u);
		EXPECT_GE(record.when_ns, ns_of(before));
		EXPECT_LE(record.when_ns, ns_of(after));
		// What wlroots 0.15.1's headless backend reports: no refresh
		// period, no counter, no flags (no vsync, no hardware clock or
		// completion, no zero-copy: it composes into its own buffer).
		EXPECT_EQ(record.refresh_ns, 0u);
		EXPECT_EQ(record.seq, 0u);
		EXPECT_EQ(record.flags, 0u);
		EXPECT_EQ(record.sync_outputs, 1);
		EXPECT_EQ(record.synced_output, c->output);
	}
	wl_buffer_destroy(buffer);
	// The headless backend's presentation clock (wp_presentation.clock_id).
	EXPECT_EQ(c->presentation.clock_id(), uint32_t(CLOCK_MONOTONIC));
	EXPECT_EQ(c->error(), "");
}

TEST(Presentation, FrameOfASurfaceNotShownIsDiscarded) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto c = connect_client(h);
	ASSERT_NE(c, nullptr);
	ASSERT_TRUE(c->presentation.bound());

	// No role: never in the scene.
	wl_surface *surface = wl_compositor_create_surface(c->base.compositor);
	wl_buffer *buffer = pattern_buffer(c->base.shm, 64, 64);
	c->presentation.request(surface, 0);
	wl_surface_attach(surface, buffer, 0, 0);
	wl_surface_commit(surface);
	// The next content replaces it: the first frame was never shown.
	c->presentation.request(surface, 1);
	wl_surface_commit(surface);
	const auto &frames = c->presentation.frames();
	ASSERT_TRUE(h.run_until([&] { return frames[0].done; }));
	EXPECT_FALSE(frames[0].presented) << "presented, not discarded";
	// The second waits for a next commit or the surface's end.
	EXPECT_FALSE(frames[1].done);
	wl_surface_destroy(surface);
	ASSERT_TRUE(h.run_until([&] { return frames[1].done; }));
	EXPECT_FALSE(frames[1].presented) << "presented, not discarded";
	EXPECT_EQ(c->presentation.pending(), 0);
	wl_buffer_destroy(buffer);
	EXPECT_EQ(c->error(), "");
}

} // namespace
} // namespace wlprime

namespace wlprime {
namespace {

// The surface is its destination size for everything else too: input, the
// output it is on, frame callbacks (w->commit waits for one) and
// presentation feedback.
TEST_F(Viewport, DestinationSizeRulesInputOutputAndFeedback) {
	ASSERT_TRUE(c->presentation.bound());
	c->presentation.request(w->win.surface, 0);
	wp_viewport_set_source(w->viewport, wl_fixed_from_int(20), wl_fixed_from_int(20),
	                       wl_fixed_from_int(40), wl_fixed_from_int(40));
	wp_viewport_set_destination(w->viewport, 120, 120);
	ASSERT_TRUE(w->commit(h, true));
	ASSERT_TRUE(h.run_until([&] { return c->presentation.frames()[0].done; }));
	EXPECT_TRUE(c->presentation.frames()[0].presented) << "discarded";

	origin o = centred(120, 120);
	wlr_surface *surface = nullptr;
	double sx = 0, sy = 0;
	// Beyond the 40x40 crop and the 80x80 buffer, inside the destination.
	view *v = h.srv().view_at(o.x + 110.5, o.y + 100.5, &surface, &sx, &sy);
	ASSERT_NE(v, nullptr);
	EXPECT_EQ(surface, v->surface());
	EXPECT_DOUBLE_EQ(sx, 110.5);
	EXPECT_DOUBLE_EQ(sy, 100.5);
	EXPECT_EQ(h.srv().view_at(o.x + 120.5, o.y + 100.5, &surface, &sx, &sy), nullptr);

	wlr_scene_surface *node = find_scene_surface(&h.srv().scene()->node, v->surface());
	ASSERT_NE(node, nullptr);
	EXPECT_EQ(node->primary_output, h.srv().first_output()->wlr());
}

} // namespace
} // namespace wlprime
