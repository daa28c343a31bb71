// backend.hpp: which wlroots backend wlprime runs on, and creating it.
//
// This is the seam for the KMS backend of our own: pick_backend() decides,
// create_backend() builds. A new kind gets a case in both.

#pragma once

#include <string_view>

#include "compositor/config.hpp"
#include "render/wlr.hpp"
#include "import/result.hpp"

namespace wlprime {

enum class backend_kind {
	headless, // --headless WxH: wlroots' headless backend, one output
	nested,   // a window in a parent Wayland or X11 session (wlr_backend_autocreate)
	kms,      // --drm-device, or no parent session: render/kms_backend on DRM devices
};

std::string_view to_string(backend_kind kind);

// What pick_backend() looks at besides the command line.
struct backend_environment {
	bool has_wayland_display = false; // WAYLAND_DISPLAY set and non-empty
	bool has_x11_display = false;     // DISPLAY set and non-empty
};

// From the process environment.
backend_environment current_backend_environment();

// Pure decision: KMS if --drm-device is given, headless if asked, nested
// under a parent session if there is one, else KMS.
backend_kind pick_backend(const config &cfg, const backend_environment &env);

// Creates the backend (not started). For headless, also adds its output.
// The caller owns the result (wlr_backend_destroy, or the display's destroy).
result<wlr_backend *> create_backend(backend_kind kind, const config &cfg, wl_display *display);

} // namespace wlprime
