// harness.hpp: an in-process headless compositor for tests.
//
// The harness gives the test its own XDG_RUNTIME_DIR (a fresh temporary
// directory, removed at the end), starts a wlprime server on the headless
// backend with the pixman renderer and one output, and pumps it together
// with the test's client connections on the test's thread:
//
//	harness h;
//	auto client = shm_client::connect(h.socket().c_str(), opts, &err);
//	h.attach(client->display());
//	ASSERT_TRUE(h.run_until([&] { return client->shown(); }));
//	image frame = h.capture();
//
// Nothing blocks: the server loop is dispatched with a short timeout and the
// clients with pump_display(), alternately.
//
// With a kernel (the kernel model, tests/unit/kernel_model.hpp) and a render
// device node that the kernel knows, the server has a main device and
// advertises linux-dmabuf over the import subsystem:
//
//	test::kernel_model kernel;
//	kernel.add_node("/model/dri/renderD128", "vgem", node_type::render,
//	                makedev(226, 128));
//	harness_options opts;
//	opts.kernel = &kernel;
//	opts.render_device = "/model/dri/renderD128";
//	harness h(opts);

#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compositor/config.hpp"
#include "render/image.hpp"

struct wl_display;

namespace wlprime {

class server;
class kernel_api;

struct harness_options {
	// Not an aggregate, so that harness({640, 480}) still means a size.
	harness_options() = default;

	output_size size = {640, 480};
	std::optional<std::string> screenshot_path;
	// The kernel seam of the import subsystem (borrowed, outlives the
	// harness); null: the real kernel.
	kernel_api *kernel = nullptr;
	// The main DRM device (config::render_device); unset: none, and no
	// linux-dmabuf.
	std::optional<std::string> render_device;
};

class harness {
public:
	// Starts the server; a failure is reported as a fatal GoogleTest failure
	// through ok() being false (check it with ASSERT_TRUE(h.ok())).
	explicit harness(output_size size = {640, 480},
	                 std::optional<std::string> screenshot_path = std::nullopt);
	explicit harness(const harness_options &opts);
	~harness();

	harness(const harness &) = delete;
	harness &operator=(const harness &) = delete;

	bool ok() const { return srv_ != nullptr; }
	const std::string &start_error() const { return start_error_; }
	server &srv() { return *srv_; }
	const std::string &socket() const;
	const std::string &runtime_dir() const { return runtime_dir_; }

	// Pumps display too in run_until(), until detach() or the end.
	void attach(wl_display *display);
	void detach(wl_display *display);

	// Pumps server and clients until predicate() holds (true) or the timeout
	// passes (false).
	bool run_until(const std::function<bool()> &predicate,
	               std::chrono::milliseconds timeout = std::chrono::seconds(10));
	// Pumps for a while regardless (to let things settle).
	void run_for(std::chrono::milliseconds duration);

	// What the first output shows now. Fails the test if it cannot.
	image capture();

private:
	std::string runtime_dir_;
	std::optional<std::string> old_runtime_dir_;
	std::string start_error_;
	std::unique_ptr<server> srv_;
	std::vector<wl_display *> displays_;
};

} // namespace wlprime
