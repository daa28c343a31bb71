// png_pixels: checks pixels of a PNG (as wlprime --screenshot writes them)
// exactly, fast enough for the TCG guest (libpng, not a script).
//
//   png_pixels FILE X,Y,RRGGBB...
//
// Prints one line per check, e.g. "pixel(512,384) = ff0000 (want ff0000): ok",
// and the image size first. Exit status: 0 if every pixel is as wanted, 1 if
// one is not, 2 if the file cannot be read or a check is malformed.

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

} // namespace

int main(int argc, char *argv[]) {
	if (argc < 3) {
		std::fprintf(stderr, "usage: %s FILE X,Y,RRGGBB...\n", argv[0]);
		return 2;
	}
	rgb_image img;
	if (!read_png(argv[1], img)) {
		return 2;
	}
	std::printf("%s: %ux%u\n", argv[1], img.width, img.height);
	int bad = 0;
	for (int i = 2; i < argc; i++) {
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
		bool ok = got == want;
		std::printf("pixel(%u,%u) = %06x (want %06x): %s\n", x, y, got, want,
		            ok ? "ok" : "FAIL");
		bad += ok ? 0 : 1;
	}
	return bad == 0 ? 0 : 1;
}
