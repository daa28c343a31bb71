// SPDX-License-Identifier: MIT
// What the CPU and the display may read of an Import: the guard page after
// every mapping, the Import's own bounds check (whatever made the Import),
// implicit-modifier layouts, and the stable device_import references.
#include <csignal>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "implicit_layout.hpp"
#include "import_cache.hpp"
#include "import_fixture.hpp"
#include "kernel_model.hpp"

namespace wlprime::test {
namespace {

class ImportReadTest : public kernel_test {};

// The bug class of issue 12 made visible: a read one byte past a mapped
// dma-buf faults, instead of returning whatever the compositor had mapped
// next.
TEST_F(ImportReadTest, ReadPastTheEndOfAMappingFaults) {
	import_cache cache;
	auto [buf, pitch, ref] = acquire_new(cache);
	auto data = ref->map_plane(0);
	ASSERT_TRUE(data) << data.err().message;
	const uint64_t size = ref->bytes();
	ASSERT_EQ(size % uint64_t(sysconf(_SC_PAGESIZE)), 0u) << "dma-bufs are whole pages";
	const volatile uint8_t *bytes = *data;
	EXPECT_EQ(bytes[size - 1], 0) << "the last byte reads";
	// The default action, not a sanitizer's handler: the fault itself is
	// what is tested, and a sanitizer run must not count it as a report.
	EXPECT_EXIT(
	    {
		    std::signal(SIGSEGV, SIG_DFL);
		    (void)bytes[size];
	    },
	    ::testing::KilledBySignal(SIGSEGV), "");
}

// Validation is not the only way to make an Import (the KMS allocator's
// buffers, tests, a future path): the Import refuses CPU reads of geometry
// outside its dma-bufs by itself, with the reason kept.
TEST_F(ImportReadTest, ImportRefusesCpuReadsOutsideItsDmaBuf) {
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch); // 64 * 256 = 16384 bytes
	struct bad {
		const char *name;
		uint32_t width, height, offset, stride;
	};
	for (const bad &b :
	     {bad{"stride zero", 64, 64, 0, 0}, bad{"stride below a row", 64, 64, 0, 255},
	      bad{"row four bytes before the end", 64, 1, 16380, 256},
	      bad{"last row past the end", 64, 65, 0, 256}}) {
		SCOPED_TRACE(b.name);
		import_ref ref =
		    acquire(cache, xrgb(buf.get(), b.width, b.height, b.stride, b.offset));
		auto data = ref->map_plane(0);
		ASSERT_FALSE(data);
		EXPECT_EQ(data.err().errnum, ERANGE) << data.err().message;
		ASSERT_NE(ref->cpu_error(), nullptr);
		EXPECT_EQ(ref->mapped_count(), 0u) << "refused before mapping";
		EXPECT_FALSE(ref->map_plane(0)) << "refused again, from the kept reason";
	}
	EXPECT_EQ(cache.stats().mappings, 0u);
}

TEST_F(ImportReadTest, TiledModifierIsNeverReadAsLinear) {
	import_cache cache;
	uint32_t pitch = 0;
	unique_fd buf = new_dmabuf(64, 64, &pitch);
	dmabuf_attributes a = xrgb(buf.get(), 64, 64, pitch);
	a.modifier = I915_FORMAT_MOD_X_TILED;
	import_ref ref = acquire(cache, std::move(a));
	auto data = ref->map_plane(0);
	ASSERT_FALSE(data);
	EXPECT_NE(data.err().message.find("tiled"), std::string::npos) << data.err().message;
}

// Regression: device_imports lived in a std::vector, so the reference that
// on_device() returned for the first device dangled once the third device
// imported the buffer.
TEST_F(ImportReadTest, DeviceImportReferencesSurviveAThirdDevice) {
	device &vgem = open_device("vgem", node_type::render);
	device &vkms = open_device("vkms", node_type::primary);
	device &cirrus = open_device("cirrus", node_type::primary);
	import_cache cache;
	auto [buf, pitch, ref] = acquire_new(cache);
	const device_import &first = ref->on_device(vgem);
	const device_import &second = ref->on_device(vkms);
	const device_import &third = ref->on_device(cirrus);
	EXPECT_EQ(ref->find_device(vgem), &first);
	EXPECT_EQ(ref->find_device(vkms), &second);
	EXPECT_EQ(ref->find_device(cirrus), &third);
	ASSERT_TRUE(first.ok()) << first.err().message;
	EXPECT_EQ(&first.device(), &vgem);
	EXPECT_NE(first.handle(0), 0u);
	for (const device_import *d : {&first, &second, &third})
		if (d->ok())
			track(d->device().fd(), d->handle(0));
}

// Implicit modifiers are resolved against the devices of the compositor: a
// kernel model of its own, with a GPU whose implicit layout is its own.
class ImplicitLayoutTest : public ::testing::Test {
protected:
	void SetUp() override {
		model_.add_node("/m/card0", "vkms", node_type::primary, makedev(226, 0));
		model_.add_node("/m/card1", "amdgpu", node_type::primary, makedev(226, 1));
		model_.add_node("/m/renderD128", "vgem", node_type::render, makedev(226, 128));
	}
	std::unique_ptr<device> open(const char *path) {
		auto dev = device::open(model_, path);
		EXPECT_TRUE(dev) << (dev ? "" : dev.err().message);
		return dev ? std::move(*dev) : nullptr;
	}
	// A dma-buf exported by `dev` (a DRM export: exp_name "drm").
	unique_fd drm_dmabuf(device &dev) {
		uint32_t handle = 0;
		EXPECT_EQ(model_.create_bo(dev.fd(), 64 * 256, &handle), 0);
		int fd = -1;
		EXPECT_EQ(model_.prime_handle_to_fd(dev.fd(), handle, O_CLOEXEC, &fd), 0);
		EXPECT_EQ(model_.gem_close(dev.fd(), handle), 0);
		return unique_fd(fd);
	}
	static dmabuf_attributes implicit_xrgb(int fd) {
		dmabuf_attributes a;
		a.width = a.height = 64;
		a.format = DRM_FORMAT_XRGB8888;
		a.modifier = DRM_FORMAT_MOD_INVALID;
		a.n_planes = 1;
		a.planes[0] = {unique_fd(fcntl(fd, F_DUPFD_CLOEXEC, 0)), 0, 256};
		return a;
	}
	kernel_model model_;
};

TEST_F(ImplicitLayoutTest, ExportersThatLayOutLinearly) {
	EXPECT_TRUE(exporter_implicit_linear("udmabuf"));
	EXPECT_TRUE(exporter_implicit_linear("videobuf2_vmalloc"));
	EXPECT_TRUE(exporter_implicit_linear("system"));
	EXPECT_FALSE(exporter_implicit_linear("i915"));
	EXPECT_TRUE(driver_implicit_linear("vgem"));
	EXPECT_TRUE(driver_implicit_linear("vkms"));
	EXPECT_FALSE(driver_implicit_linear("amdgpu"));
}

TEST_F(ImplicitLayoutTest, DumbDevicesOnlyMeansLinearEverywhere) {
	auto vkms = open("/m/card0");
	auto vgem = open("/m/renderD128");
	import_cache cache;
	cache.add_device(*vkms);
	cache.add_device(*vgem);
	unique_fd buf = drm_dmabuf(*vgem);
	auto ref = cache.acquire(implicit_xrgb(buf.get()));
	ASSERT_TRUE(ref);
	ASSERT_NE((*ref)->implicit(), nullptr);
	EXPECT_TRUE((*ref)->implicit()->linear);
	EXPECT_EQ((*ref)->implicit()->exporter_name, "drm");
	EXPECT_TRUE((*ref)->map_plane(0));
	EXPECT_NE((*ref)->framebuffer_on(*vkms).fb_id(), 0u) << "linear: any device reads it";
}

// The bug: an implicit-modifier buffer of a GPU was read by the CPU as linear
// and given a framebuffer on another device, which shows it scrambled.
TEST_F(ImplicitLayoutTest, GpuLayoutIsNotReadByTheCpuNorScannedOutElsewhere) {
	auto vkms = open("/m/card0");
	auto gpu = open("/m/card1");
	import_cache cache;
	cache.add_device(*vkms);
	cache.add_device(*gpu);
	unique_fd buf = drm_dmabuf(*gpu);
	auto ref = cache.acquire(implicit_xrgb(buf.get()));
	ASSERT_TRUE(ref);
	dmabuf_import &import = **ref;
	ASSERT_NE(import.implicit(), nullptr);
	EXPECT_FALSE(import.implicit()->linear);
	EXPECT_EQ(import.implicit()->exporter, gpu->info().rdev);

	auto cpu = import.map_plane(0);
	ASSERT_FALSE(cpu);
	EXPECT_NE(cpu.err().message.find("amdgpu"), std::string::npos) << cpu.err().message;
	EXPECT_EQ(import.mapped_count(), 0u);

	const device_import &on_vkms = import.framebuffer_on(*vkms);
	EXPECT_EQ(on_vkms.fb_id(), 0u);
	EXPECT_NE(on_vkms.fb_err().message.find("did not export it"), std::string::npos)
	    << on_vkms.fb_err().message;
	EXPECT_EQ(model_.fb_count(vkms->fd()), 0u);
	const uint64_t failures = cache.stats().framebuffer_failures;
	EXPECT_EQ(import.framebuffer_on(*vkms).fb_id(), 0u);
	EXPECT_EQ(cache.stats().framebuffer_failures, failures) << "refused once, then cached";

	EXPECT_NE(import.framebuffer_on(*gpu).fb_id(), 0u) << "its exporter shows it";
}

TEST_F(ImplicitLayoutTest, UdmabufIsLinear) {
	auto vkms = open("/m/card0");
	auto gpu = open("/m/card1");
	import_cache cache;
	cache.add_device(*vkms);
	cache.add_device(*gpu);
	unique_fd buf = model_.create_foreign_dmabuf(64 * 256);
	auto ref = cache.acquire(implicit_xrgb(buf.get()));
	ASSERT_TRUE(ref);
	ASSERT_NE((*ref)->implicit(), nullptr);
	EXPECT_EQ((*ref)->implicit()->exporter_name, "udmabuf");
	EXPECT_TRUE((*ref)->implicit()->linear);
	EXPECT_TRUE((*ref)->map_plane(0));
}

} // namespace
} // namespace wlprime::test
