// SPDX-License-Identifier: MIT
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <linux/udmabuf.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>
#include <xf86drm.h>

#include "drm_nodes.hpp"
#include "test_kernel.hpp"

namespace wlprime::test {

namespace {

class real_test_kernel final : public test_kernel_api {
public:
	// The DRM nodes of this machine, by driver name (card numbers depend on
	// the order the modules were loaded in).
	real_test_kernel() {
		if (auto nodes = list_drm_nodes())
			nodes_ = std::move(*nodes);
	}

	const char *name() const override { return "real"; }
	kernel_api &kernel() override { return kernel_; }

	std::string node(const std::string &driver, node_type type) override {
		for (const drm_node &n : nodes_)
			if (n.driver == driver && n.type == type)
				return n.path;
		return "";
	}

	unique_fd foreign_dmabuf(uint64_t size) override {
		unique_fd dev(open("/dev/udmabuf", O_RDWR | O_CLOEXEC));
		if (!dev)
			return unique_fd();
		size = (size + 4095) & ~uint64_t(4095);
		unique_fd mem(
		    memfd_create("wlprime-test-udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
		if (!mem || ftruncate(mem.get(), static_cast<off_t>(size)) != 0 ||
		    fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0)
			return unique_fd();
		struct udmabuf_create create = {};
		create.memfd = static_cast<uint32_t>(mem.get());
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		create.offset = 0;
		create.size = size;
		return unique_fd(ioctl(dev.get(), UDMABUF_CREATE, &create));
	}

	long live_dmabufs() override {
		// debugfs dma_buf/bufinfo: a header line, one line per buffer (and
		// its attachments), then "Total N objects, M bytes".
		std::ifstream in("/sys/kernel/debug/dma_buf/bufinfo");
		std::string line;
		while (std::getline(in, line)) {
			if (line.rfind("Total ", 0) == 0) {
				std::istringstream s(line.substr(6));
				long n = -1;
				s >> n;
				return n;
			}
		}
		return -1;
	}

	long framebuffers(const std::string &path) override {
		for (const drm_node &n : nodes_) {
			if (n.path != path)
				continue;
			std::ifstream in("/sys/kernel/debug/dri/" + std::to_string(minor(n.rdev)) +
			                 "/framebuffer");
			if (!in)
				return -1;
			long count = 0;
			std::string line;
			while (std::getline(in, line))
				if (line.rfind("framebuffer[", 0) == 0)
					count++;
			return count;
		}
		return -1;
	}

private:
	linux_kernel kernel_;
	std::vector<drm_node> nodes_;
};

} // namespace

std::unique_ptr<test_kernel_api> make_real_kernel() {
	return std::make_unique<real_test_kernel>();
}

} // namespace wlprime::test
