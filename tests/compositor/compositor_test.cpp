// In-process compositor tests: a headless wlprime and wl_shm clients on the
// test's thread (see harness.hpp).

#include <gtest/gtest.h>

#include "compositor/server.hpp"
#include "render/png.hpp"
#include "tests/clients/shm_client.hpp"
#include "tests/compositor/harness.hpp"

namespace wlprime {
namespace {

using clients::shm_client;
using clients::shm_client_options;

constexpr uint32_t background = 0x000000;

std::unique_ptr<shm_client> connect_client(harness &h, const shm_client_options &opts) {
	std::string err;
	auto client = shm_client::connect(h.socket().c_str(), opts, &err);
	EXPECT_NE(client, nullptr) << err;
	if (client) {
		h.attach(client->display());
	}
	return client;
}

TEST(FenceWaitStats, RecordSumsAndKeepsTheMax) {
	fence_wait_stats st;
	st.record(std::chrono::milliseconds(3));
	st.record(std::chrono::milliseconds(10));
	st.record(std::chrono::milliseconds(1));
	EXPECT_EQ(st.total, std::chrono::milliseconds(14));
	EXPECT_EQ(st.max, std::chrono::milliseconds(10));
}

TEST(Compositor, ShmWindowPixelsAppearCentred) {
	harness h({640, 480});
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto client = connect_client(h, {.color = 0xffc04080, .width = 200, .height = 100});
	ASSERT_NE(client, nullptr);
	ASSERT_TRUE(h.run_until([&] { return client->shown() || !client->failure().empty(); }));
	ASSERT_EQ(client->failure(), "");

	image frame = h.capture();
	ASSERT_EQ(frame.width, 640);
	ASSERT_EQ(frame.height, 480);
	// Centred: (640 - 200) / 2 = 220, (480 - 100) / 2 = 190.
	EXPECT_EQ(rgb(frame.at(320, 240)), 0xc04080u);
	EXPECT_EQ(rgb(frame.at(220, 190)), 0xc04080u);
	EXPECT_EQ(rgb(frame.at(419, 289)), 0xc04080u);
	EXPECT_EQ(rgb(frame.at(219, 190)), background);
	EXPECT_EQ(rgb(frame.at(220, 189)), background);
	EXPECT_EQ(rgb(frame.at(420, 289)), background);
	EXPECT_EQ(rgb(frame.at(419, 290)), background);
	EXPECT_EQ(rgb(frame.at(0, 0)), background);
}

TEST(Compositor, AdvertisesNoLinuxDmabufOrWlDrm) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto client = connect_client(h, {});
	ASSERT_NE(client, nullptr);
	ASSERT_TRUE(h.run_until([&] { return client->configured(); }));
	const auto &globals = client->globals();
	for (const char *expected :
	     {"wl_compositor", "wl_subcompositor", "wl_shm", "wl_seat", "wl_output", "xdg_wm_base",
	      "zxdg_output_manager_v1", "zwlr_screencopy_manager_v1", "wl_data_device_manager"}) {
		EXPECT_EQ(globals.count(expected), 1u) << expected;
	}
	EXPECT_EQ(globals.count("zwp_linux_dmabuf_v1"), 0u);
	EXPECT_EQ(globals.count("wl_drm"), 0u);
}

TEST(Compositor, NewestWindowIsOnTopAndActivated) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto first = connect_client(h, {.color = 0xff0000ff, .width = 300, .height = 200});
	ASSERT_TRUE(h.run_until([&] { return first->shown() && first->activated(); }));
	auto second = connect_client(h, {.color = 0xff00ff00, .width = 100, .height = 100});
	ASSERT_TRUE(h.run_until([&] { return second->shown() && second->activated(); }));
	// The first one is told it lost activation.
	ASSERT_TRUE(h.run_until([&] { return !first->activated(); }));
	EXPECT_EQ(h.srv().views().size(), 2u);

	image frame = h.capture();
	EXPECT_EQ(rgb(frame.at(320, 240)), 0x00ff00u); // second, centred, on top
	EXPECT_EQ(rgb(frame.at(180, 150)), 0x0000ffu); // first, around it
}

// A pointer of the headless backend, driven by emitting its events.
struct test_pointer {
	wlr_input_device *device;
	uint32_t time = 0;

	void move_to(const image &frame, int x, int y) {
		wlr_event_pointer_motion_absolute event{};
		event.device = device;
		event.time_msec = ++time;
		event.x = (x + 0.5) / frame.width;
		event.y = (y + 0.5) / frame.height;
		wl_signal_emit(&device->pointer->events.motion_absolute, &event);
		wl_signal_emit(&device->pointer->events.frame, device->pointer);
	}
	void click(uint32_t button = 0x110 /* BTN_LEFT */) {
		for (wlr_button_state state : {WLR_BUTTON_PRESSED, WLR_BUTTON_RELEASED}) {
			wlr_event_pointer_button event{};
			event.device = device;
			event.time_msec = ++time;
			event.button = button;
			event.state = state;
			wl_signal_emit(&device->pointer->events.button, &event);
			wl_signal_emit(&device->pointer->events.frame, device->pointer);
		}
	}
};

TEST(Compositor, ClickFocusesAndRaises) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	wlr_input_device *device =
	    wlr_headless_add_input_device(h.srv().wlr_backend_handle(), WLR_INPUT_DEVICE_POINTER);
	ASSERT_NE(device, nullptr);
	test_pointer pointer{device};

	auto big = connect_client(h, {.color = 0xff0000ff, .width = 300, .height = 200});
	ASSERT_TRUE(h.run_until([&] { return big->shown(); }));
	auto small = connect_client(h, {.color = 0xff00ff00, .width = 100, .height = 100});
	ASSERT_TRUE(h.run_until([&] { return small->shown() && small->activated(); }));
	ASSERT_TRUE(h.run_until([&] { return !big->activated(); }));

	// Click the part of the big window that shows: it comes to the front.
	image frame = h.capture();
	pointer.move_to(frame, 180, 150);
	pointer.click();
	ASSERT_TRUE(h.run_until([&] { return big->activated() && !small->activated(); }));
	h.run_until([&] { return rgb(h.capture().at(320, 240)) == 0x0000ffu; });
	EXPECT_EQ(rgb(h.capture().at(320, 240)), 0x0000ffu); // big now covers small
	EXPECT_EQ(h.srv().views().front()->surface(), h.srv().input().keyboard_focus());

	// A click on the background changes nothing.
	pointer.move_to(frame, 5, 5);
	pointer.click();
	h.run_for(std::chrono::milliseconds(50));
	EXPECT_TRUE(big->activated());
	EXPECT_FALSE(small->activated());
}

TEST(Compositor, ClosedWindowLeavesTheScreen) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto client = connect_client(h, {.color = 0xffffffff});
	ASSERT_TRUE(h.run_until([&] { return client->shown(); }));
	EXPECT_EQ(rgb(h.capture().at(320, 240)), 0xffffffu);

	h.detach(client->display());
	client.reset(); // disconnects
	ASSERT_TRUE(h.run_until([&] { return h.srv().views().empty(); }));
	EXPECT_EQ(rgb(h.capture().at(320, 240)), background);
}

// xdg-shell: a toplevel unmapped with a null buffer is configured again at
// its next initial commit, and shows again (wlroots 0.15 alone never sends
// that configure: compositor/view.cpp).
TEST(Compositor, UnmappedWindowIsConfiguredAgainAndRemaps) {
	harness h;
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto client = connect_client(h, {.color = 0xff20c040});
	ASSERT_TRUE(h.run_until([&] { return client->shown(); }));
	EXPECT_EQ(rgb(h.capture().at(320, 240)), 0x20c040u);

	client->unmap_and_remap();
	ASSERT_TRUE(h.run_until([&] { return client->shown(); })) << client->failure();
	ASSERT_EQ(h.srv().views().size(), 1u);
	EXPECT_TRUE(h.srv().views().front()->mapped());
	EXPECT_EQ(rgb(h.capture().at(320, 240)), 0x20c040u);
	EXPECT_EQ(client->failure(), "");
}

TEST(Compositor, ScreenshotFileMatchesCapture) {
	std::string path = testing::TempDir() + "wlprime-screenshot-test.png";
	harness h({320, 240}, path);
	ASSERT_TRUE(h.ok()) << h.start_error();
	auto client = connect_client(h, {.color = 0xff123456, .width = 100, .height = 60});
	ASSERT_TRUE(h.run_until([&] { return client->shown(); }));

	h.srv().write_screenshot();
	result<image> png = read_png(path);
	ASSERT_TRUE(png.ok()) << png.err().message;
	image live = h.capture();
	ASSERT_EQ(png->width, 320);
	ASSERT_EQ(png->height, 240);
	EXPECT_EQ(png->pixels, live.pixels);
	EXPECT_EQ(rgb(png->at(160, 120)), 0x123456u);
	std::remove(path.c_str());
}

} // namespace
} // namespace wlprime
