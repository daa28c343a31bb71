// The debug socket (compositor/debug_server.hpp) never blocks the event loop:
// peers that send nothing, send too much or never read are dropped within
// their bounds, while wlprime-debug and Wayland clients keep being served.
//
// In-process: a headless wlprime on the kernel model (the debug socket needs
// a main device), raw peers on non-blocking UNIX sockets, the real
// wlprime-debug (WLPRIME_DEBUG) in a thread so that this thread can pump the
// server meanwhile. Limits are made small on a second debug_server of the
// same server ("probe"), which listens beside the Wayland socket name
// "wayland-probe"; the server's own one (default limits) is checked too.

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>
#include <wayland-client.h>

#include "compositor/debug_server.hpp"
#include "compositor/server.hpp"
#include "tests/clients/dmabuf_client.hpp"
#include "tests/clients/shm_client.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/compositor/model_fixture.hpp"
#include "tests/compositor/process.hpp"
#include "tests/unit/kernel_model.hpp"

namespace wlprime {
namespace {

using namespace std::chrono_literals;
using namespace clients;

// A peer of the debug socket that does exactly what the test says.
struct raw_peer {
	unique_fd fd;
	std::string got;
	bool eof = false;

	static raw_peer connect(const std::string &path) {
		raw_peer p;
		p.fd = unique_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
		sockaddr_un addr = {};
		addr.sun_family = AF_UNIX;
		std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
		EXPECT_EQ(::connect(p.fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)),
		          0)
		    << path << ": " << std::strerror(errno);
		return p;
	}
	void send(const std::string &bytes) {
		EXPECT_EQ(::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
		          static_cast<ssize_t>(bytes.size()));
	}
	// Reads what has arrived; true at the end of the stream (or an error).
	bool drain() {
		char buf[4096];
		while (!eof) {
			ssize_t n = read(fd.get(), buf, sizeof(buf));
			if (n > 0)
				got.append(buf, static_cast<size_t>(n));
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				eof = true;
			else if (errno == EAGAIN)
				break;
		}
		return eof;
	}
};

// The real wlprime-debug, run in a thread: the test's thread pumps the server.
struct debug_tool_run {
	std::thread thread;
	std::atomic<bool> done = false;
	process_result result;

	// False (and the test fails) without WLPRIME_DEBUG.
	bool start(const std::vector<std::string> &args) {
		const char *program = std::getenv("WLPRIME_DEBUG");
		EXPECT_NE(program, nullptr) << "WLPRIME_DEBUG is not set";
		if (program == nullptr)
			return false;
		std::vector<std::string> argv = {program};
		argv.insert(argv.end(), args.begin(), args.end());
		thread = std::thread([this, argv] {
			process_options opts;
			opts.timeout = 20s;
			result = run_process(argv, opts);
			done = true;
		});
		return true;
	}
	~debug_tool_run() {
		if (thread.joinable())
			thread.join();
	}
};

class DebugSocket : public ModelHarnessTest {
protected:
	void SetUp() override {
		ASSERT_NO_FATAL_FAILURE(start_harness());
		ASSERT_NE(srv().context(), nullptr);
	}

	void make_probe(const debug_server_limits &limits) {
		auto created = debug_server::create(
		    srv().event_loop(), [this](dump_format f) { return srv().snapshot(f); },
		    "wayland-probe", limits);
		ASSERT_TRUE(created) << created.err().message;
		probe_ = std::move(*created);
	}
	const debug_server::counters &stats() { return probe_->stats(); }

	// A window on screen, for the roundtrips and frames the server must
	// keep answering.
	void show_window() {
		std::string err;
		window_ = shm_client::connect(h().socket().c_str(), {}, &err);
		ASSERT_NE(window_, nullptr) << err;
		h().attach(window_->display());
		ASSERT_TRUE(h().run_until([&] { return window_->shown(); }));
	}
	// A wl_display.sync of the window's connection comes back within
	// `within` (the loop is not blocked).
	bool roundtrip(std::chrono::milliseconds within) {
		bool done = false;
		static const wl_callback_listener listener = {
		    .done = [](void *data, wl_callback *,
		               uint32_t) { *static_cast<bool *>(data) = true; },
		};
		wl_callback *cb = wl_display_sync(window_->display());
		wl_callback_add_listener(cb, &listener, &done);
		bool ok = h().run_until([&] { return done; }, within);
		wl_callback_destroy(cb);
		return ok;
	}

	// Runs wlprime-debug to its end while pumping; true if it printed.
	bool run_debug_tool(const std::vector<std::string> &args, std::string *out = nullptr,
	                    std::chrono::milliseconds within = 10s) {
		debug_tool_run run;
		if (!run.start(args))
			return false;
		bool finished = h().run_until([&] { return run.done.load(); }, within);
		if (!finished)
			h().run_until([&] { return run.done.load(); }, 30s); // let it end
		run.thread.join();
		EXPECT_TRUE(finished)
		    << "wlprime-debug did not finish in " << within.count() << " ms";
		EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
		if (out)
			*out = run.result.out;
		return finished && run.result.exit_code == 0;
	}

	std::string probe_path() { return probe_->path(); }
	std::string main_path() { return debug_server::path_for(h().runtime_dir(), h().socket()); }

	// Many Imports, so that a text reply is tens of KiB.
	void make_imports(int count) {
		dmabuf_client_options opts;
		opts.allocator = model_allocator();
		opts.manual = true;
		std::string err;
		dmabufs_ = dmabuf_client::connect(h().socket().c_str(), opts, &err);
		ASSERT_NE(dmabufs_, nullptr) << err;
		h().attach(dmabufs_->display());
		ASSERT_TRUE(h().run_until([&] { return dmabufs_->configured(); }));
		for (int i = 0; i < count; i++)
			dmabufs_->create_wl_buffer(dmabufs_->allocate_dmabuf(), true);
		ASSERT_TRUE(h().run_until([&] { return srv().context()->cache().size() >= size_t(count); }))
		    << srv().context()->cache().size() << " Imports";
		ASSERT_EQ(dmabufs_->failure(), "");
	}

	std::unique_ptr<debug_server> probe_;
	std::unique_ptr<shm_client> window_;
	std::unique_ptr<dmabuf_client> dmabufs_;
};

TEST_F(DebugSocket, WlprimeDebugGetsTextAndJson) {
	std::string text, json;
	ASSERT_TRUE(run_debug_tool({"--socket", h().socket()}, &text));
	EXPECT_EQ(text.rfind("devices:\n", 0), 0u) << text.substr(0, 200);
	EXPECT_NE(text.find("driver: vgem"), std::string::npos);
	ASSERT_TRUE(run_debug_tool({"--json", "--socket", h().socket()}, &json));
	EXPECT_EQ(json.rfind("{", 0), 0u) << json.substr(0, 200);
	EXPECT_NE(json.find("\"devices\""), std::string::npos);

	// Raw: a request without a newline, then the peer shuts its side; an
	// unknown request gets an error line.
	raw_peer quiet = raw_peer::connect(main_path());
	quiet.send("json");
	shutdown(quiet.fd.get(), SHUT_WR);
	raw_peer bogus = raw_peer::connect(main_path());
	bogus.send("bogus\r\n");
	ASSERT_TRUE(h().run_until([&] { return quiet.drain() && bogus.drain(); }));
	EXPECT_EQ(quiet.got.rfind("{", 0), 0u) << quiet.got.substr(0, 200);
	EXPECT_EQ(bogus.got, "error: unknown request 'bogus' (text or json)\n");
}

// Fails on the synchronous server (before the state machine): its accept
// handler polled each connection for up to 1 s, so with silent peers
// connected neither the roundtrip nor wlprime-debug came back in time.
TEST_F(DebugSocket, SilentPeersDoNotStopTheLoopAndAreDroppedAfterTheTimeout) {
	show_window();
	debug_server_limits limits;
	limits.request_timeout_ms = 700;
	make_probe(limits);
	const auto fds_before = fd_table();

	// The server's own socket (default limits): five silent peers, and the
	// loop goes on at once.
	std::vector<raw_peer> silent_on_main;
	for (int i = 0; i < 5; i++)
		silent_on_main.push_back(raw_peer::connect(main_path()));
	EXPECT_TRUE(roundtrip(300ms));
	EXPECT_TRUE(run_debug_tool({"--socket", h().socket()}, nullptr, 3s));
	silent_on_main.clear(); // they leave without a request

	// The probe: twenty silent peers (many at once), then the others.
	const auto start = std::chrono::steady_clock::now();
	std::vector<raw_peer> silent;
	for (int i = 0; i < 20; i++)
		silent.push_back(raw_peer::connect(probe_path()));
	EXPECT_TRUE(roundtrip(300ms));
	ASSERT_TRUE(h().run_until([&] { return probe_->peers() == 20; }, 300ms))
	    << probe_->peers() << " peers";
	std::string text;
	EXPECT_TRUE(run_debug_tool({"--socket", "wayland-probe"}, &text, 3s));
	EXPECT_EQ(text.rfind("devices:\n", 0), 0u);
	EXPECT_EQ(stats().answered, 1u);
	if (std::chrono::steady_clock::now() - start < 600ms) {
		EXPECT_EQ(stats().request_timeouts, 0u); // answered while they waited
		EXPECT_EQ(probe_->peers(), 20u);
	}

	// Then each silent peer is dropped: it reads the end of the stream.
	ASSERT_TRUE(h().run_until([&] { return stats().request_timeouts == 20; }, 5s))
	    << stats().request_timeouts << " timeouts";
	EXPECT_GE(std::chrono::steady_clock::now() - start, 700ms);
	for (raw_peer &p : silent) {
		EXPECT_TRUE(h().run_until([&] { return p.drain(); }, 1s));
		EXPECT_EQ(p.got, "");
	}
	EXPECT_EQ(probe_->peers(), 0u);
	EXPECT_TRUE(roundtrip(300ms));
	silent.clear();
	EXPECT_TRUE(h().run_until([&] { return fd_table() == fds_before; }, 2s));
	EXPECT_EQ(stats().accepted, 21u);
}

// The memory a peer may cost is bounded: a reply that leaves more than
// max_queued_bytes unsent once the kernel's socket buffer is full is not
// kept; that peer (asking and never reading) gets what the kernel took, then
// the end. The server's own socket (8 MiB) still gives the whole reply, and
// the window its roundtrips.
TEST_F(DebugSocket, ReplyQueuedPastTheBoundIsDropped) {
	show_window();
	make_imports(60);
	debug_server_limits limits;
	limits.send_buffer = 4096; // the kernel takes a few KiB, not 200
	limits.max_queued_bytes = 4096;
	make_probe(limits);
	const auto fds_before = fd_table();

	raw_peer reader = raw_peer::connect(main_path());
	reader.send("json\n");
	ASSERT_TRUE(h().run_until([&] { return reader.drain(); }));
	const size_t full = reader.got.size();
	ASSERT_GT(full, 16u << 10) << "the reply is too small for this test";
	EXPECT_EQ(reader.got.back(), '\n');

	raw_peer stuck = raw_peer::connect(probe_path());
	stuck.send("json\n");
	ASSERT_TRUE(h().run_until([&] { return stats().queue_overflows == 1; }, 2s));
	EXPECT_EQ(probe_->peers(), 0u);
	EXPECT_TRUE(roundtrip(300ms));
	// What the kernel took, then the end: far less than the reply.
	ASSERT_TRUE(h().run_until([&] { return stuck.drain(); }, 1s));
	EXPECT_LT(stuck.got.size(), full - limits.max_queued_bytes);
	EXPECT_EQ(stats().answered, 0u);

	raw_peer again = raw_peer::connect(main_path());
	again.send("json\n");
	ASSERT_TRUE(h().run_until([&] { return again.drain(); }));
	EXPECT_GT(again.got.size(), 16u << 10);
	EXPECT_EQ(again.got.back(), '\n');
	reader = {};
	stuck = {};
	again = {};
	EXPECT_TRUE(h().run_until([&] { return fd_table() == fds_before; }, 2s));
}

// A peer that asks for a reply bigger than the kernel's socket buffer and
// never reads: within the queue bound, so it is dropped when reply_timeout_ms
// passes without progress; meanwhile wlprime-debug is answered in full, and
// the window's roundtrips. Fails on the synchronous server, whose send loop
// blocked on such a peer for good.
TEST_F(DebugSocket, PeerThatStopsReadingIsDroppedAfterTheReplyTimeout) {
	show_window();
	make_imports(60);
	debug_server_limits limits;
	limits.send_buffer = 4096;
	limits.reply_timeout_ms = 800;
	make_probe(limits);

	raw_peer stuck = raw_peer::connect(probe_path());
	stuck.send("json\n");
	ASSERT_TRUE(h().run_until([&] { return probe_->peers() == 1 && stats().accepted == 1; }));
	std::string json;
	EXPECT_TRUE(run_debug_tool({"--json", "--socket", "wayland-probe"}, &json, 3s));
	EXPECT_EQ(json.rfind("{", 0), 0u);
	EXPECT_TRUE(roundtrip(300ms));
	ASSERT_TRUE(h().run_until([&] { return stats().reply_timeouts == 1; }, 5s));
	EXPECT_EQ(probe_->peers(), 0u);
	ASSERT_TRUE(h().run_until([&] { return stuck.drain(); }, 1s));
	EXPECT_LT(stuck.got.size(), json.size());
	EXPECT_EQ(stats().answered, 1u);
}

TEST_F(DebugSocket, RequestLineTooLongIsRefused) {
	make_probe({});
	raw_peer p = raw_peer::connect(probe_path());
	p.send(std::string(300, 'x'));
	ASSERT_TRUE(h().run_until([&] { return p.drain(); }));
	EXPECT_EQ(p.got, "error: request line longer than 256 bytes (send \"text\" or \"json\" and "
	                 "a newline)\n");
	EXPECT_EQ(stats().too_long, 1u);
	EXPECT_EQ(probe_->peers(), 0u);
}

TEST_F(DebugSocket, PeersPastTheLimitAreRefusedAtOnce) {
	debug_server_limits limits;
	limits.max_peers = 4;
	make_probe(limits);
	std::vector<raw_peer> peers;
	for (int i = 0; i < 6; i++)
		peers.push_back(raw_peer::connect(probe_path()));
	ASSERT_TRUE(h().run_until([&] { return stats().refused == 2; }, 2s));
	EXPECT_EQ(probe_->peers(), 4u);
	size_t ended = 0;
	h().run_for(100ms);
	for (raw_peer &p : peers)
		ended += p.drain();
	EXPECT_EQ(ended, 2u);
	// The four others are served.
	for (raw_peer &p : peers)
		if (!p.eof)
			p.send("text\n");
	ASSERT_TRUE(h().run_until([&] {
		size_t n = 0;
		for (raw_peer &p : peers)
			n += p.drain();
		return n == 6;
	}));
	EXPECT_EQ(stats().answered, 4u);
	EXPECT_EQ(probe_->peers(), 0u);
}

} // namespace
} // namespace wlprime
