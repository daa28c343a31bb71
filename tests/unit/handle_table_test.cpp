// SPDX-License-Identifier: MIT
#include <algorithm>
#include <atomic>
#include <fcntl.h>
#include <numeric>
#include <sys/mman.h>
#include <thread>
#include <vector>
#include <xf86drm.h>

#include "dmabuf_id.hpp"
#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

class HandleTableTest : public kernel_test {
protected:
	gem_ref import(device &device, const unique_fd &buf) {
		auto ref = device.handles().import_dmabuf(buf.get(), *dmabuf_id_of(buf.get()));
		EXPECT_TRUE(ref) << (ref ? "" : ref.err().message);
		if (!ref)
			return gem_ref();
		track(device.fd(), ref->handle());
		return std::move(*ref);
	}
};

TEST_F(HandleTableTest, CountsReferencesAndClosesOnceAtTheLast) {
	device &dev = open_device("vgem", node_type::render);
	unique_fd buf = new_dmabuf();
	gem_ref a = import(dev, buf);
	gem_ref b = import(dev, buf);
	EXPECT_EQ(a.handle(), b.handle());
	EXPECT_EQ(dev.handles().count(a.handle()), 2u);
	EXPECT_EQ(counts().fd_to_handle, 1u) << "second import of a held dma-buf needs no ioctl";
	uint32_t handle = a.handle();
	a.reset();
	EXPECT_TRUE(handle_exists(dev.fd(), handle));
	b.reset();
	EXPECT_FALSE(handle_exists(dev.fd(), handle));
	EXPECT_EQ(counts().gem_close, 1u);
}

TEST_F(HandleTableTest, ManyBuffersOnOneDmabufReleasedInEveryOrder) {
	device &dev = open_device("vgem", node_type::render);
	unique_fd buf = new_dmabuf();
	std::vector<int> order(4);
	std::iota(order.begin(), order.end(), 0);
	int permutations = 0;
	do {
		std::vector<gem_ref> refs;
		// Each "buffer" imports through its own fd of the dma-buf.
		std::vector<unique_fd> fds;
		for (int i = 0; i < 4; i++) {
			fds.push_back(buf.duplicate());
			refs.push_back(import(dev, fds.back()));
		}
		uint32_t handle = refs[0].handle();
		for (const gem_ref &r : refs)
			ASSERT_EQ(r.handle(), handle);
		for (size_t i = 0; i < order.size(); i++) {
			refs[order[i]].reset();
			bool last = i + 1 == order.size();
			ASSERT_EQ(handle_exists(dev.fd(), handle), !last)
			    << "after releasing " << i + 1 << " of 4";
		}
		permutations++;
	} while (std::next_permutation(order.begin(), order.end()));
	EXPECT_EQ(permutations, 24);
	EXPECT_EQ(counts().gem_close, 24u);
}

TEST_F(HandleTableTest, MoveKeepsOneReference) {
	device &dev = open_device("vgem", node_type::render);
	unique_fd buf = new_dmabuf();
	gem_ref a = import(dev, buf);
	gem_ref b = std::move(a);
	EXPECT_FALSE(a.valid());
	EXPECT_EQ(dev.handles().count(b.handle()), 1u);
	gem_ref c;
	c = std::move(b);
	EXPECT_EQ(dev.handles().count(c.handle()), 1u);
}

TEST_F(HandleTableTest, ExportOfAHandleNotHeldIsRefusedWithoutIoctl) {
	device &dev = open_device("vgem", node_type::render);
	auto before = counts();
	auto fd = dev.handles().export_handle(1, DRM_CLOEXEC);
	ASSERT_FALSE(fd);
	EXPECT_EQ(fd.err().errnum, ENOENT);
	EXPECT_EQ(counts() - before, ioctl_counts{});
}

TEST_F(HandleTableTest, FailedImportLeavesNothing) {
	device &dev = open_device("vgem", node_type::render);
	unique_fd mem(memfd_create("not-a-dmabuf", MFD_CLOEXEC));
	auto ref = dev.handles().import_dmabuf(mem.get(), *dmabuf_id_of(mem.get()));
	ASSERT_FALSE(ref);
	EXPECT_EQ(ref.err().errnum, EINVAL);
	EXPECT_NE(ref.err().message.find("PRIME_FD_TO_HANDLE"), std::string::npos);
	EXPECT_EQ(dev.handles().size(), 0u);
}

// The import-vs-close race (igt prime_self_import's, against our table): one
// thread keeps importing and releasing, others too; every handle a thread
// holds must stay valid in the kernel while it holds it. A table that closed
// a handle while another reference existed, or handed out a handle being
// closed, fails the export check.
TEST_F(HandleTableTest, ImportVsCloseRace) {
	device &dev = open_device("vgem", node_type::render);
	unique_fd buf = new_dmabuf();
	const dmabuf_id id = *dmabuf_id_of(buf.get());
	std::atomic<int> failures{0};
	std::atomic<bool> stop{false};
	auto worker = [&] {
		for (int i = 0; i < 300 && !stop; i++) {
			auto ref = dev.handles().import_dmabuf(buf.get(), id);
			if (!ref) {
				failures++;
				continue;
			}
			int fd = -1;
			int err = dev.kernel().prime_handle_to_fd(dev.fd(), ref->handle(),
			                                          DRM_CLOEXEC, &fd);
			unique_fd owned(fd);
			if (err != 0) {
				failures++;
				stop = true;
			}
		}
	};
	std::vector<std::thread> threads;
	for (int t = 0; t < 4; t++)
		threads.emplace_back(worker);
	for (auto &t : threads)
		t.join();
	EXPECT_EQ(failures.load(), 0);
	EXPECT_EQ(dev.handles().size(), 0u);
	EXPECT_EQ(counts().fd_to_handle - counts().gem_close, 0u)
	    << "every import that reached the kernel was closed exactly once";
}

// The export-vs-close race: threads export a held handle through the table
// while the references to it come and go; export of a handle the table no
// longer holds must fail cleanly (ENOENT), never export a closed handle.
TEST_F(HandleTableTest, ExportVsCloseRace) {
	device &dev = open_device("vgem", node_type::render);
	unique_fd buf = new_dmabuf();
	const dmabuf_id id = *dmabuf_id_of(buf.get());
	std::atomic<bool> done{false};
	std::atomic<int> bad{0};
	std::atomic<uint32_t> last_handle{0};
	std::thread churn([&] {
		for (int i = 0; i < 500; i++) {
			auto ref = dev.handles().import_dmabuf(buf.get(), id);
			if (ref)
				last_handle = ref->handle();
		}
		done = true;
	});
	std::thread exporter_thread([&] {
		while (!done) {
			uint32_t h = last_handle;
			if (!h)
				continue;
			auto fd = dev.handles().export_handle(h, DRM_CLOEXEC);
			if (fd) {
				// Must be our dma-buf: a stale handle could name another.
				if (*dmabuf_id_of(fd->get()) != id)
					bad++;
			} else if (fd.err().errnum != ENOENT) {
				bad++;
			}
		}
	});
	churn.join();
	exporter_thread.join();
	EXPECT_EQ(bad.load(), 0);
	EXPECT_EQ(dev.handles().size(), 0u);
	if (last_handle)
		track(dev.fd(), last_handle);
}

} // namespace
} // namespace wlprime::test
