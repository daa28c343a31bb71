// SPDX-License-Identifier: MIT
#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include "dmabuf_id.hpp"
#include "import_cache.hpp"
#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

class ImportCacheTest : public kernel_test {
protected:
	const device_import &import_on(import_ref &ref, device &device) {
		const device_import &d = ref->on_device(device);
		for (uint32_t p = 0; p < ref->key().n_planes; p++)
			if (d.ok())
				track(device.fd(), d.handle(p));
		return d;
	}
	// NV12 attributes: Y and UV planes, on one dma-buf or on two.
	dmabuf_attributes nv12(int y_fd, int uv_fd, uint32_t width, uint32_t height, uint32_t pitch,
	                       uint32_t uv_offset) {
		dmabuf_attributes a;
		a.width = static_cast<int32_t>(width);
		a.height = static_cast<int32_t>(height);
		a.format = DRM_FORMAT_NV12;
		a.modifier = DRM_FORMAT_MOD_LINEAR;
		a.n_planes = 2;
		a.planes[0] = {unique_fd(fcntl(y_fd, F_DUPFD_CLOEXEC, 0)), 0, pitch};
		a.planes[1] = {unique_fd(fcntl(uv_fd, F_DUPFD_CLOEXEC, 0)), uv_offset, pitch};
		return a;
	}
};

TEST_F(ImportCacheTest, SecondBufferWithSameLayoutIsAHitWithNoIoctl) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	auto [buf, pitch, first] = acquire_new(cache);
	ASSERT_TRUE(import_on(first, dev).ok());
	auto before = counts();

	// A second wl_buffer of the same dma-buf (another fd of it).
	import_ref second = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
	EXPECT_EQ(second.get(), first.get());
	EXPECT_TRUE(import_on(second, dev).ok());
	EXPECT_EQ(counts() - before, ioctl_counts{}) << "a cache hit costs no ioctl";
	EXPECT_EQ(cache.stats().hits, 1u);
	EXPECT_EQ(cache.stats().misses, 1u);
	EXPECT_EQ(first->users(), 2u);
}

TEST_F(ImportCacheTest, AnotherExportOfTheSameBoIsAHit) {
	// What a second client sharing the buffer sends: its own export.
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	uint32_t handle = 0, pitch = 0;
	unique_fd a = export_new_bo(64, 64, &handle, &pitch);
	int fd = -1;
	ASSERT_EQ(tk().kernel().prime_handle_to_fd(exporter(), handle, DRM_CLOEXEC, &fd), 0);
	unique_fd b(fd);
	ASSERT_EQ(tk().kernel().gem_close(exporter(), handle), 0);
	import_ref ra = acquire(cache, xrgb(a.get(), 64, 64, pitch));
	ASSERT_TRUE(import_on(ra, dev).ok());
	auto before = counts();
	import_ref rb = acquire(cache, xrgb(b.get(), 64, 64, pitch));
	EXPECT_EQ(ra.get(), rb.get());
	EXPECT_EQ(counts() - before, ioctl_counts{});
}

TEST_F(ImportCacheTest, DifferentLayoutOfOneDmabufSharesTheHandle) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	auto [buf, pitch, whole] = acquire_new(cache);
	import_ref half = acquire(cache, xrgb(buf.get(), 64, 32, pitch, pitch * 32));
	EXPECT_NE(whole.get(), half.get());
	const device_import &a = import_on(whole, dev);
	const device_import &b = import_on(half, dev);
	ASSERT_TRUE(a.ok() && b.ok());
	EXPECT_EQ(a.handle(0), b.handle(0));
	EXPECT_EQ(counts().fd_to_handle, 1u);
	EXPECT_EQ(dev.handles().count(a.handle(0)), 2u);
}

TEST_F(ImportCacheTest, TwoPlaneFormatOnOneBufferObject) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 96, &pitch); // 64x64 Y + 64x32 UV in one BO
	import_ref ref = acquire(cache, nv12(buf.get(), buf.get(), 64, 64, pitch, pitch * 64));
	EXPECT_EQ(ref->buffer_count(), 1u);
	const device_import &d = import_on(ref, dev);
	ASSERT_TRUE(d.ok()) << d.err().message;
	EXPECT_EQ(d.handle(0), d.handle(1));
	EXPECT_EQ(counts().fd_to_handle, 1u);
	EXPECT_EQ(dev.handles().count(d.handle(0)), 1u);
	uint32_t handle = d.handle(0);
	ref.reset();
	cache.evict_idle();
	EXPECT_FALSE(handle_exists(dev.fd(), handle));
}

TEST_F(ImportCacheTest, TwoPlaneFormatOnTwoBufferObjects) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	uint32_t pitch = 0, uv_pitch = 0;
	unique_fd y = new_dmabuf(64, 64, &pitch);
	unique_fd uv = new_dmabuf(64, 32, &uv_pitch);
	ASSERT_EQ(pitch, uv_pitch);
	import_ref ref = acquire(cache, nv12(y.get(), uv.get(), 64, 64, pitch, 0));
	EXPECT_EQ(ref->buffer_count(), 2u);
	const device_import &d = import_on(ref, dev);
	ASSERT_TRUE(d.ok()) << d.err().message;
	EXPECT_NE(d.handle(0), d.handle(1));
	EXPECT_EQ(counts().fd_to_handle, 2u);
	ref.reset();
	cache.evict_idle();
	EXPECT_EQ(counts().gem_close, 2u);
}

TEST_F(ImportCacheTest, IdleImportsAreEvictedLeastRecentlyUsedFirst) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache(cache_limits{2, 1ull << 30});
	uint32_t pitch = 0;
	unique_fd bufs[3] = {new_dmabuf(64, 64, &pitch), new_dmabuf(64, 64, &pitch),
	                     new_dmabuf(64, 64, &pitch)};
	uint32_t handles[3];
	for (int i = 0; i < 3; i++) {
		import_ref ref = acquire(cache, xrgb(bufs[i].get(), 64, 64, pitch));
		handles[i] = import_on(ref, dev).handle(0);
	} // each released at once: idle, in order 0, 1, 2
	EXPECT_EQ(cache.stats().evictions, 1u);
	EXPECT_EQ(cache.size(), 2u);
	EXPECT_EQ(cache.idle_count(), 2u);
	EXPECT_FALSE(handle_exists(dev.fd(), handles[0])) << "oldest idle import evicted";
	EXPECT_TRUE(handle_exists(dev.fd(), handles[2]));

	// Reusing import 1 makes it the most recent; then 0 again evicts 2.
	{
		import_ref again = acquire(cache, xrgb(bufs[1].get(), 64, 64, pitch));
		EXPECT_EQ(cache.stats().hits, 1u);
	}
	import_ref zero = acquire(cache, xrgb(bufs[0].get(), 64, 64, pitch));
	zero.reset();
	EXPECT_EQ(cache.stats().evictions, 2u);
	EXPECT_FALSE(handle_exists(dev.fd(), handles[2]));
}

TEST_F(ImportCacheTest, ImportsInUseAreNeverEvicted) {
	import_cache cache(cache_limits{0, 0});
	auto [buf, pitch, ref] = acquire_new(cache);
	EXPECT_EQ(cache.evict_idle(), 0u);
	EXPECT_EQ(cache.size(), 1u);
	import_ref copy = ref;
	ref.reset();
	EXPECT_EQ(cache.size(), 1u);
	copy.reset(); // last user: with no idle room, freed at once
	EXPECT_EQ(cache.size(), 0u);
	EXPECT_EQ(cache.stats().evictions, 1u);
}

TEST_F(ImportCacheTest, TrimEvictsImportsIdleForTooLong) {
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	acquire(cache, xrgb(buf.get(), 64, 64, pitch)).reset();
	EXPECT_EQ(cache.trim(std::chrono::seconds(10)), 0u);
	auto later = std::chrono::steady_clock::now() + std::chrono::seconds(11);
	EXPECT_EQ(cache.trim(std::chrono::seconds(10), later), 1u);
	EXPECT_EQ(cache.size(), 0u);
}

TEST_F(ImportCacheTest, FailedImportIsCachedWithItsReason) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	unique_fd mem = not_a_dmabuf();
	{
		import_ref ref = acquire(cache, xrgb(mem.get(), 64, 64, 256));
		const device_import &d = ref->on_device(dev);
		ASSERT_FALSE(d.ok());
		EXPECT_EQ(d.err().errnum, EINVAL);
		EXPECT_NE(d.err().message.find(dev.name()), std::string::npos) << d.err().message;
	}
	auto before = counts();
	import_ref ref = acquire(cache, xrgb(mem.get(), 64, 64, 256));
	const device_import &d = ref->on_device(dev);
	EXPECT_FALSE(d.ok());
	EXPECT_EQ(d.err().errnum, EINVAL);
	EXPECT_EQ(counts() - before, ioctl_counts{}) << "a known failure is not retried";
	EXPECT_EQ(cache.stats().negative_hits, 1u);
	EXPECT_EQ(cache.stats().device_failures, 1u);
}

TEST_F(ImportCacheTest, BadFdFailsAndClosesEveryFd) {
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	dmabuf_attributes a = nv12(buf.get(), buf.get(), 64, 64, pitch, 0);
	int closed = a.planes[1].fd.release();
	::close(closed);
	a.planes[1].fd = unique_fd(closed); // a stale number, as a buggy caller might pass
	auto ref = cache.acquire(std::move(a));
	ASSERT_FALSE(ref);
	EXPECT_EQ(ref.err().errnum, EBADF);
	EXPECT_EQ(cache.size(), 0u);
}

TEST_F(ImportCacheTest, ImportOutlivesItsCacheAsAnOrphan) {
	device &dev = open_device("vgem", node_type::render);
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	import_ref ref;
	uint32_t handle = 0;
	{
		import_cache cache;
		ref = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
		handle = import_on(ref, dev).handle(0);
	}
	EXPECT_TRUE(handle_exists(dev.fd(), handle));
	ref.reset();
	EXPECT_FALSE(handle_exists(dev.fd(), handle));
}

TEST_F(ImportCacheTest, OneImportOnTwoDevicesWithAFramebufferEach) {
	device &vkms = open_device("vkms", node_type::primary);
	device &cirrus = open_device("cirrus", node_type::primary);
	import_cache cache;
	auto [buf, pitch, ref] = acquire_new(cache);
	for (device *dev : {&vkms, &cirrus}) {
		const device_import &d = import_on(ref, *dev);
		ASSERT_TRUE(d.ok()) << d.err().message;
		fb_request fb;
		fb.width = 64;
		fb.height = 64;
		fb.format = DRM_FORMAT_XRGB8888;
		fb.handles[0] = d.handle(0);
		fb.pitches[0] = pitch;
		uint32_t fb_id = 0;
		long before = tk().framebuffers(tk().node(dev->info().driver, node_type::primary));
		int err = dev->kernel().add_fb2(dev->fd(), fb, &fb_id);
		ASSERT_EQ(err, 0) << dev->name() << ": ADDFB2: " << strerror(err);
		if (before >= 0) {
			EXPECT_EQ(tk().framebuffers(dev->info().path), before + 1);
		}
		// A pitch too small for the width: EINVAL.
		fb_request bad = fb;
		bad.pitches[0] = 16;
		uint32_t bad_id = 0;
		EXPECT_EQ(dev->kernel().add_fb2(dev->fd(), bad, &bad_id), EINVAL);
		EXPECT_EQ(dev->kernel().remove_fb(dev->fd(), fb_id), 0);
		EXPECT_EQ(dev->kernel().remove_fb(dev->fd(), fb_id), ENOENT);
		if (before >= 0) {
			EXPECT_EQ(tk().framebuffers(dev->info().path), before);
		}
	}
	EXPECT_EQ(ref->devices().size(), 2u);
}

TEST_F(ImportCacheTest, MappingIsCachedWithTheImportAndReadsTheBuffer) {
	import_cache cache(cache_limits{0, 0});
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 96, &pitch);
	import_ref ref = acquire(cache, nv12(buf.get(), buf.get(), 64, 64, pitch, pitch * 64));
	auto y = ref->map_plane(0);
	ASSERT_TRUE(y) << y.err().message;
	auto uv = ref->map_plane(1);
	ASSERT_TRUE(uv) << uv.err().message;
	EXPECT_EQ(*uv - *y, pitch * 64) << "plane 1 starts at its offset in the same mapping";
	EXPECT_EQ(ref->mapped_count(), 1u);
	EXPECT_EQ(cache.stats().mappings, 1u);
	ASSERT_TRUE(ref->begin_read());
	EXPECT_EQ((*y)[0], 0) << "a new dumb buffer reads as zeros";
	ASSERT_TRUE(ref->end_read());
	auto again = ref->map_plane(0);
	EXPECT_EQ(*again, *y);
	EXPECT_EQ(cache.stats().mappings, 1u) << "mapped once";
	EXPECT_FALSE(ref->map_plane(2));
	ref.reset(); // freed with its mapping (TearDown checks fds; munmap by destructor)
}

TEST_F(ImportCacheTest, ObserverSeesEveryEventInOrder) {
	device &dev = open_device("vgem", node_type::render);
	import_cache cache;
	std::vector<std::string> seen;
	cache.set_observer([&](const import_event &e) {
		std::string what = to_string(e.kind);
		if (e.dev)
			what += "@" + e.dev->info().driver;
		if (e.errnum)
			what += ":" + std::to_string(e.errnum);
		seen.push_back(what);
	});
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	{
		import_ref a = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
		import_on(a, dev);
		import_ref b = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
	}
	unique_fd mem = not_a_dmabuf();
	{
		import_ref bad = acquire(cache, xrgb(mem.get(), 64, 64, 256));
		bad->on_device(dev);
		bad->on_device(dev);
	}
	cache.evict_idle();
	const std::vector<std::string> expected = {"created",
	                                           "imported@vgem",
	                                           "hit",
	                                           "idle",
	                                           "created",
	                                           "import_failed@vgem:22",
	                                           "negative_hit@vgem:22",
	                                           "idle",
	                                           "evicted",
	                                           "evicted"};
	EXPECT_EQ(seen, expected);
}

} // namespace
} // namespace wlprime::test
