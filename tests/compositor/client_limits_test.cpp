// Hostile clients, in-process (issue 7, parts 3 and 4): per-client limits of
// linux-dmabuf (compositor/client_limits.hpp) and isolation between clients.
// A headless wlprime whose import subsystem runs on the kernel model, dmabuf
// clients (tests/clients) and a raw client (tests/churn/raw_client) that
// sends object ids of its own choosing.
//
// Limits: params (wl_display no_memory), wl_buffers and bytes (failed for
// create, invalid_wl_buffer for create_immed), a log line naming the client's
// pid and the option; exact accounting through destroy and disconnect; one
// client at its limit does not change what another may do.
// Isolation: two clients sharing one dma-buf, every order of destroy,
// re-import and (clean or abrupt) disconnect of one of them: the other's
// buffer stays shown and its Import alive (no second PRIME import); and
// another client's wl_buffer id, in any client, is an invalid object for that
// client only.

#include <filesystem>
#include <map>
#include <mutex>

#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "compositor/options.hpp"
#include "compositor/server.hpp"
#include "tests/churn/raw_client.hpp"
#include "tests/clients/dmabuf_client.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/compositor/model_fixture.hpp"
#include "tests/unit/kernel_model.hpp"

namespace wlprime {
namespace {

using namespace clients;

// The dmabuf client's buffers: 200x150 XRGB8888, linear.
// 200x150 XRGB8888 (120000 bytes) in the whole pages that the kernel (and the
// model) allocates.
constexpr uint64_t buffer_bytes = 30 * 4096;

// wlr_log lines, captured to check the limit messages.
std::mutex log_mutex;
std::vector<std::string> log_lines;

void capture_log(wlr_log_importance, const char *fmt, va_list args) {
	char line[1024];
	std::vsnprintf(line, sizeof(line), fmt, args);
	std::lock_guard lock(log_mutex);
	log_lines.emplace_back(line);
}

bool logged(const std::vector<std::string> &parts) {
	std::lock_guard lock(log_mutex);
	for (const std::string &line : log_lines) {
		bool all = true;
		for (const std::string &p : parts) {
			all = all && line.find(p) != std::string::npos;
		}
		if (all) {
			return true;
		}
	}
	return false;
}

class Hostile : public ModelHarnessTest {
protected:
	void SetUp() override {
		capture_wayland_client_log(true);
		{
			std::lock_guard lock(log_mutex);
			log_lines.clear();
		}
		wlr_log_init(WLR_DEBUG, capture_log);
		ASSERT_NO_FATAL_FAILURE(start_harness());
		ASSERT_NE(srv().dmabuf(), nullptr);
	}
	void TearDown() override {
		h_.reset();
		wlr_log_init(WLR_ERROR, nullptr);
		capture_wayland_client_log(false);
	}

	client_limits &limits() { return srv().dmabuf()->limits(); }

	dmabuf_client_options options(uint32_t color = 0xff336699) {
		dmabuf_client_options opts;
		opts.allocator = model_allocator();
		opts.manual = true;
		opts.color = color;
		return opts;
	}

	// A manual client, connected and configured.
	std::unique_ptr<dmabuf_client> connect(const dmabuf_client_options &opts) {
		std::string err;
		auto client = dmabuf_client::connect(h().socket().c_str(), opts, &err);
		EXPECT_NE(client, nullptr) << err;
		if (!client) {
			return nullptr;
		}
		h().attach(client->display());
		EXPECT_TRUE(
		    h().run_until([&] { return client->configured() || client->finished(); }));
		EXPECT_EQ(client->failure(), "");
		return client;
	}

	void disconnect(std::unique_ptr<dmabuf_client> &client, bool abrupt = false) {
		if (abrupt) {
			client->disconnect_abruptly();
		}
		h().detach(client->display());
		client.reset();
	}

	// The server side of the connected clients, in order of connection.
	std::vector<wl_client *> server_clients() {
		std::vector<wl_client *> out;
		wl_client *c;
		wl_client_for_each(c, wl_display_get_client_list(srv().display())) {
			out.push_back(c);
		}
		return out;
	}
	// The usage of the i-th connected client (null: none).
	const client_usage *usage(size_t i) {
		auto all = server_clients();
		return i < all.size() ? limits().find(all[i]) : nullptr;
	}

	// Creates a wl_buffer and waits for its outcome: true if it was made.
	bool make_buffer(dmabuf_client &c, int dmabuf, bool immed, int *index = nullptr) {
		int b = c.create_wl_buffer(dmabuf, immed);
		if (index) {
			*index = b;
		}
		// create_immed: the answer (a protocol error or nothing) needs a
		// roundtrip through the server; a dispatch or two is enough in
		// process, and the check below looks at the connection.
		h().run_until(
		    [&] {
			    const buffer_record &r = c.buffers()[size_t(b)];
			    return (!immed && (r.created || r.failed)) || !c.failure().empty();
		    },
		    immed ? std::chrono::milliseconds(100) : std::chrono::seconds(10));
		const buffer_record &r = c.buffers()[size_t(b)];
		return r.created && !r.failed && c.failure().empty();
	}

	// Attaches and waits for the frame to be shown.
	bool show(dmabuf_client &c, int buffer) {
		const int shown = c.stats().frames_shown;
		c.attach(buffer);
		return h().run_until([&] { return c.stats().frames_shown > shown; });
	}

	size_t handles() { return kernel_.handle_count(srv().context()->main_device()->fd()); }
	uint32_t pixel(int x, int y) { return rgb(h().capture().at(x, y)); }

	void expect_nothing_left(const std::map<int, std::string> &fds_before) {
		bool clean = h().run_until(
		    [&] {
			    srv().context()->cache().evict_idle();
			    return fd_table() == fds_before && handles() == 0 &&
			           limits().live_records() == 0;
		    },
		    std::chrono::seconds(3));
		EXPECT_TRUE(clean) << "fds " << fd_table().size() << " (before "
		                   << fds_before.size() << "), GEM handles " << handles()
		                   << ", usage records " << limits().live_records();
	}
};

// --- command line and defaults -----------------------------------------------------

TEST(ClientLimitOptions, DefaultsAndTheThreeOptions) {
	config defaults;
	EXPECT_EQ(defaults.client_limits.max_params, 64u);
	EXPECT_EQ(defaults.client_limits.max_buffers, 1024u);
	EXPECT_EQ(defaults.client_limits.max_bytes, 1ull << 30);

	const char *args[] = {"--max-client-params", "8", "--max-client-buffers=100",
	                      "--max-client-bytes", "256M"};
	parsed_options p = parse_options(args);
	ASSERT_EQ(p.what, parsed_options::action::run) << p.message;
	EXPECT_EQ(p.cfg.client_limits.max_params, 8u);
	EXPECT_EQ(p.cfg.client_limits.max_buffers, 100u);
	EXPECT_EQ(p.cfg.client_limits.max_bytes, 256ull << 20);

	const char *zero[] = {"--max-client-bytes=0", "--max-client-params=0"};
	p = parse_options(zero);
	ASSERT_EQ(p.what, parsed_options::action::run) << p.message;
	EXPECT_EQ(p.cfg.client_limits.max_bytes, 0u); // no limit
	EXPECT_EQ(p.cfg.client_limits.max_params, 0u);
	EXPECT_EQ(parse_options(std::vector<const char *>{"--max-client-bytes=3G"})
	              .cfg.client_limits.max_bytes,
	          3ull << 30);

	for (const char *bad : {"--max-client-buffers=-1", "--max-client-buffers=1k",
	                        "--max-client-params=4294967296", "--max-client-bytes=12X",
	                        "--max-client-bytes=M", "--max-client-bytes=99999999999T"}) {
		const char *one[] = {bad};
		parsed_options q = parse_options(one);
		EXPECT_EQ(q.what, parsed_options::action::usage_error) << bad;
		EXPECT_NE(q.message.find("--max-client-"), std::string::npos) << q.message;
	}
	const std::string help = usage_text("wlprime");
	for (const char *name :
	     {"--max-client-params N", "--max-client-buffers N", "--max-client-bytes SIZE",
	      "(default 64)", "(default\n", "1024)", "1G", "SIGUSR2"}) {
		EXPECT_NE(help.find(name), std::string::npos) << name;
	}
}

// --- params -------------------------------------------------------------------------

TEST_F(Hostile, ParamsLimitDisconnectsTheOffenderOnly) {
	const auto fds_before = fd_table();
	limits().set_values({.max_params = 4, .max_buffers = 1024, .max_bytes = 1ull << 30});
	auto other = connect(options(0xff00a000));
	int other_buffer = -1;
	ASSERT_TRUE(make_buffer(*other, other->allocate_dmabuf(), false, &other_buffer));
	ASSERT_TRUE(show(*other, other_buffer));
	srv().views().front()->move_to(0, 0);

	auto hog = connect(options());
	const int dmabuf = hog->allocate_dmabuf();
	for (int i = 0; i < 4; i++) {
		hog->leave_params_half_filled(dmabuf);
	}
	h().run_for(std::chrono::milliseconds(50));
	ASSERT_EQ(hog->failure(), "");
	ASSERT_NE(usage(1), nullptr);
	EXPECT_EQ(usage(1)->params, 4u);
	EXPECT_EQ(usage(0)->params, 0u); // create's params were destroyed

	hog->leave_params_half_filled(dmabuf);
	ASSERT_TRUE(h().run_until([&] { return !hog->failure().empty(); }));
	// wl_display.error no_memory: libwayland-client reports it as ENOMEM
	// (wl_display_get_error), with the message in its log line
	// "wl_display@1: error 2: <message>".
	const outcome &o = hog->last_outcome();
	EXPECT_EQ(o.what, outcome::kind::local_error) << to_string(o);
	EXPECT_EQ(o.errnum, ENOMEM) << to_string(o);
	const std::string pid = "client pid " + std::to_string(getpid());
	EXPECT_TRUE(logged({"limit", pid, "4 live zwp_linux_buffer_params_v1 objects",
	                    "the limit is 4", "--max-client-params"}));
	EXPECT_TRUE(logged({"limit", pid, "--max-client-params"}));
	EXPECT_EQ(limits().refusals(client_limit::params), 1u);
	disconnect(hog);
	ASSERT_TRUE(h().run_until([&] { return server_clients().size() == 1; }));

	// The other client: untouched, still shown, still served, still able
	// to make as many params as the limit allows.
	EXPECT_EQ(pixel(100, 75), 0x00a000u);
	other->set_color(0xff0000c0);
	int next = -1;
	ASSERT_TRUE(make_buffer(*other, other->allocate_dmabuf(), true, &next));
	ASSERT_TRUE(show(*other, next));
	EXPECT_EQ(pixel(100, 75), 0x0000c0u);
	for (int i = 0; i < 4; i++) {
		other->leave_params_half_filled(0);
	}
	h().run_for(std::chrono::milliseconds(50));
	EXPECT_EQ(other->failure(), "");
	EXPECT_EQ(usage(0)->params, 4u);
	disconnect(other);
	expect_nothing_left(fds_before);
}

// --- wl_buffers -----------------------------------------------------------------------

TEST_F(Hostile, BufferLimitFailsCreateAndRefusesCreateImmed) {
	const auto fds_before = fd_table();
	limits().set_values({.max_params = 64, .max_buffers = 3, .max_bytes = 1ull << 30});
	auto a = connect(options());
	auto b = connect(options(0xff00a000));
	const int dmabuf = a->allocate_dmabuf();
	int made[3];
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(make_buffer(*a, dmabuf, i == 1, &made[i])) << a->failure();
	}
	EXPECT_EQ(usage(0)->buffers, 3u);
	EXPECT_EQ(usage(0)->bytes, buffer_bytes); // three wl_buffers, one Import
	const ioctl_counts before = srv().context()->counts().counts();

	// create: `failed`, and the client goes on.
	int refused = -1;
	EXPECT_FALSE(make_buffer(*a, dmabuf, false, &refused));
	EXPECT_TRUE(a->buffers()[size_t(refused)].failed);
	EXPECT_EQ(a->failure(), "");
	const std::string pid = "client pid " + std::to_string(getpid());
	EXPECT_TRUE(
	    logged({"limit", pid, "3 live linux-dmabuf wl_buffers", "--max-client-buffers"}));
	EXPECT_EQ(limits().refusals(client_limit::buffers), 1u);
	// No PRIME ioctl for a refused buffer.
	EXPECT_EQ(srv().context()->counts().counts() - before, ioctl_counts{});

	// B is not affected by A being at its limit: three of its own.
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(make_buffer(*b, b->allocate_dmabuf(), i % 2 == 0)) << b->failure();
	}
	EXPECT_EQ(usage(1)->buffers, 3u);
	EXPECT_EQ(usage(1)->bytes, 3 * buffer_bytes);

	// Exact accounting: one destroyed, one more may be made; then the next
	// create_immed is a protocol error.
	a->destroy_wl_buffer(made[0]);
	ASSERT_TRUE(h().run_until([&] { return usage(0)->buffers == 2; }));
	int again = -1;
	ASSERT_TRUE(make_buffer(*a, dmabuf, false, &again));
	EXPECT_EQ(usage(0)->buffers, 3u);
	a->create_wl_buffer(dmabuf, true);
	ASSERT_TRUE(h().run_until([&] { return !a->failure().empty(); }));
	const outcome &o = a->last_outcome();
	// On the params object (which the client destroyed right after
	// create_immed, so its library names neither the interface nor the
	// message: the server's log line has it).
	EXPECT_EQ(o.what, outcome::kind::protocol_error) << to_string(o);
	EXPECT_EQ(o.code, 7u); // invalid_wl_buffer
	EXPECT_TRUE(logged({"not created", pid, "3 live linux-dmabuf wl_buffers, the limit is 3",
	                    "--max-client-buffers"}));
	EXPECT_EQ(limits().refusals(client_limit::buffers), 2u);
	disconnect(a);
	ASSERT_TRUE(h().run_until([&] { return server_clients().size() == 1; }));

	// B still fine, and still at 3 of 3.
	int b_buffer = -1;
	EXPECT_FALSE(make_buffer(*b, 0, false, &b_buffer));
	b->destroy_wl_buffer(0);
	ASSERT_TRUE(make_buffer(*b, 0, false, &b_buffer));
	ASSERT_TRUE(show(*b, b_buffer));
	EXPECT_EQ(pixel(320, 240), 0x00a000u);
	EXPECT_EQ(b->failure(), "");
	disconnect(b);
	expect_nothing_left(fds_before);
}

TEST_F(Hostile, DefaultBufferLimitIs1024) {
	const auto fds_before = fd_table();
	auto a = connect(options());
	const int dmabuf = a->allocate_dmabuf();
	// In batches: fds in flight on a socket are limited.
	for (uint32_t n = 32; n <= 1024; n += 32) {
		for (int i = 0; i < 32; i++) {
			a->create_wl_buffer(dmabuf, true);
		}
		ASSERT_TRUE(h().run_until([&] { return usage(0) && usage(0)->buffers == n; }));
	}
	ASSERT_EQ(a->failure(), "");
	EXPECT_EQ(usage(0)->bytes, buffer_bytes);
	EXPECT_EQ(srv().context()->cache().size(), 1u);
	a->create_wl_buffer(dmabuf, true);
	ASSERT_TRUE(h().run_until([&] { return !a->failure().empty(); }));
	EXPECT_EQ(a->last_outcome().code, 7u);
	EXPECT_TRUE(logged({"not created", "1024 live linux-dmabuf wl_buffers, the limit is 1024",
	                    "--max-client-buffers"}));
	disconnect(a);
	expect_nothing_left(fds_before);
}

// --- bytes -------------------------------------------------------------------------

TEST_F(Hostile, ByteLimitCountsAnImportOncePerClientAndInFullPerClient) {
	const auto fds_before = fd_table();
	// Room for two of the client's dma-bufs, not three.
	limits().set_values(
	    {.max_params = 64, .max_buffers = 1024, .max_bytes = 2 * buffer_bytes + 100});
	auto shared = std::make_shared<unique_fd>(kernel_.create_foreign_dmabuf(buffer_bytes));
	auto a = connect(options());
	const int d1 = a->allocate_dmabuf();
	const int d2 = a->allocate_dmabuf();
	const int d3 = a->allocate_dmabuf();
	int d1_buffers[3];
	for (int &b : d1_buffers) {
		ASSERT_TRUE(make_buffer(*a, d1, false, &b));
	}
	EXPECT_EQ(usage(0)->bytes, buffer_bytes);
	ASSERT_TRUE(make_buffer(*a, d2, true));
	EXPECT_EQ(usage(0)->bytes, 2 * buffer_bytes);
	EXPECT_EQ(usage(0)->imports.size(), 2u);

	const ioctl_counts before = srv().context()->counts().counts();
	int refused = -1;
	EXPECT_FALSE(make_buffer(*a, d3, false, &refused));
	EXPECT_TRUE(a->buffers()[size_t(refused)].failed);
	EXPECT_EQ(srv().context()->counts().counts() - before, ioctl_counts{});
	const std::string pid = "client pid " + std::to_string(getpid());
	EXPECT_TRUE(logged({"limit", pid, "bytes imported", "--max-client-bytes"}));
	// More wl_buffers of what it already holds cost no bytes.
	ASSERT_TRUE(make_buffer(*a, d2, false));
	EXPECT_EQ(usage(0)->bytes, 2 * buffer_bytes);

	// d1's bytes go with its last wl_buffer, not before.
	a->destroy_wl_buffer(d1_buffers[0]);
	a->destroy_wl_buffer(d1_buffers[1]);
	h().run_for(std::chrono::milliseconds(30));
	EXPECT_EQ(usage(0)->bytes, 2 * buffer_bytes);
	EXPECT_FALSE(make_buffer(*a, d3, false));
	a->destroy_wl_buffer(d1_buffers[2]);
	ASSERT_TRUE(h().run_until([&] { return usage(0)->bytes == buffer_bytes; }));
	ASSERT_TRUE(make_buffer(*a, d3, false));
	EXPECT_EQ(usage(0)->bytes, 2 * buffer_bytes);

	// B and C share one dma-buf (each through its own fd): one Import,
	// counted in full for each; A's count does not move.
	dmabuf_client_options shared_opts = options();
	shared_opts.allocator =
	    callback_allocator([shared](uint64_t) { return shared->duplicate(); }, "shared");
	auto b = connect(shared_opts);
	shared_opts.draw = false;
	auto c = connect(shared_opts);
	ASSERT_TRUE(make_buffer(*b, b->allocate_dmabuf(), false));
	ASSERT_TRUE(make_buffer(*c, c->allocate_dmabuf(), true));
	EXPECT_EQ(srv().context()->cache().size(), 4u); // d1 (idle), d2, d3, shared
	EXPECT_EQ(usage(1)->bytes, buffer_bytes);
	EXPECT_EQ(usage(2)->bytes, buffer_bytes);
	EXPECT_EQ(usage(0)->bytes, 2 * buffer_bytes);
	disconnect(b);
	ASSERT_TRUE(h().run_until([&] { return server_clients().size() == 2; }));
	EXPECT_EQ(usage(1)->bytes, buffer_bytes); // c, unchanged
	disconnect(c);
	disconnect(a, true);
	shared_opts.allocator.reset();
	shared.reset();
	expect_nothing_left(fds_before);
}

TEST_F(Hostile, AccountingIsExactAfterAbruptDisconnects) {
	const auto fds_before = fd_table();
	for (int round = 0; round < 3; round++) {
		auto a = connect(options());
		for (int i = 0; i < 5; i++) {
			const int d = a->allocate_dmabuf();
			ASSERT_TRUE(make_buffer(*a, d, i % 2 == 1));
			ASSERT_TRUE(make_buffer(*a, d, false));
			a->leave_params_half_filled(d);
		}
		int shown = -1;
		ASSERT_TRUE(make_buffer(*a, 0, true, &shown));
		ASSERT_TRUE(show(*a, shown));
		h().run_for(std::chrono::milliseconds(20));
		ASSERT_NE(usage(0), nullptr);
		EXPECT_EQ(usage(0)->buffers, 11u);
		EXPECT_EQ(usage(0)->params, 5u);
		EXPECT_EQ(usage(0)->bytes, 5 * buffer_bytes);
		EXPECT_EQ(limits().live_records(), 1u);
		disconnect(a, round != 1);
		ASSERT_TRUE(h().run_until([&] { return server_clients().empty(); }));
		// Records go with the client's last object; a new client (maybe at
		// the same wl_client address) starts from nothing.
		EXPECT_EQ(limits().client_count(), 0u);
		EXPECT_TRUE(h().run_until([&] { return limits().live_records() == 0; }));
	}
	expect_nothing_left(fds_before);
}

// --- isolation: two clients, one dma-buf ---------------------------------------------

enum class step { destroy, reimport, disconnect, disconnect_abruptly };

struct isolation_case {
	int leaver; // 0: the client that imported first, 1: the second
	std::vector<step> steps;
	std::string name;
};

std::vector<isolation_case> isolation_cases() {
	// Every order of destroy and re-import (each at most once), then a
	// clean or an abrupt disconnect; by either client.
	const std::vector<std::vector<step>> prefixes = {{},
	                                                 {step::destroy},
	                                                 {step::reimport},
	                                                 {step::destroy, step::reimport},
	                                                 {step::reimport, step::destroy}};
	std::vector<isolation_case> out;
	for (int leaver : {0, 1}) {
		for (const auto &prefix : prefixes) {
			for (step end : {step::disconnect, step::disconnect_abruptly}) {
				isolation_case c{leaver, prefix, leaver == 0 ? "first" : "second"};
				c.steps.push_back(end);
				for (step s : c.steps) {
					c.name += s == step::destroy      ? "_destroys"
					          : s == step::reimport   ? "_reimports"
					          : s == step::disconnect ? "_disconnects"
					                                  : "_is_killed";
				}
				out.push_back(c);
			}
		}
	}
	return out;
}

class Isolation : public Hostile, public testing::WithParamInterface<isolation_case> {};

TEST_P(Isolation, TheOtherClientKeepsItsBufferShownAndItsImport) {
	const isolation_case &tc = GetParam();
	const auto fds_before = fd_table();
	auto shared = std::make_shared<unique_fd>(kernel_.create_foreign_dmabuf(buffer_bytes));
	std::shared_ptr<dmabuf_allocator> same_dmabuf = callback_allocator(
	    [shared](uint64_t) { return shared->duplicate(); }, "one shared model dma-buf");
	constexpr uint32_t color = 0x806040;
	std::unique_ptr<dmabuf_client> clients[2];
	int current[2];
	const int x[2] = {0, 320};
	for (int i = 0; i < 2; i++) {
		dmabuf_client_options opts = options(0xff000000 | color);
		opts.allocator = same_dmabuf;
		opts.draw = i == 0;
		clients[i] = connect(opts);
		ASSERT_NE(clients[i], nullptr);
		ASSERT_EQ(clients[i]->allocate_dmabuf(), 0);
		ASSERT_TRUE(make_buffer(*clients[i], 0, i == 1, &current[i]));
		ASSERT_TRUE(show(*clients[i], current[i]));
		srv().views().front()->move_to(x[i], 0);
	}
	ASSERT_EQ(srv().context()->cache().size(), 1u);
	ASSERT_EQ(handles(), 1u);
	const uint64_t serial = [&] {
		uint64_t s = 0;
		srv().context()->cache().for_each([&](const dmabuf_import &i) { s = i.serial(); });
		return s;
	}();
	const int leaver = tc.leaver, stayer = 1 - tc.leaver;
	dmabuf_client &s = *clients[stayer];
	uint32_t stayer_buffers = usage(size_t(stayer))->buffers;
	const uint64_t stayer_bytes = usage(size_t(stayer))->bytes;
	wl_client *stayer_client = server_clients()[size_t(stayer)];

	// The stayer: its buffer is on screen, read anew (a new commit), its
	// Import is the one Import, in use, never re-imported.
	auto check_stayer = [&](const std::string &after) {
		SCOPED_TRACE("after " + after);
		ASSERT_TRUE(show(s, current[stayer]));
		EXPECT_EQ(pixel(x[stayer] + 100, 75), color);
		EXPECT_EQ(pixel(x[stayer] + 199, 149), color);
		EXPECT_EQ(s.failure(), "");
		EXPECT_EQ(srv().context()->cache().size(), 1u);
		srv().context()->cache().for_each([&](const dmabuf_import &i) {
			EXPECT_EQ(i.serial(), serial);
			EXPECT_GE(i.users(), 1u);
		});
		EXPECT_EQ(srv().context()->cache().idle_count(), 0u);
		EXPECT_EQ(handles(), 1u);
		EXPECT_EQ(srv().context()->counts().counts().fd_to_handle, 1u);
		const client_usage *u = limits().find(stayer_client);
		ASSERT_NE(u, nullptr);
		EXPECT_EQ(u->buffers, stayer_buffers);
		EXPECT_EQ(u->bytes, stayer_bytes);
	};
	check_stayer("both shown");

	std::string done;
	for (step st : tc.steps) {
		dmabuf_client &l = *clients[leaver];
		switch (st) {
		case step::destroy: // while on screen
			l.destroy_wl_buffer(current[leaver]);
			h().run_for(std::chrono::milliseconds(20));
			done += " destroy";
			break;
		case step::reimport:
			ASSERT_TRUE(make_buffer(l, 0, leaver == 0, &current[leaver]));
			ASSERT_TRUE(show(l, current[leaver]));
			EXPECT_EQ(pixel(x[leaver] + 100, 75), color);
			done += " reimport";
			break;
		case step::disconnect:
		case step::disconnect_abruptly:
			disconnect(clients[leaver], st == step::disconnect_abruptly);
			ASSERT_TRUE(h().run_until([&] { return server_clients().size() == 1; }));
			ASSERT_TRUE(h().run_until([&] { return srv().views().size() == 1; }));
			EXPECT_EQ(pixel(x[leaver] + 100, 75), background);
			done += " disconnect";
			break;
		}
		check_stayer(done);
	}

	// The stayer re-imports now that it is alone: the cache, no ioctl.
	ASSERT_TRUE(make_buffer(s, 0, true, &current[stayer]));
	stayer_buffers++; // a second wl_buffer of the same Import: no more bytes
	check_stayer(done + ", the stayer's re-import");
	disconnect(clients[stayer]);
	same_dmabuf.reset();
	shared.reset();
	expect_nothing_left(fds_before);
}

INSTANTIATE_TEST_SUITE_P(EveryOrder, Isolation, testing::ValuesIn(isolation_cases()),
                         [](const testing::TestParamInfo<isolation_case> &info) {
	                         return info.param.name;
                         });

// --- isolation: object ids are the client's own ------------------------------------

TEST_F(Hostile, AnotherClientsBufferIdIsAnInvalidObjectForTheOffenderOnly) {
	const auto fds_before = fd_table();
	// Two clients whose first wl_buffers (made by `create`, so numbered by
	// the server) have the same id: each one's id names its own buffer.
	auto a = connect(options(0xffa00000));
	auto c = connect(options(0xff0000c0));
	int a_buffer = -1, c_buffer = -1;
	ASSERT_TRUE(make_buffer(*a, a->allocate_dmabuf(), false, &a_buffer));
	ASSERT_TRUE(show(*a, a_buffer));
	srv().views().front()->move_to(0, 0);
	ASSERT_TRUE(make_buffer(*c, c->allocate_dmabuf(), false, &c_buffer));
	ASSERT_TRUE(show(*c, c_buffer));
	srv().views().front()->move_to(320, 0);
	std::vector<uint32_t> ids;
	for (const dmabuf_buffer *b : srv().context()->buffers().buffers) {
		ids.push_back(b->resource_id());
	}
	ASSERT_EQ(ids.size(), 2u);
	EXPECT_EQ(ids[0], ids[1]); // one number, two buffers
	EXPECT_GE(ids[0], 0xff000000u);
	EXPECT_EQ(pixel(100, 75), 0xa00000u);
	EXPECT_EQ(pixel(420, 75), 0x0000c0u);
	// A client-numbered one too (create_immed): A's id, not C's.
	int a_immed = -1;
	ASSERT_TRUE(make_buffer(*a, 0, true, &a_immed));
	uint32_t a_immed_id = 0;
	for (const dmabuf_buffer *b : srv().context()->buffers().buffers) {
		if (b->resource_id() < 0xff000000u) {
			a_immed_id = b->resource_id();
		}
	}
	ASSERT_NE(a_immed_id, 0u);

	// Offenders: raw clients attaching A's ids to their own surface. Each
	// gets wl_display.error invalid_object (0), naming the attach.
	for (uint32_t id : {ids[0], a_immed_id}) {
		SCOPED_TRACE("wl_buffer id " + std::to_string(id));
		std::string err;
		auto offender = churn::raw_client::connect(h().socket().c_str(), &err);
		ASSERT_NE(offender, nullptr) << err;
		h().attach(offender->display());
		ASSERT_TRUE(h().run_until([&] { return offender->ready(); }));
		h().run_for(std::chrono::milliseconds(20));
		ASSERT_NE(offender->surface_id(), id);
		ASSERT_TRUE(offender->send_attach(id));
		ASSERT_TRUE(h().run_until([&] { return offender->error() != 0; }));
		// wl_display.error invalid_object, which libwayland-client
		// reports as EINVAL.
		EXPECT_EQ(offender->error(), EINVAL);
		h().detach(offender->display());
		offender.reset();
		ASSERT_TRUE(h().run_until([&] { return server_clients().size() == 2; }));
	}
	// And an id the offender does have, but not a wl_buffer: its surface.
	{
		std::string err;
		auto offender = churn::raw_client::connect(h().socket().c_str(), &err);
		ASSERT_NE(offender, nullptr) << err;
		h().attach(offender->display());
		ASSERT_TRUE(h().run_until([&] { return offender->ready(); }));
		ASSERT_TRUE(offender->send_attach(offender->surface_id()));
		ASSERT_TRUE(h().run_until([&] { return offender->error() != 0; }));
		EXPECT_EQ(offender->error(), EINVAL);
		h().detach(offender->display());
	}

	// A and C: unaffected, each still shows its own buffer, and each id
	// still names its owner's buffer.
	ASSERT_TRUE(show(*a, a_buffer));
	ASSERT_TRUE(show(*c, c_buffer));
	EXPECT_EQ(pixel(100, 75), 0xa00000u);
	EXPECT_EQ(pixel(420, 75), 0x0000c0u);
	ASSERT_TRUE(show(*a, a_immed));
	EXPECT_EQ(pixel(100, 75), 0xa00000u);
	EXPECT_EQ(a->failure(), "");
	EXPECT_EQ(c->failure(), "");
	EXPECT_EQ(srv().context()->cache().size(), 2u);
	disconnect(a);
	disconnect(c);
	expect_nothing_left(fds_before);
}

} // namespace
} // namespace wlprime
