// wlprime-debug: asks a running wlprime what its import subsystem holds.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "compositor/debug_server.hpp"
#include "import/unique_fd.hpp"

static const char usage[] =
    "Usage: wlprime-debug [--json] [--socket NAME]\n"
    "\n"
    "Prints what a running wlprime's import subsystem holds, live: its DRM\n"
    "devices (node, driver, dev_t, role), its outputs (what each shows and has\n"
    "queued), every Import (dma-buf identity, format, modifier, planes, per\n"
    "device the GEM handles with their reference counts and the framebuffer,\n"
    "the clients and wl_buffers that use it, its state), the cache statistics,\n"
    "the negative entries with their reasons, the ioctl counts, and per KMS\n"
    "output the copy fallback: frames copied, bytes, counts by reason and the\n"
    "Imports its display device could not scan out, with why.\n"
    "\n"
    "  --json         one JSON object instead of text (for scripts)\n"
    "  --socket NAME  the wlprime whose Wayland socket is NAME\n"
    "                 (default: $WAYLAND_DISPLAY, else wayland-0)\n"
    "  --help         this text\n"
    "\n"
    "Exit status: 0 printed, 1 no wlprime answered, 2 bad usage.\n";

int main(int argc, char **argv) {
	bool json = false;
	const char *display = std::getenv("WAYLAND_DISPLAY");
	std::string socket_name = display && *display ? display : "wayland-0";
	for (int i = 1; i < argc; i++) {
		std::string arg = argv[i];
		if (arg == "--json") {
			json = true;
		} else if (arg == "--socket" && i + 1 < argc) {
			socket_name = argv[++i];
		} else if (arg.rfind("--socket=", 0) == 0) {
			socket_name = arg.substr(9);
		} else if (arg == "--help" || arg == "-h") {
			std::fputs(usage, stdout);
			return 0;
		} else {
			std::fprintf(stderr, "wlprime-debug: unknown argument '%s'\n%s", argv[i],
			             usage);
			return 2;
		}
	}
	const char *runtime_dir = std::getenv("XDG_RUNTIME_DIR");
	if (!runtime_dir) {
		std::fprintf(stderr, "wlprime-debug: XDG_RUNTIME_DIR is not set\n");
		return 1;
	}
	std::string path = wlprime::debug_server::path_for(runtime_dir, socket_name);
	sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
	wlprime::unique_fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd || connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
		std::fprintf(stderr, "wlprime-debug: no wlprime at %s: %s\n", path.c_str(),
		             std::strerror(errno));
		return 1;
	}
	// wlprime answers within its own timeouts (debug_server.hpp); this side
	// does not wait forever either: 10 s without a byte is no answer.
	constexpr int timeout_ms = 10000;
	const std::string request = json ? "json\n" : "text\n";
	size_t written = 0;
	while (written < request.size()) {
		ssize_t n = send(fd.get(), request.data() + written, request.size() - written,
		                 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			std::fprintf(stderr, "wlprime-debug: %s: %s\n", path.c_str(),
			             std::strerror(errno));
			return 1;
		}
		written += static_cast<size_t>(n);
	}
	char buf[65536];
	size_t total = 0;
	for (;;) {
		pollfd p = {fd.get(), POLLIN, 0};
		int ready = poll(&p, 1, timeout_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready == 0) {
			std::fprintf(stderr,
			             "wlprime-debug: %s: no answer for %d ms (%zu bytes read)\n",
			             path.c_str(), timeout_ms, total);
			return 1;
		}
		ssize_t n = read(fd.get(), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			std::fprintf(stderr, "wlprime-debug: %s: %s (%zu bytes read)\n",
			             path.c_str(), std::strerror(errno), total);
			return 1;
		}
		if (n == 0)
			break;
		if (std::fwrite(buf, 1, static_cast<size_t>(n), stdout) != static_cast<size_t>(n)) {
			std::fprintf(stderr, "wlprime-debug: writing the answer: %s\n",
			             std::strerror(errno));
			return 1;
		}
		total += static_cast<size_t>(n);
	}
	if (total == 0) {
		std::fprintf(stderr, "wlprime-debug: %s answered nothing\n", path.c_str());
		return 1;
	}
	return 0;
}
