// scanout_probe: what a display device scans out right now, read back from
// the kernel (not from the compositor): for each active primary plane, the
// framebuffer on it (drmModeGetFB2, which needs root or DRM master), its
// buffer exported with PRIME and mapped, and the pixel at (x, y).
//
//   scanout_probe /dev/dri/cardN X Y
//
// Prints one line per plane showing something:
//   plane 32 crtc 38 fb 49 1024x768 XR24 pitch 4096 pixel(5,5) 0xffff0000
// Exit status: 0 if at least one plane shows a framebuffer, 1 if none, 2 on
// a usage or system error.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

int main(int argc, char *argv[]) {
	if (argc != 4) {
		std::fprintf(stderr, "usage: %s /dev/dri/cardN X Y\n", argv[0]);
		return 2;
	}
	int x = std::atoi(argv[2]), y = std::atoi(argv[3]);
	int fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		std::fprintf(stderr, "open %s: %s\n", argv[1], std::strerror(errno));
		return 2;
	}
	drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
	drmModePlaneRes *planes = drmModeGetPlaneResources(fd);
	if (planes == nullptr) {
		std::fprintf(stderr, "%s: no planes: %s\n", argv[1], std::strerror(errno));
		return 2;
	}
	int shown = 0;
	for (uint32_t i = 0; i < planes->count_planes; i++) {
		drmModePlane *plane = drmModeGetPlane(fd, planes->planes[i]);
		if (plane == nullptr || plane->fb_id == 0) {
			drmModeFreePlane(plane);
			continue;
		}
		drmModeFB2 *fb = drmModeGetFB2(fd, plane->fb_id);
		if (fb == nullptr) {
			std::fprintf(stderr, "plane %u: GETFB2 %u: %s\n", plane->plane_id,
			             plane->fb_id, std::strerror(errno));
			drmModeFreePlane(plane);
			continue;
		}
		uint32_t pixel = 0;
		bool read = false;
		int dmabuf = -1;
		if (fb->handles[0] != 0 &&
		    drmPrimeHandleToFD(fd, fb->handles[0], DRM_CLOEXEC, &dmabuf) == 0) {
			size_t size = static_cast<size_t>(lseek(dmabuf, 0, SEEK_END));
			void *map = mmap(nullptr, size, PROT_READ, MAP_SHARED, dmabuf, 0);
			size_t at = fb->offsets[0] + size_t(y) * fb->pitches[0] + size_t(x) * 4;
			if (map != MAP_FAILED && at + 4 <= size && x < int(fb->width) &&
			    y < int(fb->height)) {
				std::memcpy(&pixel, static_cast<uint8_t *>(map) + at, 4);
				read = true;
			}
			if (map != MAP_FAILED) {
				munmap(map, size);
			}
			close(dmabuf);
		}
		// GETFB2 made handles on our file description: close them.
		for (int p = 0; p < 4; p++) {
			bool seen = false;
			for (int q = 0; q < p; q++) {
				seen = seen || fb->handles[q] == fb->handles[p];
			}
			if (fb->handles[p] != 0 && !seen) {
				drmCloseBufferHandle(fd, fb->handles[p]);
			}
		}
		char fourcc[5] = {};
		std::memcpy(fourcc, &fb->pixel_format, 4);
		std::printf("plane %u crtc %u fb %u %ux%u %s pitch %u pixel(%d,%d) ",
		            plane->plane_id, plane->crtc_id, plane->fb_id, fb->width, fb->height,
		            fourcc, fb->pitches[0], x, y);
		if (read) {
			std::printf("0x%08x\n", pixel);
		} else {
			std::printf("unreadable\n");
		}
		shown++;
		drmModeFreeFB2(fb);
		drmModeFreePlane(plane);
	}
	drmModeFreePlaneResources(planes);
	close(fd);
	return shown > 0 ? 0 : 1;
}
