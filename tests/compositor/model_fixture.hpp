// model_fixture.hpp: the set-up the linux-dmabuf compositor tests share, once:
// a headless harness whose main device is the vgem render node (model_node)
// of a kernel model of its own, and dmabuf clients that draw into the
// model's foreign dma-bufs.

#pragma once

#include <memory>

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include "tests/clients/dmabuf_client.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/unit/kernel_model.hpp"

namespace wlprime {

constexpr const char *model_node = "/model/dri/renderD128";
inline const dev_t model_rdev = makedev(226, 128);

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
