// model_fixture.hpp: the set-up the linux-dmabuf compositor tests share, once:
// a headless harness whose main device is the vgem render node (model_node)
// of a kernel model of its own, and dmabuf clients that draw into the
// model's foreign dma-bufs; and the fd table they compare before and after.

#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include "tests/clients/dmabuf_client.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/unit/kernel_model.hpp"

namespace wlprime {

constexpr const char *model_node = "/model/dri/renderD128";
inline const dev_t model_rdev = makedev(226, 128);
constexpr uint32_t background = 0x000000; // the harness' output

// Open fds of this process, the server's and the clients' (same process):
// fd -> what it is. Not wlroots' output buffers (/dev/shm/wlroots-*): the
// output's swapchain grows them lazily, up to its cap, whatever the clients
// do.
inline std::map<int, std::string> fd_table() {
	std::map<int, std::string> fds;
	for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd")) {
		std::error_code ec;
		std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
		if (target.rfind("/dev/shm/wlroots-", 0) == 0) {
			continue;
		}
		fds[std::stoi(entry.path().filename().string())] = target;
	}
	return fds;
}

inline size_t open_fds() {
	return fd_table().size();
}

// The fds of `now` that are not in `before`, for failure messages.
inline std::string new_fds(const std::map<int, std::string> &before,
                           const std::map<int, std::string> &now) {
	std::string text;
	for (const auto &[fd, target] : now) {
		auto it = before.find(fd);
		if (it == before.end() || it->second != target) {
			text += " " + std::to_string(fd) + " -> " + target + ";";
		}
	}
	return text;
}

class ModelHarnessTest : public testing::Test {
protected:
	void SetUp() override { ASSERT_NO_FATAL_FAILURE(start_harness()); }

	// Adds model_node to the model and starts the harness on it; a fatal
	// failure if it does not start (call it in ASSERT_NO_FATAL_FAILURE).
	void start_harness() {
		kernel_.add_node(model_node, "vgem", node_type::render, model_rdev);
		harness_options opts;
		opts.kernel = &kernel_;
		opts.render_device = model_node;
		h_ = std::make_unique<harness>(opts);
		ASSERT_TRUE(h_->ok()) << h_->start_error();
	}

	harness &h() { return *h_; }
	server &srv() { return h_->srv(); }

	// Dma-bufs that the model imports (its foreign dma-bufs).
	std::shared_ptr<clients::dmabuf_allocator> model_allocator() {
		return clients::callback_allocator(
		    [this](uint64_t size) { return kernel_.create_foreign_dmabuf(size); },
		    "kernel model");
	}

	test::kernel_model kernel_; // outlives the harness
	std::unique_ptr<harness> h_;
};

} // namespace wlprime
