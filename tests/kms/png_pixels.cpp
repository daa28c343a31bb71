// png_pixels: checks pixels of a PNG (as wlprime --screenshot writes them)
// exactly or within a tolerance, fast enough for the TCG guest (libpng, not
// a script).
//
//   png_pixels [--tolerance N] FILE X,Y,RRGGBB...
//
// Prints one line per check, e.g. "pixel(512,384) = ff0000 (want ff0000): ok",
// and the image size first. With --tolerance N each channel may be off by up
// to N (converted YUV, colour bars): "(want ff0000 +-4)". Exit status: 0 if
// every pixel is as wanted, 1 if one is not, 2 if the file cannot be read or
// the command line is malformed.

#include <cstdint>
#include <cstdio>
#include <png.h>
#include <string>
#include <vector>

namespace {

struct rgb_image {
	uint32_t width = 0, height = 0;
	std::vector<uint8_t> rgb; // 3 bytes a pixel
};

bool read_png(const char *path, rgb_image &img) {
	png_image png = {};
	png.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&png, path)) {
		std::fprintf(stderr, "png_pixels: %s: %s\n", path, png.message);
		return false;
	}
	png.format = PNG_FORMAT_RGB;
	img.width = png.width;
	img.height = png.height;
	img.rgb.resize(PNG_IMAGE_SIZE(png));
	if (!png_image_finish_read(&png, nullptr, img.rgb.data(), 0, nullptr)) {
		std::fprintf(stderr, "png_pixels: %s: %s\n", path, png.message);
		png_image_free(&png);
		return false;
	}
	return true;
}

// Each channel of got within tolerance of want's.
bool near(unsigned got, unsigned want, int tolerance) {
	for (int shift : {16, 8, 0}) {
		int d = int((got >> shift) & 0xff) - int((want >> shift) & 0xff);
		if (d > tolerance || d < -tolerance) {
			return false;
		}
	}
	return true;
}

} // namespace

int main(int argc, char *argv[]) {
	int first = 1;
	int tolerance = 0;
	if (argc > 2 && std::string(argv[1]) == "--tolerance") {
		if (std::sscanf(argv[2], "%d", &tolerance) != 1 || tolerance < 0 ||
		    tolerance > 255) {
			std::fprintf(stderr, "png_pixels: bad tolerance %s\n", argv[2]);
			return 2;
		}
		first = 3;
	}
	if (argc < first + 2) {
		std::fprintf(stderr, "usage: %s [--tolerance N] FILE X,Y,RRGGBB...\n", argv[0]);
		return 2;
	}
	const char *path = argv[first];
	rgb_image img;
	if (!read_png(path, img)) {
		return 2;
	}
	std::printf("%s: %ux%u\n", path, img.width, img.height);
	const std::string within = tolerance > 0 ? " +-" + std::to_string(tolerance) : "";
	int bad = 0;
	for (int i = first + 1; i < argc; i++) {
		unsigned x = 0, y = 0, want = 0;
		if (std::sscanf(argv[i], "%u,%u,%x", &x, &y, &want) != 3) {
			std::fprintf(stderr, "png_pixels: bad check %s\n", argv[i]);
			return 2;
		}
		if (x >= img.width || y >= img.height) {
			std::printf("pixel(%u,%u) outside the %ux%u image: FAIL\n", x, y, img.width,
			            img.height);
			bad++;
			continue;
		}
		const uint8_t *p = &img.rgb[(size_t(y) * img.width + x) * 3];
		unsigned got = unsigned(p[0]) << 16 | unsigned(p[1]) << 8 | p[2];
		bool ok = near(got, want, tolerance);
		std::printf("pixel(%u,%u) = %06x (want %06x%s): %s\n", x, y, got, want,
		            within.c_str(), ok ? "ok" : "FAIL");
		bad += ok ? 0 : 1;
	}
	return bad == 0 ? 0 : 1;
}
