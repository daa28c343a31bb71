// SPDX-License-Identifier: MIT
// Every rule and error code of zwp_linux_buffer_params_v1, and fd ownership
// on every path. Pure logic over memfds: no kernel model needed.
#include <drm_fourcc.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dmabuf_params.hpp"
#include "test_kernel.hpp"

namespace wlprime::test {
namespace {

constexpr uint64_t linear = DRM_FORMAT_MOD_LINEAR;
constexpr uint64_t tiled = I915_FORMAT_MOD_X_TILED;

class ParamsTest : public ::testing::Test {
protected:
	void SetUp() override {
		fds_before_ = open_fd_count();
		supported_.add(DRM_FORMAT_XRGB8888, linear);
		supported_.add(DRM_FORMAT_XRGB8888, tiled);
		supported_.add(DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_INVALID);
		supported_.add(DRM_FORMAT_NV12, linear);
		supported_.add(DRM_FORMAT_NV12, tiled);
		supported_.add(DRM_FORMAT_YUV420, linear);
	}
	void TearDown() override {
		params_ = dmabuf_params();
		EXPECT_EQ(open_fd_count(), fds_before_) << "fds leaked";
	}
	static unique_fd buffer(uint64_t size) {
		unique_fd fd(memfd_create("params-test", MFD_CLOEXEC));
		EXPECT_EQ(ftruncate(fd.get(), static_cast<off_t>(size)), 0);
		return fd;
	}
	void add_ok(uint32_t plane, uint64_t size, uint32_t offset, uint32_t stride,
	            uint64_t modifier = linear) {
		auto failure = params_.add(buffer(size), plane, offset, stride, modifier);
		ASSERT_FALSE(failure) << failure->message;
	}
	void expect_add_error(params_error code, uint32_t plane, uint64_t modifier = linear) {
		auto failure = params_.add(buffer(4096), plane, 0, 256, modifier);
		ASSERT_TRUE(failure);
		EXPECT_TRUE(failure->fatal);
		EXPECT_EQ(failure->code, code) << failure->message;
	}
	params_failure create_fails(int32_t w, int32_t h, uint32_t format, uint32_t flags = 0) {
		auto r = params_.create(w, h, format, flags, supported_);
		EXPECT_TRUE(std::holds_alternative<params_failure>(r));
		return std::holds_alternative<params_failure>(r) ? std::get<params_failure>(r)
		                                                 : params_failure{};
	}
	void expect_create_error(params_error code, int32_t w, int32_t h, uint32_t format,
	                         uint32_t flags = 0) {
		params_failure f = create_fails(w, h, format, flags);
		EXPECT_TRUE(f.fatal);
		EXPECT_EQ(f.code, code) << to_string(f.code) << ": " << f.message;
		EXPECT_FALSE(f.message.empty());
	}

	dmabuf_params params_;
	format_set supported_;
	int fds_before_ = 0;
};

TEST_F(ParamsTest, ValidSinglePlaneCreates) {
	add_ok(0, 64 * 256, 0, 256);
	auto r = params_.create(64, 64, DRM_FORMAT_XRGB8888, 0, supported_);
	ASSERT_TRUE(std::holds_alternative<dmabuf_attributes>(r));
	auto &a = std::get<dmabuf_attributes>(r);
	EXPECT_EQ(a.n_planes, 1u);
	EXPECT_EQ(a.width, 64);
	EXPECT_EQ(a.modifier, linear);
	EXPECT_TRUE(a.planes[0].fd.valid());
	EXPECT_EQ(a.planes[0].stride, 256u);
	EXPECT_TRUE(params_.used());
}

// y_invert is kept in the attributes (and so in the Import's key): every
// stage that reads the buffer honours it.
TEST_F(ParamsTest, YInvertIsKeptInTheAttributes) {
	add_ok(0, 64 * 256, 0, 256);
	auto r = params_.create(64, 64, DRM_FORMAT_XRGB8888, 1, supported_);
	ASSERT_TRUE(std::holds_alternative<dmabuf_attributes>(r));
	EXPECT_EQ(std::get<dmabuf_attributes>(r).flags, 1u);
}

TEST_F(ParamsTest, PlaneIdx) {
	expect_add_error(params_error::plane_idx, 4);
	expect_add_error(params_error::plane_idx, 0xffffffff);
}

TEST_F(ParamsTest, PlaneSet) {
	add_ok(0, 4096, 0, 256);
	expect_add_error(params_error::plane_set, 0);
}

TEST_F(ParamsTest, AlreadyUsedOnAddAndOnCreate) {
	add_ok(0, 64 * 256, 0, 256);
	(void)params_.create(64, 64, DRM_FORMAT_XRGB8888, 0, supported_);
	expect_add_error(params_error::already_used, 1);
	expect_create_error(params_error::already_used, 64, 64, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, AlreadyUsedAfterAFailedCreate) {
	expect_create_error(params_error::incomplete, 64, 64, DRM_FORMAT_XRGB8888);
	expect_create_error(params_error::already_used, 64, 64, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, IncompleteWithNoPlanes) {
	expect_create_error(params_error::incomplete, 64, 64, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, IncompleteWithAGap) {
	add_ok(0, 64 * 256, 0, 256);
	add_ok(2, 64 * 256, 0, 256);
	expect_create_error(params_error::incomplete, 64, 64, DRM_FORMAT_YUV420);
}

TEST_F(ParamsTest, IncompleteWithoutPlaneZero) {
	add_ok(1, 64 * 256, 0, 256);
	expect_create_error(params_error::incomplete, 64, 64, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, IncompleteWhenPlanesDoNotMatchTheFormat) {
	add_ok(0, 64 * 64, 0, 64);
	expect_create_error(params_error::incomplete, 64, 64, DRM_FORMAT_NV12);
}

TEST_F(ParamsTest, TooManyPlanesForALinearFormat) {
	add_ok(0, 64 * 256, 0, 256);
	add_ok(1, 64 * 256, 0, 256);
	expect_create_error(params_error::incomplete, 64, 64, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, VendorModifierMayAddAnAuxPlane) {
	add_ok(0, 64 * 256, 0, 256, tiled);
	add_ok(1, 4096, 0, 64, tiled);
	auto r = params_.create(64, 64, DRM_FORMAT_XRGB8888, 0, supported_);
	EXPECT_TRUE(std::holds_alternative<dmabuf_attributes>(r));
}

TEST_F(ParamsTest, InvalidDimensions) {
	for (auto [w, h] : {std::pair{0, 64}, {64, 0}, {-1, 64}, {64, -5}}) {
		params_ = dmabuf_params();
		add_ok(0, 64 * 256, 0, 256);
		expect_create_error(params_error::invalid_dimensions, w, h, DRM_FORMAT_XRGB8888);
	}
}

TEST_F(ParamsTest, InvalidFormat) {
	add_ok(0, 64 * 256, 0, 256);
	expect_create_error(params_error::invalid_format, 64, 64, DRM_FORMAT_ABGR16161616F);
}

TEST_F(ParamsTest, InvalidFormatForAnUnadvertisedModifier) {
	add_ok(0, 64 * 256, 0, 256, I915_FORMAT_MOD_Y_TILED);
	params_failure f = create_fails(64, 64, DRM_FORMAT_XRGB8888);
	EXPECT_EQ(f.code, params_error::invalid_format);
	EXPECT_NE(f.message.find("XR24"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, ModifiersMustAgreeAcrossPlanes) {
	add_ok(0, 64 * 64, 0, 64, linear);
	expect_add_error(params_error::invalid_format, 1, tiled);
}

TEST_F(ParamsTest, OutOfBoundsOffsetPastTheEnd) {
	add_ok(0, 4096, 4096, 16);
	expect_create_error(params_error::out_of_bounds, 4, 4, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, OutOfBoundsStrideTimesHeight) {
	add_ok(0, 64 * 256 - 1, 0, 256);
	params_failure f = create_fails(64, 64, DRM_FORMAT_XRGB8888);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	EXPECT_NE(f.message.find("16383"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, OutOfBoundsOffsetPlusStrideTimesHeight) {
	add_ok(0, 64 * 256, 256, 256);
	expect_create_error(params_error::out_of_bounds, 64, 64, DRM_FORMAT_XRGB8888);
}

TEST_F(ParamsTest, OutOfBoundsChromaPlaneUsesSubsampledHeight) {
	// NV12 64x64 in one buffer: Y 64*64, UV 64*32 at offset 4096 -> 6144 bytes.
	{
		add_ok(0, 6144, 0, 64);
		add_ok(1, 6144, 4096, 64);
		auto r = params_.create(64, 64, DRM_FORMAT_NV12, 0, supported_);
		ASSERT_TRUE(std::holds_alternative<dmabuf_attributes>(r));
	}
	params_ = dmabuf_params();
	add_ok(0, 6143, 0, 64);
	add_ok(1, 6143, 4096, 64);
	expect_create_error(params_error::out_of_bounds, 64, 64, DRM_FORMAT_NV12);
}

TEST_F(ParamsTest, OutOfBoundsWhenTheArithmeticOverflows) {
	// 0xffffffff * 0x7fffffff + 0xfffff000 overflows 32 bits many times over
	// and must not wrap into "fits".
	add_ok(0, 8192, 0xfff, 0xffffffff);
	expect_create_error(params_error::out_of_bounds, 1, 0x7fffffff, DRM_FORMAT_XRGB8888);
}

// Regressions of issue 12: geometry that `offset + stride * height <= size`
// let through, and that composition then read past the dma-buf.
TEST_F(ParamsTest, StrideZeroIsOutOfBounds) {
	add_ok(0, 4096, 0, 0);
	params_failure f = create_fails(16, 16, DRM_FORMAT_XRGB8888);
	EXPECT_TRUE(f.fatal);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	EXPECT_NE(f.message.find("offset 0, stride 0"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, StrideSmallerThanARowIsOutOfBounds) {
	// 64 XRGB8888 pixels are 256 bytes a row; a 255-byte stride overlaps rows
	// and makes the last row end past stride * height.
	add_ok(0, 64 * 256, 0, 255);
	params_failure f = create_fails(64, 64, DRM_FORMAT_XRGB8888);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	EXPECT_NE(f.message.find("smaller than one row"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, RowStartingFourBytesBeforeTheEndIsOutOfBounds) {
	// 64x1: offset + stride * 1 <= size held, but the row is 256 bytes.
	add_ok(0, 4096, 4092, 4);
	params_failure f = create_fails(64, 1, DRM_FORMAT_XRGB8888);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	params_ = dmabuf_params();
	add_ok(0, 4096, 4092, 256);
	f = create_fails(64, 1, DRM_FORMAT_XRGB8888);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	EXPECT_NE(f.message.find("4092 + 256 * 0 + 256"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, LastRowEndingExactlyAtTheEndFits) {
	// The stride of the last row need not fit: only its pixels.
	add_ok(0, 4096, 4096 - 256 - 512 * 3, 512);
	auto r = params_.create(64, 4, DRM_FORMAT_XRGB8888, 0, supported_);
	EXPECT_TRUE(std::holds_alternative<dmabuf_attributes>(r));
}

TEST_F(ParamsTest, ChromaStrideSmallerThanItsRowIsOutOfBounds) {
	// NV12 64 wide: the CbCr plane has 32 samples of 2 bytes = 64 bytes a row.
	add_ok(0, 8192, 0, 64);
	add_ok(1, 8192, 4096, 63);
	params_failure f = create_fails(64, 64, DRM_FORMAT_NV12);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	EXPECT_NE(f.message.find("plane 1"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, PackedYuvRowCoversWholeMacropixels) {
	// YUYV 3 pixels wide: two 4-byte macropixels, 8 bytes a row, not 6.
	supported_.add(DRM_FORMAT_YUYV, linear);
	add_ok(0, 4096, 4096 - 6, 8);
	params_failure f = create_fails(3, 1, DRM_FORMAT_YUYV);
	EXPECT_EQ(f.code, params_error::out_of_bounds);
	EXPECT_NE(f.message.find("1 rows of 8 bytes"), std::string::npos) << f.message;
}

TEST_F(ParamsTest, FormatWithoutALayoutDescriptionIsInvalid) {
	supported_.add(DRM_FORMAT_C8, linear);
	add_ok(0, 4096, 0, 64);
	expect_create_error(params_error::invalid_format, 64, 64, DRM_FORMAT_C8);
}

TEST_F(ParamsTest, InterlacedIsANonFatalFailure) {
	add_ok(0, 64 * 256, 0, 256);
	params_failure f = create_fails(64, 64, DRM_FORMAT_XRGB8888, 2);
	EXPECT_FALSE(f.fatal);
	EXPECT_EQ(f.code, params_error::invalid_wl_buffer);
}

TEST_F(ParamsTest, UnknownFlagsAreANonFatalFailure) {
	add_ok(0, 64 * 256, 0, 256);
	params_failure f = create_fails(64, 64, DRM_FORMAT_XRGB8888, 0x100);
	EXPECT_FALSE(f.fatal);
	EXPECT_NE(f.message.find("0x100"), std::string::npos) << f.message;
}

// Regression: a plane whose size could not be read skipped the bounds check,
// so nothing bounded what composition read of it.
TEST_F(ParamsTest, UnreadableSizeIsANonFatalFailure) {
	int p[2];
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	unique_fd read_end(p[0]), write_end(p[1]);
	ASSERT_FALSE(params_.add(std::move(read_end), 0, 0, 256, linear));
	params_failure f = create_fails(64, 64, DRM_FORMAT_XRGB8888);
	EXPECT_FALSE(f.fatal);
	EXPECT_NE(f.message.find("size of the dma-buf cannot be read"), std::string::npos)
	    << f.message;
}

TEST_F(ParamsTest, FdsAreClosedOnEveryPath) {
	// Refused adds, a failed create and unused params all close their fds
	// (TearDown counts them); a successful create hands them over.
	add_ok(0, 4096, 0, 64);
	expect_add_error(params_error::plane_set, 0);
	expect_add_error(params_error::plane_idx, 9);
	add_ok(1, 4096, 0, 64);
	add_ok(3, 4096, 0, 64);
	expect_create_error(params_error::incomplete, 8, 8, DRM_FORMAT_XRGB8888);
	int open_now = open_fd_count();
	EXPECT_EQ(open_now, fds_before_ + 3) << "failed create keeps fds until params go";
	params_ = dmabuf_params();
	EXPECT_EQ(open_fd_count(), fds_before_);
}

} // namespace
} // namespace wlprime::test
