// dmabuf_fuzz.cpp: libFuzzer target for the linux-dmabuf request path and
// the composition of what it creates.
//
// The input is a little program of linux-dmabuf requests, sent by a real
// libwayland client over a socketpair to wlprime itself (server::create: the
// headless backend, the pixman renderer, one 128x128 output, and wlprime's
// own zwp_linux_dmabuf_v1, compositor/linux_dmabuf.cpp), whose main device is
// the kernel model (tests/unit/kernel_model). Plane fds are of real kinds:
// model dma-bufs of several sizes, memfds of any size that are no dma-buf,
// /dev/null, a pipe. (A closed fd cannot be sent: libwayland's client aborts
// on it, and the kernel would refuse it in SCM_RIGHTS.) The per-client
// limits are set low (3 params, 3 buffers, 1 MiB + 64 KiB) so that inputs
// reach them.
//
// The client has a window (an xdg_toplevel at the output's origin, so that
// every row of a buffer up to 128x128 is on screen). Every wl_buffer an input
// creates (created event or create_immed) is attached with whole-buffer
// damage and a frame callback, committed, and a frame is composed at once
// (wlr_output_send_frame: output.cpp commits the scene, pixman reads the
// dma-buf through the Import's mapping); between inputs the window shows a
// 16x16 wl_shm buffer, so that the scene holds no dma-buf.
//
// Speed: the server (display, linux-dmabuf, cache, model) lives for the
// process, and so does the client connection (and its window), as long as
// no protocol error ends it; then the next input connects again. An input
// costs about as much as its requests and frames (WLPRIME_FUZZ_PROFILE=1
// prints where the time went).
//
// After each input every object it made is destroyed (params, wl_buffers),
// the window shows its rest buffer, every frame callback has been answered,
// the server has answered a wl_display.sync, and the cache's idle Imports are
// evicted; then the state must be what it was before the input: the same
// open fds of the process (number and identity), the same number of file
// mappings (/proc/self/map_files: dma-buf mappings included), no GEM handle
// or framebuffer on the main device, no Import in the cache, no live dmabuf
// wl_buffer, the same server-side resources of the client and a zero usage
// in the per-client limits. (wlroots' output swapchain may add a buffer, an
// fd and a mapping of its own, at any frame: those are let be.) A leak or
// inconsistency is a crash (abort), so the fuzzer reports it.
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
#include <filesystem>
#include <map>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>
#include <vector>
#include <wayland-client.h>
#include <wayland-server-core.h>

#include "compositor/linux_dmabuf.hpp"
#include "compositor/server.hpp"
#include "compositor/view.hpp"
#include "import/log.hpp"
#include "kernel_model.hpp"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

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
	uint64_t inputs = 0, reconnects = 0, frames = 0;
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
		std::fprintf(stderr,
		             "dmabuf-fuzz profile: %llu inputs, %llu connections, %llu frames with "
		             "a client dma-buf\n",
		             (unsigned long long)inputs, (unsigned long long)reconnects,
		             (unsigned long long)frames);
		for (int p = 0; p < count; p++)
			std::fprintf(stderr, "dmabuf-fuzz profile: %-8s %8.1f us/input\n", names[p],
			             total_us[p] / double(inputs));
	}
} prof;

// The server side, made once per process: wlprime itself (server::create,
// what the harness of the compositor tests runs) on the headless backend with
// the pixman renderer and one small output, its main device the model's
// render node. Frames are driven by the target (wlr_output_send_frame), not
// by the headless backend's 60 Hz timer.
struct world {
	test::kernel_model model;
	std::string runtime_dir;
	std::unique_ptr<server> srv;
	wl_display *display = nullptr;
	wlr_output *output = nullptr;
	std::vector<unique_fd> dmabufs; // model dma-bufs of several sizes

	world() {
		set_log_handler([](log_level, const char *, va_list) {}, log_level::error);
		wlr_log_init(WLR_SILENT, nullptr);
		// Protocol errors are the point: don't print each one.
		wl_log_set_handler_client([](const char *, va_list) {});
		wl_log_set_handler_server([](const char *, va_list) {});
		char dir[] = "/tmp/wlprime-fuzz-XXXXXX";
		if (!mkdtemp(dir))
			abort();
		runtime_dir = dir;
		setenv("XDG_RUNTIME_DIR", dir, 1);
		model.add_node("/model/dri/renderD128", "vgem", node_type::render, 0xe280);
		config cfg;
		cfg.headless = output_size{128, 128};
		cfg.socket_name = "wayland-fuzz";
		cfg.render_device = "/model/dri/renderD128";
		cfg.client_limits.max_params = 3;
		cfg.client_limits.max_buffers = 3;
		cfg.client_limits.max_bytes = (1 << 20) + (64 << 10);
		auto created = server::create(cfg, &model);
		if (!created) {
			std::fprintf(stderr, "dmabuf-fuzz: no server: %s\n",
			             created.err().message.c_str());
			abort();
		}
		srv = std::move(*created);
		display = srv->display();
		for (int i = 0; i < 100 && !srv->first_output(); i++)
			srv->dispatch(10);
		if (!srv->first_output() || !srv->dmabuf())
			abort();
		output = srv->first_output()->wlr();
		for (uint64_t size : {4096u, 16384u, 65536u, 1u << 20})
			dmabufs.push_back(model.create_foreign_dmabuf(size));
	}
	~world() {
		srv.reset();
		std::error_code ec;
		std::filesystem::remove_all(runtime_dir, ec);
	}
	import_cache &cache() { return srv->context()->cache(); }
	device &main() { return *srv->context()->main_device(); }
	linux_dmabuf &dmabuf() { return *srv->dmabuf(); }
	size_t live_buffers() { return srv->context()->buffers().buffers.size(); }
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
	// The window every created wl_buffer is shown in, and what it shows
	// between inputs: a 16x16 wl_shm buffer (rest).
	wl_compositor *compositor = nullptr;
	wl_shm *shm = nullptr;
	xdg_wm_base *wm_base = nullptr;
	wl_surface *surface = nullptr;
	xdg_surface *xdg = nullptr;
	xdg_toplevel *toplevel = nullptr;
	wl_buffer *rest = nullptr;
	uint32_t configure_serial = 0;
	bool configured = false;
	// Buffers created and not yet shown (created events, create_immed).
	std::vector<wl_buffer *> to_show;
	// Frame callbacks not answered yet (each with its done flag).
	std::vector<std::pair<wl_callback *, std::unique_ptr<bool>>> frames;

	bool dead() const { return gone.gone || wl_display_get_error(client) != 0; }
};

// The names of the globals: the same for every connection, so after the
// first one a connection binds them at once.
struct global_names {
	uint32_t dmabuf = 0, compositor = 0, shm = 0, wm_base = 0;
	bool known() const { return dmabuf && compositor && shm && wm_base; }
} globals;

void bind_globals(connection *c) {
	c->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(wl_registry_bind(
	    c->registry, globals.dmabuf, &zwp_linux_dmabuf_v1_interface, linux_dmabuf::version));
	c->compositor = static_cast<wl_compositor *>(
	    wl_registry_bind(c->registry, globals.compositor, &wl_compositor_interface, 4));
	c->shm =
	    static_cast<wl_shm *>(wl_registry_bind(c->registry, globals.shm, &wl_shm_interface, 1));
	c->wm_base = static_cast<xdg_wm_base *>(
	    wl_registry_bind(c->registry, globals.wm_base, &xdg_wm_base_interface, 1));
}

void registry_global(void *, wl_registry *, uint32_t name, const char *interface, uint32_t) {
	if (std::strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0)
		globals.dmabuf = name;
	else if (std::strcmp(interface, wl_compositor_interface.name) == 0)
		globals.compositor = name;
	else if (std::strcmp(interface, wl_shm_interface.name) == 0)
		globals.shm = name;
	else if (std::strcmp(interface, xdg_wm_base_interface.name) == 0)
		globals.wm_base = name;
}
void registry_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {registry_global, registry_remove};

void params_created(void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer) {
	auto *c = static_cast<connection *>(data);
	for (wl_buffer *&slot : c->buffers) {
		if (!slot) {
			slot = buffer;
			c->to_show.push_back(buffer);
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

const xdg_wm_base_listener wm_base_listener = {
    [](void *, xdg_wm_base *base, uint32_t serial) { xdg_wm_base_pong(base, serial); }};
const xdg_surface_listener xdg_surface_listener = {[](void *data, xdg_surface *, uint32_t serial) {
	auto *c = static_cast<connection *>(data);
	c->configure_serial = serial;
	c->configured = true;
}};
const wl_callback_listener frame_listener = {sync_done};

// A 16x16 XRGB8888 wl_shm buffer (its pool's memfd is closed at once: the
// server holds its own mapping).
wl_buffer *make_rest_buffer(connection &c) {
	unique_fd fd(memfd_create("dmabuf-fuzz-rest", MFD_CLOEXEC));
	if (!fd || ftruncate(fd.get(), 16 * 16 * 4) != 0)
		abort();
	wl_shm_pool *pool = wl_shm_create_pool(c.shm, fd.get(), 16 * 16 * 4);
	wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0, 16, 16, 64, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	return buffer;
}

// Composes a frame now: the output's frame event, on which output.cpp
// commits the scene (pixman renders the damage, reading the client's
// dma-buf through its mapping) and answers the frame callbacks. Then the
// client hears.
void render(world &w, connection &c) {
	wlr_output_send_frame(w.output);
	for (int i = 0; i < 4 && !c.dead(); i++) {
		bool all = true;
		for (const auto &f : c.frames)
			all = all && *f.second;
		if (all)
			break;
		pump(w, c.client);
	}
	std::erase_if(c.frames, [](auto &f) {
		if (!*f.second)
			return false;
		wl_callback_destroy(f.first);
		return true;
	});
}

// Attaches buffer (whole-buffer damage, a frame callback), commits, lets the
// server take the commit, renders a frame. first: the window's first buffer,
// which maps it; it is then moved to the output's origin.
void show(world &w, connection &c, wl_buffer *buffer, bool first = false) {
	wl_surface_attach(c.surface, buffer, 0, 0);
	wl_surface_damage_buffer(c.surface, 0, 0, INT32_MAX, INT32_MAX);
	auto done = std::make_unique<bool>(false);
	wl_callback *frame = wl_surface_frame(c.surface);
	wl_callback_add_listener(frame, &frame_listener, done.get());
	c.frames.emplace_back(frame, std::move(done));
	wl_surface_commit(c.surface);
	if (!pump(w, c.client) || c.dead())
		return;
	if (first) { // the commit mapped the window: to the origin
		if (w.srv->views().empty())
			abort();
		w.srv->views().front()->move_to(0, 0);
	}
	render(w, c);
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
	if (!globals.known())
		settle(w, *c); // the registry's globals
	if (!globals.known()) {
		std::fprintf(stderr, "inconsistency: linux-dmabuf, wl_compositor, wl_shm or "
		                     "xdg_wm_base not advertised\n");
		abort();
	}
	bind_globals(c);
	xdg_wm_base_add_listener(c->wm_base, &wm_base_listener, c);

	// The window: initial commit, configure, ack, the rest buffer; placed
	// at the output's origin so that every row of a buffer is composed.
	c->surface = wl_compositor_create_surface(c->compositor);
	c->xdg = xdg_wm_base_get_xdg_surface(c->wm_base, c->surface);
	xdg_surface_add_listener(c->xdg, &xdg_surface_listener, c);
	c->toplevel = xdg_surface_get_toplevel(c->xdg);
	wl_surface_commit(c->surface);
	if (!settle(w, *c) || !c->configured) {
		std::fprintf(stderr, "inconsistency: the toplevel was not configured\n");
		abort();
	}
	xdg_surface_ack_configure(c->xdg, c->configure_serial);
	c->rest = make_rest_buffer(*c);
	show(w, *c, c->rest, true);
	if (!settle(w, *c) || !c->frames.empty()) {
		std::fprintf(stderr, "inconsistency: the window's first frame was not done\n");
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
	for (auto &f : c->frames)
		wl_callback_destroy(f.first);
	if (c->rest)
		wl_buffer_destroy(c->rest);
	xdg_toplevel_destroy(c->toplevel);
	xdg_surface_destroy(c->xdg);
	wl_surface_destroy(c->surface);
	xdg_wm_base_destroy(c->wm_base);
	wl_shm_destroy(c->shm);
	wl_compositor_destroy(c->compositor);
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
					c.to_show.push_back(c.buffers[slot]);
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
		// Every buffer made (and not destroyed since) is shown: attached,
		// committed and composed into a frame.
		std::vector<wl_buffer *> new_buffers = std::move(c.to_show);
		c.to_show.clear();
		for (wl_buffer *b : new_buffers) {
			if (c.dead())
				return;
			if (std::find(std::begin(c.buffers), std::end(c.buffers), b) ==
			    std::end(c.buffers))
				continue;
			show(w, c, b);
			prof.frames++;
		}
	}
}

// The state an input must leave as it found it.
struct snapshot {
	std::map<int, file_id> fds;
	size_t resources = 0; // the client's objects on the server side
	size_t mappings = 0;  // file mappings of the process
};

// The file-backed mappings of the process (dma-buf mappings among them):
// the entries of /proc/self/map_files, one getdents64 pass.
size_t count_mappings() {
	static int dir = open("/proc/self/map_files", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || lseek(dir, 0, SEEK_SET) != 0)
		abort();
	size_t n = 0;
	alignas(8) char buf[8192];
	for (;;) {
		long got = syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (got < 0)
			abort();
		if (got == 0)
			break;
		for (long at = 0; at < got;) {
			auto *e = reinterpret_cast<dirent64 *>(buf + at);
			at += e->d_reclen;
			n += e->d_name[0] != '.';
		}
	}
	return n;
}

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
// mapped_dmabufs: the cache mapped dma-bufs during the input.
void check(world &w, const connection *c, const snapshot &before, snapshot &after,
           const std::vector<int> &closed, bool mapped_dmabufs) {
	if (size_t n = w.model.handle_count(w.main().fd()))
		leak("GEM handles", n);
	if (size_t n = w.model.fb_count(w.main().fd()))
		leak("framebuffers", n);
	if (size_t n = w.cache().size())
		leak("Imports in the cache", n);
	if (size_t n = w.live_buffers())
		leak("dmabuf wl_buffers", n);
	client_limits &limits = w.dmabuf().limits();
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

	// wlroots' output swapchain may grow by a buffer (a /dev/shm/wlroots-*
	// memfd and its mapping) whenever a frame finds every buffer busy: that
	// is the output's, not the input's.
	std::map<int, file_id> expected = before.fds;
	for (int fd : closed)
		expected.erase(fd);
	size_t output_buffers = 0;
	for (const auto &[fd, id] : after.fds) {
		if (expected.contains(fd))
			continue;
		if (describe_fd(fd).rfind("/dev/shm/wlroots-", 0) == 0) {
			expected[fd] = id;
			output_buffers++;
		}
	}
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
	// Mappings: the same, but the output's new buffers, and, when the
	// connection went, its wl_shm pool (the window's rest buffer). Counted
	// (a pass over /proc/self/map_files, costly with the sanitizers'
	// mappings) when the input mapped a dma-buf, when the output grew, and
	// every 64th input; else they are what they were.
	const size_t expected_mappings = before.mappings + output_buffers - (c ? 0 : 1);
	static uint64_t inputs_checked = 0;
	if (mapped_dmabufs || output_buffers || inputs_checked++ % 64 == 0)
		after.mappings = count_mappings();
	else
		after.mappings = expected_mappings;
	if (after.mappings != expected_mappings) {
		std::fprintf(
		    stderr,
		    "leak: %zu file mappings after the input, %zu expected (%zu before, %zu "
		    "new output buffers, connection %s, %s)\n",
		    after.mappings, expected_mappings, before.mappings, output_buffers,
		    c ? "kept" : "gone", mapped_dmabufs ? "dma-bufs mapped" : "no dma-buf mapped");
		abort();
	}
}

// A new connection, with the fds it opened (the socketpair, libwayland's
// dups) in its fds; mappings grows by its wl_shm pool and by the output
// buffers its first frame may have added.
connection *reconnect(world &w, size_t &mappings) {
	const std::vector<int> unconnected = open_fd_numbers();
	connection *c = connect(w);
	prof.reconnects++;
	mappings++;
	for (int fd : open_fd_numbers()) {
		if (std::find(unconnected.begin(), unconnected.end(), fd) != unconnected.end())
			continue;
		if (describe_fd(fd).rfind("/dev/shm/wlroots-", 0) == 0)
			mappings++;
		else
			c->fds.push_back(fd);
	}
	return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static world *w = new world();             // lives for the process, as a fuzzer's must
	static connection *c = nullptr;            // until a protocol error ends it
	static std::map<int, file_id> fds_checked; // as the last input left them
	static size_t mappings_checked = count_mappings(); // as the last input left them
	// A connection that an input ended is made again at the end of that
	// input, not at the start of the next: so an input frees about as much
	// as it allocates, and libFuzzer's leak detection (a re-run and a full
	// LSan scan of the heap, for an input that mallocs more than it frees)
	// does not run for most inputs.
	prof.start();
	if (!c) // the first input
		c = reconnect(*w, mappings_checked);
	prof.lap(profile::connect);
	// The fds the last input left (checked) are taken as they were: between
	// two inputs only libFuzzer opens fds (files it writes and closes, the
	// symbolizer's pipes it keeps).
	const std::vector<int> numbers = open_fd_numbers();
	snapshot before{identify(numbers, fds_checked), count_resources(c->server_side),
	                mappings_checked};
	const uint64_t mapped_before = w->cache().stats().mappings;
	prof.lap(profile::snapshot);

	reader r{data, size};
	run_program(*w, *c, r);
	prof.lap(profile::program);

	// The last answers (created, failed, errors), then every object the
	// input made is destroyed, and the server has seen it.
	std::vector<int> closed;
	if (settle(*w, *c)) {
		// The window shows its rest buffer again: the scene and the
		// surface let go of the input's dma-bufs.
		show(*w, *c, c->rest);
		if (!c->dead() && !c->frames.empty()) {
			std::fprintf(stderr, "inconsistency: %zu frame callbacks never answered\n",
			             c->frames.size());
			abort();
		}
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
	w->cache().evict_idle();
	prof.lap(profile::cleanup);

	snapshot after{identify(open_fd_numbers()), c ? count_resources(c->server_side) : 0};
	check(*w, c, before, after, closed, w->cache().stats().mappings != mapped_before);
	fds_checked = std::move(after.fds);
	mappings_checked = after.mappings;
	prof.lap(profile::check);
	if (!c) {
		c = reconnect(*w, mappings_checked);
		fds_checked = identify(open_fd_numbers(), fds_checked);
		prof.lap(profile::connect);
	}
	return 0;
}
