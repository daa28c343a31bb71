// SPDX-License-Identifier: MIT
#include <cerrno>
#include <dirent.h>
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

#include "test_kernel.hpp"

namespace wlprime::test {

namespace {

struct node_entry {
	std::string path;
	std::string driver;
	node_type type;
	int minor;
};

// The DRM nodes of this machine, by driver name (card numbers depend on the
// order the modules were loaded in).
std::vector<node_entry> scan_nodes() {
	std::vector<node_entry> nodes;
	DIR *dir = opendir("/dev/dri");
	if (!dir)
		return nodes;
	while (dirent *e = readdir(dir)) {
		std::string name = e->d_name;
		node_type type;
		if (name.rfind("card", 0) == 0)
			type = node_type::primary;
		else if (name.rfind("renderD", 0) == 0)
			type = node_type::render;
		else
			continue;
		std::string path = "/dev/dri/" + name;
		unique_fd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
		if (!fd)
			continue;
		drmVersionPtr v = drmGetVersion(fd.get());
		if (!v)
			continue;
		struct stat st;
		fstat(fd.get(), &st);
		nodes.push_back({path, std::string(v->name, v->name_len), type,
		                 static_cast<int>(minor(st.st_rdev))});
		drmFreeVersion(v);
	}
	closedir(dir);
	return nodes;
}

class real_test_kernel final : public test_kernel_api {
public:
	real_test_kernel() : nodes_(scan_nodes()) {}

	const char *name() const override { return "real"; }
	kernel_api &kernel() override { return kernel_; }

	std::string node(const std::string &driver, node_type type) override {
		for (const node_entry &n : nodes_)
			if (n.driver == driver && n.type == type)
				return n.path;
		return "";
	}

	int create_dumb(int fd, uint32_t width, uint32_t height, uint32_t bpp, dumb *out) override {
		struct drm_mode_create_dumb args = {};
		args.width = width;
		args.height = height;
		args.bpp = bpp;
		if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &args) != 0)
			return errno;
		out->handle = args.handle;
		out->pitch = args.pitch;
		out->size = args.size;
		return 0;
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
		for (const node_entry &n : nodes_) {
			if (n.path != path)
				continue;
			std::ifstream in("/sys/kernel/debug/dri/" + std::to_string(n.minor) +
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
	std::vector<node_entry> nodes_;
};

} // namespace

std::unique_ptr<test_kernel_api> make_real_kernel() {
	return std::make_unique<real_test_kernel>();
}

} // namespace wlprime::test
