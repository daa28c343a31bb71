#include "render/png.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <png.h>

namespace wlprime {
namespace {

// libpng reports errors through longjmp by default. We install handlers that
// record the message and longjmp back to the setjmp in the calling function;
// no C++ object with a non-trivial destructor is created between that setjmp
// and any libpng call, so the jump skips no destructor.
struct png_error_state {
	char message[256] = "";
};

void on_png_error(png_structp png, png_const_charp msg) {
	auto *state = static_cast<png_error_state *>(png_get_error_ptr(png));
	std::snprintf(state->message, sizeof(state->message), "%s", msg);
	png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

struct file_closer {
	void operator()(FILE *f) const { std::fclose(f); }
};
using unique_file = std::unique_ptr<FILE, file_closer>;

// Writes rows (already RGB) to f. Returns an empty string on success.
std::string write_rows(FILE *f, int width, int height, png_bytep *rows) {
	png_error_state state;
	png_structp png =
	    png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
	if (png == nullptr) {
		return "png_create_write_struct failed";
	}
	png_infop info = png_create_info_struct(png);
	if (info == nullptr) {
		png_destroy_write_struct(&png, nullptr);
		return "png_create_info_struct failed";
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return state.message;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
	             8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	             PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, nullptr);
	png_destroy_write_struct(&png, &info);
	return {};
}

// Reads f into rgba (width * height * 4 bytes). Returns an empty string on
// success.
std::string read_rows(FILE *f, int *width, int *height, std::vector<unsigned char> *rgba) {
	png_error_state state;
	std::vector<png_bytep> rows; // before setjmp: a longjmp must not skip its destructor
	png_structp png =
	    png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, on_png_error, on_png_warning);
	if (png == nullptr) {
		return "png_create_read_struct failed";
	}
	png_infop info = png_create_info_struct(png);
	if (info == nullptr) {
		png_destroy_read_struct(&png, nullptr, nullptr);
		return "png_create_info_struct failed";
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, nullptr);
		return state.message;
	}
	png_init_io(png, f);
	png_read_info(png, info);
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
	png_read_update_info(png, info);
	png_uint_32 w = png_get_image_width(png, info);
	png_uint_32 h = png_get_image_height(png, info);
	if (png_get_rowbytes(png, info) != static_cast<std::size_t>(w) * 4) {
		png_destroy_read_struct(&png, &info, nullptr);
		return "unsupported PNG layout";
	}
	rgba->resize(static_cast<std::size_t>(w) * h * 4);
	rows.resize(h);
	for (png_uint_32 y = 0; y < h; y++) {
		rows[y] = rgba->data() + static_cast<std::size_t>(y) * w * 4;
	}
	png_read_image(png, rows.data());
	png_read_end(png, nullptr);
	png_destroy_read_struct(&png, &info, nullptr);
	*width = static_cast<int>(w);
	*height = static_cast<int>(h);
	return {};
}

} // namespace

status write_png(const std::string &path, const image &img) {
	if (img.width <= 0 || img.height <= 0) {
		return error{"cannot write an empty image to " + path};
	}
	std::vector<unsigned char> rgb(static_cast<std::size_t>(img.width) * img.height * 3);
	std::vector<png_bytep> rows(static_cast<std::size_t>(img.height));
	for (int y = 0; y < img.height; y++) {
		unsigned char *row = rgb.data() + static_cast<std::size_t>(y) * img.width * 3;
		rows[static_cast<std::size_t>(y)] = row;
		for (int x = 0; x < img.width; x++) {
			uint32_t px = img.at(x, y);
			row[x * 3 + 0] = static_cast<unsigned char>(px >> 16);
			row[x * 3 + 1] = static_cast<unsigned char>(px >> 8);
			row[x * 3 + 2] = static_cast<unsigned char>(px);
		}
	}

	unique_file f(std::fopen(path.c_str(), "wb"));
	if (!f) {
		return error{"cannot open " + path + " for writing: " + std::strerror(errno)};
	}
	std::string failure = write_rows(f.get(), img.width, img.height, rows.data());
	if (!failure.empty()) {
		return error{"cannot write PNG " + path + ": " + failure};
	}
	if (std::fclose(f.release()) != 0) {
		return error{"cannot write PNG " + path + ": " + std::strerror(errno)};
	}
	return done{};
}

result<image> read_png(const std::string &path) {
	unique_file f(std::fopen(path.c_str(), "rb"));
	if (!f) {
		return error{"cannot open " + path + ": " + std::strerror(errno)};
	}
	image img;
	std::vector<unsigned char> rgba;
	std::string failure = read_rows(f.get(), &img.width, &img.height, &rgba);
	if (!failure.empty()) {
		return error{"cannot read PNG " + path + ": " + failure};
	}
	img.pixels.resize(static_cast<std::size_t>(img.width) * img.height);
	for (std::size_t i = 0; i < img.pixels.size(); i++) {
		const unsigned char *p = rgba.data() + i * 4;
		img.pixels[i] = 0xff000000u | (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
	}
	return img;
}

} // namespace wlprime
