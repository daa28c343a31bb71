// config.hpp: what the command line asks of wlprime.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "render/renderer_choice.hpp"

namespace wlprime {

struct output_size {
	int width = 0;
	int height = 0;
};

// Per-client bounds on linux-dmabuf objects (compositor/client_limits.hpp
// says what counts and what happens at a limit). 0: no limit.
struct client_limit_values {
	uint32_t max_params = 64;        // --max-client-params: live params objects
	uint32_t max_buffers = 1024;     // --max-client-buffers: live wl_buffers
	uint64_t max_bytes = 1ull << 30; // --max-client-bytes: imported bytes
};

struct config {
	// --headless WxH: the headless backend with one output of this size.
	// Unset: pick_backend() chooses from the environment (nested for now).
	std::optional<output_size> headless;

	// --socket NAME: the Wayland socket in $XDG_RUNTIME_DIR. Unset: the
	// first free wayland-N.
	std::optional<std::string> socket_name;

	// --exec CMD: run through /bin/sh -c once the socket is up; wlprime then
	// exits with the command's status (128 + signal if it was killed).
	std::optional<std::string> exec_command;

	// --screenshot FILE: PNG of the first output, written on exit and on
	// SIGUSR1.
	std::optional<std::string> screenshot_path;
	// --screenshot-after-frames N: instead of on exit, once N output
	// frames with new content of the --exec client were presented.
	std::optional<uint32_t> screenshot_after_frames;
	// --compare REF.png, --tolerance T: the screenshot against a reference
	// (exit status 122 and a diff image on a difference).
	std::optional<std::string> compare_path;
	int compare_tolerance = 0;

	// --report FILE: per client, JSON, written on exit
	// (compositor/client_report.hpp).
	std::optional<std::string> report_path;

	// The main DRM device: the device whose dev_t the linux-dmabuf global
	// advertises as main device, and that the import subsystem opens for
	// composition. From --render-device, else found by find_main_drm_device()
	// (first render node, else first primary node). Unset: there is none,
	// and linux-dmabuf is not advertised.
	std::optional<std::string> render_device;

	// --drm-device PATH, repeatable: the display devices of the KMS backend
	// (primary nodes). Given: the KMS backend runs on exactly these. Empty:
	// the KMS backend, when it is picked, runs on every primary node with a
	// connected connector.
	std::vector<std::string> drm_devices;

	// The KMS backend's devices and input come from a seat session (libseat:
	// logind, seatd, builtin) when one can be had; --no-session: never, the
	// devices are opened directly (root) and there is no input.
	bool seat_session = true;

	// --overlay-planes on|off: on DRM/KMS, windows on overlay planes
	// (render/kms_overlays.hpp, compositor/overlay_frame.hpp).
	bool overlay_planes = true;

	// --trace FILE: one JSON line per import event.
	std::optional<std::string> trace_path;

	// --max-client-params, --max-client-buffers, --max-client-bytes.
	client_limit_values client_limits;

	// --renderer; unset: $WLPRIME_RENDERER, else auto (main.cpp). What
	// composes: render/renderer_choice.hpp decides what auto means.
	std::optional<renderer_request> renderer;

	// $WLPRIME_INJECT_FAULTS (main.cpp): ioctl failures to inject through
	// the kernel seam (import/fault_kernel.hpp); tests only. Parsed and
	// logged by import_context.
	std::optional<std::string> inject_faults;

	// Number of -v: 0 errors only, 1 info, 2 or more debug.
	int verbosity = 0;
};

} // namespace wlprime
