// SPDX-License-Identifier: MIT
#include <sys/sysmacros.h>

#include "kernel_model.hpp"
#include "test_kernel.hpp"

namespace wlprime::test {

namespace {

class ModelTestKernel final : public TestKernel {
public:
	ModelTestKernel()
	{
		model_.add_node("/model/dri/card0", "vgem", NodeType::primary, makedev(226, 0));
		model_.add_node("/model/dri/renderD128", "vgem", NodeType::render,
				makedev(226, 128));
		model_.add_node("/model/dri/card1", "vkms", NodeType::primary, makedev(226, 1));
		model_.add_node("/model/dri/card2", "cirrus", NodeType::primary, makedev(226, 2));
	}

	const char *name() const override { return "model"; }
	Kernel &kernel() override { return model_; }

	std::string node(const std::string &driver, NodeType type) override
	{
		if (driver == "vgem")
			return type == NodeType::render ? "/model/dri/renderD128" : "/model/dri/card0";
		if (type != NodeType::primary)
			return "";
		if (driver == "vkms")
			return "/model/dri/card1";
		if (driver == "cirrus")
			return "/model/dri/card2";
		return "";
	}

	int create_dumb(int fd, uint32_t width, uint32_t height, uint32_t bpp, Dumb *out) override
	{
		out->pitch = (width * ((bpp + 7) / 8) + 63) & ~63u;
		out->size = uint64_t(out->pitch) * height;
		out->size = (out->size + 4095) & ~uint64_t(4095);
		return model_.create_bo(fd, out->size, &out->handle);
	}

	UniqueFd foreign_dmabuf(uint64_t size) override
	{
		return model_.create_foreign_dmabuf(size);
	}
	long live_dmabufs() override { return -1; }
	long framebuffers(const std::string &) override { return -1; }

private:
	KernelModel model_;
};

} // namespace

std::unique_ptr<TestKernel> make_model_kernel()
{
	return std::make_unique<ModelTestKernel>();
}

} // namespace wlprime::test
