// main.cpp: the wlprime executable: command line, logging, run.

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "compositor/options.hpp"
#include "compositor/render_device.hpp"
#include "compositor/server.hpp"
#include "import/drm_nodes.hpp"

#ifndef WLPRIME_VERSION
#define WLPRIME_VERSION "unknown"
#endif

namespace {

wlr_log_importance log_level(int verbosity) {
	if (verbosity <= 0) {
		return WLR_ERROR;
	}
	return verbosity == 1 ? WLR_INFO : WLR_DEBUG;
}

} // namespace

int main(int argc, char *argv[]) {
	using namespace wlprime;
	const char *program = argc > 0 ? argv[0] : "wlprime";
	parsed_options parsed = parse_options(
	    std::span<const char *const>(argv + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0));
	switch (parsed.what) {
	case parsed_options::action::help:
		std::fputs(usage_text(program).c_str(), stdout);
		return 0;
	case parsed_options::action::version:
		std::printf("wlprime %s (wlroots %s)\n", WLPRIME_VERSION, WLR_VERSION_STR);
		return 0;
	case parsed_options::action::usage_error:
		std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", program, parsed.message.c_str(),
		             program);
		return exit_usage;
	case parsed_options::action::run:
		break;
	}
	config &cfg = parsed.cfg;
	wlr_log_init(log_level(cfg.verbosity), nullptr);
	if (const char *faults = std::getenv("WLPRIME_INJECT_FAULTS"); faults && *faults) {
		cfg.inject_faults = faults;
	}
	if (!cfg.renderer) {
		const char *env = std::getenv("WLPRIME_RENDERER");
		cfg.renderer = renderer_request::automatic;
		if (env != nullptr && *env != '\0') {
			auto request = parse_renderer_request(env);
			if (!request) {
				std::fprintf(
				    stderr,
				    "%s: WLPRIME_RENDERER: '%s' is not auto, gles2 or pixman\n",
				    program, env);
				return exit_usage;
			}
			cfg.renderer = *request;
		}
	}

	if (cfg.render_device) {
		if (status s = check_drm_device_path(*cfg.render_device); !s) {
			std::fprintf(stderr, "%s: --render-device: %s\n", program,
			             s.err().message.c_str());
			return exit_usage;
		}
	} else {
		cfg.render_device = find_main_drm_node();
	}
	if (cfg.render_device) {
		wlr_log(WLR_INFO, "main DRM device: %s", cfg.render_device->c_str());
	} else {
		wlr_log(WLR_INFO, "no DRM device in /dev/dri: linux-dmabuf will not be advertised");
	}

	result<std::unique_ptr<server>> srv = server::create(cfg);
	if (!srv) {
		wlr_log(WLR_ERROR, "cannot start: %s", srv.err().message.c_str());
		return exit_startup;
	}
	if (!cfg.exec_command) {
		// Without --exec the user needs the socket name to start clients.
		std::fprintf(stderr, "wlprime: running on WAYLAND_DISPLAY=%s\n",
		             (*srv)->socket_name().c_str());
	}
	return (*srv)->run();
}
