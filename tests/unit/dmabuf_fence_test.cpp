// SPDX-License-Identifier: MIT
// dmabuf_write_fence (import/dmabuf_fence.hpp): the write fence a reader of
// a dma-buf waits for. Against the model (memfds: no fences, always
// signalled) and, in the guest, against vgem, whose DRM_IOCTL_VGEM_FENCE_*
// ioctls put unsignalled write (and read) fences on a buffer.

#include <cerrno>
#include <cstring>
#include <string>
#include <xf86drm.h>

#include "dmabuf_fence.hpp"
#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

// include/uapi/drm/vgem_drm.h (not in Debian's libdrm headers).
struct vgem_fence_attach {
	uint32_t handle;
	uint32_t flags;
	uint32_t out_fence;
	uint32_t pad;
};
struct vgem_fence_signal {
	uint32_t fence;
	uint32_t flags;
};
constexpr uint32_t vgem_fence_write = 0x1;
#define TEST_IOCTL_VGEM_FENCE_ATTACH DRM_IOWR(DRM_COMMAND_BASE + 0x1, struct vgem_fence_attach)
#define TEST_IOCTL_VGEM_FENCE_SIGNAL DRM_IOW(DRM_COMMAND_BASE + 0x2, struct vgem_fence_signal)

class DmabufFenceTest : public kernel_test {
protected:
	bool real() const { return std::string(current_kernel().name()) == "real"; }

	// A vgem fence on the exporter's handle; returns its id.
	uint32_t attach(uint32_t handle, bool write) {
		vgem_fence_attach a = {};
		a.handle = handle;
		a.flags = write ? vgem_fence_write : 0;
		EXPECT_EQ(drmIoctl(exporter(), TEST_IOCTL_VGEM_FENCE_ATTACH, &a), 0)
		    << "VGEM_FENCE_ATTACH: " << std::strerror(errno);
		return a.out_fence;
	}
	void signal(uint32_t fence) {
		vgem_fence_signal s = {fence, 0};
		EXPECT_EQ(drmIoctl(exporter(), TEST_IOCTL_VGEM_FENCE_SIGNAL, &s), 0)
		    << "VGEM_FENCE_SIGNAL: " << std::strerror(errno);
	}
	void close_handle(uint32_t handle) {
		EXPECT_EQ(tk().kernel().gem_close(exporter(), handle), 0);
	}
};

TEST_F(DmabufFenceTest, BufferWithoutFencesIsSignalled) {
	unique_fd buf = new_dmabuf();
	for (fence_method m : {fence_method::sync_file, fence_method::dmabuf_poll}) {
		auto fence = dmabuf_write_fence::export_from(buf.get(), m);
		ASSERT_TRUE(fence) << fence.err().message;
		EXPECT_TRUE(fence->signaled()) << to_string(m);
		EXPECT_GE(fence->fd(), 0);
	}
	// The model's memfds are no dma-bufs: sync_file falls back to poll.
	auto fence = dmabuf_write_fence::export_from(buf.get());
	ASSERT_TRUE(fence);
	EXPECT_EQ(fence->method(), real() ? fence_method::sync_file : fence_method::dmabuf_poll);
	auto pending = unsignaled_write_fences({buf.get(), buf.get()});
	ASSERT_TRUE(pending);
	EXPECT_TRUE(pending->empty());
}

TEST_F(DmabufFenceTest, BadFdIsAnErrorWithErrno) {
	auto fence = dmabuf_write_fence::export_from(-1);
	ASSERT_FALSE(fence);
	EXPECT_EQ(fence.err().errnum, EBADF);
	EXPECT_NE(fence.err().message.find("fd -1"), std::string::npos) << fence.err().message;
	auto pending = unsignaled_write_fences({-1});
	EXPECT_FALSE(pending);
}

TEST_F(DmabufFenceTest, UnsignalledWriteFenceUntilSignal) {
	if (!real())
		GTEST_SKIP() << "vgem fences need the real kernel";
	uint32_t handle = 0;
	unique_fd buf = export_new_bo(64, 64, &handle);
	uint32_t id = attach(handle, true);

	auto sync_file = dmabuf_write_fence::export_from(buf.get(), fence_method::sync_file);
	auto polled = dmabuf_write_fence::export_from(buf.get(), fence_method::dmabuf_poll);
	ASSERT_TRUE(sync_file) << sync_file.err().message;
	ASSERT_TRUE(polled) << polled.err().message;
	EXPECT_EQ(sync_file->method(), fence_method::sync_file);
	EXPECT_FALSE(sync_file->signaled());
	EXPECT_FALSE(polled->signaled());
	// Two planes on one dma-buf: one fence.
	auto pending = unsignaled_write_fences({buf.get(), buf.get()});
	ASSERT_TRUE(pending);
	EXPECT_EQ(pending->size(), 1u);

	signal(id);
	EXPECT_TRUE(sync_file->signaled());
	EXPECT_TRUE(polled->signaled());
	EXPECT_TRUE((*pending)[0].signaled());
	auto after = unsignaled_write_fences({buf.get()});
	ASSERT_TRUE(after);
	EXPECT_TRUE(after->empty());
	close_handle(handle);
}

TEST_F(DmabufFenceTest, SyncFileIsASnapshotPollIsNot) {
	if (!real())
		GTEST_SKIP() << "vgem fences need the real kernel";
	uint32_t handle = 0;
	unique_fd buf = export_new_bo(64, 64, &handle);
	auto sync_file = dmabuf_write_fence::export_from(buf.get(), fence_method::sync_file);
	auto polled = dmabuf_write_fence::export_from(buf.get(), fence_method::dmabuf_poll);
	ASSERT_TRUE(sync_file);
	ASSERT_TRUE(polled);
	// Writes that begin later (vgem refuses a second write fence while one
	// is pending, so the "later" one is the first here).
	uint32_t id = attach(handle, true);
	EXPECT_TRUE(sync_file->signaled());
	EXPECT_FALSE(polled->signaled());
	signal(id);
	EXPECT_TRUE(polled->signaled());
	close_handle(handle);
}

TEST_F(DmabufFenceTest, ReadersDoNotWaitForReaders) {
	if (!real())
		GTEST_SKIP() << "vgem fences need the real kernel";
	uint32_t handle = 0;
	unique_fd buf = export_new_bo(64, 64, &handle);
	uint32_t id = attach(handle, false); // a read fence
	auto pending = unsignaled_write_fences({buf.get()});
	ASSERT_TRUE(pending);
	EXPECT_TRUE(pending->empty());
	signal(id);
	close_handle(handle);
}

} // namespace
} // namespace wlprime::test
