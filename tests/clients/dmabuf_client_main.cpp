// wlprime-dmabuf-client: shows a window through linux-dmabuf, or sends one
// malformed linux-dmabuf request and checks the compositor's answer.
//
// For tests (the real kernel's devices in the QEMU guest) and for trying a
// compositor by hand:
//	wlprime --headless 640x480 --render-device /dev/dri/renderD128
//		--screenshot out.png --exec 'wlprime-dmabuf-client --alloc vgem
//		--frames 30 --buffers 3 --background-when-done'
// (one command line) shows a 200x150 window of colour 336699 drawn into vgem
// dma-bufs, and out.png has it.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <sys/sysmacros.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <wayland-client.h>

#include "import/dmabuf_attributes.hpp"
#include "tests/clients/dmabuf_client.hpp"
#include "tests/clients/shm_client.hpp"

namespace {

using namespace wlprime::clients;

const char usage[] =
    "Usage: wlprime-dmabuf-client [OPTION]...\n"
    "Shows an xdg-shell window drawn into dma-bufs shared through\n"
    "zwp_linux_dmabuf_v1, or sends one malformed linux-dmabuf request.\n"
    "\n"
    "  --alloc KIND             where dma-bufs come from: udmabuf (memfd +\n"
    "                           /dev/udmabuf), vgem (dumb buffer on vgem's card\n"
    "                           node, PRIME export), gbm (GBM on vkms' card node)\n"
    "                           or auto (default: the first of these that opens)\n"
    "  --protocol-version 3|4   version of zwp_linux_dmabuf_v1 to bind (default 4:\n"
    "                           feedback; 3: modifier events)\n"
    "  --frames N               commit N frames, one per frame callback (default 1)\n"
    "  --seconds S              go on committing frames (cycling the pool) for S\n"
    "                           seconds from the first, and at least N frames, or\n"
    "                           until SIGTERM or SIGINT (then it ends as after the\n"
    "                           last frame); --timeout counts from then\n"
    "  --buffers K              pool of K dma-bufs, used in turn (default 1)\n"
    "  --new-wl-buffer-per-frame\n"
    "                           a new wl_buffer every frame from the pool, each\n"
    "                           destroyed after its release (as video players do);\n"
    "                           default: one wl_buffer per dma-buf, made once\n"
    "  --create-immed           create_immed instead of create + created\n"
    "  --nv12 one-bo|two-bo     NV12 buffers (both planes in one dma-buf, or one\n"
    "                           dma-buf per plane); sent even if not advertised,\n"
    "                           and the compositor's answer is reported\n"
    "  --yuv420 one-bo|three-bo YUV420 buffers (the three planes in one dma-buf,\n"
    "                           Cb and Cr at half the stride, or one dma-buf per\n"
    "                           plane); as for --nv12. Both draw the pattern\n"
    "                           (--color, --quadrants) as BT.601 limited-range\n"
    "                           samples, chroma from each 2x2 block's top-left pixel\n"
    "  --color RRGGBB           colour of the window (default 336699)\n"
    "  --quadrants              top-right red, bottom-left green, bottom-right blue\n"
    "  --y-invert               create the buffers with the y_invert flag (the\n"
    "                           pattern is drawn as usual: shown upside down)\n"
    "  --size WxH               size when the compositor leaves it to us (200x150)\n"
    "  --unmap-at-end           attach no buffer after the last frame (then every\n"
    "                           buffer gets its release)\n"
    "  --fullscreen OUTPUT      ask for fullscreen (before the first commit) on\n"
    "                           OUTPUT: N (the Nth wl_output global, from 0), text\n"
    "                           found in a wl_output's name or description\n"
    "                           (version 4), or 'current' (no output named)\n"
    "  --move-to OUTPUT         after half the frames, fullscreen again on OUTPUT\n"
    "                           (as for --fullscreen)\n"
    "  --title TEXT             the xdg_toplevel title (default wlprime-dmabuf-client)\n"
    "  --presentation-feedback  a wp_presentation_feedback for every commit; after\n"
    "                           the summary, one line per commit (presented: time,\n"
    "                           refresh, sequence, flags; or discarded) and a\n"
    "                           'presentation:' summary line\n"
    "  --background-when-done   after success, fork: the parent prints the summary\n"
    "                           and exits 0, the child keeps the window up until\n"
    "                           the compositor goes away (for --screenshot on exit)\n"
    "  --bad NAME               send malformed request NAME instead (one\n"
    "                           connection); exit 0 iff the expected protocol error\n"
    "                           or event came. --bad list shows them all.\n"
    "  --socket NAME            compositor socket (default: $WAYLAND_DISPLAY)\n"
    "  --timeout S              give up after S seconds (default 30)\n"
    "  -v, --verbose            on stderr: the outputs, the outputs the surface\n"
    "                           entered and left, every feedback received (each\n"
    "                           tranche: target device, flags, pairs) and the\n"
    "                           per-buffer events\n"
    "  -h, --help               this text\n"
    "\n"
    "Prints one summary line on stdout, e.g.\n"
    "  dmabuf-client: 60 frames, 3 dma-bufs, 60 wl_buffers, 59 releases, 0 failed (...)\n"
    "Every replaced buffer must be released; the last one stays on screen unless\n"
    "--unmap-at-end.\n"
    "\n"
    "Exit status: 0 on success, 1 on a protocol error, a failed buffer, a\n"
    "missing release or any other failure (with a message on stderr), 2 on a\n"
    "bad command line.\n";

// --seconds: SIGTERM and SIGINT end the run cleanly (the main loop looks).
volatile std::sig_atomic_t stop_requested = 0;
void on_stop_signal(int) {
	stop_requested = 1;
}

int bad_usage(const std::string &message) {
	std::fprintf(stderr, "wlprime-dmabuf-client: %s\nTry 'wlprime-dmabuf-client --help'.\n",
	             message.c_str());
	return 2;
}

bool parse_int(const char *text, int min, int max, int *out) {
	if (text == nullptr || *text == '\0') {
		return false;
	}
	char *end = nullptr;
	errno = 0;
	long v = std::strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return false;
	}
	*out = static_cast<int>(v);
	return true;
}

bool parse_size(std::string_view text, int *w, int *h) {
	std::size_t x = text.find('x');
	if (x == std::string_view::npos) {
		return false;
	}
	std::string ws(text.substr(0, x)), hs(text.substr(x + 1));
	return parse_int(ws.c_str(), 1, 16384, w) && parse_int(hs.c_str(), 1, 16384, h);
}

std::string dev_name(dev_t dev) {
	return std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
}

void print_feedback(const std::string &what, const dmabuf_feedback &f) {
	if (!f.done) {
		std::fprintf(stderr, "%s feedback: none\n", what.c_str());
		return;
	}
	std::fprintf(stderr,
	             "%s feedback: main device %s, format table of %u bytes (%zu pairs, seals "
	             "0x%x, writable shared mapping %s)%s%s\n",
	             what.c_str(), dev_name(f.main_device).c_str(), f.table_size, f.table.size(),
	             static_cast<unsigned>(f.table_seals),
	             f.table_writable_map ? "allowed" : "refused",
	             f.error.empty() ? "" : "; error: ", f.error.c_str());
	for (size_t i = 0; i < f.tranches.size(); i++) {
		const feedback_tranche &t = f.tranches[i];
		std::string pairs;
		for (const format_pair &p : t.formats) {
			pairs += " " + pair_name(p);
		}
		std::fprintf(stderr,
		             "  tranche %zu: target device %s, flags 0x%x%s, %zu formats:%s\n", i,
		             dev_name(t.target_device).c_str(), t.flags,
		             (t.flags & 1) ? " (scanout)" : "", t.formats.size(), pairs.c_str());
	}
}

// Exit 0 iff the outcome is the expected one and the message names the values.
// One line per commit's feedback, then
//   presentation: 30 presented, 0 discarded (clock 1); flags vsync|hw_clock (30);
//   refresh 16666666 ns; seq increasing
void print_presentation(const dmabuf_client &client) {
	std::map<uint32_t, int> flags;
	std::set<uint32_t> refresh;
	int presented = 0, discarded = 0;
	bool increasing = true;
	uint64_t last_seq = 0, last_when = 0;
	for (const presented_frame &f : client.presentation()) {
		if (!f.presented) {
			discarded++;
			std::printf("presentation: frame %d discarded\n", f.frame);
			continue;
		}
		if (presented > 0 && (f.seq <= last_seq || f.when_ns <= last_when)) {
			increasing = false;
		}
		presented++;
		last_seq = f.seq;
		last_when = f.when_ns;
		flags[f.flags]++;
		refresh.insert(f.refresh_ns);
		std::printf("presentation: frame %d presented at %llu ns, refresh %u ns, seq %llu, "
		            "flags %s\n",
		            f.frame, static_cast<unsigned long long>(f.when_ns), f.refresh_ns,
		            static_cast<unsigned long long>(f.seq),
		            presentation_flags_text(f.flags).c_str());
	}
	std::string flag_text, refresh_text;
	for (const auto &[bits, n] : flags) {
		flag_text += (flag_text.empty() ? " " : ", ") + presentation_flags_text(bits) +
		             " (" + std::to_string(n) + ")";
	}
	for (uint32_t r : refresh) {
		refresh_text += " " + std::to_string(r);
	}
	std::printf("presentation: %d presented, %d discarded (clock %d); flags%s; refresh%s ns; "
	            "seq %s\n",
	            presented, discarded, static_cast<int>(client.presentation_clock()),
	            flag_text.empty() ? " none" : flag_text.c_str(),
	            refresh_text.empty() ? " none" : refresh_text.c_str(),
	            increasing ? "and time increasing" : "or time NOT increasing");
}

int check_bad_outcome(const bad_request_info &info, const outcome &got) {
	outcome expected = info.expected;
	bool match = got.what == expected.what && got.interface == expected.interface &&
	             got.code == expected.code && got.errnum == expected.errnum;
	std::string missing;
	if (match) {
		for (const std::string &name : info.message_names) {
			if (got.message.find(name) == std::string::npos) {
				missing += " '" + name + "'";
			}
		}
	}
	if (!match) {
		std::fprintf(stderr, "wlprime-dmabuf-client: --bad %s: expected %s, got %s\n",
		             info.name, to_string(expected).c_str(), to_string(got).c_str());
		return 1;
	}
	if (!missing.empty()) {
		std::fprintf(stderr,
		             "wlprime-dmabuf-client: --bad %s: the message does not name%s: %s\n",
		             info.name, missing.c_str(), got.message.c_str());
		return 1;
	}
	return 0;
}

std::shared_ptr<dmabuf_allocator> pick_allocator(const std::string &kind, std::string *error) {
	std::vector<alloc_kind> kinds;
	if (kind == "auto") {
		kinds = {alloc_kind::udmabuf, alloc_kind::vgem, alloc_kind::gbm};
	} else if (kind == "udmabuf") {
		kinds = {alloc_kind::udmabuf};
	} else if (kind == "vgem") {
		kinds = {alloc_kind::vgem};
	} else if (kind == "gbm") {
		kinds = {alloc_kind::gbm};
	}
	for (alloc_kind k : kinds) {
		auto a = open_allocator(k);
		if (a) {
			return std::shared_ptr<dmabuf_allocator>(std::move(*a));
		}
		*error +=
		    std::string(error->empty() ? "" : "; ") + to_string(k) + ": " + a.err().message;
	}
	return nullptr;
}

} // namespace

int main(int argc, char *argv[]) {
	dmabuf_client_options opts;
	std::string alloc = "auto";
	std::string socket;
	int timeout_s = 30;
	bool verbose = false;
	bool background_when_done = false;

	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
		if (arg == "-h" || arg == "--help") {
			std::fputs(usage, stdout);
			return 0;
		} else if (arg == "--alloc") {
			const char *v = value();
			alloc = v ? v : "";
			if (alloc != "auto" && alloc != "udmabuf" && alloc != "vgem" &&
			    alloc != "gbm") {
				return bad_usage("--alloc needs udmabuf, vgem, gbm or auto");
			}
		} else if (arg == "--protocol-version") {
			int v = 0;
			if (!parse_int(value(), 3, 4, &v)) {
				return bad_usage("--protocol-version needs 3 or 4");
			}
			opts.protocol_version = static_cast<uint32_t>(v);
		} else if (arg == "--frames") {
			if (!parse_int(value(), 0, 1000000, &opts.frames)) {
				return bad_usage("--frames needs a number >= 0");
			}
		} else if (arg == "--seconds") {
			if (!parse_int(value(), 0, 86400, &opts.seconds)) {
				return bad_usage("--seconds needs a number of seconds");
			}
		} else if (arg == "--buffers") {
			if (!parse_int(value(), 1, 64, &opts.buffers)) {
				return bad_usage("--buffers needs a number from 1 to 64");
			}
		} else if (arg == "--new-wl-buffer-per-frame") {
			opts.new_wl_buffer_per_frame = true;
		} else if (arg == "--create-immed") {
			opts.create_immed = true;
		} else if (arg == "--nv12") {
			const char *v = value();
			std::string_view layout = v ? v : "";
			if (layout == "one-bo") {
				opts.nv12 = nv12_layout::one_bo;
			} else if (layout == "two-bo") {
				opts.nv12 = nv12_layout::two_bo;
			} else {
				return bad_usage("--nv12 needs one-bo or two-bo");
			}
		} else if (arg == "--yuv420") {
			const char *v = value();
			std::string_view layout = v ? v : "";
			if (layout == "one-bo") {
				opts.yuv420 = yuv420_layout::one_bo;
			} else if (layout == "three-bo") {
				opts.yuv420 = yuv420_layout::three_bo;
			} else {
				return bad_usage("--yuv420 needs one-bo or three-bo");
			}
		} else if (arg == "--color") {
			const char *v = value();
			if (v == nullptr || !parse_color(v, &opts.color)) {
				return bad_usage("--color needs RRGGBB (hex)");
			}
		} else if (arg == "--quadrants") {
			opts.quadrants = true;
		} else if (arg == "--y-invert") {
			opts.flags |= wlprime::dmabuf_flag_y_invert;
		} else if (arg == "--size") {
			const char *v = value();
			if (v == nullptr || !parse_size(v, &opts.width, &opts.height)) {
				return bad_usage("--size needs WIDTHxHEIGHT");
			}
		} else if (arg == "--unmap-at-end") {
			opts.unmap_at_end = true;
		} else if (arg == "--fullscreen" || arg == "--move-to" || arg == "--title") {
			const char *v = value();
			if (v == nullptr || *v == '\0') {
				return bad_usage(std::string(arg) + " needs a value");
			}
			(arg == "--fullscreen" ? opts.fullscreen
			 : arg == "--move-to"  ? opts.move_to
			                       : opts.title) = v;
		} else if (arg == "--presentation-feedback") {
			opts.presentation_feedback = true;
		} else if (arg == "--background-when-done") {
			background_when_done = true;
		} else if (arg == "--bad") {
			const char *v = value();
			if (v != nullptr && std::string_view(v) == "list") {
				for (const bad_request_info &info : bad_requests()) {
					std::printf("%-22s -> %s\n", info.name,
					            to_string(info.expected).c_str());
				}
				return 0;
			}
			const bad_request_info *info = v ? find_bad_request(v) : nullptr;
			if (info == nullptr) {
				return bad_usage(
				    "--bad needs a request name (--bad list shows them)");
			}
			opts.bad = info->request;
		} else if (arg == "--socket") {
			const char *v = value();
			if (v == nullptr) {
				return bad_usage("--socket needs a value");
			}
			socket = v;
		} else if (arg == "--timeout") {
			if (!parse_int(value(), 1, 86400, &timeout_s)) {
				return bad_usage("--timeout needs a number of seconds");
			}
		} else if (arg == "-v" || arg == "--verbose") {
			verbose = true;
		} else {
			return bad_usage("unknown argument '" + std::string(arg) + "'");
		}
	}

	if (opts.nv12 != nv12_layout::none && opts.yuv420 != yuv420_layout::none) {
		return bad_usage("--nv12 and --yuv420 exclude each other");
	}
	std::string error;
	opts.allocator = pick_allocator(alloc, &error);
	if (!opts.allocator) {
		std::fprintf(stderr, "wlprime-dmabuf-client: no dma-buf allocator: %s\n",
		             error.c_str());
		return 1;
	}
	auto client =
	    dmabuf_client::connect(socket.empty() ? nullptr : socket.c_str(), opts, &error);
	if (!client) {
		std::fprintf(stderr, "wlprime-dmabuf-client: %s\n", error.c_str());
		return 1;
	}

	if (opts.seconds > 0) {
		std::signal(SIGTERM, on_stop_signal);
		std::signal(SIGINT, on_stop_signal);
	}
	wl_display *display = client->display();
	bool stopping = false;
	const auto deadline =
	    std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s + opts.seconds);
	while (!client->finished()) {
		if (stop_requested != 0 && !stopping) {
			stopping = true;
			client->stop();
		}
		if (std::chrono::steady_clock::now() >= deadline) {
			std::fprintf(stderr, "wlprime-dmabuf-client: timed out after %d s: %s\n%s",
			             timeout_s + opts.seconds, client->summary().c_str(),
			             client->details().c_str());
			return 1;
		}
		pollfd pfd = {.fd = wl_display_get_fd(display), .events = POLLIN, .revents = 0};
		poll(&pfd, 1, 100);
		if (!pump_display(display) && client->failure().empty() && !client->finished()) {
			std::fprintf(stderr, "wlprime-dmabuf-client: connection lost: %s\n",
			             std::strerror(wl_display_get_error(display)));
			return 1;
		}
	}

	if (verbose) {
		std::fprintf(stderr, "zwp_linux_dmabuf_v1: bound version %u\n",
		             client->bound_version());
		const auto &outputs = client->outputs();
		for (size_t i = 0; i < outputs.size(); i++) {
			std::fprintf(stderr, "wl_output %zu: name '%s', description '%s', %dx%d\n",
			             i, outputs[i].name.c_str(), outputs[i].description.c_str(),
			             outputs[i].width, outputs[i].height);
		}
		std::string events;
		for (int e : client->output_events()) {
			events += e >= 0 ? " enter " + std::to_string(e)
			                 : " leave " + std::to_string(-e - 1);
		}
		std::fprintf(stderr, "surface output events:%s\n",
		             events.empty() ? " none" : events.c_str());
		if (client->bound_version() >= 4) {
			print_feedback("default", client->default_feedback());
			const auto &history = client->surface_feedback_history();
			for (size_t i = 0; i < history.size(); i++) {
				print_feedback("surface #" + std::to_string(i), history[i]);
			}
			print_feedback("surface", client->surface_feedback());
		} else {
			std::fprintf(stderr, "modifier events: %zu\n",
			             client->modifier_events().size());
		}
		std::fputs(client->details().c_str(), stderr);
	}
	if (std::string failure = client->failure(); !failure.empty()) {
		std::fprintf(stderr, "wlprime-dmabuf-client: %s\n", failure.c_str());
		if (!verbose) {
			std::fputs(client->details().c_str(), stderr);
		}
		return 1;
	}
	std::printf("%s\n", client->summary().c_str());
	if (opts.presentation_feedback) {
		print_presentation(*client);
	}
	std::fflush(stdout);
	if (opts.bad) {
		return check_bad_outcome(info_of(*opts.bad), client->last_outcome());
	}

	if (background_when_done) {
		pid_t pid = fork();
		if (pid < 0) {
			std::perror("wlprime-dmabuf-client: fork");
			return 1;
		}
		if (pid > 0) {
			// The parent must not touch the shared connection: no
			// destructors, no flush of Wayland requests.
			_exit(0);
		}
		// The child keeps the window until the compositor goes away.
		// Nor the output pipes of whoever started us: they see EOF now.
		wlprime::unique_fd null_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
		if (null_fd) {
			dup2(null_fd.get(), STDOUT_FILENO);
			dup2(null_fd.get(), STDERR_FILENO);
		}
		while (wl_display_dispatch(display) >= 0) {
		}
		_exit(0);
	}
	return 0;
}
