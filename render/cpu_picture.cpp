#include "render/cpu_picture.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <pixman.h>
#include <tuple>
#include <utility>
#include <vector>

#include "render/cpu_format.hpp"
#include "render/yuv_convert.hpp"

namespace wlprime {

namespace {

class cpu_picture final : public import_attachment {
public:
	cpu_picture(uint32_t width, uint32_t height)
	    : stride_(width * 4), pixels_(size_t(stride_) * height), height_(height),
	      dirty_end_(height) {}

	uint8_t *row(uint32_t y) { return pixels_.data() + size_t(y) * stride_; }
	uint32_t stride() const { return stride_; }
	uint32_t height() const { return height_; }

	void damage(uint32_t y0, uint32_t y1) {
		// A new picture is made by the first read, which wlroots does
		// while it applies the commit that attached the buffer (its
		// texture is made then): the commit's own damage, reported
		// just after, is in it already.
		if (std::exchange(fresh_, false))
			return;
		y1 = std::min(y1, height_);
		if (y0 >= y1)
			return;
		if (dirty_begin_ >= dirty_end_) {
			dirty_begin_ = y0, dirty_end_ = y1;
		} else {
			dirty_begin_ = std::min(dirty_begin_, y0);
			dirty_end_ = std::max(dirty_end_, y1);
		}
	}
	bool dirty() const { return dirty_begin_ < dirty_end_; }
	uint32_t dirty_begin() const { return dirty_begin_; }
	uint32_t dirty_end() const { return dirty_end_; }
	void converted(uint32_t rows) {
		dirty_begin_ = dirty_end_ = 0;
		stats_.conversions++;
		stats_.rows_converted += rows;
	}
	const cpu_picture_stats &stats() const { return stats_; }

private:
	uint32_t stride_;
	std::vector<uint8_t> pixels_;
	uint32_t height_;
	// The rows to convert at the next read; all of them at first.
	uint32_t dirty_begin_ = 0, dirty_end_;
	bool fresh_ = true; // no damage reported since it was made
	cpu_picture_stats stats_{true, 0, 0};
};

cpu_picture *picture_of(const dmabuf_import &import) {
	return dynamic_cast<cpu_picture *>(import.attachment());
}

error refusal(const dmabuf_import &import, const std::string &why) {
	return {"import #" + std::to_string(import.serial()) + " (" +
	            format_name(import.key().format) + "): " + why,
	        0};
}

// Rows [y0, y1) of a `pixman` (or unaligned `direct`) format, composited by
// pixman into the picture. pixman reads rows of 32-bit words: a band whose
// rows do not start on 4-byte boundaries goes one row at a time through an
// aligned copy.
bool pixman_rows(const cpu_format &f, const uint8_t *src, uint32_t src_stride, uint32_t row_bytes,
                 uint32_t width, uint32_t y0, uint32_t y1, cpu_picture &pic) {
	auto composite = [&](const uint8_t *bits, uint32_t stride, uint32_t y, uint32_t rows) {
		pixman_image_t *s = pixman_image_create_bits_no_clear(
		    f.pixman, int(width), int(rows),
		    reinterpret_cast<uint32_t *>(const_cast<uint8_t *>(bits)), int(stride));
		pixman_image_t *d = pixman_image_create_bits_no_clear(
		    pixman_format_of(f.shown_as), int(width), int(rows),
		    reinterpret_cast<uint32_t *>(pic.row(y)), int(pic.stride()));
		if (s && d)
			pixman_image_composite32(PIXMAN_OP_SRC, s, nullptr, d, 0, 0, 0, 0, 0, 0,
			                         int(width), int(rows));
		if (s)
			pixman_image_unref(s);
		if (d)
			pixman_image_unref(d);
		return s && d;
	};
	const uint8_t *first = src + size_t(y0) * src_stride;
	if (src_stride % 4 == 0 && reinterpret_cast<uintptr_t>(first) % 4 == 0)
		return composite(first, src_stride, y0, y1 - y0);
	std::vector<uint32_t> scratch((row_bytes + 3) / 4);
	for (uint32_t y = y0; y < y1; y++) {
		std::memcpy(scratch.data(), src + size_t(y) * src_stride, row_bytes);
		if (!composite(reinterpret_cast<uint8_t *>(scratch.data()),
		               uint32_t(scratch.size() * 4), y, 1))
			return false;
	}
	return true;
}

// Converts the picture's dirty rows (widened to whole chroma rows).
status convert(dmabuf_import &import, const cpu_format &f, cpu_picture &pic) {
	const import_key &key = import.key();
	const format_info *info = lookup_format(key.format);
	if (!info)
		return refusal(import, "no layout known for the format");
	uint32_t vsub = 1;
	for (uint32_t p = 0; p < info->planes; p++)
		vsub = std::max<uint32_t>(vsub, info->plane[p].vsub);
	const uint32_t y0 = pic.dirty_begin() / vsub * vsub;
	const uint32_t y1 = std::min(pic.height(), (pic.dirty_end() + vsub - 1) / vsub * vsub);
	const uint32_t width = uint32_t(key.width);

	const uint8_t *planes[3] = {};
	for (uint32_t p = 0; p < info->planes; p++) {
		auto m = import.map_plane(p);
		if (!m)
			return m.err();
		planes[p] = *m;
	}
	if (auto s = import.begin_read(); !s)
		return s;
	bool ok = false;
	if (f.reader == cpu_reader::yuv) {
		yuv_planes src;
		for (uint32_t p = 0; p < info->planes; p++) {
			src.stride[p] = key.planes[p].stride;
			src.data[p] = planes[p] + size_t(y0 / info->plane[p].vsub) * src.stride[p];
		}
		ok = yuv_to_xrgb8888(key.format, src, pic.row(y0), pic.stride(), width, y1 - y0);
	} else {
		ok =
		    pixman_rows(f, planes[0], key.planes[0].stride,
		                uint32_t(plane_bytes_per_row(*info, 0, width)), width, y0, y1, pic);
	}
	status ended = import.end_read();
	if (!ok)
		return refusal(import, "conversion to " + format_name(f.shown_as) +
		                           " failed (stride " +
		                           std::to_string(key.planes[0].stride) + ")");
	if (!ended)
		return ended;
	pic.converted(y1 - y0);
	return done{};
}

} // namespace

result<cpu_view> begin_cpu_read(dmabuf_import &import) {
	const import_key &key = import.key();
	const cpu_format *f = find_cpu_format(key.format);
	if (!f)
		return refusal(import, "composition cannot read this format");
	const bool y_invert = key.flags & dmabuf_flag_y_invert;
	cpu_view view;
	ptrdiff_t stride = 0;
	const uint8_t *top = nullptr;
	uint32_t rows = uint32_t(key.height);

	// pixman reads rows of 32-bit words: a direct format whose rows are
	// not word-aligned is converted like any other.
	bool in_place = f->reader == cpu_reader::direct && key.planes[0].stride % 4 == 0 &&
	                key.planes[0].offset % 4 == 0;
	if (in_place) {
		// Refused unless every row lies in the mapping (import.hpp):
		// pixman then reads height rows of width pixels, stride apart.
		auto plane = import.map_plane(0);
		if (!plane)
			return plane.err();
		if (auto s = import.begin_read(); !s)
			return s.err();
		top = *plane;
		stride = key.planes[0].stride;
		view.format = key.format;
		view.in_place = true;
	} else {
		cpu_picture *pic = picture_of(import);
		if (!pic) {
			auto made = std::make_unique<cpu_picture>(uint32_t(key.width), rows);
			pic = made.get();
			import.set_attachment(std::move(made));
		}
		if (pic->dirty())
			if (auto s = convert(import, *f, *pic); !s)
				return s.err();
		top = pic->row(0);
		stride = pic->stride();
		view.format = f->shown_as;
	}
	view.data = top;
	view.stride = stride;
	if (y_invert) {
		// First row at the bottom: hand out the last row and a negative
		// stride, so every reader (the pixman renderer, the copy path)
		// walks the same rows upwards. wlroots passes the size_t on to
		// pixman as an int, and pixman steps rows by a signed stride.
		view.data = top + size_t(stride) * (rows - 1);
		view.stride = -stride;
	}
	return view;
}

status end_cpu_read(dmabuf_import &import, const cpu_view &view) {
	if (!view.in_place)
		return done{};
	return import.end_read();
}

void cpu_picture_damage(dmabuf_import &import, int32_t y0, int32_t y1) {
	cpu_picture *pic = picture_of(import);
	if (!pic)
		return;
	const int32_t h = int32_t(pic->height());
	y0 = std::clamp(y0, 0, h);
	y1 = std::clamp(y1, 0, h);
	if (import.key().flags & dmabuf_flag_y_invert) // shown row y is row h-1-y
		std::tie(y0, y1) = std::pair(h - y1, h - y0);
	pic->damage(uint32_t(y0), uint32_t(y1));
}

void cpu_picture_damage_all(dmabuf_import &import) {
	if (cpu_picture *pic = picture_of(import))
		pic->damage(0, pic->height());
}

cpu_picture_stats cpu_picture_stats_of(const dmabuf_import &import) {
	const cpu_picture *pic = picture_of(import);
	return pic ? pic->stats() : cpu_picture_stats{};
}

} // namespace wlprime
