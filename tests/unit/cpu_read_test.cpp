// What composition reads of an Import (render/cpu_picture.hpp): every format
// of the CPU path's table (render/cpu_format.hpp), against reference values
// computed here, not by the code under test: RGB packed by hand, YUV through
// the BT.601 limited-range equations. Odd widths and heights, chroma samples
// that differ from their neighbours (a wrong sample position shows), tight
// strides (RGB888 and RGB565 rows then start off 4-byte boundaries), the
// last plane ending at the end of its dma-buf, whose mapping has a guard
// page after it (an over-read faults). Then damage: which rows a read
// converts again. Against the kernel model and, in the guest, the real one.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "import_cache.hpp"
#include "import_fixture.hpp"
#include "render/cpu_format.hpp"
#include "render/cpu_picture.hpp"

namespace wlprime::test {
namespace {

struct rgb {
	int r, g, b;
};

// --- reference YUV: per pixel luma, per chroma sample Cb/Cr -----------------

int luma(int x, int y) {
	return 16 + (x * 17 + y * 29) % 220;
}
int cb(int cx, int cy) {
	return 16 + (cx * 37 + cy * 53 + 40) % 225;
}
int cr(int cx, int cy) {
	return 16 + (cx * 23 + cy * 71 + 90) % 225;
}

rgb bt601_limited(int y, int u, int v) {
	const double c = 1.164383 * (y - 16), d = u - 128, e = v - 128;
	auto clamp = [](double x) { return int(std::lround(std::clamp(x, 0.0, 255.0))); };
	return {clamp(c + 1.596027 * e), clamp(c - 0.391762 * d - 0.812968 * e),
	        clamp(c + 2.017232 * d)};
}

// --- reference RGB: bit positions in a little-endian pixel ------------------

struct rgb_layout {
	uint32_t fourcc;
	int bytes;
	int r_shift, r_bits, g_shift, g_bits, b_shift, b_bits, a_shift, a_bits;
};

constexpr rgb_layout rgb_layouts[] = {
    {DRM_FORMAT_ARGB8888, 4, 16, 8, 8, 8, 0, 8, 24, 8},
    {DRM_FORMAT_XRGB8888, 4, 16, 8, 8, 8, 0, 8, 0, 0},
    {DRM_FORMAT_ABGR8888, 4, 0, 8, 8, 8, 16, 8, 24, 8},
    {DRM_FORMAT_XBGR8888, 4, 0, 8, 8, 8, 16, 8, 0, 0},
    {DRM_FORMAT_RGBA8888, 4, 24, 8, 16, 8, 8, 8, 0, 8},
    {DRM_FORMAT_RGBX8888, 4, 24, 8, 16, 8, 8, 8, 0, 0},
    {DRM_FORMAT_BGRA8888, 4, 8, 8, 16, 8, 24, 8, 0, 8},
    {DRM_FORMAT_BGRX8888, 4, 8, 8, 16, 8, 24, 8, 0, 0},
    {DRM_FORMAT_RGB565, 2, 11, 5, 5, 6, 0, 5, 0, 0},
    {DRM_FORMAT_BGR565, 2, 0, 5, 5, 6, 11, 5, 0, 0},
    {DRM_FORMAT_ARGB2101010, 4, 20, 10, 10, 10, 0, 10, 30, 2},
    {DRM_FORMAT_XRGB2101010, 4, 20, 10, 10, 10, 0, 10, 0, 0},
    {DRM_FORMAT_ABGR2101010, 4, 0, 10, 10, 10, 20, 10, 30, 2},
    {DRM_FORMAT_XBGR2101010, 4, 0, 10, 10, 10, 20, 10, 0, 0},
    {DRM_FORMAT_RGB888, 3, 16, 8, 8, 8, 0, 8, 0, 0},
    {DRM_FORMAT_BGR888, 3, 0, 8, 8, 8, 16, 8, 0, 0},
};

const rgb_layout *rgb_layout_of(uint32_t fourcc) {
	for (const rgb_layout &l : rgb_layouts)
		if (l.fourcc == fourcc)
			return &l;
	return nullptr;
}

rgb rgb_pixel(int x, int y) {
	return {(x * 19 + y * 7) % 256, (x * 5 + y * 31 + 60) % 256, (x * 41 + y * 3 + 120) % 256};
}

uint32_t to_bits(int c8, int bits) {
	return uint32_t(c8) >> (8 - std::min(bits, 8)) << std::max(bits - 8, 0) |
	       (bits > 8 ? uint32_t(c8) >> (16 - bits) : 0);
}
int from_bits(uint32_t v, int bits) {
	const uint32_t max = (1u << bits) - 1;
	return int((v * 255 + max / 2) / max);
}

void pack_rgb(const rgb_layout &l, rgb c, uint8_t *out) {
	uint32_t v = to_bits(c.r, l.r_bits) << l.r_shift | to_bits(c.g, l.g_bits) << l.g_shift |
	             to_bits(c.b, l.b_bits) << l.b_shift;
	if (l.a_bits)
		v |= ((1u << l.a_bits) - 1) << l.a_shift; // opaque
	for (int i = 0; i < l.bytes; i++)
		out[i] = uint8_t(v >> (8 * i));
}

struct pixel {
	rgb c;
	int a; // -1: the format has no alpha
};
pixel unpack(const rgb_layout &l, const uint8_t *in) {
	uint32_t v = 0;
	for (int i = 0; i < l.bytes; i++)
		v |= uint32_t(in[i]) << (8 * i);
	auto field = [&](int shift, int bits) { return (v >> shift) & ((1u << bits) - 1); };
	return {{from_bits(field(l.r_shift, l.r_bits), l.r_bits),
	         from_bits(field(l.g_shift, l.g_bits), l.g_bits),
	         from_bits(field(l.b_shift, l.b_bits), l.b_bits)},
	        l.a_bits ? from_bits(field(l.a_shift, l.a_bits), l.a_bits) : -1};
}

// --- a buffer of any format in one dma-buf ----------------------------------

bool is_yuv(uint32_t fourcc) {
	return find_cpu_format(fourcc)->reader == cpu_reader::yuv;
}

// Writes sample s of plane p at row y (chroma row for chroma planes).
void write_yuv_row(uint32_t fourcc, uint32_t p, int y, int width, uint8_t *row) {
	const format_info &info = *lookup_format(fourcc);
	const int hsub = info.plane[1].hsub ? info.plane[1].hsub : 2;
	auto put16 = [](uint8_t *at, int v8) { // P010: 10 bits, in the high bits
		const uint16_t v = uint16_t(to_bits(v8, 10) << 6);
		at[0] = uint8_t(v), at[1] = uint8_t(v >> 8);
	};
	const bool vu = fourcc == DRM_FORMAT_NV21 || fourcc == DRM_FORMAT_NV61 ||
	                fourcc == DRM_FORMAT_YVU420 || fourcc == DRM_FORMAT_YVU422 ||
	                fourcc == DRM_FORMAT_YVU444;
	const char *packed = fourcc == DRM_FORMAT_YUYV   ? "YUYV"
	                     : fourcc == DRM_FORMAT_YVYU ? "YVYU"
	                     : fourcc == DRM_FORMAT_UYVY ? "UYVY"
	                     : fourcc == DRM_FORMAT_VYUY ? "VYUY"
	                                                 : nullptr;
	if (packed) {
		for (int m = 0; m < (width + 1) / 2; m++) {
			int ys = 0;
			for (int i = 0; i < 4; i++) {
				const char k = packed[i];
				const int x = std::min(2 * m + ys, width - 1);
				row[4 * m + i] = uint8_t(k == 'Y'   ? luma(x, y)
				                         : k == 'U' ? cb(m, y)
				                                    : cr(m, y));
				ys += k == 'Y';
			}
		}
		return;
	}
	const int cw = (width + hsub - 1) / hsub;
	if (p == 0) {
		for (int x = 0; x < width; x++)
			if (fourcc == DRM_FORMAT_P010)
				put16(row + 2 * x, luma(x, y));
			else
				row[x] = uint8_t(luma(x, y));
	} else if (info.planes == 2) { // interleaved pairs
		for (int cx = 0; cx < cw; cx++) {
			const int first = vu ? cr(cx, y) : cb(cx, y),
			          second = vu ? cb(cx, y) : cr(cx, y);
			if (fourcc == DRM_FORMAT_P010) {
				put16(row + 4 * cx, first);
				put16(row + 4 * cx + 2, second);
			} else {
				row[2 * cx] = uint8_t(first), row[2 * cx + 1] = uint8_t(second);
			}
		}
	} else {
		const bool is_cb = (p == 1) != vu;
		for (int cx = 0; cx < cw; cx++)
			row[cx] = uint8_t(is_cb ? cb(cx, y) : cr(cx, y));
	}
}

rgb expected_yuv(uint32_t fourcc, int x, int y) {
	const format_info &info = *lookup_format(fourcc);
	const int p = info.planes == 1 ? 0 : 1;
	const int hsub = info.planes == 1 ? 2 : info.plane[1].hsub;
	const int vsub = info.plane[p].vsub;
	int yv = luma(x, y), u = cb(x / hsub, y / vsub), v = cr(x / hsub, y / vsub);
	if (fourcc == DRM_FORMAT_P010) { // what 10 bits hold of the 8-bit values
		auto r = [](int v8) { return double(to_bits(v8, 10)) / 4.0; };
		const double c = 1.164383 * (r(yv) - 16), d = r(u) - 128, e = r(v) - 128;
		auto clamp = [](double z) { return int(std::lround(std::clamp(z, 0.0, 255.0))); };
		return {clamp(c + 1.596027 * e), clamp(c - 0.391762 * d - 0.812968 * e),
		        clamp(c + 2.017232 * d)};
	}
	return bt601_limited(yv, u, v);
}

class CpuReadTest : public kernel_test {
protected:
	static constexpr int width = 13, height = 9; // odd: half chroma samples at the edges

	struct buffer {
		unique_fd fd;
		uint8_t *map = nullptr;
		size_t size = 0;
		uint32_t offsets[3] = {}, strides[3] = {};
		~buffer() {
			if (map)
				munmap(map, size);
		}
	};

	// Tight strides; the planes back to back, the last one ending (to within
	// the 4-byte alignment of the first offset) at the end of the dma-buf.
	std::unique_ptr<buffer> make(uint32_t fourcc) {
		const format_info &info = *lookup_format(fourcc);
		auto b = std::make_unique<buffer>();
		uint64_t total = 0;
		for (uint32_t p = 0; p < info.planes; p++) {
			b->strides[p] = uint32_t(plane_bytes_per_row(info, p, width));
			total += uint64_t(b->strides[p]) * plane_rows(info, p, height);
		}
		uint32_t pitch = 0;
		b->fd = new_dmabuf(64, uint32_t(total / 256 + 1), &pitch);
		struct stat st;
		b->size = size_t(lseek(b->fd.get(), 0, SEEK_END));
		(void)st;
		uint64_t at = (b->size - total) & ~uint64_t(3);
		for (uint32_t p = 0; p < info.planes; p++) {
			b->offsets[p] = uint32_t(at);
			at += uint64_t(b->strides[p]) * plane_rows(info, p, height);
		}
		void *m =
		    mmap(nullptr, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd.get(), 0);
		EXPECT_NE(m, MAP_FAILED) << strerror(errno);
		if (m == MAP_FAILED)
			return nullptr;
		b->map = static_cast<uint8_t *>(m);
		std::memset(b->map, 0xa5, b->size); // whatever lies outside the planes
		draw_rows(fourcc, *b, 0, height, 0);
		return b;
	}

	// Rows [y0, y1) of the image (luma rows; their chroma rows too), with
	// `shift` added to the reference pattern's x (a redraw that differs).
	void draw_rows(uint32_t fourcc, buffer &b, int y0, int y1, int shift) {
		const format_info &info = *lookup_format(fourcc);
		if (const rgb_layout *l = rgb_layout_of(fourcc)) {
			for (int y = y0; y < y1; y++)
				for (int x = 0; x < width; x++)
					pack_rgb(*l, rgb_pixel(x + shift, y),
					         b.map + b.offsets[0] + size_t(y) * b.strides[0] +
					             size_t(x) * l->bytes);
			return;
		}
		(void)shift;
		for (uint32_t p = 0; p < info.planes; p++)
			for (int r = y0 / info.plane[p].vsub;
			     r < int(plane_rows(info, p, uint32_t(y1))) &&
			     r < int(plane_rows(info, p, height));
			     r++)
				write_yuv_row(fourcc, p, r, width,
				              b.map + b.offsets[p] + size_t(r) * b.strides[p]);
	}

	import_ref import(uint32_t fourcc, const buffer &b, import_cache &cache,
	                  uint32_t flags = 0) {
		dmabuf_attributes a;
		a.width = width, a.height = height;
		a.format = fourcc;
		a.modifier = DRM_FORMAT_MOD_LINEAR;
		a.flags = flags;
		a.n_planes = lookup_format(fourcc)->planes;
		for (uint32_t p = 0; p < a.n_planes; p++) {
			a.planes[p].fd = unique_fd(fcntl(b.fd.get(), F_DUPFD_CLOEXEC, 0));
			a.planes[p].offset = b.offsets[p];
			a.planes[p].stride = b.strides[p];
		}
		return acquire(cache, std::move(a));
	}

	// The pixel at (x, y) of a view, as 8-bit RGB (and alpha, -1 if none).
	static pixel at(const cpu_view &v, int x, int y) {
		const rgb_layout &l = *rgb_layout_of(v.format);
		return unpack(l, v.data + ptrdiff_t(y) * v.stride + ptrdiff_t(x) * l.bytes);
	}

	// Every pixel of `import` against the reference.
	void check_all(dmabuf_import &imp, uint32_t fourcc, bool y_invert = false) {
		auto v = begin_cpu_read(imp);
		ASSERT_TRUE(v) << v.err().message;
		const cpu_format &f = *find_cpu_format(fourcc);
		EXPECT_EQ(v->format, f.shown_as);
		EXPECT_EQ(v->in_place, f.reader == cpu_reader::direct &&
		                           imp.key().planes[0].stride % 4 == 0 &&
		                           imp.key().planes[0].offset % 4 == 0);
		const rgb_layout *src = rgb_layout_of(fourcc);
		// YUV: libyuv's fixed-point matrix is within 3 of the equations;
		// fewer than 8 bits a component: one step of the source.
		const int tolerance = !src                                                    ? 3
		                      : std::min({src->r_bits, src->g_bits, src->b_bits}) < 8 ? 8
		                                                                              : 1;
		int bad = 0;
		for (int y = 0; y < height; y++) {
			for (int x = 0; x < width; x++) {
				const int sy = y_invert ? height - 1 - y : y;
				const rgb want =
				    src ? rgb_pixel(x, sy) : expected_yuv(fourcc, x, sy);
				const pixel got = at(*v, x, y);
				if (std::abs(got.c.r - want.r) > tolerance ||
				    std::abs(got.c.g - want.g) > tolerance ||
				    std::abs(got.c.b - want.b) > tolerance ||
				    (got.a != -1 && got.a != 255)) {
					if (bad++ < 5)
						ADD_FAILURE()
						    << format_name(fourcc) << " at " << x << ","
						    << y << ": got " << got.c.r << " " << got.c.g
						    << " " << got.c.b << " alpha " << got.a
						    << ", want " << want.r << " " << want.g << " "
						    << want.b;
				}
			}
		}
		EXPECT_EQ(bad, 0) << format_name(fourcc);
		EXPECT_TRUE(end_cpu_read(imp, *v));
	}
};

TEST_F(CpuReadTest, EveryFormatOfTheTableReadsAsItsReference) {
	for (const cpu_format &f : cpu_formats()) {
		SCOPED_TRACE(format_name(f.fourcc));
		ASSERT_NE(lookup_format(f.fourcc), nullptr) << "a shown format has a layout";
		ASSERT_TRUE(is_yuv(f.fourcc) || rgb_layout_of(f.fourcc)) << "no reference for it";
		import_cache cache;
		auto b = make(f.fourcc);
		ASSERT_NE(b, nullptr);
		import_ref ref = import(f.fourcc, *b, cache);
		ASSERT_TRUE(ref);
		check_all(*ref, f.fourcc);
		// Read again, nothing changed: no conversion.
		const cpu_picture_stats before = cpu_picture_stats_of(*ref);
		check_all(*ref, f.fourcc);
		EXPECT_EQ(cpu_picture_stats_of(*ref).rows_converted, before.rows_converted);
		EXPECT_EQ(before.converted,
		          f.reader != cpu_reader::direct || ref->key().planes[0].stride % 4 != 0);
	}
}

TEST_F(CpuReadTest, YInvertedBuffersReadBottomRowFirst) {
	for (uint32_t fourcc : {DRM_FORMAT_NV12, DRM_FORMAT_XRGB8888, DRM_FORMAT_RGB888}) {
		SCOPED_TRACE(format_name(fourcc));
		import_cache cache;
		auto b = make(fourcc);
		ASSERT_NE(b, nullptr);
		import_ref ref = import(fourcc, *b, cache, dmabuf_flag_y_invert);
		ASSERT_TRUE(ref);
		check_all(*ref, fourcc, true);
	}
}

// Damage: a commit's rows are converted again, and only they (widened to
// whole chroma rows); the first damage after a picture was made is in it.
TEST_F(CpuReadTest, DamagedRowsAndOnlyThemAreConvertedAgain) {
	const uint32_t fourcc = DRM_FORMAT_NV12;
	import_cache cache;
	auto b = make(fourcc);
	ASSERT_NE(b, nullptr);
	import_ref ref = import(fourcc, *b, cache);
	ASSERT_TRUE(ref);
	check_all(*ref, fourcc);
	EXPECT_EQ(cpu_picture_stats_of(*ref).rows_converted, uint64_t(height));
	cpu_picture_damage_all(*ref); // the commit that made it: nothing to do
	check_all(*ref, fourcc);
	EXPECT_EQ(cpu_picture_stats_of(*ref).conversions, 1u);

	// The client draws black over everything, then damages row 3 only.
	const format_info &info = *lookup_format(fourcc);
	for (uint32_t p = 0; p < info.planes; p++)
		std::memset(b->map + b->offsets[p], p == 0 ? 16 : 128,
		            size_t(b->strides[p]) * plane_rows(info, p, height));
	cpu_picture_damage(*ref, 3, 4);
	auto v = begin_cpu_read(*ref);
	ASSERT_TRUE(v) << v.err().message;
	for (int y = 0; y < height; y++) {
		const bool damaged = y == 2 || y == 3; // chroma rows are two image rows
		const pixel p = at(*v, 5, y);
		if (damaged)
			EXPECT_LE(p.c.r + p.c.g + p.c.b, 3) << "row " << y << " converted again";
		else
			EXPECT_GT(p.c.r + p.c.g + p.c.b, 3) << "row " << y << " left as it was";
	}
	EXPECT_TRUE(end_cpu_read(*ref, *v));
	EXPECT_EQ(cpu_picture_stats_of(*ref).rows_converted, uint64_t(height) + 2);

	// Everything: what a commit of another buffer on the surface says.
	cpu_picture_damage_all(*ref);
	v = begin_cpu_read(*ref);
	ASSERT_TRUE(v) << v.err().message;
	for (int y = 0; y < height; y++) {
		const pixel p = at(*v, 5, y);
		EXPECT_LE(p.c.r + p.c.g + p.c.b, 3) << "row " << y;
	}
	EXPECT_TRUE(end_cpu_read(*ref, *v));
}

// The picture is the Import's while it is in use, and goes when it is idle.
TEST_F(CpuReadTest, PictureIsFreedWhenTheImportGoesIdle) {
	import_cache cache;
	auto b = make(DRM_FORMAT_NV12);
	ASSERT_NE(b, nullptr);
	import_ref ref = import(DRM_FORMAT_NV12, *b, cache);
	ASSERT_TRUE(ref);
	check_all(*ref, DRM_FORMAT_NV12);
	dmabuf_import *imp = ref.get();
	EXPECT_NE(imp->attachment(), nullptr);
	ref.reset();
	EXPECT_EQ(imp->attachment(), nullptr) << "idle, still cached, no picture";
	import_ref again = import(DRM_FORMAT_NV12, *b, cache);
	ASSERT_EQ(again.get(), imp) << "the cached Import, revived";
	check_all(*again, DRM_FORMAT_NV12);
}

} // namespace
} // namespace wlprime::test
