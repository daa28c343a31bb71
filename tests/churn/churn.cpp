// wlprime-churn: many hostile-ish linux-dmabuf clients against a running
// compositor, for the churn and soak test in the real-kernel guest
// (tests/churn/churn-soak).
//
// The parent allocates a few dma-bufs that every client shares (the children
// inherit the fds), then runs --clients client processes, at most --parallel
// at a time. Each client maps a window and, --buffers times: picks a dma-buf
// (every --share-every-th one shared, else one of its own small pool, which
// it renews now and then), makes a wl_buffer of it (create_immed and create
// in turn), attaches and commits it without waiting for the frame, and
// destroys wl_buffers: every third right after committing it (on screen),
// the others when a ring of 8 is full. Every --kill-every-th client is
// killed with SIGKILL by the parent while it runs (mid-frame); the others
// end cleanly, half of them without destroying anything (a client that just
// disconnects). Children report through counters in shared memory.
//
// Exit status: 0 if every client that was not killed finished with no
// protocol error and every wl_buffer was made; 1 otherwise; 2 bad usage.
// Prints one summary line: "churn: N clients (K killed), B wl_buffers, ...".

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <drm_fourcc.h>

#include "tests/clients/client_base.hpp"
#include "tests/clients/dmabuf_alloc.hpp"

namespace wlprime::churn {
namespace {

using clients::dmabuf_allocator;
using clients::dmabuf_bo;

struct options {
	int clients = 60;
	int parallel = 6;
	int buffers = 200;
	int shared = 4;
	int share_every = 4;
	int kill_every = 5;
	int size = 64;
	clients::alloc_kind alloc = clients::alloc_kind::vgem;
	unsigned seed = 1;
};

// Counters in a MAP_SHARED page, written by the children.
struct counters {
	std::atomic<uint64_t> wl_buffers; // made (created event, or create_immed)
	std::atomic<uint64_t> failed;     // failed events
	std::atomic<uint64_t> destroyed;  // wl_buffer.destroy sent
	std::atomic<uint64_t> on_screen_destroyed;
	std::atomic<uint64_t> commits;
	std::atomic<uint64_t> shared_uses; // wl_buffers of a shared dma-buf
	std::atomic<uint64_t> dmabufs;     // private dma-bufs allocated
	std::atomic<uint64_t> clean_exits;
	std::atomic<uint64_t> errors; // clients that saw an error
	// Per client: wl_buffers made so far (the parent kills on progress).
	// In the same shared mapping, after this struct.
	std::atomic<int> *progress;
};

// --- one client -----------------------------------------------------------------

struct client {
	const options &opts;
	counters &count;
	const std::vector<std::unique_ptr<dmabuf_bo>> &shared;
	std::string name;
	clients::client_base base{{.dmabuf_max = 3}};
	clients::xdg_window window;
	// create: the answer for the params in flight.
	wl_buffer *created = nullptr;
	bool failed = false;
	bool answered = false;

	void fail(const char *what) { std::fprintf(stderr, "%s: %s\n", name.c_str(), what); }
};

void dmabuf_format(void *, zwp_linux_dmabuf_v1 *, uint32_t) {}
void dmabuf_modifier(void *, zwp_linux_dmabuf_v1 *, uint32_t, uint32_t, uint32_t) {}
const zwp_linux_dmabuf_v1_listener dmabuf_listener = {dmabuf_format, dmabuf_modifier};

void params_created(void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer) {
	auto *c = static_cast<client *>(data);
	c->created = buffer;
	c->answered = true;
}
void params_failed(void *data, zwp_linux_buffer_params_v1 *) {
	auto *c = static_cast<client *>(data);
	c->failed = true;
	c->answered = true;
}
const zwp_linux_buffer_params_v1_listener params_listener = {params_created, params_failed};

// Releases are not tracked: the client reuses dma-bufs freely (it is a
// stress client, not a correct renderer).
void buffer_release(void *, wl_buffer *) {}
const wl_buffer_listener buffer_listener = {buffer_release};

wl_buffer *make_buffer(client &c, const dmabuf_bo &bo, bool immed) {
	const uint32_t size = uint32_t(c.opts.size);
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c.base.dmabuf);
	zwp_linux_buffer_params_v1_add(params, bo.fd(), 0, 0, bo.stride(), 0, 0); // LINEAR
	wl_buffer *buffer = nullptr;
	if (immed) {
		buffer = zwp_linux_buffer_params_v1_create_immed(
		    params, int32_t(size), int32_t(size), DRM_FORMAT_XRGB8888, 0);
	} else {
		c.created = nullptr;
		c.failed = false;
		c.answered = false;
		zwp_linux_buffer_params_v1_add_listener(params, &params_listener, &c);
		zwp_linux_buffer_params_v1_create(params, int32_t(size), int32_t(size),
		                                  DRM_FORMAT_XRGB8888, 0);
		c.base.dispatch_until([&c] { return c.answered; });
		buffer = c.created;
		if (c.failed)
			c.count.failed++;
	}
	zwp_linux_buffer_params_v1_destroy(params);
	if (buffer != nullptr) {
		wl_buffer_add_listener(buffer, &buffer_listener, nullptr);
		c.count.wl_buffers++;
	}
	return buffer;
}

int run_client(const options &opts, counters &count,
               const std::vector<std::unique_ptr<dmabuf_bo>> &shared, int index) {
	client c{opts, count, shared,
	         "churn client " + std::to_string(index) + " (pid " + std::to_string(getpid()) +
	             ")"};
	std::mt19937 rng(opts.seed * 7919u + unsigned(index));
	auto allocator = clients::open_allocator(opts.alloc);
	if (!allocator) {
		c.fail(allocator.err().message.c_str());
		return 1;
	}
	std::string error;
	if (!c.base.connect(nullptr, &error)) {
		c.fail("cannot connect");
		return 1;
	}
	c.base.roundtrip();
	if (!c.base.compositor || !c.base.wm_base || !c.base.dmabuf) {
		c.fail("missing wl_compositor, xdg_wm_base or zwp_linux_dmabuf_v1");
		return 1;
	}
	zwp_linux_dmabuf_v1_add_listener(c.base.dmabuf, &dmabuf_listener, &c);
	c.window.create(c.base, c.name.c_str());
	c.window.initial_commit();
	c.base.dispatch_until([&c] { return c.window.configured; });
	wl_surface *surface = c.window.surface;

	// A small pool of the client's own dma-bufs, renewed now and then.
	const uint32_t color = 0xff000000u | (rng() & 0xffffff);
	auto allocate = [&]() -> std::unique_ptr<dmabuf_bo> {
		auto bo = (*allocator)->allocate(uint32_t(opts.size), uint32_t(opts.size), 4);
		if (!bo) {
			c.fail(bo.err().message.c_str());
			return nullptr;
		}
		(void)(*bo)->write([&](uint8_t *data) {
			for (uint32_t y = 0; y < uint32_t(opts.size); y++) {
				auto *row =
				    reinterpret_cast<uint32_t *>(data + y * (*bo)->stride());
				for (int x = 0; x < opts.size; x++)
					row[x] = color;
			}
		});
		count.dmabufs++;
		return std::move(*bo);
	};
	std::vector<std::unique_ptr<dmabuf_bo>> pool(4);
	std::vector<wl_buffer *> ring;
	int status = 0;
	for (int i = 0; i < opts.buffers && status == 0; i++) {
		const dmabuf_bo *bo = nullptr;
		if (!shared.empty() && opts.share_every > 0 && i % opts.share_every == 0) {
			bo = shared[rng() % shared.size()].get();
			count.shared_uses++;
		} else {
			auto &slot = pool[rng() % pool.size()];
			if (!slot || rng() % 16 == 0)
				slot = allocate(); // the old one goes (with any Import left idle)
			if (!slot) {
				status = 1;
				break;
			}
			bo = slot.get();
		}
		wl_buffer *buffer = make_buffer(c, *bo, i % 2 == 0);
		if (buffer == nullptr) {
			c.fail("a wl_buffer was refused");
			status = 1;
			break;
		}
		wl_surface_attach(surface, buffer, 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, INT32_MAX, INT32_MAX);
		wl_surface_commit(surface);
		count.commits++;
		count.progress[index].store(i + 1);
		if (i % 3 == 0) {
			wl_buffer_destroy(buffer); // on screen
			count.destroyed++;
			count.on_screen_destroyed++;
		} else {
			ring.push_back(buffer);
			if (ring.size() > 8) {
				wl_buffer_destroy(ring.front());
				ring.erase(ring.begin());
				count.destroyed++;
			}
		}
		// Now and then, let the compositor catch up.
		if (i % 16 == 15 && !c.base.roundtrip())
			break;
	}
	const bool tidy = index % 2 == 0;
	if (tidy) {
		for (wl_buffer *b : ring) {
			wl_buffer_destroy(b);
			count.destroyed++;
		}
		ring.clear();
	}
	wl_display *display = c.base.display;
	if (!c.base.roundtrip() || wl_display_get_error(display) != 0) {
		const wl_interface *iface = nullptr;
		uint32_t id = 0;
		const int err = wl_display_get_error(display);
		uint32_t code =
		    err == EPROTO ? wl_display_get_protocol_error(display, &iface, &id) : 0;
		std::fprintf(stderr, "%s: connection error %s (%s error %u on object %u)\n",
		             c.name.c_str(), std::strerror(err), iface ? iface->name : "-", code,
		             id);
		status = 1;
	}
	// Tidy or not, no destroy of the rest: the disconnect takes it all.
	c.window.abandon();
	c.base.abandon();
	if (status == 0)
		count.clean_exits++;
	else
		count.errors++;
	return status;
}

// --- the parent -------------------------------------------------------------------------

bool parse_int(const char *text, int *out) {
	char *end = nullptr;
	long v = std::strtol(text, &end, 10);
	if (end == text || *end != '\0' || v < 0 || v > 1000000)
		return false;
	*out = int(v);
	return true;
}

const char usage[] = "Usage: wlprime-churn [OPTION]...\n"
                     "Many linux-dmabuf clients, each making and destroying wl_buffers, some of\n"
                     "shared dma-bufs, some killed with SIGKILL mid-run ($WAYLAND_DISPLAY).\n"
                     "  --clients N       client processes in all (60)\n"
                     "  --parallel N      at most N at a time (6)\n"
                     "  --buffers N       wl_buffers per client (200)\n"
                     "  --shared N        dma-bufs shared by all clients (4)\n"
                     "  --share-every N   every N-th wl_buffer is of a shared dma-buf (4)\n"
                     "  --kill-every N    every N-th client is killed mid-run (5; 0: none)\n"
                     "  --size N          buffers of N x N XRGB8888 (64)\n"
                     "  --alloc KIND      vgem or udmabuf (vgem)\n"
                     "  --seed N          random seed (1)\n";

int run(const options &opts) {
	auto allocator = clients::open_allocator(opts.alloc);
	if (!allocator) {
		std::fprintf(stderr, "wlprime-churn: %s\n", allocator.err().message.c_str());
		return 1;
	}
	std::vector<std::unique_ptr<dmabuf_bo>> shared;
	for (int i = 0; i < opts.shared; i++) {
		auto bo = (*allocator)->allocate(uint32_t(opts.size), uint32_t(opts.size), 4);
		if (!bo) {
			std::fprintf(stderr, "wlprime-churn: %s\n", bo.err().message.c_str());
			return 1;
		}
		(void)(*bo)->write(
		    [&](uint8_t *data) { std::memset(data, 0x40 * (i + 1), (*bo)->size()); });
		shared.push_back(std::move(*bo));
	}
	const size_t page_size = sizeof(counters) + sizeof(std::atomic<int>) * size_t(opts.clients);
	void *page =
	    mmap(nullptr, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		std::perror("wlprime-churn: mmap");
		return 1;
	}
	auto *count = new (page) counters{};
	count->progress = new (static_cast<char *>(page) + sizeof(counters))
	    std::atomic<int>[size_t(opts.clients)] {};
	std::mt19937 rng(opts.seed);
	const auto start = std::chrono::steady_clock::now();

	struct child {
		int index;
		bool to_kill;
		int kill_at; // progress (wl_buffers made) at which it is killed
	};
	std::map<pid_t, child> running;
	int started = 0, killed = 0, failures = 0, early = 0;
	std::fflush(nullptr);
	while (started < opts.clients || !running.empty()) {
		while (started < opts.clients && int(running.size()) < opts.parallel) {
			const int index = started++;
			pid_t pid = fork();
			if (pid < 0) {
				std::perror("wlprime-churn: fork");
				return 1;
			}
			if (pid == 0)
				_exit(run_client(opts, *count, shared, index));
			const bool to_kill =
			    opts.kill_every > 0 && index % opts.kill_every == opts.kill_every - 1;
			// Killed somewhere in the middle of its run, mid-frame: it
			// commits without waiting for frames.
			const int quarter = opts.buffers / 4;
			running[pid] = {index, to_kill,
			                quarter + int(rng() % unsigned(2 * quarter + 1))};
		}
		for (auto &[pid, ch] : running) {
			if (ch.to_kill && count->progress[ch.index].load() >= ch.kill_at) {
				kill(pid, SIGKILL);
				ch.to_kill = false;
				ch.index = -1 - ch.index; // marks "killed"
			}
		}
		int wstatus = 0;
		pid_t done = waitpid(-1, &wstatus, WNOHANG);
		if (done <= 0) {
			usleep(2000);
			continue;
		}
		auto it = running.find(done);
		if (it == running.end())
			continue;
		const bool was_killed = it->second.index < 0;
		if (was_killed && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) {
			killed++;
		} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
			early += it->second.to_kill ? 1 : 0; // finished before its kill
		} else {
			failures++;
			std::fprintf(stderr, "wlprime-churn: client %d failed (status 0x%x)\n",
			             was_killed ? -1 - it->second.index : it->second.index,
			             unsigned(wstatus));
		}
		running.erase(it);
	}
	const double seconds =
	    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	std::printf("churn: %d clients (%d killed mid-run, %d finished before their kill), "
	            "%llu wl_buffers (%llu of %d shared dma-bufs), %llu destroyed (%llu on "
	            "screen), %llu commits, %llu private dma-bufs, %llu failed events, "
	            "%d failed clients, %.1f s\n",
	            opts.clients, killed, early, (unsigned long long)count->wl_buffers.load(),
	            (unsigned long long)count->shared_uses.load(), opts.shared,
	            (unsigned long long)count->destroyed.load(),
	            (unsigned long long)count->on_screen_destroyed.load(),
	            (unsigned long long)count->commits.load(),
	            (unsigned long long)count->dmabufs.load(),
	            (unsigned long long)count->failed.load(), failures, seconds);
	const bool ok = failures == 0 && count->failed.load() == 0;
	munmap(page, page_size);
	return ok ? 0 : 1;
}

} // namespace
} // namespace wlprime::churn

int main(int argc, char **argv) {
	using namespace wlprime;
	churn::options opts;
	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		if (arg == "--help" || arg == "-h") {
			std::fputs(churn::usage, stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			std::fprintf(stderr, "wlprime-churn: '%s' needs a value\n%s", argv[i],
			             churn::usage);
			return 2;
		}
		const char *value = argv[++i];
		int n = 0;
		bool ok = true;
		if (arg == "--alloc") {
			if (std::strcmp(value, "vgem") == 0)
				opts.alloc = clients::alloc_kind::vgem;
			else if (std::strcmp(value, "udmabuf") == 0)
				opts.alloc = clients::alloc_kind::udmabuf;
			else
				ok = false;
		} else if (!(ok = churn::parse_int(value, &n))) {
		} else if (arg == "--clients") {
			opts.clients = n;
		} else if (arg == "--parallel") {
			opts.parallel = n > 0 ? n : 1;
		} else if (arg == "--buffers") {
			opts.buffers = n;
		} else if (arg == "--shared") {
			opts.shared = n;
		} else if (arg == "--share-every") {
			opts.share_every = n;
		} else if (arg == "--kill-every") {
			opts.kill_every = n;
		} else if (arg == "--size") {
			opts.size = n > 0 ? n : 64;
		} else if (arg == "--seed") {
			opts.seed = unsigned(n);
		} else {
			ok = false;
		}
		if (!ok) {
			std::fprintf(stderr, "wlprime-churn: bad option %s %s\n%s", arg.c_str(),
			             value, churn::usage);
			return 2;
		}
	}
	return churn::run(opts);
}
