// wlprime-shm-client: a window of one solid colour, drawn with wl_shm.
//
// For tests and for trying a compositor by hand:
//	wlprime --headless 640x480 --screenshot out.png
//		--exec 'wlprime-shm-client --color ff8000 --background-when-shown'
// (one command line)
// shows an orange 200x150 window, and out.png has it.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <unistd.h>
#include <wayland-client.h>

#include "tests/clients/shm_client.hpp"

namespace {

const char usage[] =
    "Usage: wlprime-shm-client [OPTION]...\n"
    "Shows an xdg-shell window of one colour, drawn with wl_shm.\n"
    "\n"
    "  --color RRGGBB|AARRGGBB  colour of the window (default 336699)\n"
    "  --size WxH               size when the compositor leaves it to us (200x150)\n"
    "  --title TEXT             window title\n"
    "  --socket NAME            compositor socket (default: $WAYLAND_DISPLAY)\n"
    "  --exit-when-shown        exit 0 once the window has been composited\n"
    "  --background-when-shown  once the window has been composited, fork: the\n"
    "                           parent exits 0, the child keeps the window up\n"
    "                           until the compositor goes away or closes it\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit status: 0 when closed by the compositor or after --exit-when-shown,\n"
    "1 on a connection or protocol error, 2 on a bad command line.\n";

int bad_usage(const std::string &message) {
	std::fprintf(stderr, "wlprime-shm-client: %s\n%s", message.c_str(), usage);
	return 2;
}

bool parse_size(std::string_view text, int *w, int *h) {
	std::size_t x = text.find('x');
	if (x == std::string_view::npos) {
		return false;
	}
	int width = std::atoi(std::string(text.substr(0, x)).c_str());
	int height = std::atoi(std::string(text.substr(x + 1)).c_str());
	if (width < 1 || height < 1 || width > 16384 || height > 16384) {
		return false;
	}
	*w = width;
	*h = height;
	return true;
}

} // namespace

int main(int argc, char *argv[]) {
	using namespace wlprime::clients;
	shm_client_options opts;
	std::string socket;
	bool exit_when_shown = false;
	bool background_when_shown = false;

	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
		if (arg == "-h" || arg == "--help") {
			std::fputs(usage, stdout);
			return 0;
		} else if (arg == "--exit-when-shown") {
			exit_when_shown = true;
		} else if (arg == "--background-when-shown") {
			background_when_shown = true;
		} else if (arg == "--color") {
			const char *v = value();
			if (v == nullptr || !parse_color(v, &opts.color)) {
				return bad_usage("--color needs RRGGBB or AARRGGBB (hex)");
			}
		} else if (arg == "--size") {
			const char *v = value();
			if (v == nullptr || !parse_size(v, &opts.width, &opts.height)) {
				return bad_usage("--size needs WIDTHxHEIGHT");
			}
		} else if (arg == "--title") {
			const char *v = value();
			if (v == nullptr) {
				return bad_usage("--title needs a value");
			}
			opts.title = v;
		} else if (arg == "--socket") {
			const char *v = value();
			if (v == nullptr) {
				return bad_usage("--socket needs a value");
			}
			socket = v;
		} else {
			return bad_usage("unknown argument '" + std::string(arg) + "'");
		}
	}

	std::string error;
	auto client = shm_client::connect(socket.empty() ? nullptr : socket.c_str(), opts, &error);
	if (!client) {
		std::fprintf(stderr, "wlprime-shm-client: %s\n", error.c_str());
		return 1;
	}

	bool in_background = false;
	while (true) {
		if (std::string failure = client->failure(); !failure.empty()) {
			if (in_background) {
				return 0; // the compositor went away: our job is done
			}
			std::fprintf(stderr, "wlprime-shm-client: %s\n", failure.c_str());
			return 1;
		}
		if (client->close_requested()) {
			return 0;
		}
		if (client->shown() && exit_when_shown) {
			return 0;
		}
		if (client->shown() && background_when_shown && !in_background) {
			std::fflush(nullptr);
			pid_t pid = fork();
			if (pid < 0) {
				std::perror("wlprime-shm-client: fork");
				return 1;
			}
			if (pid > 0) {
				// The parent must not touch the shared connection: no
				// destructors, no flush of Wayland requests.
				_exit(0);
			}
			in_background = true;
		}
		if (wl_display_dispatch(client->display()) < 0 && client->failure().empty()) {
			if (in_background) {
				return 0;
			}
			std::fprintf(stderr, "wlprime-shm-client: connection lost\n");
			return 1;
		}
	}
}
