#include "tests/compositor/harness.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "compositor/server.hpp"
#include "tests/clients/shm_client.hpp"

namespace wlprime {

harness::harness(output_size size, std::optional<std::string> screenshot_path)
    : harness([&] {
	      harness_options opts;
	      opts.size = size;
	      opts.screenshot_path = std::move(screenshot_path);
	      return opts;
      }()) {}

harness::harness(const harness_options &opts) {
	char dir_template[] = "/tmp/wlprime-test-XXXXXX";
	if (mkdtemp(dir_template) == nullptr) {
		start_error_ = "mkdtemp failed";
		return;
	}
	runtime_dir_ = dir_template;
	if (const char *old = std::getenv("XDG_RUNTIME_DIR")) {
		old_runtime_dir_ = old;
	}
	setenv("XDG_RUNTIME_DIR", runtime_dir_.c_str(), 1);

	config cfg;
	cfg.headless = opts.size;
	cfg.socket_name = "wayland-test";
	cfg.screenshot_path = opts.screenshot_path;
	cfg.render_device = opts.render_device;
	result<std::unique_ptr<server>> created = server::create(cfg, opts.kernel);
	if (!created) {
		start_error_ = created.err().message;
		return;
	}
	srv_ = std::move(*created);
	// Let the backend's first output frame happen.
	run_until([this] { return srv_->first_output() != nullptr; }, std::chrono::seconds(5));
}

harness::~harness() {
	srv_.reset();
	if (old_runtime_dir_) {
		setenv("XDG_RUNTIME_DIR", old_runtime_dir_->c_str(), 1);
	} else {
		unsetenv("XDG_RUNTIME_DIR");
	}
	if (!runtime_dir_.empty()) {
		std::error_code ec;
		std::filesystem::remove_all(runtime_dir_, ec);
	}
}

const std::string &harness::socket() const {
	return srv_->socket_name();
}

void harness::attach(wl_display *display) {
	displays_.push_back(display);
}

void harness::detach(wl_display *display) {
	displays_.erase(std::remove(displays_.begin(), displays_.end(), display), displays_.end());
}

bool harness::run_until(const std::function<bool()> &predicate, std::chrono::milliseconds timeout) {
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (true) {
		for (wl_display *display : displays_) {
			clients::pump_display(display);
		}
		if (predicate()) {
			return true;
		}
		if (std::chrono::steady_clock::now() >= deadline) {
			return false;
		}
		srv_->dispatch(1);
	}
}

void harness::run_for(std::chrono::milliseconds duration) {
	run_until([] { return false; }, duration);
}

image harness::capture() {
	result<image> img = srv_->capture_first_output();
	EXPECT_TRUE(img.ok()) << (img.ok() ? "" : img.err().message);
	return img.ok() ? std::move(*img) : image{};
}

} // namespace wlprime
