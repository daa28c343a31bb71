// SPDX-License-Identifier: MIT
// The KMS output's calls on the kernel seam (import/kernel.hpp): dumb
// buffers (create, map, destroy) and atomic requests, counted by
// counting_kernel (TEST_ONLY apart from real commits). Against the model and,
// in the guest, against vkms.
#include <cstring>
#include <drm_mode.h>
#include <sys/mman.h>
#include <unistd.h>

#include "import.hpp"

#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

class KmsSeamTest : public kernel_test {};

TEST_F(KmsSeamTest, DumbBufferCreateMapDestroyIsCounted) {
	device &vkms = open_device("vkms", node_type::primary);
	dumb_buffer dumb;
	ASSERT_EQ(counting_->create_dumb(vkms.fd(), 64, 32, 32, &dumb), 0);
	EXPECT_NE(dumb.handle, 0u);
	EXPECT_GE(dumb.pitch, 64u * 4);
	EXPECT_GE(dumb.size, uint64_t(dumb.pitch) * 32);

	void *data = nullptr;
	ASSERT_EQ(
	    counting_->map_dumb(vkms.fd(), dumb.handle, dumb.size, PROT_READ | PROT_WRITE, &data),
	    0);
	ASSERT_NE(data, nullptr);
	static_cast<uint32_t *>(data)[5] = 0xff00ff00u;
	EXPECT_EQ(static_cast<const uint32_t *>(data)[5], 0xff00ff00u);
	EXPECT_EQ(munmap(data, dumb.size), 0);

	EXPECT_EQ(counting_->destroy_dumb(vkms.fd(), dumb.handle), 0);
	EXPECT_FALSE(handle_exists(vkms.fd(), dumb.handle)) << "DESTROY_DUMB removes the handle";
	EXPECT_NE(counting_->destroy_dumb(vkms.fd(), dumb.handle), 0) << "a second destroy fails";

	ioctl_counts n = counts();
	EXPECT_EQ(n.create_dumb, 1u);
	EXPECT_EQ(n.map_dumb, 1u);
	EXPECT_EQ(n.destroy_dumb, 2u);
	EXPECT_EQ(n.total(), 4u + n.handle_to_fd) << "total() counts the dumb-buffer calls";
}

TEST_F(KmsSeamTest, MapDumbOfAnImportedHandleIsEinval) {
	device &vkms = open_device("vkms", node_type::primary);
	uint32_t pitch = 0;
	unique_fd dmabuf = new_dmabuf(64, 64, &pitch);
	ASSERT_TRUE(dmabuf);
	uint32_t handle = 0;
	ASSERT_EQ(counting_->prime_fd_to_handle(vkms.fd(), dmabuf.get(), &handle), 0);
	void *data = nullptr;
	EXPECT_EQ(counting_->map_dumb(vkms.fd(), handle, uint64_t(pitch) * 64, PROT_READ, &data),
	          EINVAL);
	EXPECT_EQ(data, nullptr);
	EXPECT_EQ(counting_->gem_close(vkms.fd(), handle), 0);
}

TEST_F(KmsSeamTest, FramebufferOfADumbBuffer) {
	device &vkms = open_device("vkms", node_type::primary);
	dumb_buffer dumb;
	ASSERT_EQ(counting_->create_dumb(vkms.fd(), 64, 64, 32, &dumb), 0);
	fb_request r;
	r.width = 64;
	r.height = 64;
	r.format = 0x34325258; // XR24
	r.handles[0] = dumb.handle;
	r.pitches[0] = dumb.pitch;
	uint32_t fb = 0;
	ASSERT_EQ(counting_->add_fb2(vkms.fd(), r, &fb), 0);
	EXPECT_NE(fb, 0u);
	EXPECT_EQ(counting_->remove_fb(vkms.fd(), fb), 0);
	EXPECT_EQ(counting_->destroy_dumb(vkms.fd(), dumb.handle), 0);
	ioctl_counts n = counts();
	EXPECT_EQ(n.add_fb, 1u);
	EXPECT_EQ(n.remove_fb, 1u);
	EXPECT_EQ(n.create_dumb, 1u);
	EXPECT_EQ(n.destroy_dumb, 1u);
}

TEST(AtomicRequest, AZeroPropertyMakesItInvalid) {
	atomic_request req;
	EXPECT_TRUE(req.valid());
	EXPECT_TRUE(req.empty());
	req.add(31, 7, 1);
	EXPECT_TRUE(req.valid());
	req.add(31, 0, 1); // a property lookup that found nothing
	EXPECT_FALSE(req.valid());
	ASSERT_EQ(req.props().size(), 2u);
	EXPECT_EQ(req.props()[0].object, 31u);
	EXPECT_EQ(req.props()[0].property, 7u);
	EXPECT_EQ(req.props()[0].value, 1u);
}

TEST_F(KmsSeamTest, AnInvalidAtomicRequestFailsAndTestOnlyIsCountedApart) {
	device &vkms = open_device("vkms", node_type::primary);
	atomic_request bad;
	bad.add(1, 0, 0);
	EXPECT_EQ(counting_->atomic_commit(vkms.fd(), bad, DRM_MODE_ATOMIC_TEST_ONLY, nullptr),
	          EINVAL);
	EXPECT_EQ(counting_->atomic_commit(vkms.fd(), bad, DRM_MODE_ATOMIC_TEST_ONLY, nullptr),
	          EINVAL);
	EXPECT_EQ(counting_->atomic_commit(vkms.fd(), bad, DRM_MODE_ATOMIC_NONBLOCK, nullptr),
	          EINVAL);
	ioctl_counts n = counts();
	EXPECT_EQ(n.atomic_tests, 2u);
	EXPECT_EQ(n.atomic_commits, 1u);
	EXPECT_EQ(n.atomic(), 3u);
	EXPECT_EQ((counts() - n).atomic(), 0u);
}

// One scanout verdict per (Import, device), kept with the device_import: the
// import's failure, else the framebuffer's, else what the KMS backend
// recorded (a TEST_ONLY refusal, with its errno, or a pass). Reading it costs
// no ioctl.
TEST_F(KmsSeamTest, ScanoutVerdictIsOnePerImportAndDevice) {
	device &vkms = open_device("vkms", node_type::primary);
	import_cache cache;
	auto [buf, pitch, good] = acquire_new(cache);
	ASSERT_TRUE(good);
	// A pitch too small for 64 XRGB8888 pixels: ADDFB2 says EINVAL.
	unique_fd narrow_buf = new_dmabuf(64, 64, &pitch);
	import_ref narrow = acquire(cache, xrgb(narrow_buf.get(), 64, 64, 16));
	ASSERT_TRUE(narrow);
	unique_fd mem = not_a_dmabuf();
	import_ref not_dmabuf = acquire(cache, xrgb(mem.get(), 64, 64, 256));
	ASSERT_TRUE(not_dmabuf);

	// Never imported: no verdict to record.
	error refusal{"import #1: plane 31 refused framebuffer 7 (atomic TEST_ONLY commit)",
	              EINVAL};
	good->record_scanout(vkms, &refusal);
	EXPECT_EQ(good->find_device(vkms), nullptr) << "recording imports nothing";

	const device_import &ok = good->framebuffer_on(vkms);
	ASSERT_NE(ok.fb_id(), 0u) << ok.fb_err().message;
	track(vkms.fd(), ok.handle(0));
	EXPECT_EQ(ok.scanout().state, scanout_state::unknown) << "not asked yet";
	EXPECT_FALSE(ok.scanout().failed());

	const device_import &no_fb = narrow->framebuffer_on(vkms);
	track(vkms.fd(), no_fb.handle(0));
	EXPECT_EQ(no_fb.scanout().state, scanout_state::framebuffer_failed);
	EXPECT_EQ(no_fb.scanout().errnum, EINVAL);
	EXPECT_EQ(no_fb.scanout().message, no_fb.fb_err().message);
	EXPECT_TRUE(no_fb.scanout().failed());

	const device_import &no_import = not_dmabuf->framebuffer_on(vkms);
	EXPECT_EQ(no_import.scanout().state, scanout_state::import_failed)
	    << "the import's failure comes first";
	EXPECT_EQ(no_import.scanout().errnum, EINVAL);

	auto before = counts();
	good->record_scanout(vkms, nullptr);
	EXPECT_EQ(ok.scanout().state, scanout_state::scans_out);
	good->record_scanout(vkms, &refusal);
	EXPECT_EQ(ok.scanout().state, scanout_state::refused) << "a refusal replaces a pass";
	EXPECT_EQ(ok.scanout().errnum, EINVAL);
	EXPECT_EQ(ok.scanout().message, refusal.message);
	EXPECT_EQ(&good->framebuffer_on(vkms), &ok) << "still the one device_import";
	EXPECT_EQ(good->framebuffer_on(vkms).scanout().state, scanout_state::refused);
	EXPECT_EQ(counts() - before, ioctl_counts{}) << "verdicts cost no ioctl";
}

} // namespace
} // namespace wlprime::test
