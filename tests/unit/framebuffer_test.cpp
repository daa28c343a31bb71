// SPDX-License-Identifier: MIT
// KMS framebuffers of Imports (import/framebuffer.hpp): one per (Import,
// device), made once with ADDFB2 from the counted handles, failures cached,
// removed with the Import. Against the model and, in the guest, against vkms
// and cirrus.
#include <drm_fourcc.h>
#include <fcntl.h>
#include <optional>
#include <sys/mman.h>
#include <unistd.h>

#include "import_cache.hpp"
#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

// Forwards to another kernel_api and remembers the last ADDFB2 request.
class recording_kernel final : public kernel_api {
public:
	explicit recording_kernel(kernel_api &inner) : inner_(inner) {}
	std::optional<fb_request> last_fb;

	result<unique_fd> open_node(const std::string &path) override {
		return inner_.open_node(path);
	}
	result<std::string> node_path(int fd) override { return inner_.node_path(fd); }
	result<device_info> describe(int fd) override { return inner_.describe(fd); }
	int prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) override {
		return inner_.prime_fd_to_handle(dev_fd, dmabuf_fd, handle);
	}
	int prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) override {
		return inner_.prime_handle_to_fd(dev_fd, handle, flags, fd);
	}
	int gem_close(int dev_fd, uint32_t handle) override {
		return inner_.gem_close(dev_fd, handle);
	}
	int add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) override {
		last_fb = request;
		return inner_.add_fb2(dev_fd, request, fb_id);
	}
	int remove_fb(int dev_fd, uint32_t fb_id) override {
		return inner_.remove_fb(dev_fd, fb_id);
	}
	result<std::string> dmabuf_exporter(int fd) override { return inner_.dmabuf_exporter(fd); }

	int atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
	                  void *user_data) override {
		return inner_.atomic_commit(dev_fd, request, flags, user_data);
	}
	int create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
	                dumb_buffer *out) override {
		return inner_.create_dumb(dev_fd, width, height, bpp, out);
	}
	int map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) override {
		return inner_.map_dumb(dev_fd, handle, size, prot, data);
	}
	int destroy_dumb(int dev_fd, uint32_t handle) override {
		return inner_.destroy_dumb(dev_fd, handle);
	}

private:
	kernel_api &inner_;
};

class FramebufferTest : public kernel_test {
protected:
	// The framebuffer is gone from the kernel: removing it again is ENOENT.
	void expect_removed(device &dev, uint32_t fb_id) {
		EXPECT_EQ(tk().kernel().remove_fb(dev.fd(), fb_id), ENOENT)
		    << "framebuffer " << fb_id << " still exists on " << dev.name();
	}
	long kernel_fbs(device &dev) { return tk().framebuffers(dev.info().path); }
};

TEST_F(FramebufferTest, MadeOnceThenCachedWithNoIoctl) {
	device &vkms = open_device("vkms", node_type::primary);
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	long fbs_before = kernel_fbs(vkms);
	import_ref ref = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
	auto before = counts();
	const device_import &d = ref->framebuffer_on(vkms);
	ASSERT_NE(d.fb_id(), 0u) << d.fb_err().message;
	EXPECT_TRUE(d.fb_attempted());
	auto first = counts() - before;
	EXPECT_EQ(first.fd_to_handle, 1u);
	EXPECT_EQ(first.add_fb, 1u);
	if (fbs_before >= 0) {
		EXPECT_EQ(kernel_fbs(vkms), fbs_before + 1);
	}
	uint32_t fb_id = d.fb_id();

	before = counts();
	for (int frame = 0; frame < 10; frame++)
		EXPECT_EQ(ref->framebuffer_on(vkms).fb_id(), fb_id);
	EXPECT_EQ(counts() - before, ioctl_counts{}) << "a cached framebuffer costs no ioctl";
	EXPECT_EQ(cache.stats().framebuffers, 1u);
}

TEST_F(FramebufferTest, RemovedWhenTheImportIsFreedBeforeItsHandles) {
	device &vkms = open_device("vkms", node_type::primary);
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	long fbs_before = kernel_fbs(vkms);
	import_ref ref = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
	const device_import &d = ref->framebuffer_on(vkms);
	uint32_t fb_id = d.fb_id(), handle = d.handle(0);
	ASSERT_NE(fb_id, 0u);
	track(vkms.fd(), handle);

	// Idle in the cache: still there (a re-created wl_buffer reuses it).
	ref.reset();
	EXPECT_EQ(counts().remove_fb, 0u);
	import_ref again = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
	auto before = counts();
	EXPECT_EQ(again->framebuffer_on(vkms).fb_id(), fb_id);
	EXPECT_EQ(counts() - before, ioctl_counts{});
	again.reset();

	before = counts();
	EXPECT_EQ(cache.evict_idle(), 1u);
	auto freed = counts() - before;
	EXPECT_EQ(freed.remove_fb, 1u);
	EXPECT_EQ(freed.gem_close, 1u);
	expect_removed(vkms, fb_id);
	if (fbs_before >= 0) {
		EXPECT_EQ(kernel_fbs(vkms), fbs_before);
	}
}

TEST_F(FramebufferTest, FailureIsCachedWithItsErrnoAndNotRetried) {
	device &vkms = open_device("vkms", node_type::primary);
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	// A pitch too small for 64 XRGB8888 pixels: ADDFB2 says EINVAL.
	import_ref ref = acquire(cache, xrgb(buf.get(), 64, 64, 16));
	auto before = counts();
	const device_import &d = ref->framebuffer_on(vkms);
	EXPECT_TRUE(d.ok()) << "the import itself worked";
	EXPECT_EQ(d.fb_id(), 0u);
	EXPECT_TRUE(d.fb_attempted());
	EXPECT_EQ(d.fb_err().errnum, EINVAL);
	EXPECT_NE(d.fb_err().message.find("ADDFB2"), std::string::npos) << d.fb_err().message;
	EXPECT_NE(d.fb_err().message.find(vkms.name()), std::string::npos) << d.fb_err().message;
	EXPECT_EQ((counts() - before).add_fb, 1u);
	track(vkms.fd(), d.handle(0));

	before = counts();
	for (int frame = 0; frame < 10; frame++)
		EXPECT_EQ(ref->framebuffer_on(vkms).fb_err().errnum, EINVAL);
	EXPECT_EQ(counts() - before, ioctl_counts{}) << "a cached failure is not retried";
	EXPECT_EQ(cache.stats().framebuffer_failures, 1u);
	EXPECT_EQ(cache.stats().negative_hits, 10u);
}

TEST_F(FramebufferTest, ImportFailureIsTheFramebufferFailure) {
	device &vkms = open_device("vkms", node_type::primary);
	import_cache cache;
	// Not a dma-buf: the import fails with EINVAL, so does the framebuffer,
	// without an ADDFB2.
	unique_fd mem = not_a_dmabuf();
	import_ref ref = acquire(cache, xrgb(mem.get(), 64, 64, 256));
	auto before = counts();
	const device_import &d = ref->framebuffer_on(vkms);
	EXPECT_FALSE(d.ok());
	EXPECT_EQ(d.fb_id(), 0u);
	EXPECT_EQ(d.fb_err().errnum, EINVAL);
	EXPECT_EQ((counts() - before).add_fb, 0u);
}

TEST_F(FramebufferTest, OnePerDeviceAcrossTwoDisplayDevices) {
	device &vkms = open_device("vkms", node_type::primary);
	device &cirrus = open_device("cirrus", node_type::primary);
	import_cache cache;
	auto [buf, pitch, ref] = acquire_new(cache);
	uint32_t a = ref->framebuffer_on(vkms).fb_id();
	uint32_t b = ref->framebuffer_on(cirrus).fb_id();
	ASSERT_NE(a, 0u) << ref->framebuffer_on(vkms).fb_err().message;
	ASSERT_NE(b, 0u) << ref->framebuffer_on(cirrus).fb_err().message;
	EXPECT_EQ(counts().add_fb, 2u);
	EXPECT_EQ(ref->devices().size(), 2u);
	track(vkms.fd(), ref->find_device(vkms)->handle(0));
	track(cirrus.fd(), ref->find_device(cirrus)->handle(0));
	ref.reset();
	cache.evict_idle();
	expect_removed(vkms, a);
	expect_removed(cirrus, b);
}

TEST_F(FramebufferTest, ModifiersOnlyWhenTheDeviceTakesThemAndTheModifierIsExplicit) {
	recording_kernel rec(*counting_);
	auto opened = device::open(rec, tk().node("vkms", node_type::primary));
	ASSERT_TRUE(opened) << opened.err().message;
	device &vkms = **opened;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	{
		import_cache cache;
		cache.add_device(vkms); // the exporter: its implicit layout is linear
		import_ref linear = acquire(cache, xrgb(buf.get(), 64, 64, pitch));
		ASSERT_NE(linear->framebuffer_on(vkms).fb_id(), 0u);
		ASSERT_TRUE(rec.last_fb);
		EXPECT_EQ(rec.last_fb->modifiers, vkms.info().fb_modifiers);
		EXPECT_EQ(rec.last_fb->modifier, DRM_FORMAT_MOD_LINEAR);
		EXPECT_EQ(rec.last_fb->pitches[0], pitch);
		EXPECT_EQ(rec.last_fb->handles[0], linear->find_device(vkms)->handle(0));

		rec.last_fb.reset();
		dmabuf_attributes implicit = xrgb(buf.get(), 64, 64, pitch, 0);
		implicit.modifier = DRM_FORMAT_MOD_INVALID;
		import_ref other = acquire(cache, std::move(implicit));
		ASSERT_NE(other.get(), linear.get()) << "the modifier is part of the layout";
		ASSERT_NE(other->framebuffer_on(vkms).fb_id(), 0u);
		ASSERT_TRUE(rec.last_fb);
		EXPECT_FALSE(rec.last_fb->modifiers) << "implicit modifier: plain ADDFB2";
		// Both Imports share the one GEM handle of the dma-buf.
		EXPECT_EQ(other->find_device(vkms)->handle(0),
		          linear->find_device(vkms)->handle(0));
	}
	EXPECT_EQ(vkms.handles().size(), 0u);
}

} // namespace
} // namespace wlprime::test
