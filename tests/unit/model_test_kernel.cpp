// SPDX-License-Identifier: MIT
#include <sys/sysmacros.h>

#include "kernel_model.hpp"
#include "test_kernel.hpp"

namespace wlprime::test {

namespace {

class model_test_kernel final : public test_kernel_api {
public:
	model_test_kernel() {
		model_.add_node("/model/dri/card0", "vgem", node_type::primary, makedev(226, 0));
		model_.add_node("/model/dri/renderD128", "vgem", node_type::render,
		                makedev(226, 128));
		model_.add_node("/model/dri/card1", "vkms", node_type::primary, makedev(226, 1));
		model_.add_node("/model/dri/card2", "cirrus", node_type::primary, makedev(226, 2));
	}

	const char *name() const override { return "model"; }
	kernel_api &kernel() override { return model_; }

	std::string node(const std::string &driver, node_type type) override {
		if (driver == "vgem")
			return type == node_type::render ? "/model/dri/renderD128"
			                                 : "/model/dri/card0";
		if (type != node_type::primary)
			return "";
		if (driver == "vkms")
			return "/model/dri/card1";
		if (driver == "cirrus")
			return "/model/dri/card2";
		return "";
	}

	unique_fd foreign_dmabuf(uint64_t size) override {
		return model_.create_foreign_dmabuf(size);
	}
	long live_dmabufs() override { return -1; }
	long framebuffers(const std::string &) override { return -1; }

private:
	kernel_model model_;
};

} // namespace

std::unique_ptr<test_kernel_api> make_model_kernel() {
	return std::make_unique<model_test_kernel>();
}

} // namespace wlprime::test
