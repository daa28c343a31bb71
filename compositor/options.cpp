#include "compositor/options.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace wlprime {
namespace {

bool parse_dimension(std::string_view text, int *out) {
	int value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 16384) {
		return false;
	}
	*out = value;
	return true;
}

// A count or a size: decimal digits, for a size with an optional binary
// suffix K, M, G or T (KiB ... TiB). 0 is allowed (no limit).
bool parse_limit(std::string_view text, bool size_suffix, uint64_t max, uint64_t *out) {
	uint64_t unit = 1;
	if (size_suffix && !text.empty()) {
		// K, M, G, T: 2^10, 2^20, 2^30, 2^40.
		const std::string_view suffixes = "KMGT";
		const size_t power = suffixes.find(char(std::toupper(uint8_t(text.back()))));
		if (power != std::string_view::npos) {
			unit = 1ull << (10 * (power + 1));
		}
		if (unit != 1) {
			text.remove_suffix(1);
		}
	}
	uint64_t value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
	    value > max / unit) {
		return false;
	}
	*out = value * unit;
	return true;
}

parsed_options usage_error(std::string message) {
	parsed_options out;
	out.what = parsed_options::action::usage_error;
	out.message = std::move(message);
	return out;
}

} // namespace

bool parse_output_size(std::string_view text, output_size *out) {
	std::size_t x = text.find('x');
	if (x == std::string_view::npos) {
		return false;
	}
	output_size size;
	if (!parse_dimension(text.substr(0, x), &size.width) ||
	    !parse_dimension(text.substr(x + 1), &size.height)) {
		return false;
	}
	*out = size;
	return true;
}

parsed_options parse_options(std::span<const char *const> args) {
	parsed_options out;
	for (std::size_t i = 0; i < args.size(); i++) {
		std::string_view arg = args[i];

		// -v, -vv, -vvv ...
		if (arg.size() >= 2 && arg[0] == '-' && arg[1] == 'v' &&
		    arg.find_first_not_of('v', 1) == std::string_view::npos) {
			out.cfg.verbosity += static_cast<int>(arg.size() - 1);
			continue;
		}
		if (arg == "--verbose") {
			out.cfg.verbosity++;
			continue;
		}
		if (arg == "-h" || arg == "--help") {
			out.what = parsed_options::action::help;
			return out;
		}
		if (arg == "--no-session") {
			out.cfg.seat_session = false;
			continue;
		}
		if (arg == "--version") {
			out.what = parsed_options::action::version;
			return out;
		}

		if (!arg.starts_with("--")) {
			return usage_error("unexpected argument '" + std::string(arg) + "'");
		}

		// Long options with a value: "--name VALUE" or "--name=VALUE".
		std::string_view name = arg;
		std::optional<std::string_view> value;
		if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
			name = arg.substr(0, eq);
			value = arg.substr(eq + 1);
		}
		static constexpr std::string_view with_value[] = {
		    "--headless",
		    "--socket",
		    "--exec",
		    "--screenshot",
		    "--screenshot-after-frames",
		    "--compare",
		    "--tolerance",
		    "--report",
		    "--render-device",
		    "--drm-device",
		    "--trace",
		    "--max-client-params",
		    "--max-client-buffers",
		    "--max-client-bytes",
		    "--renderer",
		    "--overlay-planes",
		};
		bool known = false;
		for (std::string_view candidate : with_value) {
			known = known || candidate == name;
		}
		if (!known) {
			return usage_error("unknown option '" + std::string(name) + "'");
		}
		if (!value) {
			if (i + 1 >= args.size()) {
				return usage_error("option '" + std::string(name) +
				                   "' needs a value");
			}
			value = std::string_view(args[++i]);
		}
		if (value->empty()) {
			return usage_error("option '" + std::string(name) +
			                   "' needs a non-empty value");
		}

		if (name == "--headless") {
			output_size size;
			if (!parse_output_size(*value, &size)) {
				return usage_error(
				    "--headless: '" + std::string(*value) +
				    "' is not WIDTHxHEIGHT (e.g. 1280x720, each 1..16384)");
			}
			out.cfg.headless = size;
		} else if (name == "--socket") {
			if (value->find('/') != std::string_view::npos) {
				return usage_error("--socket: '" + std::string(*value) +
				                   "' is a path; give a name in $XDG_RUNTIME_DIR");
			}
			out.cfg.socket_name = std::string(*value);
		} else if (name == "--exec") {
			out.cfg.exec_command = std::string(*value);
		} else if (name == "--screenshot") {
			out.cfg.screenshot_path = std::string(*value);
		} else if (name == "--screenshot-after-frames") {
			uint64_t n = 0;
			if (!parse_limit(*value, false, UINT32_MAX, &n) || n == 0) {
				return usage_error("--screenshot-after-frames: '" +
				                   std::string(*value) +
				                   "' is not a number of frames (1 or more)");
			}
			out.cfg.screenshot_after_frames = static_cast<uint32_t>(n);
		} else if (name == "--compare") {
			out.cfg.compare_path = std::string(*value);
		} else if (name == "--tolerance") {
			uint64_t n = 0;
			if (!parse_limit(*value, false, 255, &n)) {
				return usage_error("--tolerance: '" + std::string(*value) +
				                   "' is not a channel difference from 0 to 255");
			}
			out.cfg.compare_tolerance = static_cast<int>(n);
		} else if (name == "--report") {
			out.cfg.report_path = std::string(*value);
		} else if (name == "--render-device") {
			out.cfg.render_device = std::string(*value);
		} else if (name == "--renderer") {
			auto request = parse_renderer_request(*value);
			if (!request) {
				return usage_error("--renderer: '" + std::string(*value) +
				                   "' is not auto, gles2 or pixman");
			}
			out.cfg.renderer = *request;
		} else if (name == "--overlay-planes") {
			if (*value != "on" && *value != "off") {
				return usage_error("--overlay-planes: '" + std::string(*value) +
				                   "' is not on or off");
			}
			out.cfg.overlay_planes = *value == "on";
		} else if (name == "--drm-device") {
			out.cfg.drm_devices.emplace_back(*value);
		} else if (name == "--trace") {
			out.cfg.trace_path = std::string(*value);
		} else if (name == "--max-client-params" || name == "--max-client-buffers") {
			uint64_t n = 0;
			if (!parse_limit(*value, false, UINT32_MAX, &n)) {
				return usage_error(std::string(name) + ": '" + std::string(*value) +
				                   "' is not a count (0 for no limit)");
			}
			(name == "--max-client-params" ? out.cfg.client_limits.max_params
			                               : out.cfg.client_limits.max_buffers) =
			    static_cast<uint32_t>(n);
		} else if (name == "--max-client-bytes") {
			if (!parse_limit(*value, true, UINT64_MAX,
			                 &out.cfg.client_limits.max_bytes)) {
				return usage_error(
				    "--max-client-bytes: '" + std::string(*value) +
				    "' is not a size (bytes, or with K, M, G, T; 0 for "
				    "no limit)");
			}
		}
	}
	if (out.cfg.headless && !out.cfg.drm_devices.empty()) {
		return usage_error("--headless and --drm-device exclude each other");
	}
	if (out.cfg.screenshot_after_frames && !out.cfg.screenshot_path) {
		return usage_error("--screenshot-after-frames needs --screenshot FILE");
	}
	if (out.cfg.screenshot_after_frames && !out.cfg.exec_command) {
		return usage_error("--screenshot-after-frames counts the frames of the --exec "
		                   "client: it needs --exec CMD");
	}
	if (out.cfg.compare_path && !out.cfg.screenshot_path) {
		return usage_error("--compare compares the screenshot: it needs --screenshot FILE");
	}
	if (out.cfg.compare_tolerance && !out.cfg.compare_path) {
		return usage_error("--tolerance needs --compare REF.png");
	}
	return out;
}

std::string usage_text(std::string_view program) {
	std::string p(program);
	return "Usage: " + p +
	       " [OPTION]...\n"
	       "A Wayland compositor (wlroots) with its own dma-buf import subsystem.\n"
	       "\n"
	       "Backend:\n"
	       "  --headless WxH         no display: one virtual output of W x H pixels\n"
	       "                         (tests, CI). Without it wlprime runs nested in a\n"
	       "                         window of the Wayland or X11 session given by\n"
	       "                         WAYLAND_DISPLAY or DISPLAY.\n"
	       "  --drm-device PATH      run on DRM/KMS on this display device (a primary\n"
	       "                         node, /dev/dri/cardN); repeat for several. Also\n"
	       "                         the default with neither WAYLAND_DISPLAY nor\n"
	       "                         DISPLAY set, on every card with a connected\n"
	       "                         connector. From a TTY the devices, DRM master\n"
	       "                         and the input devices (libinput) come from the\n"
	       "                         seat session: systemd-logind, or seatd with the\n"
	       "                         user in its group (video on Debian); as root\n"
	       "                         libseat's builtin seatd does\n"
	       "  --no-session           on DRM/KMS: no seat session; open the devices\n"
	       "                         directly (root): no input, no VT switching\n"
	       "  --overlay-planes on|off  on DRM/KMS: windows on overlay planes\n"
	       "                         (libliftoff chooses; default on), or every\n"
	       "                         window composed\n"
	       "  --render-device PATH   main DRM device for linux-dmabuf (default: the\n"
	       "                         first /dev/dri/renderD*, else /dev/dri/card*)\n"
	       "  --renderer auto|gles2|pixman  what composes (default: $WLPRIME_RENDERER,\n"
	       "                         else auto): gles2 (GLES2 on EGL/GBM) when the\n"
	       "                         main device is a GPU Mesa renders with, else\n"
	       "                         pixman (CPU); gles2 on a device without a GPU\n"
	       "                         is Mesa's software rasteriser, only when asked\n"
	       "\n"
	       "Clients:\n"
	       "  --socket NAME          Wayland socket name in $XDG_RUNTIME_DIR\n"
	       "                         (default: the first free wayland-N)\n"
	       "  --exec CMD             run CMD with /bin/sh -c once the socket is up,\n"
	       "                         with WAYLAND_DISPLAY set; exit with its status\n"
	       "                         (128+N if killed by signal N)\n"
	       "\n"
	       "Per-client limits (linux-dmabuf; 0 means no limit):\n"
	       "  --max-client-params N  live zwp_linux_buffer_params_v1 objects per\n"
	       "                         client (default 64); past it: wl_display error\n"
	       "                         no_memory, the client is disconnected\n"
	       "  --max-client-buffers N live dma-buf wl_buffers per client (default\n"
	       "                         1024); past it: 'failed' (create) or\n"
	       "                         invalid_wl_buffer (create_immed)\n"
	       "  --max-client-bytes SIZE  bytes of the dma-bufs a client's wl_buffers\n"
	       "                         import, each dma-buf layout once per client,\n"
	       "                         shared ones in full for each client (default\n"
	       "                         1G; suffixes K, M, G, T); past it: as above\n"
	       "\n"
	       "Pixels:\n"
	       "  --screenshot FILE      write the first output as PNG to FILE on exit\n"
	       "                         and on SIGUSR1\n"
	       "  --screenshot-after-frames N  instead of on exit: once N frames with new\n"
	       "                         content of the --exec client were presented\n"
	       "  --compare REF.png      compare the screenshot with REF.png; a\n"
	       "                         difference makes the exit status 122 and writes\n"
	       "                         FILE's name with .diff.png (differing pixels red)\n"
	       "  --tolerance T          per channel, differences up to T (0-255, default\n"
	       "                         0) are equal\n"
	       "\n"
	       "Debugging:\n"
	       "  --trace FILE           one JSON line per import event (import, cache\n"
	       "                         hit, eviction, framebuffer, release, failure\n"
	       "                         with errno) to FILE\n"
	       "  --report FILE          on exit, per client as JSON: globals bound,\n"
	       "                         dma-buf wl_buffers (format, modifier, exporter),\n"
	       "                         feedback, Imports and cache hits, commits, frames\n"
	       "                         presented, release latency, frame pacing,\n"
	       "                         protocol errors, lint findings; a summary on\n"
	       "                         stderr\n"
	       "  wlprime-debug [--json] lists devices, outputs, Imports, handles,\n"
	       "                         framebuffers and cache statistics, live\n"
	       "  SIGUSR2                evicts every idle Import of the re-import\n"
	       "                         cache now (their GEM handles and dma-bufs go)\n"
	       "\n"
	       "General:\n"
	       "  -v, --verbose          more log output (repeat: -v info, -vv debug)\n"
	       "  -h, --help             show this help and exit\n"
	       "      --version          show the version and exit\n"
	       "\n"
	       "Exit status: the --exec command's status (128+N if killed by signal N);\n"
	       "128+N after signal N to wlprime (SIGINT, SIGTERM); 0 when the last nested\n"
	       "window is closed; 2 on a bad command line; 120 if wlprime could not start;\n"
	       "when the command exited 0: 121 if a screenshot or report asked for was\n"
	       "not written (or the frames for it never came), 122 if --compare differed.\n"
	       "\n"
	       "Example: " +
	       p + " --headless 640x480 --exec 'wayland-info'\n";
}

} // namespace wlprime
