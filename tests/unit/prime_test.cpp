// SPDX-License-Identifier: MIT
// The kernel's PRIME facts that the import subsystem stands on, asked of the
// seam directly. Against the model they check the model; in the guest they
// check that the model tells the truth (igt's prime_self_import, in spirit).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xf86drm.h>

#include "dmabuf_id.hpp"
#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

class Prime : public kernel_test {
protected:
	int import(int dev_fd, int dmabuf_fd, uint32_t *handle) {
		// Each test closes what it imported: the importer fds are local.
		return tk().kernel().prime_fd_to_handle(dev_fd, dmabuf_fd, handle);
	}
	unique_fd open_importer() {
		auto fd = tk().kernel().open_node(tk().node("vgem", node_type::render));
		EXPECT_TRUE(fd);
		return fd ? std::move(*fd) : unique_fd();
	}
	void close_all(int dev_fd, uint32_t handle) {
		EXPECT_EQ(tk().kernel().gem_close(dev_fd, handle), 0);
	}
};

TEST_F(Prime, SameDmabufTwiceOnOneFdGivesSameHandle) {
	unique_fd importer = open_importer();
	unique_fd buf = new_dmabuf();
	uint32_t a = 0, b = 0;
	ASSERT_EQ(import(importer.get(), buf.get(), &a), 0);
	ASSERT_EQ(import(importer.get(), buf.get(), &b), 0);
	EXPECT_EQ(a, b);
	EXPECT_NE(a, 0u);
	// Not counted: one close removes it, the second is EINVAL.
	EXPECT_EQ(tk().kernel().gem_close(importer.get(), a), 0);
	EXPECT_EQ(tk().kernel().gem_close(importer.get(), a), EINVAL);
}

TEST_F(Prime, SelfImportOnExportingFdReturnsOriginalHandle) {
	uint32_t handle = 0, imported = 0;
	unique_fd buf = export_new_bo(32, 32, &handle);
	track(exporter(), handle);
	ASSERT_EQ(import(exporter(), buf.get(), &imported), 0);
	EXPECT_EQ(imported, handle);
	close_all(exporter(), handle);
}

TEST_F(Prime, ImportThroughDupedFdGivesSameHandle) {
	unique_fd importer = open_importer();
	unique_fd buf = new_dmabuf();
	unique_fd dup = buf.duplicate();
	uint32_t a = 0, b = 0;
	ASSERT_EQ(import(importer.get(), buf.get(), &a), 0);
	ASSERT_EQ(import(importer.get(), dup.get(), &b), 0);
	EXPECT_EQ(a, b);
	close_all(importer.get(), a);
}

TEST_F(Prime, SecondExportIsSameDmabufAndSameHandle) {
	unique_fd importer = open_importer();
	uint32_t handle = 0;
	unique_fd first = export_new_bo(32, 32, &handle);
	track(exporter(), handle);
	int fd = -1;
	ASSERT_EQ(tk().kernel().prime_handle_to_fd(exporter(), handle, DRM_CLOEXEC, &fd), 0);
	unique_fd second(fd);
	EXPECT_EQ(*dmabuf_id_of(first.get()), *dmabuf_id_of(second.get()));
	uint32_t a = 0, b = 0;
	ASSERT_EQ(import(importer.get(), first.get(), &a), 0);
	ASSERT_EQ(import(importer.get(), second.get(), &b), 0);
	EXPECT_EQ(a, b);
	close_all(importer.get(), a);
	close_all(exporter(), handle);
}

TEST_F(Prime, ReexportOfImportedHandleIsTheOriginalDmabuf) {
	unique_fd importer = open_importer();
	unique_fd buf = new_dmabuf();
	uint32_t handle = 0;
	ASSERT_EQ(import(importer.get(), buf.get(), &handle), 0);
	int fd = -1;
	ASSERT_EQ(tk().kernel().prime_handle_to_fd(importer.get(), handle, DRM_CLOEXEC, &fd), 0);
	unique_fd again(fd);
	EXPECT_EQ(*dmabuf_id_of(buf.get()), *dmabuf_id_of(again.get()));
	close_all(importer.get(), handle);
}

TEST_F(Prime, HandlesArePerFileDescription) {
	unique_fd one = open_importer();
	unique_fd two = open_importer();
	unique_fd buf = new_dmabuf();
	uint32_t a = 0, b = 0;
	ASSERT_EQ(import(one.get(), buf.get(), &a), 0);
	ASSERT_EQ(import(two.get(), buf.get(), &b), 0);
	close_all(one.get(), a);
	// Closing on one file description leaves the other's handle alone.
	EXPECT_TRUE(handle_exists(two.get(), b));
	EXPECT_FALSE(handle_exists(one.get(), a));
	close_all(two.get(), b);
}

TEST_F(Prime, DupOfDeviceFdSharesHandles) {
	unique_fd importer = open_importer();
	unique_fd dup = importer.duplicate();
	unique_fd buf = new_dmabuf();
	uint32_t a = 0;
	ASSERT_EQ(import(importer.get(), buf.get(), &a), 0);
	// dup() is no isolation: the handle is visible, and closable, through it.
	EXPECT_TRUE(handle_exists(dup.get(), a));
	EXPECT_EQ(tk().kernel().gem_close(dup.get(), a), 0);
	EXPECT_FALSE(handle_exists(importer.get(), a));
}

TEST_F(Prime, Errors) {
	unique_fd importer = open_importer();
	uint32_t handle = 0;
	// Not a dma-buf: EINVAL.
	unique_fd mem(memfd_create("not-a-dmabuf", MFD_CLOEXEC));
	ASSERT_EQ(ftruncate(mem.get(), 4096), 0);
	EXPECT_EQ(tk().kernel().prime_fd_to_handle(importer.get(), mem.get(), &handle), EINVAL);
	// A closed fd: EBADF.
	int closed = mem.duplicate().release();
	::close(closed);
	EXPECT_EQ(tk().kernel().prime_fd_to_handle(importer.get(), closed, &handle), EBADF);
	// Export of a bogus handle: ENOENT. Close of one: EINVAL.
	int fd = -1;
	EXPECT_EQ(tk().kernel().prime_handle_to_fd(importer.get(), 0x7777, DRM_CLOEXEC, &fd),
	          ENOENT);
	EXPECT_EQ(tk().kernel().gem_close(importer.get(), 0x7777), EINVAL);
}

TEST_F(Prime, LseekGivesTheSize) {
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(100, 50, &pitch);
	auto size = dmabuf_size_of(buf.get());
	ASSERT_TRUE(size) << size.err().message;
	EXPECT_GE(*size, uint64_t(pitch) * 50);
	EXPECT_EQ(*size % 4096, 0u);
}

TEST_F(Prime, ForeignDmabufImports) {
	unique_fd buf = tk().foreign_dmabuf(64 * 1024);
	if (!buf)
		GTEST_SKIP() << "no udmabuf on this kernel";
	unique_fd importer = open_importer();
	uint32_t a = 0, b = 0;
	ASSERT_EQ(import(importer.get(), buf.get(), &a), 0);
	ASSERT_EQ(import(importer.get(), buf.get(), &b), 0);
	EXPECT_EQ(a, b);
	EXPECT_EQ(*dmabuf_size_of(buf.get()), 64u * 1024);
	close_all(importer.get(), a);
}

} // namespace
} // namespace wlprime::test
