// The wlprime executable from the outside: command line, --exec, exit codes,
// real clients (wayland-info, grim, wlprime-shm-client,
// wlprime-dmabuf-client), --screenshot.
//
// WLPRIME, WLPRIME_SHM_CLIENT and WLPRIME_DMABUF_CLIENT name the programs
// (set by meson test).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "compositor/exit_status.hpp"
#include "render/png.hpp"
#include "tests/compositor/process.hpp"

namespace wlprime {
namespace {

std::string program_from_env(const char *name) {
	const char *value = std::getenv(name);
	return value != nullptr ? value : "";
}

// A fresh XDG_RUNTIME_DIR for one wlprime run; removed at the end.
class Cli : public testing::Test {
protected:
	void SetUp() override {
		wlprime_ = program_from_env("WLPRIME");
		shm_client_ = program_from_env("WLPRIME_SHM_CLIENT");
		ASSERT_FALSE(wlprime_.empty()) << "WLPRIME is not set (run through meson test)";
		char dir_template[] = "/tmp/wlprime-cli-XXXXXX";
		ASSERT_NE(mkdtemp(dir_template), nullptr);
		dir_ = dir_template;
	}
	void TearDown() override {
		std::error_code ec;
		std::filesystem::remove_all(dir_, ec);
	}

	process_result run(std::vector<std::string> args,
	                   std::map<std::string, std::optional<std::string>> env = {}) {
		args.insert(args.begin(), wlprime_);
		process_options opts;
		opts.env = std::move(env);
		opts.env.emplace("XDG_RUNTIME_DIR", dir_);
		opts.env.emplace("WAYLAND_DEBUG", std::nullopt);
		opts.timeout = std::chrono::seconds(60);
		process_result r = run_process(args, opts);
		EXPECT_FALSE(r.timed_out) << "stderr: " << r.err;
		return r;
	}

	std::string wlprime_;
	std::string shm_client_;
	std::string dir_;
};

TEST_F(Cli, HelpExits0) {
	process_result r = run({"--help"});
	EXPECT_EQ(r.exit_code, 0);
	EXPECT_NE(r.out.find("Usage:"), std::string::npos);
	EXPECT_NE(r.out.find("--headless"), std::string::npos);
	EXPECT_NE(r.out.find("--exec"), std::string::npos);
}

TEST_F(Cli, VersionExits0) {
	process_result r = run({"--version"});
	EXPECT_EQ(r.exit_code, 0);
	EXPECT_EQ(r.out.rfind("wlprime ", 0), 0u) << r.out;
}

TEST_F(Cli, BadArgumentsExit2WithAMessage) {
	for (const std::vector<std::string> &args : std::vector<std::vector<std::string>>{
	         {"--no-such-option"},
	         {"--headless"},
	         {"--headless", "640"},
	         {"--headless", "0x480"},
	         {"--headless=640x"},
	         {"--socket", "a/b"},
	         {"stray"},
	         {"--render-device", dir_ + "/missing"},
	         {"--screenshot-after-frames", "3", "--exec", "true"},        // no --screenshot
	         {"--screenshot", "x.png", "--screenshot-after-frames", "3"}, // no --exec
	         {"--screenshot", "x.png", "--screenshot-after-frames", "0", "--exec", "true"},
	         {"--compare", "ref.png"},
	         {"--screenshot", "x.png", "--compare", "ref.png", "--tolerance", "256"},
	         {"--tolerance", "3"},
	     }) {
		process_result r = run(args);
		EXPECT_EQ(r.exit_code, 2) << args[0];
		EXPECT_FALSE(r.err.empty()) << args[0];
	}
}

TEST_F(Cli, ExecFalseExits1) {
	process_result r = run({"--headless", "64x48", "--exec", "false"});
	EXPECT_EQ(r.exit_code, 1) << r.err;
}

TEST_F(Cli, ExecStatusIsPassedThrough) {
	EXPECT_EQ(run({"--headless", "64x48", "--exec", "true"}).exit_code, 0);
	EXPECT_EQ(run({"--headless", "64x48", "--exec", "exit 7"}).exit_code, 7);
	// Killed by a signal: 128 + signal, as a shell reports it.
	EXPECT_EQ(run({"--headless", "64x48", "--exec", "kill -KILL $$"}).exit_code, 128 + 9);
}

TEST_F(Cli, ExecSeesWaylandDisplayAndSocket) {
	process_result r = run({"--headless", "64x48", "--socket", "wlprime-cli", "--exec",
	                        "test \"$WAYLAND_DISPLAY\" = wlprime-cli && test -S "
	                        "\"$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY\""});
	EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(Cli, WithoutBackendFailsClearly) {
	process_result r = run({}, {{"WAYLAND_DISPLAY", std::nullopt}, {"DISPLAY", std::nullopt}});
	EXPECT_EQ(r.exit_code, exit_startup);
	EXPECT_NE(r.err.find("--headless"), std::string::npos) << r.err;
}

TEST_F(Cli, WaylandInfoListsNoLinuxDmabuf) {
	process_result r = run({"--headless", "640x480", "--exec", "wayland-info"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	// Lines "interface: 'NAME', version: ..." (no std::regex: gcc 12 warns
	// falsely inside it in the sanitizer build, where warnings are errors).
	std::set<std::string> interfaces;
	std::istringstream in(r.out);
	const std::string prefix = "interface: '";
	for (std::string l; std::getline(in, l);) {
		if (l.rfind(prefix, 0) != 0) {
			continue;
		}
		std::size_t end = l.find('\'', prefix.size());
		if (end != std::string::npos) {
			interfaces.insert(l.substr(prefix.size(), end - prefix.size()));
		}
	}
	// The parse worked: the basics are there.
	EXPECT_EQ(interfaces.count("wl_compositor"), 1u) << r.out;
	EXPECT_EQ(interfaces.count("xdg_wm_base"), 1u) << r.out;
	EXPECT_EQ(interfaces.count("wl_shm"), 1u) << r.out;
	EXPECT_EQ(interfaces.count("zwlr_screencopy_manager_v1"), 1u) << r.out;
	EXPECT_EQ(interfaces.count("zxdg_output_manager_v1"), 1u) << r.out;
	// wlroots' linux-dmabuf and wl_drm must not be there.
	EXPECT_EQ(interfaces.count("zwp_linux_dmabuf_v1"), 0u) << r.out;
	EXPECT_EQ(interfaces.count("wl_drm"), 0u) << r.out;
}

TEST_F(Cli, ScreenshotOnExitShowsTheClientWindow) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	std::string png_path = dir_ + "/shot.png";
	process_result r =
	    run({"--headless", "320x240", "--screenshot", png_path, "--exec",
	         "'" + shm_client_ + "' --color 3366cc --size 100x80 --background-when-shown"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	result<image> img = read_png(png_path);
	ASSERT_TRUE(img.ok()) << img.err().message;
	ASSERT_EQ(img->width, 320);
	ASSERT_EQ(img->height, 240);
	EXPECT_EQ(rgb(img->at(160, 120)), 0x3366ccu);
	EXPECT_EQ(rgb(img->at(110, 80)), 0x3366ccu); // (320-100)/2, (240-80)/2
	EXPECT_EQ(rgb(img->at(109, 80)), 0x000000u);
	EXPECT_EQ(rgb(img->at(0, 0)), 0x000000u);
}

// --screenshot-after-frames: the picture while the client is still there
// (at exit, --exit-when-shown's window is gone).
TEST_F(Cli, ScreenshotAfterFramesShowsTheClientBeforeItExits) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	std::string png_path = dir_ + "/after.png";
	process_result r =
	    run({"--headless", "320x240", "--screenshot", png_path, "--screenshot-after-frames",
	         "1", "--exec", "'" + shm_client_ + "' --color 3366cc --exit-when-shown"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	result<image> img = read_png(png_path);
	ASSERT_TRUE(img.ok()) << img.err().message;
	EXPECT_EQ(rgb(img->at(160, 120)), 0x3366ccu);
	EXPECT_EQ(rgb(img->at(0, 0)), 0x000000u);
}

TEST_F(Cli, ScreenshotAfterFramesThatNeverCome) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	// The shm client commits one buffer: a fifth frame never comes.
	std::string png_path = dir_ + "/never.png";
	process_result r =
	    run({"--headless", "320x240", "--screenshot", png_path, "--screenshot-after-frames",
	         "5", "--exec", "'" + shm_client_ + "' --exit-when-shown"});
	EXPECT_EQ(r.exit_code, exit_output_missing) << r.err;
	EXPECT_NE(r.err.find("asked for 5"), std::string::npos) << r.err;
	EXPECT_FALSE(std::filesystem::exists(png_path));
}

TEST_F(Cli, ScreenshotThatCannotBeWritten) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	std::string shot = dir_ + "/missing-dir/shot.png";
	process_result r = run({"--headless", "64x48", "--screenshot", shot, "--exec", "true"});
	EXPECT_EQ(r.exit_code, exit_output_missing) << r.err;
	EXPECT_NE(r.err.find(shot), std::string::npos) << r.err;
	// The client's own failure comes first.
	r = run({"--headless", "64x48", "--screenshot", shot, "--exec", "exit 3"});
	EXPECT_EQ(r.exit_code, 3) << r.err;
	r = run(
	    {"--headless", "64x48", "--report", dir_ + "/missing-dir/r.json", "--exec", "true"});
	EXPECT_EQ(r.exit_code, exit_output_missing) << r.err;
}

TEST_F(Cli, CompareWithAReference) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	auto shoot = [&](const std::string &png, const std::string &color,
	                 std::vector<std::string> extra) {
		std::vector<std::string> args = {
		    "--headless", "320x240", "--screenshot", png, "--screenshot-after-frames", "1"};
		args.insert(args.end(), extra.begin(), extra.end());
		args.insert(args.end(),
		            {"--exec", "'" + shm_client_ + "' --exit-when-shown --color " + color});
		return run(args);
	};
	const std::string ref = dir_ + "/ref.png";
	ASSERT_EQ(shoot(ref, "3366cc", {}).exit_code, 0);
	process_result r = shoot(dir_ + "/same.png", "3366cc", {"--compare", ref});
	EXPECT_EQ(r.exit_code, 0) << r.err;
	EXPECT_FALSE(std::filesystem::exists(dir_ + "/same.diff.png"));

	r = shoot(dir_ + "/other.png", "3367cc", {"--compare", ref});
	EXPECT_EQ(r.exit_code, exit_compare_differs) << r.err;
	EXPECT_NE(r.err.find("30000 pixels"), std::string::npos) << r.err; // the 200x150 window
	result<image> diff = read_png(dir_ + "/other.diff.png");
	ASSERT_TRUE(diff.ok()) << diff.err().message;
	EXPECT_EQ(rgb(diff->at(160, 120)), 0xff0000u);
	EXPECT_EQ(rgb(diff->at(0, 0)), 0x000000u);
	// One step of green is within --tolerance 1.
	r = shoot(dir_ + "/near.png", "3367cc", {"--compare", ref, "--tolerance", "1"});
	EXPECT_EQ(r.exit_code, 0) << r.err;
	// A reference that cannot be read: nothing to compare with.
	r = shoot(dir_ + "/noref.png", "3366cc", {"--compare", dir_ + "/none.png"});
	EXPECT_EQ(r.exit_code, exit_output_missing) << r.err;
}

// --report with a wl_shm client (the dma-buf numbers and lints are tested
// in the guest, tests/report): who it is, what it bound, what was shown.
TEST_F(Cli, ReportNamesTheClient) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	const std::string report = dir_ + "/report.json";
	process_result r = run({"--headless", "320x240", "--report", report, "--exec",
	                        "'" + shm_client_ + "' --exit-when-shown"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	std::ifstream in(report);
	std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	for (const char *want :
	     {"\"command\":\"wlprime-shm-cli\"", "\"exec_descendant\":true",
	      "{\"interface\":\"wl_compositor\",\"version\":",
	      "{\"interface\":\"xdg_wm_base\",\"version\":", "\"frames_presented\":1,",
	      "\"protocol_errors\":[]", "\"findings\":[]"}) {
		EXPECT_NE(json.find(want), std::string::npos) << want << " in " << json;
	}
	EXPECT_NE(r.err.find("wlprime: report " + report + ": 1 clients"), std::string::npos)
	    << r.err;
}

TEST_F(Cli, GrimCapturesThroughScreencopy) {
	ASSERT_FALSE(shm_client_.empty()) << "WLPRIME_SHM_CLIENT is not set";
	if (std::system("command -v grim >/dev/null 2>&1") != 0) {
		GTEST_SKIP() << "grim is not installed (tools/setup installs it)";
	}
	std::string png_path = dir_ + "/grim.png";
	process_result r =
	    run({"--headless", "320x240", "--exec",
	         "'" + shm_client_ + "' --color cc3300 --background-when-shown && grim '" +
	             png_path + "'"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	result<image> img = read_png(png_path);
	ASSERT_TRUE(img.ok()) << img.err().message;
	ASSERT_EQ(img->width, 320);
	ASSERT_EQ(img->height, 240);
	EXPECT_EQ(rgb(img->at(160, 120)), 0xcc3300u);
	EXPECT_EQ(rgb(img->at(0, 0)), 0x000000u);
}

TEST_F(Cli, DmabufClientHelpUsageAndBadList) {
	std::string client = program_from_env("WLPRIME_DMABUF_CLIENT");
	ASSERT_FALSE(client.empty()) << "WLPRIME_DMABUF_CLIENT is not set";
	process_options opts;
	opts.timeout = std::chrono::seconds(30);
	process_result help = run_process({client, "--help"}, opts);
	EXPECT_EQ(help.exit_code, 0);
	for (const char *option :
	     {"--alloc", "--protocol-version", "--frames", "--buffers", "--new-wl-buffer-per-frame",
	      "--nv12", "--create-immed", "--color", "--bad"}) {
		EXPECT_NE(help.out.find(option), std::string::npos) << option;
	}
	for (std::vector<std::string> args :
	     std::vector<std::vector<std::string>>{{"--frames", "x"},
	                                           {"--alloc", "ion"},
	                                           {"--protocol-version", "2"},
	                                           {"--nv12", "three-bo"},
	                                           {"--bad", "nonsense"},
	                                           {"--frobnicate"}}) {
		args.insert(args.begin(), client);
		process_result r = run_process(args, opts);
		EXPECT_EQ(r.exit_code, 2) << args[1];
		EXPECT_NE(r.err.find("wlprime-dmabuf-client:"), std::string::npos) << args[1];
	}
	process_result list = run_process({client, "--bad", "list"}, opts);
	EXPECT_EQ(list.exit_code, 0);
	EXPECT_NE(list.out.find("plane-idx"), std::string::npos) << list.out;
	EXPECT_NE(list.out.find("not-dmabuf"), std::string::npos) << list.out;
}

TEST_F(Cli, DmabufClientFailsClearlyWithoutLinuxDmabuf) {
	std::string client = program_from_env("WLPRIME_DMABUF_CLIENT");
	ASSERT_FALSE(client.empty()) << "WLPRIME_DMABUF_CLIENT is not set";
	// Without /dev/dri, wlprime has no main device and no linux-dmabuf;
	// the client says what is missing (that, or no way to make dma-bufs).
	if (std::filesystem::exists("/dev/dri")) {
		GTEST_SKIP() << "this machine has /dev/dri";
	}
	process_result r =
	    run({"--headless", "64x48", "--exec", "'" + client + "' --frames 1 --timeout 10"});
	EXPECT_EQ(r.exit_code, 1) << r.err;
	EXPECT_TRUE(r.err.find("zwp_linux_dmabuf_v1") != std::string::npos ||
	            r.err.find("no dma-buf allocator") != std::string::npos)
	    << r.err;
}

} // namespace
} // namespace wlprime
