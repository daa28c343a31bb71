// SPDX-License-Identifier: MIT
#include "import_fixture.hpp"

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include "tests/clients/dumb_export.hpp"

namespace wlprime::test {

void kernel_test::SetUp() {
	fds_before_ = open_fd_count();
	mappings_before_ = shared_mapping_count();
	dmabufs_before_ = tk().live_dmabufs();
	counting_ = std::make_unique<counting_kernel>(tk().kernel());
	std::string path = tk().node("vgem", node_type::primary);
	ASSERT_FALSE(path.empty()) << "no vgem device on the " << tk().name() << " kernel";
	auto fd = tk().kernel().open_node(path);
	ASSERT_TRUE(fd) << fd.err().message;
	exporter_ = std::move(*fd);
}

void kernel_test::TearDown() {
	for (auto &device : devices_)
		EXPECT_EQ(device->handles().size(), 0u) << "handles left on " << device->name();
	for (auto [fd, handle] : tracked_)
		EXPECT_FALSE(handle_exists(fd, handle)) << "GEM handle " << handle << " left open";
	devices_.clear();
	exporter_.reset();
	counting_.reset();
	EXPECT_EQ(open_fd_count(), fds_before_) << "fds leaked";
	EXPECT_EQ(shared_mapping_count(), mappings_before_) << "mappings leaked";
	if (dmabufs_before_ >= 0) {
		EXPECT_EQ(tk().live_dmabufs(), dmabufs_before_) << "dma-bufs left alive";
	}
}

device &kernel_test::open_device(const std::string &driver, node_type type) {
	std::string path = tk().node(driver, type);
	EXPECT_FALSE(path.empty()) << "no " << driver << " node";
	auto device = device::open(*counting_, path);
	if (!device) {
		ADD_FAILURE() << device.err().message;
		std::abort();
	}
	devices_.push_back(std::move(*device));
	return *devices_.back();
}

unique_fd kernel_test::export_new_bo(uint32_t width, uint32_t height, uint32_t *handle,
                                     uint32_t *pitch) {
	auto made = clients::export_dumb(tk().kernel(), exporter(), width, height, 32, false);
	if (!made) {
		ADD_FAILURE() << made.err().message;
		return unique_fd();
	}
	*handle = made->dumb.handle;
	if (pitch)
		*pitch = made->dumb.pitch;
	return std::move(made->dmabuf);
}

unique_fd kernel_test::new_dmabuf(uint32_t width, uint32_t height, uint32_t *pitch) {
	uint32_t handle = 0;
	unique_fd fd = export_new_bo(width, height, &handle, pitch);
	if (fd) {
		EXPECT_EQ(tk().kernel().gem_close(exporter(), handle), 0);
	}
	return fd;
}

unique_fd kernel_test::not_a_dmabuf(off_t size) {
	unique_fd mem(memfd_create("not-a-dmabuf", MFD_CLOEXEC));
	EXPECT_TRUE(mem) << "memfd_create: " << strerror(errno);
	EXPECT_EQ(ftruncate(mem.get(), size), 0) << "ftruncate: " << strerror(errno);
	return mem;
}

kernel_test::acquired kernel_test::acquire_new(import_cache &cache, uint32_t width,
                                               uint32_t height) {
	acquired a;
	a.buf = new_dmabuf(width, height, &a.pitch);
	a.ref = acquire(cache, xrgb(a.buf.get(), width, height, a.pitch));
	return a;
}

import_ref kernel_test::acquire(import_cache &cache, dmabuf_attributes attribs) {
	auto ref = cache.acquire(std::move(attribs));
	EXPECT_TRUE(ref) << (ref ? "" : ref.err().message);
	return ref ? std::move(*ref) : import_ref();
}

dmabuf_attributes kernel_test::xrgb(int fd, uint32_t width, uint32_t height, uint32_t pitch,
                                    uint32_t offset) {
	dmabuf_attributes a;
	a.width = static_cast<int32_t>(width);
	a.height = static_cast<int32_t>(height);
	a.format = DRM_FORMAT_XRGB8888;
	a.modifier = DRM_FORMAT_MOD_LINEAR;
	a.n_planes = 1;
	a.planes[0].fd = unique_fd(fcntl(fd, F_DUPFD_CLOEXEC, 0));
	a.planes[0].offset = offset;
	a.planes[0].stride = pitch;
	return a;
}

bool kernel_test::handle_exists(int dev_fd, uint32_t handle) {
	int fd = -1;
	int err = tk().kernel().prime_handle_to_fd(dev_fd, handle, DRM_CLOEXEC, &fd);
	unique_fd owned(fd);
	EXPECT_TRUE(err == 0 || err == ENOENT) << "PRIME_HANDLE_TO_FD: " << strerror(err);
	return err == 0;
}

} // namespace wlprime::test
