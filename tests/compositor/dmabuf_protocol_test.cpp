// linux-dmabuf in-process: a headless wlprime whose import subsystem runs on
// the kernel model (tests/unit/kernel_model.hpp), and dmabuf clients
// (tests/clients/dmabuf_client.hpp) whose dma-bufs are the model's foreign
// dma-bufs (memfds the model accepts), on the test's thread.
//
// What is checked: every protocol error with its code and a message that
// names the values, created / failed / create_immed, the v4 feedback and the
// v3 modifier events, pixels on screen, wl_buffer.release, the re-import
// cache (zero PRIME ioctls for a re-created wl_buffer, one Import for two
// clients sharing a dma-buf), and that every fd and GEM handle is let go on
// every path, abrupt disconnects included.

#include <algorithm>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include "compositor/server.hpp"
#include "compositor/surface_feedback.hpp"
#include "render/cpu_format.hpp"
#include "render/cpu_picture.hpp"
#include "render/kms_planes.hpp"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "tests/clients/dmabuf_client.hpp"
#include "tests/clients/shm_client.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/compositor/model_fixture.hpp"
#include "tests/unit/kernel_model.hpp"

namespace wlprime {
namespace {

using namespace clients;

class DmabufProtocol : public ModelHarnessTest {
protected:
	void SetUp() override {
		// Protocol errors are expected here: keep libwayland's log quiet
		// (their messages are still captured for the checks).
		capture_wayland_client_log(true);
		ASSERT_NO_FATAL_FAILURE(start_harness());
		ASSERT_NE(srv().dmabuf(), nullptr);
		ASSERT_NE(srv().context()->main_device(), nullptr);
	}
	void TearDown() override { capture_wayland_client_log(false); }

	dmabuf_client_options options() {
		dmabuf_client_options opts;
		opts.allocator = model_allocator();
		return opts;
	}

	std::unique_ptr<dmabuf_client> connect(const dmabuf_client_options &opts) {
		std::string err;
		auto client = dmabuf_client::connect(h().socket().c_str(), opts, &err);
		EXPECT_NE(client, nullptr) << err;
		if (client) {
			h().attach(client->display());
		}
		return client;
	}

	// Runs a client to its end; true if it got there.
	bool run_to_end(dmabuf_client &client) {
		return h().run_until([&] { return client.finished(); });
	}

	// connect(), then run to its end with no failure: the client, or null
	// (and a failure of the test).
	std::unique_ptr<dmabuf_client> run_clean(const dmabuf_client_options &opts) {
		auto client = connect(opts);
		if (client == nullptr) {
			return nullptr;
		}
		if (!run_to_end(*client) || client->failure() != "") {
			ADD_FAILURE() << "the client did not run to its end cleanly: '"
			              << client->failure() << "'";
			disconnect(client);
		}
		return client;
	}

	void disconnect(std::unique_ptr<dmabuf_client> &client) {
		h().detach(client->display());
		client.reset();
	}

	// GEM handles open on the server's main device.
	size_t handles() { return kernel_.handle_count(srv().context()->main_device()->fd()); }

	// After clients went: the server has processed the disconnects, the
	// cache has let go of idle Imports, and fds and handles are back to
	// fds_before and handles_before.
	void expect_nothing_left(const std::map<int, std::string> &fds_before,
	                         size_t handles_before = 0) {
		bool clean = h().run_until(
		    [&] {
			    srv().context()->cache().evict_idle();
			    return fd_table() == fds_before && handles() == handles_before;
		    },
		    std::chrono::seconds(3));
		EXPECT_TRUE(clean) << "open fds " << open_fds() << ", before " << fds_before.size()
		                   << ", new:" << new_fds(fds_before, fd_table()) << " GEM handles "
		                   << handles() << ", expected " << handles_before;
	}

	ioctl_counts counts() { return srv().context()->counts().counts(); }

	// The scene position of the view mapped last.
	void move_newest_view(int x, int y) { srv().views().front()->move_to(x, y); }
};

// --- formats -------------------------------------------------------------------

TEST_F(DmabufProtocol, V4DefaultAndSurfaceFeedback) {
	auto client = connect(options());
	ASSERT_TRUE(run_to_end(*client));
	ASSERT_EQ(client->failure(), "");
	EXPECT_EQ(client->bound_version(), 4u);
	EXPECT_TRUE(client->modifier_events().empty()); // v4: none

	const std::vector<format_pair> advertised = linux_dmabuf::composition_formats().pairs();
	for (const dmabuf_feedback *f :
	     {&client->default_feedback(), &client->surface_feedback()}) {
		ASSERT_TRUE(f->done);
		EXPECT_EQ(f->error, "");
		EXPECT_EQ(f->main_device, model_rdev);
		EXPECT_EQ(f->main_device, srv().context()->main_device()->info().rdev);
		// Sealed: no one can change or resize the table every client maps.
		for (int seal : {F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE}) {
			EXPECT_TRUE(f->table_seals & seal)
			    << "seals 0x" << std::hex << f->table_seals;
		}
		EXPECT_FALSE(f->table_writable_map);
		EXPECT_EQ(f->table_size, advertised.size() * 16);
		// Exactly the advertised pairs, each once.
		EXPECT_EQ(f->table, advertised);
		ASSERT_EQ(f->tranches.size(), 1u);
		EXPECT_EQ(f->tranches[0].target_device, model_rdev);
		EXPECT_EQ(f->tranches[0].flags, 0u);
		EXPECT_EQ(f->tranches[0].formats, advertised);
	}
}

// --- per-surface feedback and fullscreen -------------------------------------------
//
// The headless backend has no display device: the server's own scanout
// source (scanout_tranches over the scene) finds no KMS output and the
// feedback keeps the main tranche only. The scanout tranche itself is
// exercised with a test source: the scene's real primary output of the
// surface (wlr_scene_surface::primary_output, what scanout_tranches uses),
// mapped to a made-up display device per output. Real planes and dev_t
// values are checked in the guest (tests/feedback).

const dev_t display_a = makedev(226, 1);
const dev_t display_b = makedev(226, 2);

// Index of the client's wl_output that has this name.
int output_named(const dmabuf_client &client, const std::string &name) {
	for (size_t i = 0; i < client.outputs().size(); i++) {
		if (client.outputs()[i].name == name) {
			return static_cast<int>(i);
		}
	}
	return -1;
}

TEST_F(DmabufProtocol, FullscreenOnHeadlessKeepsTheMainTrancheOnly) {
	dmabuf_client_options opts = options();
	opts.fullscreen = "current";
	opts.frames = 3;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	// Sized to the output, placed at its corner.
	EXPECT_EQ(client->width(), 640);
	EXPECT_EQ(client->height(), 480);
	ASSERT_EQ(srv().views().size(), 1u);
	EXPECT_EQ(srv().views().front()->x(), 0);
	EXPECT_EQ(srv().views().front()->y(), 0);
	EXPECT_EQ(srv().views().front()->fullscreen_output(), srv().first_output()->wlr());
	EXPECT_EQ(client->entered_outputs(), std::vector<int>{0});

	const dmabuf_feedback &f = client->surface_feedback();
	ASSERT_TRUE(f.done);
	ASSERT_EQ(f.tranches.size(), 1u);
	EXPECT_EQ(f.tranches[0].target_device, model_rdev);
	EXPECT_EQ(f.tranches[0].flags, 0u);
	// Entering the headless output changed nothing: sent once.
	EXPECT_EQ(client->surface_feedback_history().size(), 1u);
}

TEST_F(DmabufProtocol, FullscreenAndBackRestoresTheWindow) {
	dmabuf_client_options opts = options();
	opts.frames = 2;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	view *v = srv().views().front().get();
	const int x = v->x(), y = v->y(); // centred: (640 - 200) / 2, (480 - 150) / 2
	EXPECT_EQ(x, 220);
	EXPECT_EQ(y, 165);
	// What xdg_toplevel.set_fullscreen(null) and unset_fullscreen do.
	v->set_fullscreen(true, nullptr);
	EXPECT_EQ(v->fullscreen_output(), srv().first_output()->wlr());
	EXPECT_EQ(v->x(), 0);
	EXPECT_EQ(v->y(), 0);
	EXPECT_TRUE(v->xdg_surface()->toplevel->scheduled.fullscreen);
	EXPECT_EQ(v->xdg_surface()->toplevel->scheduled.width, 640u);
	EXPECT_EQ(v->xdg_surface()->toplevel->scheduled.height, 480u);
	v->set_fullscreen(false, nullptr);
	EXPECT_EQ(v->fullscreen_output(), nullptr);
	EXPECT_EQ(v->x(), x);
	EXPECT_EQ(v->y(), y);
	EXPECT_FALSE(v->xdg_surface()->toplevel->scheduled.fullscreen);
	EXPECT_EQ(v->xdg_surface()->toplevel->scheduled.width, 200u);
	EXPECT_EQ(v->xdg_surface()->toplevel->scheduled.height, 150u);
	h().run_for(std::chrono::milliseconds(50)); // the configures go out
	EXPECT_EQ(client->failure(), "");
}

TEST_F(DmabufProtocol, ScanoutTrancheComesFirstAndFollowsTheSurfaceBetweenOutputs) {
	// A second output, right of the first (wlr_output_layout_add_auto).
	wlr_output *second = wlr_headless_add_output(srv().wlr_backend_handle(), 320, 240);
	ASSERT_NE(second, nullptr);
	ASSERT_TRUE(h().run_until([&] { return srv().outputs().size() == 2; }));
	const wlr_box *second_box = wlr_output_layout_get_box(srv().layout(), second);
	ASSERT_NE(second_box, nullptr);
	const std::string first_name = srv().first_output()->wlr()->name;

	// Plane formats of the made-up display devices: some accepted, some
	// not (R8, which composition does not show, and a vendor modifier),
	// which the tranche must leave out.
	format_set plane;
	plane.add(DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR);
	plane.add(DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_LINEAR);
	plane.add(DRM_FORMAT_R8, DRM_FORMAT_MOD_LINEAR);
	plane.add(DRM_FORMAT_XRGB8888, I915_FORMAT_MOD_X_TILED);
	bool enabled = true;
	srv().dmabuf()->set_scanout_source(
	    [&](wlr_surface *surface) -> std::optional<scanout_tranche> {
		    wlr_scene_surface *node = find_scene_surface(&srv().scene()->node, surface);
		    if (!enabled || node == nullptr || node->primary_output == nullptr) {
			    return std::nullopt;
		    }
		    const bool on_second = node->primary_output == second;
		    return scanout_tranche{on_second ? display_b : display_a, plane,
		                           on_second ? "display B" : "display A",
		                           node->primary_output->name};
	    });

	dmabuf_client_options opts = options();
	opts.fullscreen = second->name; // by wl_output.name
	opts.move_to = first_name;      // after half the frames
	opts.frames = 8;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	const int first_index = output_named(*client, first_name);
	const int second_index = output_named(*client, second->name);
	ASSERT_GE(first_index, 0);
	ASSERT_GE(second_index, 0);
	// Configured with the second output's size, shown there first, then on
	// the first output only.
	EXPECT_EQ(client->width(), 320);
	EXPECT_EQ(client->height(), 240);
	EXPECT_EQ(client->entered_outputs(), std::vector<int>{first_index});
	// enter second; then enter first and leave second, in either order.
	std::vector<int> events = client->output_events();
	ASSERT_EQ(events.size(), 3u);
	EXPECT_EQ(events[0], second_index);
	std::sort(events.begin() + 1, events.end());
	EXPECT_EQ(events[1], -second_index - 1);
	EXPECT_EQ(events[2], first_index);
	EXPECT_EQ(srv().views().front()->x(), 0);

	// Before the window was shown: the main tranche; on the second output:
	// display B first; on the first output: display A first.
	const auto &history = client->surface_feedback_history();
	ASSERT_EQ(history.size(), 3u);
	const std::vector<format_pair> scanout_pairs = {
	    {DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_LINEAR},
	    {DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR}};
	const std::vector<format_pair> advertised = linux_dmabuf::composition_formats().pairs();
	EXPECT_EQ(history[0].tranches.size(), 1u);
	for (size_t i = 1; i < 3; i++) {
		const dmabuf_feedback &f = history[i];
		SCOPED_TRACE("surface feedback #" + std::to_string(i));
		EXPECT_EQ(f.error, ""); // every index is in the table
		EXPECT_EQ(f.main_device, model_rdev);
		EXPECT_EQ(f.table, advertised); // one table, unchanged
		ASSERT_EQ(f.tranches.size(), 2u);
		EXPECT_EQ(f.tranches[0].target_device, i == 1 ? display_b : display_a);
		EXPECT_EQ(f.tranches[0].flags, 1u); // scanout
		EXPECT_EQ(f.tranches[0].formats, scanout_pairs);
		EXPECT_EQ(f.tranches[1].target_device, model_rdev);
		EXPECT_EQ(f.tranches[1].flags, 0u);
		EXPECT_EQ(f.tranches[1].formats, advertised);
	}

	// Nothing changed: nothing is re-sent.
	const uint64_t sent = srv().dmabuf()->stats().surface_feedback_sent;
	srv().dmabuf()->update_surface_feedback();
	h().run_for(std::chrono::milliseconds(50));
	EXPECT_EQ(client->surface_feedback_history().size(), 3u);
	EXPECT_EQ(srv().dmabuf()->stats().surface_feedback_sent, sent);

	// The source has no tranche any more (as on a headless output): the
	// feedback goes back to the main tranche, all events then done.
	enabled = false;
	srv().dmabuf()->update_surface_feedback();
	ASSERT_TRUE(h().run_until([&] { return client->surface_feedback_history().size() == 4; }));
	EXPECT_EQ(client->surface_feedback().tranches.size(), 1u);
	EXPECT_EQ(client->surface_feedback().tranches[0].target_device, model_rdev);
	srv().dmabuf()->set_scanout_source(nullptr);
}

TEST_F(DmabufProtocol, ScanoutTrancheWithoutAcceptedPairsIsLeftOut) {
	format_set plane; // R8: a plane may take it, composition does not show it
	plane.add(DRM_FORMAT_R8, DRM_FORMAT_MOD_LINEAR);
	srv().dmabuf()->set_scanout_source([&](wlr_surface *) -> std::optional<scanout_tranche> {
		return scanout_tranche{display_a, plane, "display A", "HEADLESS-1"};
	});
	auto client = connect(options());
	ASSERT_TRUE(run_to_end(*client));
	ASSERT_EQ(client->failure(), "");
	for (const dmabuf_feedback &f : client->surface_feedback_history()) {
		ASSERT_EQ(f.tranches.size(), 1u);
		EXPECT_EQ(f.tranches[0].target_device, model_rdev);
	}
	srv().dmabuf()->set_scanout_source(nullptr);
}

TEST(InFormatsBlob, ParsesPairsAndRefusesWhatDoesNotFit) {
	// A blob as the kernel builds it: header, formats, modifiers.
	struct {
		drm_format_modifier_blob header;
		uint32_t formats[3];
		uint32_t pad;
		drm_format_modifier modifiers[2];
	} blob{};
	blob.header.version = FORMAT_BLOB_CURRENT;
	blob.header.count_formats = 3;
	blob.header.formats_offset = offsetof(decltype(blob), formats);
	blob.header.count_modifiers = 2;
	blob.header.modifiers_offset = offsetof(decltype(blob), modifiers);
	blob.formats[0] = DRM_FORMAT_XRGB8888;
	blob.formats[1] = DRM_FORMAT_ARGB8888;
	blob.formats[2] = DRM_FORMAT_RGB565;
	blob.modifiers[0] = {0b111, 0, 0, DRM_FORMAT_MOD_LINEAR};
	blob.modifiers[1] = {0b001, 0, 0, I915_FORMAT_MOD_X_TILED};
	result<format_set> set = parse_in_formats(&blob, sizeof(blob));
	ASSERT_TRUE(set) << set.err().message;
	// Sorted by (fourcc, modifier): AR24 < XR24 < RG16 as numbers.
	EXPECT_EQ(set->pairs(), (std::vector<format_set::Pair>{
	                            {DRM_FORMAT_ARGB8888, DRM_FORMAT_MOD_LINEAR},
	                            {DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR},
	                            {DRM_FORMAT_XRGB8888, I915_FORMAT_MOD_X_TILED},
	                            {DRM_FORMAT_RGB565, DRM_FORMAT_MOD_LINEAR},
	                        }));

	// A modifier naming format number 3 of 3.
	auto bad = blob;
	bad.modifiers[1].formats = 0b1000;
	result<format_set> refused = parse_in_formats(&bad, sizeof(bad));
	ASSERT_FALSE(refused);
	EXPECT_NE(refused.err().message.find("format number 3 of 3"), std::string::npos)
	    << refused.err().message;
	// Cut short: the modifiers do not fit.
	refused = parse_in_formats(&blob, sizeof(blob) - 1);
	ASSERT_FALSE(refused);
	EXPECT_NE(refused.err().message.find("do not fit"), std::string::npos)
	    << refused.err().message;
	EXPECT_FALSE(parse_in_formats(&blob, 8));
}

TEST_F(DmabufProtocol, V3BindGetsModifierEvents) {
	dmabuf_client_options opts = options();
	opts.protocol_version = 3;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	EXPECT_EQ(client->bound_version(), 3u);
	EXPECT_EQ(client->modifier_events(), linux_dmabuf::composition_formats().pairs());
	EXPECT_FALSE(client->default_feedback().done);
	EXPECT_FALSE(client->surface_feedback().done);
	EXPECT_EQ(client->stats().wl_buffers, 1);
}

// What a client bound at `version` hears on zwp_linux_dmabuf_v1 before a
// roundtrip completes: a raw registry client, no dmabuf_client (which binds
// v3 or v4 only and ignores format events).
struct bind_events {
	std::vector<uint32_t> formats;
	std::vector<format_pair> modifiers;
	uint32_t bound = 0;
};

bind_events bind_at(harness &h, uint32_t version) {
	struct state {
		uint32_t version;
		bind_events events;
		zwp_linux_dmabuf_v1 *dmabuf = nullptr;
		bool done = false;
	} s{version, {}};
	static const zwp_linux_dmabuf_v1_listener dmabuf_listener = {
	    .format =
	        [](void *data, zwp_linux_dmabuf_v1 *, uint32_t format) {
		        static_cast<state *>(data)->events.formats.push_back(format);
	        },
	    .modifier =
	        [](void *data, zwp_linux_dmabuf_v1 *, uint32_t format, uint32_t hi, uint32_t lo) {
		        static_cast<state *>(data)->events.modifiers.emplace_back(
		            format, (uint64_t(hi) << 32) | lo);
	        },
	};
	static const wl_registry_listener registry_listener = {
	    .global =
	        [](void *data, wl_registry *registry, uint32_t name, const char *iface,
	           uint32_t advertised) {
		        auto *s = static_cast<state *>(data);
		        if (std::string(iface) != zwp_linux_dmabuf_v1_interface.name || s->dmabuf)
			        return;
		        s->events.bound = std::min(advertised, s->version);
		        s->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(wl_registry_bind(
		            registry, name, &zwp_linux_dmabuf_v1_interface, s->events.bound));
		        zwp_linux_dmabuf_v1_add_listener(s->dmabuf, &dmabuf_listener, s);
	        },
	    .global_remove = [](void *, wl_registry *, uint32_t) {},
	};
	static const wl_callback_listener sync_listener = {
	    .done = [](void *data, wl_callback *,
	               uint32_t) { static_cast<state *>(data)->done = true; },
	};
	wl_display *display = wl_display_connect(h.socket().c_str());
	EXPECT_NE(display, nullptr);
	if (display == nullptr)
		return {};
	h.attach(display);
	wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, &s);
	// Two syncs: the first brings the globals (and sends the bind), the
	// second everything the bind produced.
	for (int round = 0; round < 2; round++) {
		s.done = false;
		wl_callback *sync = wl_display_sync(display);
		wl_callback_add_listener(sync, &sync_listener, &s);
		EXPECT_TRUE(h.run_until([&] { return s.done; })) << "no roundtrip at v" << version;
		wl_callback_destroy(sync);
	}
	EXPECT_EQ(wl_display_get_error(display), 0);
	h.detach(display);
	if (s.dmabuf)
		zwp_linux_dmabuf_v1_destroy(s.dmabuf);
	wl_registry_destroy(registry);
	wl_display_disconnect(display);
	return s.events;
}

// The spec (linux-dmabuf-unstable-v1.xml): every supported format is
// advertised once with `format` at bind; from version 3 every pair also
// with `modifier`; from version 4 neither (the feedback replaces both).
// Fails without the v3 fix of dmabuf_bind: before it, v3 got no `format`.
TEST_F(DmabufProtocol, BindEventsFollowTheVersion) {
	const std::vector<format_pair> pairs = linux_dmabuf::composition_formats().pairs();
	std::vector<uint32_t> each_format_once;
	for (const auto &[format, modifier] : pairs)
		if (each_format_once.empty() || each_format_once.back() != format)
			each_format_once.push_back(format);
	// Exactly the CPU path's table (render/cpu_format.hpp), each format of
	// which tests/unit/cpu_read_test.cpp reads against its reference.
	ASSERT_EQ(each_format_once.size(), cpu_formats().size());
	for (uint32_t format : each_format_once)
		EXPECT_NE(find_cpu_format(format), nullptr) << format_name(format);

	for (uint32_t version : {1u, 2u, 3u, 4u}) {
		SCOPED_TRACE("version " + std::to_string(version));
		bind_events got = bind_at(h(), version);
		EXPECT_EQ(got.bound, version);
		std::vector<uint32_t> formats = got.formats;
		std::sort(formats.begin(), formats.end());
		std::vector<format_pair> modifiers = got.modifiers;
		std::sort(modifiers.begin(), modifiers.end());
		if (version < 4) {
			EXPECT_EQ(got.formats.size(), each_format_once.size()); // once each
			EXPECT_EQ(formats, each_format_once);
		} else {
			EXPECT_TRUE(got.formats.empty());
		}
		if (version == 3) {
			EXPECT_EQ(got.modifiers.size(), pairs.size()); // once each
			EXPECT_EQ(modifiers, pairs);
		} else {
			EXPECT_TRUE(got.modifiers.empty());
		}
	}
}

// --- buffers and pixels ----------------------------------------------------------

TEST_F(DmabufProtocol, CreateGetsCreatedAndThePixelsAppear) {
	dmabuf_client_options opts = options();
	opts.color = 0xff2080c0;
	opts.quadrants = true;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	EXPECT_EQ(client->stats().wl_buffers, 1);
	EXPECT_EQ(client->stats().failed, 0);
	ASSERT_EQ(client->buffers().size(), 1u);
	EXPECT_TRUE(client->buffers()[0].created);
	EXPECT_EQ(srv().dmabuf()->stats().created, 1u);

	// 200x150, centred in 640x480: at (220, 165).
	image frame = h().capture();
	EXPECT_EQ(rgb(frame.at(220, 165)), 0x2080c0u); // top-left: the colour
	EXPECT_EQ(rgb(frame.at(319, 239)), 0x2080c0u);
	EXPECT_EQ(rgb(frame.at(320, 165)), 0xff0000u);  // top-right: red
	EXPECT_EQ(rgb(frame.at(220, 240)), 0x00ff00u);  // bottom-left: green
	EXPECT_EQ(rgb(frame.at(419, 314)), 0x0000ffu);  // bottom-right: blue
	EXPECT_EQ(rgb(frame.at(219, 165)), background); // outside
	EXPECT_EQ(rgb(frame.at(420, 314)), background);
	EXPECT_EQ(rgb(frame.at(419, 315)), background);

	// The pixman renderer read the client's dma-buf through the Import's
	// mapping (dmabuf_buffer's data-ptr access).
	EXPECT_GE(srv().context()->cache().stats().mappings, 1u);
	size_t mapped = 0;
	srv().context()->cache().for_each([&](const dmabuf_import &i) { mapped += i.mapped_count(); });
	EXPECT_EQ(mapped, 1u);
}

// Composition reads no further than validation allows: a 64x64 buffer fills
// its 16384-byte dma-buf to the last byte, and the guard page after the
// mapping (import/mapping.cpp) faults on any read past it.
TEST_F(DmabufProtocol, BufferEndingAtTheLastByteIsCompositedWithoutAFault) {
	dmabuf_client_options opts = options();
	opts.width = 64;
	opts.height = 64;
	opts.color = 0xff4080a0;
	opts.quadrants = true;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	uint64_t bytes = 0;
	srv().context()->cache().for_each([&](const dmabuf_import &i) { bytes += i.bytes(); });
	ASSERT_EQ(bytes, 64u * 64 * 4) << "the dma-buf holds exactly the pixels";
	// 64x64 centred in 640x480: (288, 208) to (351, 271); the last row, the
	// bottom-right quadrant's, is blue.
	image frame = h().capture();
	EXPECT_EQ(rgb(frame.at(288, 208)), 0x4080a0u);
	EXPECT_EQ(rgb(frame.at(351, 271)), 0x0000ffu);
	EXPECT_EQ(rgb(frame.at(352, 271)), background);
}

// Regression: y_invert was accepted and then dropped, so a GL client's frame
// (weston-simple-dmabuf-egl sets it) was shown upside down. Composition
// walks the rows bottom-up.
TEST_F(DmabufProtocol, YInvertBufferIsShownBottomUp) {
	dmabuf_client_options opts = options();
	opts.color = 0xff2080c0;
	opts.quadrants = true;
	opts.flags = ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	ASSERT_EQ(client->buffers().size(), 1u);
	EXPECT_TRUE(client->buffers()[0].created);
	// In memory: colour, red / green, blue. On screen, flipped vertically.
	image frame = h().capture();
	EXPECT_EQ(rgb(frame.at(220, 165)), 0x00ff00u); // top-left: green
	EXPECT_EQ(rgb(frame.at(320, 165)), 0x0000ffu); // top-right: blue
	EXPECT_EQ(rgb(frame.at(220, 314)), 0x2080c0u); // bottom-left: the colour
	EXPECT_EQ(rgb(frame.at(419, 314)), 0xff0000u); // bottom-right: red
	EXPECT_EQ(rgb(frame.at(219, 165)), background);
	EXPECT_EQ(rgb(frame.at(419, 315)), background);
}

TEST_F(DmabufProtocol, CreateImmedBufferIsUsable) {
	dmabuf_client_options opts = options();
	opts.create_immed = true;
	opts.color = 0xffc0ffee;
	opts.frames = 3;
	opts.buffers = 2;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	EXPECT_EQ(client->stats().wl_buffers, 2);
	EXPECT_EQ(client->stats().frames_shown, 3);
	EXPECT_EQ(rgb(h().capture().at(320, 240)), 0xc0ffeeu);
	EXPECT_EQ(srv().dmabuf()->stats().created, 2u);
}

TEST_F(DmabufProtocol, ReleaseArrivesWhenABufferIsReplaced) {
	dmabuf_client_options opts = options();
	opts.frames = 4;
	opts.buffers = 2;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	EXPECT_EQ(client->stats().releases, 3);
	const auto &b = client->buffers();
	ASSERT_EQ(b.size(), 2u);
	// Committed in frames 0 and 2, released as soon as frames 1 and 3 came.
	EXPECT_EQ(b[0].commits, (std::vector<int>{0, 2}));
	EXPECT_EQ(b[0].releases, (std::vector<int>{1, 3}));
	// Committed in frames 1 and 3, released by frame 2, and on screen now.
	EXPECT_EQ(b[1].commits, (std::vector<int>{1, 3}));
	EXPECT_EQ(b[1].releases, (std::vector<int>{2}));
	EXPECT_TRUE(b[1].busy);
}

TEST_F(DmabufProtocol, UnmapReleasesTheLastBuffer) {
	dmabuf_client_options opts = options();
	opts.frames = 3;
	opts.buffers = 3;
	opts.unmap_at_end = true;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	EXPECT_EQ(client->stats().releases, 3);
	EXPECT_EQ(rgb(h().capture().at(320, 240)), background);
}

TEST_F(DmabufProtocol, NewWlBufferPerFrameImportsEachDmabufOnce) {
	dmabuf_client_options opts = options();
	opts.frames = 10;
	opts.buffers = 3;
	opts.new_wl_buffer_per_frame = true;
	const ioctl_counts before = counts();
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	EXPECT_EQ(client->stats().wl_buffers, 10);
	EXPECT_EQ(client->stats().releases, 9);
	EXPECT_EQ(client->stats().dmabufs, 3);
	// One PRIME import per dma-buf; the 7 other wl_buffers hit the cache.
	const ioctl_counts used = counts() - before;
	EXPECT_EQ(used.fd_to_handle, 3u);
	EXPECT_EQ(used.prime(), 3u);
	EXPECT_EQ(srv().context()->cache().stats().misses, 3u);
	EXPECT_EQ(srv().context()->cache().stats().hits, 7u);
	EXPECT_EQ(srv().context()->cache().size(), 3u);
}

TEST_F(DmabufProtocol, RecreatedWlBufferCostsZeroPrimeIoctls) {
	dmabuf_client_options opts = options();
	opts.manual = true;
	auto client = connect(opts);
	ASSERT_TRUE(h().run_until([&] { return client->configured() || client->finished(); }));
	ASSERT_EQ(client->failure(), "");
	const int dmabuf = client->allocate_dmabuf();
	client->set_color(0xff102030);
	const int other = client->allocate_dmabuf();
	ASSERT_GE(dmabuf, 0);
	ASSERT_GE(other, 0);
	auto show = [&](int buffer, uint32_t color) {
		const int shown = client->stats().frames_shown;
		client->attach(buffer);
		return h().run_until([&] {
			return client->stats().frames_shown > shown &&
			       rgb(h().capture().at(320, 240)) == color;
		});
	};
	const int first = client->create_wl_buffer(dmabuf, false);
	const int cover = client->create_wl_buffer(other, true);
	ASSERT_TRUE(h().run_until([&] { return client->buffers()[size_t(first)].created; }));
	ASSERT_TRUE(show(first, 0x336699u));
	const ioctl_counts after_first = counts();
	EXPECT_EQ(after_first.fd_to_handle, 2u); // both dma-bufs

	// The wl_buffer goes, and is replaced on screen: its Import stays
	// cached, idle. Then new wl_buffers of the same dma-buf, by create and
	// by create_immed, find it.
	client->destroy_wl_buffer(first);
	ASSERT_TRUE(show(cover, 0x102030u));
	ASSERT_TRUE(h().run_until([&] { return srv().context()->cache().idle_count() == 1; }));
	for (bool immed : {false, true}) {
		const int again = client->create_wl_buffer(dmabuf, immed);
		ASSERT_TRUE(
		    h().run_until([&] { return client->buffers()[size_t(again)].created; }));
		ASSERT_TRUE(show(again, 0x336699u));
		client->destroy_wl_buffer(again);
		ASSERT_TRUE(show(cover, 0x102030u));
	}
	EXPECT_EQ(counts() - after_first, ioctl_counts{});
	EXPECT_EQ(srv().context()->cache().stats().hits, 2u);
	EXPECT_EQ(srv().context()->cache().stats().misses, 2u);
	EXPECT_EQ(client->failure(), "");
}

// The CPU path hands the formats it calls `direct` to wlroots' pixman
// renderer as they are: the renderer must take each of them.
TEST_F(DmabufProtocol, DirectFormatsAreThoseThePixmanRendererReads) {
	size_t len = 0;
	const uint32_t *formats = wlr_renderer_get_shm_texture_formats(srv().renderer(), &len);
	ASSERT_NE(formats, nullptr);
	const std::set<uint32_t> takes(formats, formats + len);
	size_t direct = 0;
	for (const cpu_format &f : cpu_formats()) {
		if (f.reader == cpu_reader::direct) {
			direct++;
			EXPECT_TRUE(takes.count(f.fourcc)) << format_name(f.fourcc);
		}
		EXPECT_TRUE(takes.count(f.shown_as)) << format_name(f.shown_as);
	}
	EXPECT_EQ(direct, 14u);
}

// NV12 on one dma-buf (chroma after luma, one stride) and on two: shown,
// converted (BT.601 limited range, render/cpu_picture.hpp) once per commit.
TEST_F(DmabufProtocol, Nv12OnOneAndOnTwoDmaBufsIsShown) {
	for (nv12_layout layout : {nv12_layout::one_bo, nv12_layout::two_bo}) {
		SCOPED_TRACE(layout == nv12_layout::one_bo ? "one dma-buf" : "two dma-bufs");
		dmabuf_client_options opts = options();
		opts.nv12 = layout;
		opts.color = 0xff336699;
		auto client = connect(opts);
		ASSERT_TRUE(run_to_end(*client));
		EXPECT_EQ(client->failure(), "");
		EXPECT_EQ(client->stats().failed, 0);
		ASSERT_EQ(client->stats().frames_shown, opts.frames);
		// The client's own RGB to YUV rounds: within 3 of the colour.
		const uint32_t shown = rgb(h().capture().at(320, 240));
		for (int shift : {16, 8, 0}) {
			const int want = int(opts.color >> shift) & 0xff;
			const int got = int(shown >> shift) & 0xff;
			EXPECT_LE(std::abs(got - want), 3) << std::hex << "shown 0x" << shown;
		}
		size_t pictures = 0;
		srv().context()->cache().for_each([&](const dmabuf_import &i) {
			const cpu_picture_stats s = cpu_picture_stats_of(i);
			if (i.key().format == DRM_FORMAT_NV12 && s.converted) {
				pictures++;
				// Made (and converted in full) when the commit was
				// applied; composition reads it as it is.
				EXPECT_EQ(s.conversions, 1u);
				EXPECT_EQ(s.rows_converted, uint64_t(i.key().height));
			}
		});
		EXPECT_EQ(pictures, 1u);
		disconnect(client);
	}
}

// --- malformed requests ------------------------------------------------------------

} // namespace
} // namespace wlprime

// GoogleTest prints parameters with these (found by argument-dependent lookup).
namespace wlprime::clients {
void PrintTo(const bad_request_info &info, std::ostream *os) {
	*os << info.name << " -> " << to_string(info.expected);
}
} // namespace wlprime::clients

namespace wlprime {
namespace {

class DmabufBadRequest : public DmabufProtocol,
                         public testing::WithParamInterface<bad_request_info> {};

TEST_P(DmabufBadRequest, GetsTheProtocolAnswerAndLeavesNothing) {
	const bad_request_info &info = GetParam();
	const auto fds_before = fd_table();
	const uint64_t errors_before = srv().dmabuf()->stats().protocol_errors;
	dmabuf_client_options opts = options();
	opts.bad = info.request;
	auto client = connect(opts);
	ASSERT_TRUE(run_to_end(*client)) << client->summary();
	ASSERT_EQ(client->failure(), "");
	const outcome &got = client->last_outcome();
	EXPECT_EQ(got.what, info.expected.what) << to_string(got);
	EXPECT_EQ(got.interface, info.expected.interface) << to_string(got);
	EXPECT_EQ(got.code, info.expected.code) << to_string(got);
	EXPECT_EQ(got.errnum, info.expected.errnum) << to_string(got);
	for (const std::string &name : info.message_names) {
		EXPECT_NE(got.message.find(name), std::string::npos)
		    << "'" << name << "' not in: " << got.message;
	}
	// The model's dma-bufs are 64 * 4 * 48 bytes: bounds errors name that.
	if (info.expected.code == 6 && info.request != bad_request::dev_null_fd) {
		EXPECT_NE(got.message.find("12288"), std::string::npos) << got.message;
	}
	if (got.what == outcome::kind::protocol_error) {
		EXPECT_EQ(srv().dmabuf()->stats().protocol_errors,
		          errors_before + (got.code == 7 ? 0 : 1));
	}
	disconnect(client);
	expect_nothing_left(fds_before);
}

INSTANTIATE_TEST_SUITE_P(All, DmabufBadRequest, testing::ValuesIn(bad_requests()),
                         [](const testing::TestParamInfo<bad_request_info> &info) {
	                         std::string name = info.param.name;
	                         for (char &c : name) {
		                         c = c == '-' ? '_' : c;
	                         }
	                         return name;
                         });

// --- ownership -------------------------------------------------------------------

struct lifecycle_case {
	const char *name;
	void (*set)(dmabuf_client_options &);
};
void PrintTo(const lifecycle_case &c, std::ostream *os) {
	*os << c.name;
}

class DmabufLifecycle : public DmabufProtocol,
                        public testing::WithParamInterface<lifecycle_case> {};

TEST_P(DmabufLifecycle, LeavesNoFdAndNoGemHandle) {
	const auto fds_before = fd_table();
	dmabuf_client_options opts = options();
	opts.frames = 5;
	opts.buffers = 2;
	GetParam().set(opts);
	auto client = connect(opts);
	ASSERT_TRUE(run_to_end(*client));
	EXPECT_EQ(client->failure(), "");
	if (opts.nv12 == nv12_layout::none) {
		EXPECT_GT(handles(), 0u); // imported while in use
	}
	disconnect(client);
	expect_nothing_left(fds_before);
	EXPECT_EQ(srv().context()->cache().size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    All, DmabufLifecycle,
    testing::Values(
        lifecycle_case{"create", [](dmabuf_client_options &) {}},
        lifecycle_case{"create_immed", [](dmabuf_client_options &o) { o.create_immed = true; }},
        lifecycle_case{"per_frame",
                       [](dmabuf_client_options &o) { o.new_wl_buffer_per_frame = true; }},
        lifecycle_case{"v3", [](dmabuf_client_options &o) { o.protocol_version = 3; }},
        lifecycle_case{"unmapped", [](dmabuf_client_options &o) { o.unmap_at_end = true; }},
        lifecycle_case{"nv12_one_bo",
                       [](dmabuf_client_options &o) { o.nv12 = nv12_layout::one_bo; }},
        lifecycle_case{"nv12_two_bo",
                       [](dmabuf_client_options &o) { o.nv12 = nv12_layout::two_bo; }}),
    [](const testing::TestParamInfo<lifecycle_case> &info) { return info.param.name; });

TEST_F(DmabufProtocol, AbruptDisconnectLeavesNothingAndOthersKeepWorking) {
	// B: a window that stays.
	dmabuf_client_options b_opts = options();
	b_opts.manual = true;
	b_opts.color = 0xff00a000;
	auto b = connect(b_opts);
	ASSERT_TRUE(h().run_until([&] { return b->configured() || b->finished(); }));
	int b_buffer = b->create_wl_buffer(b->allocate_dmabuf(), true);
	b->attach(b_buffer);
	ASSERT_TRUE(h().run_until([&] { return b->stats().frames_shown == 1; }));
	ASSERT_EQ(b->failure(), "");
	move_newest_view(0, 0);
	const auto fds_before = fd_table();
	const size_t handles_of_b = handles();
	EXPECT_EQ(handles_of_b, 1u);

	// A: a buffer attached, another created, params half-filled with a
	// third dma-buf; then the connection just goes.
	dmabuf_client_options a_opts = options();
	a_opts.manual = true;
	a_opts.color = 0xffa00000;
	auto a = connect(a_opts);
	ASSERT_TRUE(h().run_until([&] { return a->configured() || a->finished(); }));
	int shown = a->create_wl_buffer(a->allocate_dmabuf(), false);
	int spare = a->create_wl_buffer(a->allocate_dmabuf(), false);
	ASSERT_TRUE(h().run_until([&] {
		return a->buffers()[size_t(shown)].created && a->buffers()[size_t(spare)].created;
	}));
	a->attach(shown);
	a->leave_params_half_filled(a->allocate_dmabuf());
	ASSERT_TRUE(h().run_until([&] { return a->stats().frames_shown == 1; }));
	ASSERT_EQ(a->failure(), "");
	EXPECT_EQ(handles(), handles_of_b + 2);
	EXPECT_EQ(rgb(h().capture().at(320, 240)), 0xa00000u); // A, centred
	a->disconnect_abruptly();
	disconnect(a);

	ASSERT_TRUE(h().run_until([&] { return srv().views().size() == 1; }));
	expect_nothing_left(fds_before, handles_of_b);
	EXPECT_EQ(rgb(h().capture().at(320, 240)), background);
	EXPECT_EQ(rgb(h().capture().at(100, 75)), 0x00a000u); // B still shown

	// B keeps working: a new buffer of another colour.
	b->set_color(0xff0000c0);
	int b_next = b->create_wl_buffer(b->allocate_dmabuf(), false);
	ASSERT_TRUE(h().run_until([&] { return b->buffers()[size_t(b_next)].created; }));
	b->attach(b_next);
	ASSERT_TRUE(h().run_until(
	    [&] { return b->stats().frames_shown == 2 && b->stats().releases == 1; }));
	EXPECT_EQ(rgb(h().capture().at(100, 75)), 0x0000c0u);
	EXPECT_EQ(b->failure(), "");
}

// Two clients send the same dma-buf: one Import, shown by both, until each
// lets go, in either order.
class DmabufShared : public DmabufProtocol, public testing::WithParamInterface<bool> {};

TEST_P(DmabufShared, TwoClientsShareOneImport) {
	const bool first_goes_first = GetParam();
	const auto fds_before = fd_table();
	const uint64_t size = 200 * 4 * 150;
	auto shared = std::make_shared<unique_fd>(kernel_.create_foreign_dmabuf(size));
	ASSERT_TRUE(*shared);
	std::shared_ptr<dmabuf_allocator> same_dmabuf = callback_allocator(
	    [shared](uint64_t) { return shared->duplicate(); }, "one shared model dma-buf");

	std::unique_ptr<dmabuf_client> clients[2];
	int buffers[2];
	const int x[2] = {0, 320};
	const ioctl_counts before = counts();
	for (int i = 0; i < 2; i++) {
		dmabuf_client_options opts;
		opts.allocator = same_dmabuf;
		opts.manual = true;
		opts.color = 0xff806040;
		opts.draw = i == 0; // the second one sends it as it is
		clients[i] = connect(opts);
		dmabuf_client &c = *clients[i];
		ASSERT_TRUE(h().run_until([&] { return c.configured() || c.finished(); }));
		buffers[i] = c.create_wl_buffer(c.allocate_dmabuf(), false);
		ASSERT_TRUE(h().run_until([&] { return c.buffers()[size_t(buffers[i])].created; }));
		c.attach(buffers[i]);
		ASSERT_TRUE(h().run_until([&] { return c.stats().frames_shown == 1; }));
		ASSERT_EQ(c.failure(), "");
		move_newest_view(x[i], 0);
	}
	// One Import, one PRIME import, one GEM handle.
	EXPECT_EQ(srv().context()->cache().size(), 1u);
	EXPECT_EQ(srv().context()->cache().stats().misses, 1u);
	EXPECT_EQ(srv().context()->cache().stats().hits, 1u);
	EXPECT_EQ((counts() - before).fd_to_handle, 1u);
	EXPECT_EQ(handles(), 1u);
	image frame = h().capture();
	EXPECT_EQ(rgb(frame.at(100, 75)), 0x806040u);
	EXPECT_EQ(rgb(frame.at(420, 75)), 0x806040u);

	const int order[2] = {first_goes_first ? 0 : 1, first_goes_first ? 1 : 0};
	// The first to go: destroys its wl_buffer and unmaps; the other one
	// still shows the shared buffer, read through the same Import.
	{
		dmabuf_client &c = *clients[order[0]];
		c.destroy_wl_buffer(buffers[order[0]]);
		c.attach(-1);
		ASSERT_TRUE(h().run_until(
		    [&] { return rgb(h().capture().at(x[order[0]] + 100, 75)) == background; }));
		frame = h().capture();
		EXPECT_EQ(rgb(frame.at(x[order[1]] + 100, 75)), 0x806040u);
		EXPECT_EQ(srv().context()->cache().size(), 1u);
		EXPECT_EQ(srv().context()->cache().idle_count(), 0u);
		EXPECT_EQ(handles(), 1u);
	}
	{
		dmabuf_client &c = *clients[order[1]];
		c.destroy_wl_buffer(buffers[order[1]]);
		c.attach(-1);
		ASSERT_TRUE(h().run_until([&] { return srv().context()->cache().idle_count() == 1; }));
		EXPECT_EQ(rgb(h().capture().at(x[order[1]] + 100, 75)), background);
	}
	for (auto &c : clients) {
		EXPECT_EQ(c->failure(), "");
		disconnect(c);
	}
	same_dmabuf.reset();
	shared.reset();
	expect_nothing_left(fds_before);
}

INSTANTIATE_TEST_SUITE_P(Order, DmabufShared, testing::Bool(),
                         [](const testing::TestParamInfo<bool> &info) {
	                         return info.param ? "first_goes_first" : "second_goes_first";
                         });

TEST_F(DmabufProtocol, ShmAndDmabufClientsSideBySide) {
	std::string err;
	auto shm = shm_client::connect(h().socket().c_str(),
	                               {.color = 0xff102030, .width = 100, .height = 100}, &err);
	ASSERT_NE(shm, nullptr) << err;
	h().attach(shm->display());
	ASSERT_TRUE(h().run_until([&] { return shm->shown(); }));
	move_newest_view(500, 0);
	dmabuf_client_options opts = options();
	opts.color = 0xff405060;
	auto client = run_clean(opts);
	ASSERT_NE(client, nullptr);
	image frame = h().capture();
	EXPECT_EQ(rgb(frame.at(550, 50)), 0x102030u);
	EXPECT_EQ(rgb(frame.at(320, 240)), 0x405060u);
	EXPECT_TRUE(shm->globals().count("zwp_linux_dmabuf_v1"));
	h().detach(shm->display());
}

} // namespace
} // namespace wlprime
