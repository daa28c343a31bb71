#include "compositor/backend.hpp"

#include <cstdlib>

#include "import/enum_name.hpp"

namespace wlprime {
namespace {

bool env_set(const char *name) {
	const char *value = std::getenv(name);
	return value != nullptr && value[0] != '\0';
}

} // namespace

std::string_view to_string(backend_kind kind) {
	static constexpr const char *names[] = {"headless", "nested", "kms"};
	return enum_name(kind, names);
}

backend_environment current_backend_environment() {
	return {.has_wayland_display = env_set("WAYLAND_DISPLAY"),
	        .has_x11_display = env_set("DISPLAY")};
}

backend_kind pick_backend(const config &cfg, const backend_environment &env) {
	if (!cfg.drm_devices.empty()) {
		return backend_kind::kms;
	}
	if (cfg.headless) {
		return backend_kind::headless;
	}
	if (env.has_wayland_display || env.has_x11_display) {
		return backend_kind::nested;
	}
	return backend_kind::kms;
}

result<wlr_backend *> create_backend(backend_kind kind, const config &cfg, wl_display *display) {
	switch (kind) {
	case backend_kind::headless: {
		wlr_backend *backend = wlr_headless_backend_create(display);
		if (backend == nullptr) {
			return error{"cannot create the headless backend"};
		}
		if (wlr_headless_add_output(backend, static_cast<unsigned>(cfg.headless->width),
		                            static_cast<unsigned>(cfg.headless->height)) ==
		    nullptr) {
			wlr_backend_destroy(backend);
			return error{"cannot add a headless output"};
		}
		return backend;
	}
	case backend_kind::nested: {
		// With WAYLAND_DISPLAY or DISPLAY set, autocreate makes a wayland or
		// x11 backend (plus libinput-less input from the parent).
		wlr_backend *backend = wlr_backend_autocreate(display);
		if (backend == nullptr) {
			return error{"cannot create a nested backend in the parent session "
			             "(WAYLAND_DISPLAY/DISPLAY); is it reachable?"};
		}
		return backend;
	}
	case backend_kind::kms:
		// It needs the import subsystem's display devices and cache: the
		// server builds it (server::create_kms_backend, render/kms_backend).
		return error{"the KMS backend is created by the server, not by create_backend()"};
	}
	return error{"unknown backend"};
}

} // namespace wlprime
