// dmabuf_fuzz.cpp: libFuzzer target for the linux-dmabuf request path.
//
// The input is a little program of linux-dmabuf requests, sent by a real
// libwayland client over a socketpair to wlprime's own zwp_linux_dmabuf_v1
// (compositor/linux_dmabuf.cpp, the code the compositor runs), whose main
// device is the kernel model (tests/unit/kernel_model). Plane fds are of
// real kinds: model dma-bufs of several sizes, memfds of any size that are no
// dma-buf, /dev/null, a pipe. (A closed fd cannot be sent: libwayland's
// client aborts on it, and the kernel would refuse it in SCM_RIGHTS.) The
// per-client limits are set low (3 params, 3 buffers, 1 MiB + 64 KiB) so
// that inputs reach them.
//
// Speed: the server (display, linux-dmabuf, cache, model) lives for the
// process, and so does the client connection, as long as no protocol error
// ends it; then the next input connects again. An input costs about as much
// as its requests (WLPRIME_FUZZ_PROFILE=1 prints where the time went).
//
// After each input every object it made is destroyed (params, wl_buffers),
// the server has answered a wl_display.sync, and the cache's idle Imports are
// evicted; then the state must be what it was before the input: the same
// open fds of the process (number and identity), no GEM handle or
// framebuffer on the main device, no Import in the cache (so no mapping,
// which Imports own), no live dmabuf wl_buffer, the same server-side
// resources of the client and a zero usage in the per-client limits. A leak
// or inconsistency is a crash (abort), so the fuzzer reports it.
//
// Input format (each request one opcode byte, then its arguments, read with
// the helpers below; a short input ends the program):
//   0 create_params
//   1 add     slot fd-kind plane_idx offset stride modifier
//   2 create  slot width height format flags
//   3 create_immed  (same)
//   4 destroy params slot
//   5 destroy wl_buffer slot
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>
#include <wayland-client.h>
#include <wayland-server-core.h>

#include "compositor/linux_dmabuf.hpp"
#include "import/log.hpp"
#include "kernel_model.hpp"
#include "linux-dmabuf-unstable-v1-client-protocol.h"

using namespace wlprime;

namespace {

struct reader {
	const uint8_t *data;
	size_t size;
	bool ok() const { return size > 0; }
	uint8_t u8() {
		if (!size)
			return 0;
		size--;
		return *data++;
	}
	uint32_t u32() {
		uint32_t v = 0;
		for (int i = 0; i < 4; i++)
			v |= uint32_t(u8()) << (8 * i);
		return v;
	}
	// Small values most of the time, any value sometimes.
	uint32_t num() {
		uint8_t tag = u8();
		if (tag < 200)
			return tag;
		if (tag < 250)
			return uint32_t(u8()) << 8 | u8();
		return u32();
	}
};

const uint32_t formats[] = {DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_NV12,
                            DRM_FORMAT_YUV420,   DRM_FORMAT_RGB565,   0,
                            0x12345678};
const uint64_t modifiers[] = {DRM_FORMAT_MOD_LINEAR, DRM_FORMAT_MOD_INVALID,
                              I915_FORMAT_MOD_X_TILED, 0xffffffffffffffffull};

// What an open fd is: its number's file, by identity.
struct file_id {
	dev_t dev;
	ino_t ino;
	mode_t type;
	bool operator==(const file_id &) const = default;
};

// The numbers of the fds open now, from /proc/self/fd (getdents, not 4096
// fcntl()s; the directory stays open, as one of the fds listed). Syscalls
// are most of the cost of an input: this makes few.
std::vector<int> open_fd_numbers() {
	static int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || lseek(dir, 0, SEEK_SET) != 0)
		abort();
	std::vector<int> fds;
	alignas(8) char buf[4096];
	for (;;) {
		long n = syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (n < 0)
			abort();
		if (n == 0)
			break;
		for (long at = 0; at < n;) {
			auto *e = reinterpret_cast<dirent64 *>(buf + at);
			at += e->d_reclen;
			if (e->d_name[0] != '.')
				fds.push_back(std::atoi(e->d_name));
		}
	}
	return fds;
}

// fds with what they are; known: identities already taken (reused as they are).
std::map<int, file_id> identify(const std::vector<int> &numbers,
                                const std::map<int, file_id> &known = {}) {
	std::map<int, file_id> fds;
	for (int fd : numbers) {
		if (auto it = known.find(fd); it != known.end()) {
			fds.insert(*it);
			continue;
		}
		struct stat st;
		if (fstat(fd, &st) == 0)
			fds[fd] = file_id{st.st_dev, st.st_ino, st.st_mode & S_IFMT};
	}
	return fds;
}

std::string describe_fd(int fd) {
	char path[64], target[256] = {};
	std::snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	return n > 0 ? std::string(target, size_t(n)) : "?";
}

// Where the time goes, per phase of an input (WLPRIME_FUZZ_PROFILE=1).
struct profile {
	enum phase { connect, snapshot, program, cleanup, check, count };
	bool on = std::getenv("WLPRIME_FUZZ_PROFILE") != nullptr;
	double total_us[count] = {};
	uint64_t inputs = 0, reconnects = 0;
	std::chrono::steady_clock::time_point last;

	void start() {
		if (on) {
			inputs++;
			last = std::chrono::steady_clock::now();
		}
	}
	void lap(phase p) {
		if (!on)
			return;
		auto now = std::chrono::steady_clock::now();
		total_us[p] += std::chrono::duration<double, std::micro>(now - last).count();
		last = now;
	}
	~profile() {
		if (!on || !inputs)
			return;
		const char *names[count] = {"connect", "snapshot", "program", "cleanup", "check"};
		std::fprintf(stderr, "dmabuf-fuzz profile: %llu inputs, %llu connections\n",
		             (unsigned long long)inputs, (unsigned long long)reconnects);
		for (int p = 0; p < count; p++)
			std::fprintf(stderr, "dmabuf-fuzz profile: %-8s %8.1f us/input\n", names[p],
			             total_us[p] / double(inputs));
	}
} prof;

// The server side, made once per process: a display with only linux-dmabuf
// on the model's render node.
struct world {
	test::kernel_model model;
	std::unique_ptr<device> main;
	std::unique_ptr<import_cache> cache;
	buffer_registry buffers; // the live dmabuf wl_buffers
	wl_display *display = nullptr;
	std::unique_ptr<linux_dmabuf> dmabuf;
	std::vector<unique_fd> dmabufs; // model dma-bufs of several sizes

	world() {
		set_log_handler([](log_level, const char *, va_list) {}, log_level::error);
		wlr_log_init(WLR_SILENT, nullptr);
		// Protocol errors are the point: don't print each one.
		wl_log_set_handler_client([](const char *, va_list) {});
		wl_log_set_handler_server([](const char *, va_list) {});
		model.add_node("/model/dri/renderD128", "vgem", node_type::render, 0xe280);
		main = std::move(*device::open(model, "/model/dri/renderD128"));
		cache = std::make_unique<import_cache>(cache_limits{4, 1 << 20});
		display = wl_display_create();
		client_limit_values limits;
		limits.max_params = 3;
		limits.max_buffers = 3;
		limits.max_bytes = (1 << 20) + (64 << 10);
		dmabuf = std::move(*linux_dmabuf::create(
		    display, *main, *cache, linux_dmabuf::composition_formats(), &buffers, limits));
		for (uint64_t size : {4096u, 16384u, 65536u, 1u << 20})
			dmabufs.push_back(model.create_foreign_dmabuf(size));
	}
};

// One client connection, kept from input to input until a protocol error
// ends it. The objects of the input running now are in params and buffers.
struct connection {
	std::vector<int> fds; // the fds the connection opened (socketpair, dups)
	wl_client *server_side = nullptr;
	wl_display *client = nullptr;
	wl_registry *registry = nullptr;
	zwp_linux_dmabuf_v1 *dmabuf = nullptr;
	// The server destroys the client itself after a protocol error.
	struct gone_listener {
		wl_listener listener;
		bool gone = false;
	} gone;
	zwp_linux_buffer_params_v1 *params[4] = {};
	wl_buffer *buffers[4] = {};

	bool dead() const { return gone.gone || wl_display_get_error(client) != 0; }
};

// The name of the linux-dmabuf global: the same for every connection, so
// after the first one a connection binds it at once.
uint32_t dmabuf_global_name = 0;

void registry_global(void *data, wl_registry *registry, uint32_t name, const char *interface,
                     uint32_t version) {
	auto *c = static_cast<connection *>(data);
	if (!c->dmabuf && std::strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0) {
		dmabuf_global_name = name;
		c->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(
		    wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, version));
	}
}
void registry_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {registry_global, registry_remove};

void params_created(void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer) {
	auto *c = static_cast<connection *>(data);
	for (wl_buffer *&slot : c->buffers) {
		if (!slot) {
			slot = buffer;
			return;
		}
	}
	wl_buffer_destroy(buffer);
}
void params_failed(void *, zwp_linux_buffer_params_v1 *) {}
const zwp_linux_buffer_params_v1_listener params_listener = {params_created, params_failed};

void sync_done(void *data, wl_callback *, uint32_t) {
	*static_cast<bool *>(data) = true;
}
const wl_callback_listener sync_listener = {sync_done};

// Runs server and client until the client has nothing more to say.
bool pump(world &w, wl_display *client, int rounds = 1) {
	for (int i = 0; i < rounds; i++) {
		if (wl_display_flush(client) < 0 && errno != EAGAIN)
			return false;
		wl_event_loop_dispatch(wl_display_get_event_loop(w.display), 0);
		wl_display_flush_clients(w.display);
		if (wl_display_prepare_read(client) == 0) {
			if (wl_display_read_events(client) < 0)
				return false;
		}
		if (wl_display_dispatch_pending(client) < 0)
			return false;
	}
	return true;
}

// A wl_display.sync through the server: when it returns true, the server
// has handled every request sent before and the client every answer.
// False if the connection is dead.
bool settle(world &w, connection &c) {
	if (c.dead())
		return false;
	bool done = false;
	wl_callback *callback = wl_display_sync(c.client);
	wl_callback_add_listener(callback, &sync_listener, &done);
	for (int i = 0; i < 8 && !done; i++)
		if (!pump(w, c.client))
			break;
	wl_callback_destroy(callback);
	if (!done && !c.dead()) {
		std::fprintf(stderr, "inconsistency: no answer to wl_display.sync\n");
		abort();
	}
	return done;
}

connection *connect(world &w) {
	auto *c = new connection();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	c->server_side = wl_client_create(w.display, sv[0]);
	c->client = wl_display_connect_to_fd(sv[1]);
	if (!c->server_side || !c->client)
		abort();
	c->gone.listener.notify = [](wl_listener *l, void *) {
		reinterpret_cast<connection::gone_listener *>(l)->gone = true;
	};
	wl_client_add_destroy_listener(c->server_side, &c->gone.listener);
	c->registry = wl_display_get_registry(c->client);
	wl_registry_add_listener(c->registry, &registry_listener, c);
	if (dmabuf_global_name)
		c->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(
		    wl_registry_bind(c->registry, dmabuf_global_name,
		                     &zwp_linux_dmabuf_v1_interface, linux_dmabuf::version));
	else
		settle(w, *c); // the registry's globals, and the bind
	if (!settle(w, *c) || !c->dmabuf) {
		std::fprintf(stderr, "inconsistency: no zwp_linux_dmabuf_v1 bound\n");
		abort();
	}
	return c;
}

// Abrupt disconnect, whatever state the client is in.
void disconnect(connection *c) {
	for (auto *p : c->params)
		if (p)
			zwp_linux_buffer_params_v1_destroy(p);
	for (auto *b : c->buffers)
		if (b)
			wl_buffer_destroy(b);
	zwp_linux_dmabuf_v1_destroy(c->dmabuf);
	wl_registry_destroy(c->registry);
	wl_display_disconnect(c->client);
	if (!c->gone.gone)
		wl_client_destroy(c->server_side);
	delete c;
}

unique_fd make_fd(world &w, reader &r) {
	switch (r.u8() % 5) {
	case 0:
	case 1:
		return w.dmabufs[r.u8() % w.dmabufs.size()].duplicate();
	case 2: { // a memfd that is no dma-buf
		unique_fd fd(memfd_create("fuzz", MFD_CLOEXEC));
		if (fd && ftruncate(fd.get(), r.num()) != 0)
			return unique_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
		return fd;
	}
	case 3:
		return unique_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
	default: {
		int p[2];
		if (pipe2(p, O_CLOEXEC) != 0)
			return unique_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
		unique_fd keep(p[0]);
		unique_fd drop(p[1]);
		return keep;
	}
	}
}

void run_program(world &w, connection &c, reader &r) {
	for (int steps = 0; r.ok() && steps < 64; steps++) {
		uint8_t op = r.u8() % 6;
		uint8_t slot = r.u8() % 4;
		zwp_linux_buffer_params_v1 *&params = c.params[slot];
		switch (op) {
		case 0:
			if (!params) {
				params = zwp_linux_dmabuf_v1_create_params(c.dmabuf);
				zwp_linux_buffer_params_v1_add_listener(params, &params_listener,
				                                        &c);
			}
			break;
		case 1:
			if (params) {
				unique_fd fd = make_fd(w, r);
				uint32_t plane = r.num(), offset = r.num(), stride = r.num();
				uint64_t modifier = modifiers[r.u8() % std::size(modifiers)];
				zwp_linux_buffer_params_v1_add(params, fd.get(), plane, offset,
				                               stride, uint32_t(modifier >> 32),
				                               uint32_t(modifier));
			}
			break;
		case 2:
		case 3:
			if (params) {
				int32_t width = int32_t(r.num()), height = int32_t(r.num());
				uint32_t format = formats[r.u8() % std::size(formats)];
				uint32_t flags = r.u8() % 9;
				if (op == 2) {
					zwp_linux_buffer_params_v1_create(params, width, height,
					                                  format, flags);
				} else if (!c.buffers[slot]) {
					c.buffers[slot] = zwp_linux_buffer_params_v1_create_immed(
					    params, width, height, format, flags);
				}
			}
			break;
		case 4:
			if (params) {
				zwp_linux_buffer_params_v1_destroy(params);
				params = nullptr;
			}
			break;
		case 5:
			if (c.buffers[slot]) {
				wl_buffer_destroy(c.buffers[slot]);
				c.buffers[slot] = nullptr;
			}
			break;
		}
		if (!pump(w, c.client))
			return; // a protocol error ended the connection
	}
}

// The state an input must leave as it found it.
struct snapshot {
	std::map<int, file_id> fds;
	size_t resources = 0; // the client's objects on the server side
};

size_t count_resources(wl_client *client) {
	size_t n = 0;
	wl_client_for_each_resource(
	    client,
	    [](wl_resource *, void *data) {
		    ++*static_cast<size_t *>(data);
		    return WL_ITERATOR_CONTINUE;
	    },
	    &n);
	return n;
}

[[noreturn]] void leak(const char *what, size_t count) {
	std::fprintf(stderr, "leak: %zu %s left after the input\n", count, what);
	abort();
}

// c: the connection, null if the input ended it; closed: the fds it had.
void check(world &w, const connection *c, const snapshot &before, const snapshot &after,
           const std::vector<int> &closed) {
	if (size_t n = w.model.handle_count(w.main->fd()))
		leak("GEM handles", n);
	if (size_t n = w.model.fb_count(w.main->fd()))
		leak("framebuffers", n);
	if (size_t n = w.cache->size())
		leak("Imports in the cache", n);
	if (size_t n = w.buffers.buffers.size())
		leak("dmabuf wl_buffers", n);
	client_limits &limits = w.dmabuf->limits();
	if (c) {
		if (after.resources != before.resources)
			leak("server-side resources more (or fewer)",
			     after.resources > before.resources
			         ? after.resources - before.resources
			         : before.resources - after.resources);
		if (const client_usage *u = limits.find(c->server_side)) {
			if (u->params || u->buffers || u->bytes || !u->imports.empty()) {
				std::fprintf(
				    stderr,
				    "leak: client usage %u params, %u buffers, %llu bytes, "
				    "%zu Imports left after the input\n",
				    u->params, u->buffers, (unsigned long long)u->bytes,
				    u->imports.size());
				abort();
			}
		}
		if (limits.live_records() > 1)
			leak("client usage records", limits.live_records());
	} else if (limits.live_records() || limits.client_count()) {
		leak("client usage records of a gone client", limits.live_records());
	}

	std::map<int, file_id> expected = before.fds;
	for (int fd : closed)
		expected.erase(fd);
	if (after.fds != expected) {
		for (const auto &[fd, id] : after.fds) {
			auto it = expected.find(fd);
			if (it == expected.end() || !(it->second == id))
				std::fprintf(stderr, "leak: fd %d (%s) left open\n", fd,
				             describe_fd(fd).c_str());
		}
		for (const auto &[fd, id] : expected)
			if (!after.fds.contains(fd))
				std::fprintf(stderr, "fd %d closed by someone else\n", fd);
		abort();
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static world *w = new world();             // lives for the process, as a fuzzer's must
	static connection *c = nullptr;            // until a protocol error ends it
	static std::map<int, file_id> fds_checked; // as the last input left them
	prof.start();
	const bool new_connection = !c;
	std::vector<int> fds_unconnected;
	if (new_connection) {
		fds_unconnected = open_fd_numbers();
		c = connect(*w);
		prof.reconnects++;
	}
	prof.lap(profile::connect);
	// The fds the last input left (checked) are taken as they were: between
	// two inputs only libFuzzer opens fds (files it writes and closes, the
	// symbolizer's pipes it keeps).
	const std::vector<int> numbers = open_fd_numbers();
	snapshot before{identify(numbers, fds_checked), count_resources(c->server_side)};
	if (new_connection) { // its fds: the socketpair and libwayland's dups
		for (int fd : numbers)
			if (std::find(fds_unconnected.begin(), fds_unconnected.end(), fd) ==
			    fds_unconnected.end())
				c->fds.push_back(fd);
	}
	prof.lap(profile::snapshot);

	reader r{data, size};
	run_program(*w, *c, r);
	prof.lap(profile::program);

	// The last answers (created, failed, errors), then every object the
	// input made is destroyed, and the server has seen it.
	std::vector<int> closed;
	if (settle(*w, *c)) {
		for (auto *&p : c->params) {
			if (p)
				zwp_linux_buffer_params_v1_destroy(p);
			p = nullptr;
		}
		for (auto *&b : c->buffers) {
			if (b)
				wl_buffer_destroy(b);
			b = nullptr;
		}
		settle(*w, *c);
	}
	if (c->dead()) {
		closed = c->fds;
		disconnect(c);
		c = nullptr;
	}
	w->cache->evict_idle();
	prof.lap(profile::cleanup);

	snapshot after{identify(open_fd_numbers()), c ? count_resources(c->server_side) : 0};
	check(*w, c, before, after, closed);
	fds_checked = std::move(after.fds);
	prof.lap(profile::check);
	return 0;
}
