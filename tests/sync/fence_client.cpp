// wlprime-fence-client: a linux-dmabuf client whose buffer carries an
// unsignalled write fence when it is committed (vgem's fence ioctls), for the
// implicit-sync tests (tests/sync/fence-test, in the QEMU guest).
//
// Default mode, one window:
//   1. draws colour A into buffer 1, commits, waits until it was shown
//      (frame done)                                  -> "shown A"
//   2. fills buffer 2 with the "unfinished" colour, attaches a vgem write
//      fence to it (DRM_IOCTL_VGEM_FENCE_ATTACH, VGEM_FENCE_WRITE), commits
//      it                                            -> "committed B fenced"
//   3. after --signal-after MS: draws colour B into buffer 2 (the "GPU"
//      finishing its work), then DRM_IOCTL_VGEM_FENCE_SIGNAL -> "signalled"
//      With --never-signal it does neither (vgem signals the fence itself
//      after about 10 s).
//   4. reports when the commit's frame callback came ("frame done B") and
//      when buffer 2 was released ("released B"), then stays up until the
//      compositor goes away or it is killed.
// A compositor that honours implicit sync shows A until step 3, then B, and
// never the unfinished colour.
//
// --ticker: one window that commits a new frame on every frame callback,
// alternating two colours, and prints "frame N" for each: the test's proof
// that other surfaces keep updating while one waits.
//
// Buffers: vgem dumb buffers (CREATE_DUMB on the card node, PRIME export),
// XRGB8888, linear, drawn through MAP_DUMB. Every output line starts with the
// milliseconds since the client started.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>
#include <xf86drm.h>

#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

namespace {

// include/uapi/drm/vgem_drm.h (not in Debian's libdrm headers).
struct drm_vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};
struct drm_vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};
constexpr uint32_t vgem_fence_write = 0x1;
#define WLPRIME_IOCTL_VGEM_FENCE_ATTACH                                                            \
	DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct drm_vgem_fence_attach)
#define WLPRIME_IOCTL_VGEM_FENCE_SIGNAL                                                            \
	DRM_IOW(DRM_COMMAND_BASE + 0x2, struct drm_vgem_fence_signal)

const char usage[] =
    "Usage: wlprime-fence-client --card /dev/dri/cardN [OPTION]...\n"
    "  --size WxH          window size (default 100x100)\n"
    "  --color-a RRGGBB    first content (default ff0000)\n"
    "  --color-b RRGGBB    content the fenced writes produce (default 0000ff)\n"
    "  --unfinished RRGGBB buffer 2 before the fenced writes (default ff00ff)\n"
    "  --signal-after MS   signal the fence this long after the commit (2000)\n"
    "  --never-signal      never signal it (vgem times it out after ~10 s)\n"
    "  --ticker            a window that redraws on every frame callback instead\n"
    "Exit status: 0 when the compositor goes away or after SIGTERM, 1 on errors.\n";

auto start = std::chrono::steady_clock::now();

[[gnu::format(printf, 1, 2)]] void say(const char *fmt, ...) {
	long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
	                   std::chrono::steady_clock::now() - start)
	                   .count();
	std::printf("%lld ", ms);
	va_list args;
	va_start(args, fmt);
	std::vprintf(fmt, args);
	va_end(args);
	std::printf("\n");
	std::fflush(stdout);
}

[[noreturn]] void die(const std::string &what) {
	say("error: %s", what.c_str());
	std::exit(1);
}

long long now_ms() {
	return std::chrono::duration_cast<std::chrono::milliseconds>(
	           std::chrono::steady_clock::now() - start)
	    .count();
}

struct bo {
	uint32_t handle = 0;
	uint32_t pitch = 0;
	uint64_t size = 0;
	int dmabuf = -1;
	uint32_t *pixels = nullptr;
	wl_buffer *buffer = nullptr;
	bool busy = false;
	const char *name = "";
};

struct client {
	int card = -1;
	int width = 100, height = 100;
	wl_display *display = nullptr;
	wl_compositor *compositor = nullptr;
	xdg_wm_base *wm_base = nullptr;
	zwp_linux_dmabuf_v1 *dmabuf = nullptr;
	wl_surface *surface = nullptr;
	xdg_surface *xsurface = nullptr;
	xdg_toplevel *toplevel = nullptr;
	bool configured = false;
	bo bos[2];
	// Frame callbacks: which commit each belongs to.
	int frames_done = 0;
	bool frame_pending = false;
	long long frame_done_at = -1;
};

void registry_global(void *data, wl_registry *registry, uint32_t name, const char *interface,
                     uint32_t version) {
	auto *c = static_cast<client *>(data);
	if (std::strcmp(interface, wl_compositor_interface.name) == 0) {
		c->compositor = static_cast<wl_compositor *>(
		    wl_registry_bind(registry, name, &wl_compositor_interface, 4));
	} else if (std::strcmp(interface, xdg_wm_base_interface.name) == 0) {
		c->wm_base = static_cast<xdg_wm_base *>(
		    wl_registry_bind(registry, name, &xdg_wm_base_interface, 1));
	} else if (std::strcmp(interface, zwp_linux_dmabuf_v1_interface.name) == 0 &&
	           version >= 3) {
		c->dmabuf = static_cast<zwp_linux_dmabuf_v1 *>(
		    wl_registry_bind(registry, name, &zwp_linux_dmabuf_v1_interface, 3));
	}
}
void registry_remove(void *, wl_registry *, uint32_t) {}
const wl_registry_listener registry_listener = {registry_global, registry_remove};

void wm_ping(void *, xdg_wm_base *base, uint32_t serial) {
	xdg_wm_base_pong(base, serial);
}
const xdg_wm_base_listener wm_listener = {wm_ping};

void xsurface_configure(void *data, xdg_surface *xs, uint32_t serial) {
	xdg_surface_ack_configure(xs, serial);
	static_cast<client *>(data)->configured = true;
}
const xdg_surface_listener xsurface_listener = {xsurface_configure};

void toplevel_configure(void *, xdg_toplevel *, int32_t, int32_t, wl_array *) {}
void toplevel_close(void *, xdg_toplevel *) {
	std::exit(0);
}
const xdg_toplevel_listener toplevel_listener = {toplevel_configure, toplevel_close};

void buffer_release(void *data, wl_buffer *) {
	auto *b = static_cast<bo *>(data);
	b->busy = false;
	if (b->name[0] != '\0') {
		say("released %s", b->name);
	}
}
const wl_buffer_listener buffer_listener = {buffer_release};

void frame_done(void *data, wl_callback *cb, uint32_t) {
	auto *c = static_cast<client *>(data);
	wl_callback_destroy(cb);
	c->frames_done++;
	c->frame_pending = false;
	c->frame_done_at = now_ms();
}
const wl_callback_listener frame_listener = {frame_done};

void make_bo(client &c, bo &b) {
	drm_mode_create_dumb create = {};
	create.width = uint32_t(c.width);
	create.height = uint32_t(c.height);
	create.bpp = 32;
	if (drmIoctl(c.card, DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0) {
		die(std::string("CREATE_DUMB: ") + std::strerror(errno));
	}
	b.handle = create.handle;
	b.pitch = create.pitch;
	b.size = create.size;
	if (drmPrimeHandleToFD(c.card, b.handle, DRM_CLOEXEC | DRM_RDWR, &b.dmabuf) != 0) {
		die(std::string("PRIME export: ") + std::strerror(errno));
	}
	drm_mode_map_dumb map = {};
	map.handle = b.handle;
	if (drmIoctl(c.card, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
		die(std::string("MAP_DUMB: ") + std::strerror(errno));
	}
	void *p =
	    mmap(nullptr, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, c.card, off_t(map.offset));
	if (p == MAP_FAILED) {
		die(std::string("mmap: ") + std::strerror(errno));
	}
	b.pixels = static_cast<uint32_t *>(p);
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c.dmabuf);
	zwp_linux_buffer_params_v1_add(params, b.dmabuf, 0, 0, b.pitch, 0, 0); // LINEAR
	b.buffer = zwp_linux_buffer_params_v1_create_immed(params, c.width, c.height,
	                                                   DRM_FORMAT_XRGB8888, 0);
	zwp_linux_buffer_params_v1_destroy(params);
	wl_buffer_add_listener(b.buffer, &buffer_listener, &b);
}

void fill(client &c, bo &b, uint32_t rgb) {
	for (int y = 0; y < c.height; y++) {
		uint32_t *row = b.pixels + size_t(y) * (b.pitch / 4);
		for (int x = 0; x < c.width; x++) {
			row[x] = 0xff000000u | rgb;
		}
	}
}

void commit(client &c, bo &b) {
	wl_surface_attach(c.surface, b.buffer, 0, 0);
	wl_surface_damage_buffer(c.surface, 0, 0, c.width, c.height);
	wl_callback_add_listener(wl_surface_frame(c.surface), &frame_listener, &c);
	c.frame_pending = true;
	b.busy = true;
	wl_surface_commit(c.surface);
}

// Dispatches events for at most timeout_ms (-1: one batch, blocking).
void pump(client &c, int timeout_ms) {
	while (wl_display_prepare_read(c.display) != 0) {
		wl_display_dispatch_pending(c.display);
	}
	if (wl_display_flush(c.display) < 0 && errno != EAGAIN) {
		wl_display_cancel_read(c.display);
		say("compositor gone");
		std::exit(0);
	}
	pollfd p = {wl_display_get_fd(c.display), POLLIN, 0};
	if (poll(&p, 1, timeout_ms) > 0) {
		if (wl_display_read_events(c.display) < 0) {
			say("compositor gone");
			std::exit(0);
		}
	} else {
		wl_display_cancel_read(c.display);
	}
	if (wl_display_dispatch_pending(c.display) < 0) {
		say("compositor gone");
		std::exit(0);
	}
}

void pump_until(client &c, long long deadline_ms) {
	for (long long now = now_ms(); now < deadline_ms; now = now_ms()) {
		pump(c, int(deadline_ms - now));
	}
}

bool parse_color(const char *text, uint32_t *out) {
	char *end = nullptr;
	unsigned long v = std::strtoul(text, &end, 16);
	if (end == text || *end != '\0' || std::strlen(text) != 6) {
		return false;
	}
	*out = uint32_t(v);
	return true;
}

} // namespace

int main(int argc, char *argv[]) {
	std::signal(SIGTERM, [](int) { std::_Exit(0); });
	client c;
	std::string card_path;
	uint32_t color_a = 0xff0000, color_b = 0x0000ff, unfinished = 0xff00ff;
	long signal_after = 2000;
	bool never_signal = false, ticker = false;
	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
		auto need = [&] {
			if (v == nullptr) {
				std::fprintf(stderr, "%s needs a value\n%s", argv[i], usage);
				std::exit(2);
			}
			i++;
			return v;
		};
		if (arg == "--card") {
			card_path = need();
		} else if (arg == "--size") {
			if (std::sscanf(need(), "%dx%d", &c.width, &c.height) != 2 || c.width < 1 ||
			    c.height < 1) {
				std::fprintf(stderr, "bad --size\n");
				return 2;
			}
		} else if (arg == "--color-a" || arg == "--color-b" || arg == "--unfinished") {
			uint32_t *dst = arg == "--color-a"   ? &color_a
			                : arg == "--color-b" ? &color_b
			                                     : &unfinished;
			if (!parse_color(need(), dst)) {
				std::fprintf(stderr, "bad colour for %s\n", argv[i - 1]);
				return 2;
			}
		} else if (arg == "--signal-after") {
			signal_after = std::atol(need());
		} else if (arg == "--never-signal") {
			never_signal = true;
		} else if (arg == "--ticker") {
			ticker = true;
		} else if (arg == "-h" || arg == "--help") {
			std::fputs(usage, stdout);
			return 0;
		} else {
			std::fprintf(stderr, "unknown argument %s\n%s", argv[i], usage);
			return 2;
		}
	}
	if (card_path.empty()) {
		std::fprintf(stderr, "--card is required\n%s", usage);
		return 2;
	}
	c.card = open(card_path.c_str(), O_RDWR | O_CLOEXEC);
	if (c.card < 0) {
		die("open " + card_path + ": " + std::strerror(errno));
	}

	c.display = wl_display_connect(nullptr);
	if (c.display == nullptr) {
		die("cannot connect to the compositor");
	}
	wl_registry *registry = wl_display_get_registry(c.display);
	wl_registry_add_listener(registry, &registry_listener, &c);
	wl_display_roundtrip(c.display);
	if (c.compositor == nullptr || c.wm_base == nullptr || c.dmabuf == nullptr) {
		die("the compositor lacks wl_compositor, xdg_wm_base or zwp_linux_dmabuf_v1 v3");
	}
	xdg_wm_base_add_listener(c.wm_base, &wm_listener, nullptr);
	c.surface = wl_compositor_create_surface(c.compositor);
	c.xsurface = xdg_wm_base_get_xdg_surface(c.wm_base, c.surface);
	xdg_surface_add_listener(c.xsurface, &xsurface_listener, &c);
	c.toplevel = xdg_surface_get_toplevel(c.xsurface);
	xdg_toplevel_add_listener(c.toplevel, &toplevel_listener, &c);
	xdg_toplevel_set_title(c.toplevel, ticker ? "fence-client ticker" : "fence-client");
	wl_surface_commit(c.surface);
	while (!c.configured) {
		pump(c, -1);
	}
	make_bo(c, c.bos[0]);
	make_bo(c, c.bos[1]);
	wl_display_roundtrip(c.display); // create_immed errors arrive here

	if (ticker) {
		const uint32_t colors[2] = {0x00ff00, 0xffff00};
		for (int n = 0;; n++) {
			bo *b = !c.bos[n % 2].busy       ? &c.bos[n % 2]
			        : !c.bos[1 - n % 2].busy ? &c.bos[1 - n % 2]
			                                 : nullptr;
			while (b == nullptr) {
				pump(c, -1);
				b = !c.bos[0].busy   ? &c.bos[0]
				    : !c.bos[1].busy ? &c.bos[1]
				                     : nullptr;
			}
			fill(c, *b, colors[n % 2]);
			commit(c, *b);
			while (c.frame_pending) {
				pump(c, -1);
			}
			say("frame %d", c.frames_done);
		}
	}

	bo &one = c.bos[0], &two = c.bos[1];
	two.name = "B";
	fill(c, one, color_a);
	commit(c, one);
	while (c.frame_pending) {
		pump(c, -1);
	}
	say("shown A");

	fill(c, two, unfinished);
	drm_vgem_fence_attach attach = {};
	attach.handle = two.handle;
	attach.flags = vgem_fence_write;
	if (drmIoctl(c.card, WLPRIME_IOCTL_VGEM_FENCE_ATTACH, &attach) != 0) {
		die(std::string("DRM_IOCTL_VGEM_FENCE_ATTACH: ") + std::strerror(errno));
	}
	say("fence %u attached to buffer B (vgem handle %u)", attach.out_fence, two.handle);
	commit(c, two);
	wl_display_flush(c.display);
	long long committed = now_ms();
	say("committed B fenced");

	long long signalled = -1;
	if (!never_signal) {
		pump_until(c, committed + signal_after);
		fill(c, two, color_b);
		drm_vgem_fence_signal sig = {};
		sig.fence = attach.out_fence;
		if (drmIoctl(c.card, WLPRIME_IOCTL_VGEM_FENCE_SIGNAL, &sig) != 0) {
			die(std::string("DRM_IOCTL_VGEM_FENCE_SIGNAL: ") + std::strerror(errno));
		}
		signalled = now_ms();
		say("signalled fence %u", attach.out_fence);
	} else {
		say("not signalling fence %u", attach.out_fence);
	}
	while (c.frame_pending) {
		pump(c, -1);
	}
	say("frame done B %lld ms after the commit%s", c.frame_done_at - committed,
	    signalled < 0
	        ? ""
	        : (", " + std::to_string(c.frame_done_at - signalled) + " ms after the signal")
	              .c_str());
	for (;;) {
		pump(c, -1);
	}
}
