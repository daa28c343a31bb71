// dmabuf_fuzz.cpp: libFuzzer target for the linux-dmabuf request path.
//
// The input is a little program of linux-dmabuf requests, sent by a real
// libwayland client over a socketpair to wlprime's own zwp_linux_dmabuf_v1
// (compositor/linux_dmabuf.cpp, the code the compositor runs), whose main
// device is the kernel model (tests/unit/kernel_model). Plane fds are of
// real kinds: model dma-bufs of several sizes, memfds of any size that are no
// dma-buf, /dev/null, a pipe.
//
// After each input the client is disconnected and the cache flushed; then
// there must be no GEM handle left on the main device and no fd left in the
// process. A leak is a crash (abort), so the fuzzer reports it.
//
// Input format (each request one opcode byte, then its arguments, read with
// the helpers below; a short input ends the program):
//   0 create_params
//   1 add     slot fd-kind plane_idx offset stride modifier
//   2 create  slot width height format flags
//   3 create_immed  (same)
//   4 destroy params slot
//   5 destroy wl_buffer slot
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <map>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>
#include <wayland-client.h>

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

// The fds open now, with what they are (for the leak message).
std::map<int, std::string> open_fds() {
	std::map<int, std::string> fds;
	for (int fd = 0; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		char path[64], target[256] = {};
		std::snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		fds[fd] = n > 0 ? std::string(target, size_t(n)) : "?";
	}
	return fds;
}

// The server side, made once per process: a display with only linux-dmabuf
// on the model's render node.
struct world {
	test::kernel_model model;
	std::unique_ptr<device> main;
	std::unique_ptr<import_cache> cache;
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
		dmabuf = std::move(*linux_dmabuf::create(display, *main, *cache,
		                                         linux_dmabuf::composition_formats()));
		for (uint64_t size : {4096u, 16384u, 65536u, 1u << 20})
			dmabufs.push_back(model.create_foreign_dmabuf(size));
	}
};

world &the_world() {
	static world *w = new world(); // lives for the process, as a fuzzer's must
	return *w;
}

struct client_state {
	zwp_linux_dmabuf_v1 *dmabuf = nullptr;
	zwp_linux_buffer_params_v1 *params[4] = {};
	wl_buffer *buffers[4] = {};
};

void registry_global(void *data, wl_registry *registry, uint32_t name, const char *interface,
                     uint32_t version) {
	auto *c = static_cast<client_state *>(data);
	if (std::strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0)
		c->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(
		    wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, version));
}
void registry_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {registry_global, registry_remove};

void params_created(void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer) {
	auto *c = static_cast<client_state *>(data);
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

void run_program(world &w, wl_display *client, client_state &c, reader &r) {
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
		if (!pump(w, client))
			return; // a protocol error ended the connection
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	world &w = the_world();
	const std::map<int, std::string> fds_before = open_fds();

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	wl_client *server_side = wl_client_create(w.display, sv[0]);
	wl_display *client = wl_display_connect_to_fd(sv[1]);
	if (!server_side || !client)
		abort();
	// The server destroys the client itself after a protocol error.
	struct gone_listener {
		wl_listener listener;
		bool gone = false;
	} gone;
	gone.listener.notify = [](wl_listener *l, void *) {
		reinterpret_cast<gone_listener *>(l)->gone = true;
	};
	wl_client_add_destroy_listener(server_side, &gone.listener);

	client_state c;
	wl_registry *registry = wl_display_get_registry(client);
	wl_registry_add_listener(registry, &registry_listener, &c);
	pump(w, client, 2);
	if (!c.dmabuf)
		abort();

	reader r{data, size};
	run_program(w, client, c, r);
	pump(w, client, 2); // the last answers (created, failed, errors)

	// Abrupt disconnect, whatever state the client is in.
	for (auto *p : c.params)
		if (p)
			zwp_linux_buffer_params_v1_destroy(p);
	for (auto *b : c.buffers)
		if (b)
			wl_buffer_destroy(b);
	zwp_linux_dmabuf_v1_destroy(c.dmabuf);
	wl_registry_destroy(registry);
	wl_display_disconnect(client);
	if (!gone.gone)
		wl_client_destroy(server_side);
	w.cache->evict_idle();

	if (w.cache->size() != 0 || w.model.handle_count(w.main->fd()) != 0) {
		std::fprintf(stderr, "leak: %zu imports, %zu GEM handles left\n", w.cache->size(),
		             w.model.handle_count(w.main->fd()));
		abort();
	}
	const std::map<int, std::string> fds_after = open_fds();
	if (fds_after != fds_before) {
		for (const auto &[fd, what] : fds_after)
			if (!fds_before.contains(fd))
				std::fprintf(stderr, "leak: fd %d (%s) left open\n", fd,
				             what.c_str());
		for (const auto &[fd, what] : fds_before)
			if (!fds_after.contains(fd))
				std::fprintf(stderr, "fd %d (%s) closed by someone else\n", fd,
				             what.c_str());
		abort();
	}
	return 0;
}
