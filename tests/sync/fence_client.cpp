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
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include "tests/clients/client_base.hpp"
#include "tests/clients/dumb_export.hpp"

namespace {

using namespace wlprime;
using namespace wlprime::clients;

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

const line_log out{true}; // every line stamped with the ms since the start

[[noreturn]] void die(const std::string &what) {
	out.say("error: %s", what.c_str());
	std::exit(1);
}

struct bo {
	uint32_t handle = 0;
	uint32_t pitch = 0;
	uint64_t size = 0;
	unique_fd dmabuf;
	uint32_t *pixels = nullptr;
	wl_buffer *buffer = nullptr;
	bool busy = false;
	const char *name = "";
};

struct client {
	int card = -1;
	int width = 100, height = 100;
	client_base base{{.dmabuf_max = 3, .dmabuf_min = 3}};
	xdg_window window;
	bo bos[2];
	long long frame_done_at = -1;
	frame_pacer frame{[this] { frame_done_at = out.ms(); }};
};

void buffer_release(void *data, wl_buffer *) {
	auto *b = static_cast<bo *>(data);
	b->busy = false;
	if (b->name[0] != '\0') {
		out.say("released %s", b->name);
	}
}
const wl_buffer_listener buffer_listener = {buffer_release};

void make_bo(client &c, bo &b) {
	linux_kernel kernel;
	auto made = export_dumb(kernel, c.card, uint32_t(c.width), uint32_t(c.height), 32, false);
	if (!made) {
		die(made.err().message);
	}
	b.handle = made->dumb.handle;
	b.pitch = made->dumb.pitch;
	b.size = made->dumb.size;
	b.dmabuf = std::move(made->dmabuf);
	void *p = nullptr;
	if (int err = kernel.map_dumb(c.card, b.handle, b.size, PROT_READ | PROT_WRITE, &p)) {
		die(std::string("MAP_DUMB: ") + std::strerror(err));
	}
	b.pixels = static_cast<uint32_t *>(p);
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(c.base.dmabuf);
	zwp_linux_buffer_params_v1_add(params, b.dmabuf.get(), 0, 0, b.pitch, 0, 0); // LINEAR
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
	wl_surface_attach(c.window.surface, b.buffer, 0, 0);
	wl_surface_damage_buffer(c.window.surface, 0, 0, c.width, c.height);
	c.frame.request(c.window.surface);
	b.busy = true;
	wl_surface_commit(c.window.surface);
}

// Dispatches events for at most timeout_ms (-1: one batch, blocking).
void pump(client &c, int timeout_ms) {
	if (!pump_display(c.base.display, timeout_ms)) {
		out.say("compositor gone");
		std::exit(0);
	}
}

void pump_until(client &c, long long deadline_ms) {
	for (long long now = out.ms(); now < deadline_ms; now = out.ms()) {
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

	std::string error;
	if (!c.base.connect(nullptr, &error)) {
		die("cannot connect to the compositor");
	}
	c.base.roundtrip();
	if (c.base.compositor == nullptr || c.base.wm_base == nullptr || c.base.dmabuf == nullptr) {
		die("the compositor lacks wl_compositor, xdg_wm_base or zwp_linux_dmabuf_v1 v3");
	}
	c.window.on_close = [] { std::exit(0); };
	c.window.create(c.base, ticker ? "fence-client ticker" : "fence-client");
	c.window.initial_commit();
	while (!c.window.configured) {
		pump(c, -1);
	}
	make_bo(c, c.bos[0]);
	make_bo(c, c.bos[1]);
	c.base.roundtrip(); // create_immed errors arrive here

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
			while (c.frame.pending()) {
				pump(c, -1);
			}
			out.say("frame %d", c.frame.done_count());
		}
	}

	bo &one = c.bos[0], &two = c.bos[1];
	two.name = "B";
	fill(c, one, color_a);
	commit(c, one);
	while (c.frame.pending()) {
		pump(c, -1);
	}
	out.say("shown A");

	fill(c, two, unfinished);
	drm_vgem_fence_attach attach = {};
	attach.handle = two.handle;
	attach.flags = vgem_fence_write;
	if (drmIoctl(c.card, WLPRIME_IOCTL_VGEM_FENCE_ATTACH, &attach) != 0) {
		die(std::string("DRM_IOCTL_VGEM_FENCE_ATTACH: ") + std::strerror(errno));
	}
	out.say("fence %u attached to buffer B (vgem handle %u)", attach.out_fence, two.handle);
	commit(c, two);
	wl_display_flush(c.base.display);
	long long committed = out.ms();
	out.say("committed B fenced");

	long long signalled = -1;
	if (!never_signal) {
		pump_until(c, committed + signal_after);
		fill(c, two, color_b);
		drm_vgem_fence_signal sig = {};
		sig.fence = attach.out_fence;
		if (drmIoctl(c.card, WLPRIME_IOCTL_VGEM_FENCE_SIGNAL, &sig) != 0) {
			die(std::string("DRM_IOCTL_VGEM_FENCE_SIGNAL: ") + std::strerror(errno));
		}
		signalled = out.ms();
		out.say("signalled fence %u", attach.out_fence);
	} else {
		out.say("not signalling fence %u", attach.out_fence);
	}
	while (c.frame.pending()) {
		pump(c, -1);
	}
	out.say("frame done B %lld ms after the commit%s", c.frame_done_at - committed,
	        signalled < 0
	            ? ""
	            : (", " + std::to_string(c.frame_done_at - signalled) + " ms after the signal")
	                  .c_str());
	for (;;) {
		pump(c, -1);
	}
}
