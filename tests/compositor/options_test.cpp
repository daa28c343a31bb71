// Pure logic of the compositor: command line, device choice, backend choice,
// exit codes. No Wayland, no wlroots objects.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "compositor/backend.hpp"
#include "compositor/exec.hpp"
#include "compositor/options.hpp"
#include "compositor/render_device.hpp"
#include "import/drm_nodes.hpp"
#include "render/cpu_format.hpp"
#include "render/renderer_formats.hpp"

namespace wlprime {
namespace {

parsed_options parse(std::vector<const char *> args) {
	return parse_options(std::span<const char *const>(args.data(), args.size()));
}

TEST(Options, Defaults) {
	parsed_options p = parse({});
	ASSERT_EQ(p.what, parsed_options::action::run);
	EXPECT_FALSE(p.cfg.headless);
	EXPECT_FALSE(p.cfg.socket_name);
	EXPECT_FALSE(p.cfg.exec_command);
	EXPECT_FALSE(p.cfg.screenshot_path);
	EXPECT_FALSE(p.cfg.render_device);
	EXPECT_EQ(p.cfg.verbosity, 0);
}

TEST(Options, AllValuesBothSpellings) {
	parsed_options p = parse({"--headless", "1280x720", "--socket=wl-x", "--exec",
	                          "foot -e true", "--screenshot=/tmp/a.png", "--render-device",
	                          "/dev/dri/renderD128", "-v", "--verbose", "-vv"});
	ASSERT_EQ(p.what, parsed_options::action::run) << p.message;
	ASSERT_TRUE(p.cfg.headless);
	EXPECT_EQ(p.cfg.headless->width, 1280);
	EXPECT_EQ(p.cfg.headless->height, 720);
	EXPECT_EQ(p.cfg.socket_name, "wl-x");
	EXPECT_EQ(p.cfg.exec_command, "foot -e true");
	EXPECT_EQ(p.cfg.screenshot_path, "/tmp/a.png");
	EXPECT_EQ(p.cfg.render_device, "/dev/dri/renderD128");
	EXPECT_EQ(p.cfg.verbosity, 4);
}

TEST(Options, HelpAndVersionWin) {
	EXPECT_EQ(parse({"--headless", "10x10", "--help"}).what, parsed_options::action::help);
	EXPECT_EQ(parse({"-h"}).what, parsed_options::action::help);
	EXPECT_EQ(parse({"--version"}).what, parsed_options::action::version);
}

TEST(Options, ErrorsNameTheProblem) {
	struct bad {
		std::vector<const char *> args;
		const char *mentions;
	};
	for (const bad &b : std::vector<bad>{
	         {{"--frobnicate"}, "--frobnicate"},
	         {{"--exec"}, "--exec"},
	         {{"--exec="}, "--exec"},
	         {{"--headless", "axb"}, "WIDTHxHEIGHT"},
	         {{"--headless", "20000x10"}, "WIDTHxHEIGHT"},
	         {{"--socket", "/tmp/x"}, "--socket"},
	         {{"-x"}, "-x"},
	         {{"extra"}, "extra"},
	     }) {
		parsed_options p = parse(b.args);
		EXPECT_EQ(p.what, parsed_options::action::usage_error) << b.args[0];
		EXPECT_NE(p.message.find(b.mentions), std::string::npos) << p.message;
	}
}

TEST(Options, OutputSize) {
	output_size s;
	EXPECT_TRUE(parse_output_size("1x1", &s));
	EXPECT_TRUE(parse_output_size("16384x16384", &s));
	EXPECT_EQ(s.width, 16384);
	EXPECT_FALSE(parse_output_size("640", &s));
	EXPECT_FALSE(parse_output_size("640x", &s));
	EXPECT_FALSE(parse_output_size("x480", &s));
	EXPECT_FALSE(parse_output_size("-1x480", &s));
	EXPECT_FALSE(parse_output_size("640x480x3", &s));
	EXPECT_FALSE(parse_output_size("640 x480", &s));
}

class RenderDevice : public testing::Test {
protected:
	void SetUp() override {
		char dir_template[] = "/tmp/wlprime-dri-XXXXXX";
		ASSERT_NE(mkdtemp(dir_template), nullptr);
		dir_ = dir_template;
	}
	void TearDown() override { std::filesystem::remove_all(dir_); }
	void touch(const std::string &name) { std::ofstream(dir_ / name).put('x'); }
	std::filesystem::path dir_;
};

TEST_F(RenderDevice, PrefersLowestRenderNode) {
	for (const char *n : {"card0", "card1", "renderD129", "renderD128", "by-path"}) {
		touch(n);
	}
	EXPECT_EQ(find_main_drm_node(dir_), (dir_ / "renderD128").string());
}

TEST_F(RenderDevice, NumericNotLexicalOrder) {
	touch("card10");
	touch("card2");
	EXPECT_EQ(find_main_drm_node(dir_), (dir_ / "card2").string());
}

TEST_F(RenderDevice, None) {
	touch("controlD64x");
	touch("cardX");
	EXPECT_EQ(find_main_drm_node(dir_), std::nullopt);
	EXPECT_EQ(find_main_drm_node(dir_ / "missing"), std::nullopt);
}

TEST_F(RenderDevice, NodesListedInNumericOrderWithTheirErrno) {
	for (const char *n : {"renderD128", "card10", "card2", "by-path"}) {
		touch(n);
	}
	auto nodes = list_drm_nodes(dir_);
	ASSERT_TRUE(nodes) << nodes.err().message;
	ASSERT_EQ(nodes->size(), 3u);
	EXPECT_EQ((*nodes)[0].path, (dir_ / "card2").string());
	EXPECT_EQ((*nodes)[1].path, (dir_ / "card10").string());
	EXPECT_EQ((*nodes)[2].path, (dir_ / "renderD128").string());
	EXPECT_EQ((*nodes)[2].type, node_type::render);
	EXPECT_EQ((*nodes)[2].number, 128);
	// Plain files: drmGetVersion fails, and says why.
	EXPECT_EQ((*nodes)[0].open_errno, ENOTTY);
	EXPECT_EQ((*nodes)[0].driver, "");
	EXPECT_FALSE(list_drm_nodes(dir_ / "missing"));
}

TEST_F(RenderDevice, NoNodeOfTheDriverNamesWhatWasSeen) {
	touch("card0");
	auto node = find_drm_node("vgem", node_type::primary, dir_);
	ASSERT_FALSE(node);
	EXPECT_EQ(node.err().errnum, ENODEV);
	EXPECT_NE(node.err().message.find((dir_ / "card0").string() + " (" + std::strerror(ENOTTY)),
	          std::string::npos)
	    << node.err().message;
}

TEST_F(RenderDevice, PathMustBeACharacterDevice) {
	touch("renderD128");
	EXPECT_FALSE(check_drm_device_path((dir_ / "renderD128").string()).ok());
	EXPECT_FALSE(check_drm_device_path((dir_ / "missing").string()).ok());
	EXPECT_TRUE(check_drm_device_path("/dev/null").ok());
}

TEST(Backend, Pick) {
	config headless;
	headless.headless = output_size{640, 480};
	config plain;
	EXPECT_EQ(pick_backend(headless, {true, true}), backend_kind::headless);
	EXPECT_EQ(pick_backend(plain, {.has_wayland_display = true}), backend_kind::nested);
	EXPECT_EQ(pick_backend(plain, {.has_x11_display = true}), backend_kind::nested);
	EXPECT_EQ(pick_backend(plain, {}), backend_kind::kms);
}

TEST(Exec, ExitCodesLikeAShell) {
	EXPECT_EQ(exit_code_from_wait_status(0), 0);
	EXPECT_EQ(exit_code_from_wait_status(1 << 8), 1);
	EXPECT_EQ(exit_code_from_wait_status(42 << 8), 42);
	EXPECT_EQ(exit_code_from_wait_status(SIGKILL), 128 + SIGKILL);
	EXPECT_EQ(exit_code_from_wait_status(SIGSEGV | 0x80), 128 + SIGSEGV); // core dumped
}

} // namespace
} // namespace wlprime

namespace wlprime {
namespace {

TEST(Renderer, OptionTakesAutoGles2PixmanOnly) {
	EXPECT_FALSE(parse({}).cfg.renderer); // unset: main.cpp reads $WLPRIME_RENDERER
	EXPECT_EQ(parse({"--renderer", "gles2"}).cfg.renderer, renderer_request::gles2);
	EXPECT_EQ(parse({"--renderer=pixman"}).cfg.renderer, renderer_request::pixman);
	EXPECT_EQ(parse({"--renderer", "auto"}).cfg.renderer, renderer_request::automatic);
	parsed_options bad = parse({"--renderer", "vulkan"});
	EXPECT_EQ(bad.what, parsed_options::action::usage_error);
	EXPECT_NE(bad.message.find("'vulkan' is not auto, gles2 or pixman"), std::string::npos)
	    << bad.message;
}

TEST(OverlayPlanes, OnByDefaultOffWhenAsked) {
	EXPECT_TRUE(parse({}).cfg.overlay_planes);
	EXPECT_FALSE(parse({"--overlay-planes", "off"}).cfg.overlay_planes);
	EXPECT_TRUE(parse({"--overlay-planes=on"}).cfg.overlay_planes);
	parsed_options bad = parse({"--overlay-planes", "no"});
	EXPECT_EQ(bad.what, parsed_options::action::usage_error);
	EXPECT_NE(bad.message.find("'no' is not on or off"), std::string::npos) << bad.message;
}

render_device_facts device_of(const char *driver) {
	return {"/dev/dri/renderD128", driver, "/dev/dri/renderD128", "/dev/dri/card0"};
}

TEST(Renderer, AutoTakesGles2OnlyOnAGpuMesaRendersWith) {
	auto gpu = choose_renderer(renderer_request::automatic, device_of("amdgpu"));
	ASSERT_TRUE(gpu) << gpu.err().message;
	EXPECT_EQ(gpu->kind, renderer_kind::gles2);
	EXPECT_FALSE(gpu->software_gl);
	EXPECT_EQ(gpu->node, "/dev/dri/renderD128"); // a GPU renders on its render node
	EXPECT_NE(gpu->reason.find("amdgpu"), std::string::npos) << gpu->reason;

	for (const char *no_gpu : {"vgem", "vkms", "cirrus", "virtio_gpu"}) {
		auto c = choose_renderer(renderer_request::automatic, device_of(no_gpu));
		ASSERT_TRUE(c);
		EXPECT_EQ(c->kind, renderer_kind::pixman) << no_gpu;
		EXPECT_NE(c->reason.find("--renderer gles2"), std::string::npos) << c->reason;
	}
	auto none = choose_renderer(renderer_request::automatic, std::nullopt);
	ASSERT_TRUE(none);
	EXPECT_EQ(none->kind, renderer_kind::pixman);
}

TEST(Renderer, Gles2AskedOnNoGpuIsSoftwareGlOnThePrimaryNode) {
	auto c = choose_renderer(renderer_request::gles2, device_of("vgem"));
	ASSERT_TRUE(c) << c.err().message;
	EXPECT_EQ(c->kind, renderer_kind::gles2);
	EXPECT_TRUE(c->software_gl);
	EXPECT_EQ(c->node, "/dev/dri/card0");
	render_device_facts no_primary = device_of("vgem");
	no_primary.primary_node.clear();
	EXPECT_FALSE(choose_renderer(renderer_request::gles2, no_primary));
	EXPECT_FALSE(choose_renderer(renderer_request::gles2, std::nullopt));
}

constexpr uint64_t y_tiled = 0x0100000000000002ull; // I915_FORMAT_MOD_Y_TILED

TEST(RendererFormats, PixmanAdvertisesTheCpuPathOnly) {
	composition_formats f = choose_composition_formats(cpu_format_set(), nullptr);
	EXPECT_EQ(f.advertised.pairs(), cpu_format_set().pairs());
	EXPECT_TRUE(f.egl.empty());
	EXPECT_TRUE(f.gpu_only.empty());
}

TEST(RendererFormats, EglAddsTiledModifiersAndImplicitForWhatItImports) {
	egl_format_offer offer;
	offer.modifiers_extension = true;
	offer.formats.push_back(
	    {DRM_FORMAT_XRGB8888, {{DRM_FORMAT_MOD_LINEAR, false}, {y_tiled, false}}});
	// A format the CPU path does not read, external-only on this GPU.
	offer.formats.push_back({DRM_FORMAT_ARGB16161616F, {{y_tiled, true}}});
	composition_formats f = choose_composition_formats(cpu_format_set(), &offer);
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_XRGB8888, y_tiled));
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_INVALID));
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_ARGB16161616F, y_tiled));
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_ARGB16161616F, DRM_FORMAT_MOD_INVALID));
	// It lists modifiers for it, and LINEAR is not one: not advertised.
	EXPECT_FALSE(f.advertised.contains(DRM_FORMAT_ARGB16161616F, DRM_FORMAT_MOD_LINEAR));
	// The CPU path's pairs stay (its fallback for EGL's refusals).
	const format_set cpu = cpu_format_set();
	for (const format_set::Pair &p : cpu.pairs())
		EXPECT_TRUE(f.advertised.contains(p.first, p.second)) << format_name(p.first);
	EXPECT_EQ(f.gpu_only, std::vector<uint32_t>{DRM_FORMAT_ARGB16161616F});
	EXPECT_EQ(f.external_only, std::vector<uint32_t>{DRM_FORMAT_ARGB16161616F});
	ASSERT_EQ(f.tiled.size(), 2u);
	EXPECT_EQ(f.egl.pairs().size(), 5u);
}

TEST(RendererFormats, YuvIsEglsOnlyWithExternalOnlyModifiers) {
	egl_format_offer offer;
	offer.modifiers_extension = true;
	offer.formats.push_back(
	    {DRM_FORMAT_NV12, {{y_tiled, true}, {DRM_FORMAT_MOD_LINEAR, false}}});
	offer.formats.push_back({DRM_FORMAT_YUV420, {}});
	composition_formats f = choose_composition_formats(cpu_format_set(), &offer);
	EXPECT_EQ(f.egl.pairs(), (std::vector<format_set::Pair>{{DRM_FORMAT_NV12, y_tiled}}));
	EXPECT_EQ(f.yuv_by_cpu, (std::vector<uint32_t>{DRM_FORMAT_NV12, DRM_FORMAT_YUV420}));
	// The CPU path still takes them linear and implicit.
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_NV12, DRM_FORMAT_MOD_LINEAR));
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_YUV420, DRM_FORMAT_MOD_INVALID));
	EXPECT_TRUE(f.advertised.contains(DRM_FORMAT_NV12, y_tiled));
}

TEST(RendererFormats, ADriverListingNoModifierTakesLinearAndImplicit) {
	egl_format_offer offer;
	offer.modifiers_extension = true;
	offer.formats.push_back({DRM_FORMAT_XRGB16161616F, {}});
	composition_formats f = choose_composition_formats(cpu_format_set(), &offer);
	EXPECT_EQ(f.egl.pairs(), (std::vector<format_set::Pair>{
	                             {DRM_FORMAT_XRGB16161616F, DRM_FORMAT_MOD_LINEAR},
	                             {DRM_FORMAT_XRGB16161616F, DRM_FORMAT_MOD_INVALID}}));
	EXPECT_TRUE(f.tiled.empty());
}

TEST(RendererFormats, FormatsWithoutALayoutDescriptionAreNotAdvertised) {
	egl_format_offer offer;
	offer.modifiers_extension = true;
	const uint32_t unknown = fourcc_code('Q', 'Q', 'Q', 'Q');
	offer.formats.push_back({unknown, {{DRM_FORMAT_MOD_LINEAR, false}}});
	composition_formats f = choose_composition_formats(cpu_format_set(), &offer);
	EXPECT_FALSE(f.advertised.has_format(unknown));
	EXPECT_EQ(f.dropped, std::vector<uint32_t>{unknown});
	EXPECT_TRUE(f.egl.empty());
}

} // namespace
} // namespace wlprime
