// SPDX-License-Identifier: MIT
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "kernel.hpp"
#include "enum_name.hpp"

namespace wlprime {

const char *to_string(node_type type) {
	static constexpr const char *names[] = {"primary", "render", "other"};
	return enum_name(type, names, "other");
}

static error errno_error(int err, const std::string &what) {
	return error{what + ": " + std::strerror(err), err};
}

// drmIoctl (which restarts on EINTR and EAGAIN) as the errno it failed with,
// or 0.
template <typename Args> static int drm_ioctl(int dev_fd, unsigned long request, Args *args) {
	return drmIoctl(dev_fd, request, args) == 0 ? 0 : errno;
}

result<unique_fd> linux_kernel::open_node(const std::string &path) {
	unique_fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
	if (!fd)
		return errno_error(errno, "open " + path);
	return fd;
}

result<std::string> linux_kernel::node_path(int fd) {
	char *name = drmGetDeviceNameFromFd2(fd);
	if (!name)
		return errno_error(errno ? errno : ENODEV,
		                   "drmGetDeviceNameFromFd2(fd " + std::to_string(fd) + ")");
	std::string path(name);
	free(name);
	return path;
}

result<device_info> linux_kernel::describe(int fd) {
	device_info info;
	struct stat st;
	if (::fstat(fd, &st) != 0)
		return errno_error(errno, "fstat(fd " + std::to_string(fd) + ")");
	if (!S_ISCHR(st.st_mode))
		return error{"fd " + std::to_string(fd) + " is not a character device", ENOTTY};
	info.rdev = st.st_rdev;

	drmVersionPtr version = drmGetVersion(fd);
	if (!version)
		return errno_error(errno ? errno : ENOTTY,
		                   "drmGetVersion(fd " + std::to_string(fd) + ")");
	info.driver.assign(version->name, version->name_len);
	drmFreeVersion(version);

	if (auto path = node_path(fd))
		info.path = *path;
	switch (drmGetNodeTypeFromFd(fd)) {
	case DRM_NODE_PRIMARY:
		info.node = node_type::primary;
		break;
	case DRM_NODE_RENDER:
		info.node = node_type::render;
		break;
	default:
		info.node = node_type::other;
		break;
	}

	uint64_t cap = 0;
	if (drmGetCap(fd, DRM_CAP_PRIME, &cap) == 0) {
		info.prime_import = cap & DRM_PRIME_CAP_IMPORT;
		info.prime_export = cap & DRM_PRIME_CAP_EXPORT;
	}
	cap = 0;
	if (drmGetCap(fd, DRM_CAP_ADDFB2_MODIFIERS, &cap) == 0)
		info.fb_modifiers = cap != 0;
	return info;
}

int linux_kernel::prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) {
	struct drm_prime_handle args = {};
	args.fd = dmabuf_fd;
	if (int err = drm_ioctl(dev_fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &args))
		return err;
	*handle = args.handle;
	return 0;
}

int linux_kernel::prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) {
	struct drm_prime_handle args = {};
	args.handle = handle;
	args.flags = flags;
	args.fd = -1;
	if (int err = drm_ioctl(dev_fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &args))
		return err;
	*fd = args.fd;
	return 0;
}

int linux_kernel::gem_close(int dev_fd, uint32_t handle) {
	struct drm_gem_close args = {};
	args.handle = handle;
	return drm_ioctl(dev_fd, DRM_IOCTL_GEM_CLOSE, &args);
}

int linux_kernel::add_fb2(int dev_fd, const fb_request &r, uint32_t *fb_id) {
	struct drm_mode_fb_cmd2 args = {};
	args.width = r.width;
	args.height = r.height;
	args.pixel_format = r.format;
	args.flags = r.modifiers ? DRM_MODE_FB_MODIFIERS : 0;
	for (int i = 0; i < 4; i++) {
		args.handles[i] = r.handles[i];
		args.pitches[i] = r.pitches[i];
		args.offsets[i] = r.offsets[i];
		args.modifier[i] = r.modifiers && r.handles[i] ? r.modifier : 0;
	}
	if (int err = drm_ioctl(dev_fd, DRM_IOCTL_MODE_ADDFB2, &args))
		return err;
	*fb_id = args.fb_id;
	return 0;
}

// Not yet in bookworm's libdrm headers (Linux 6.8 uapi).
struct wlprime_drm_mode_closefb {
	uint32_t fb_id;
	uint32_t pad;
};
#define WLPRIME_DRM_IOCTL_MODE_CLOSEFB DRM_IOWR(0xD0, struct wlprime_drm_mode_closefb)

int linux_kernel::remove_fb(int dev_fd, uint32_t fb_id) {
	struct wlprime_drm_mode_closefb args = {fb_id, 0};
	if (drmIoctl(dev_fd, WLPRIME_DRM_IOCTL_MODE_CLOSEFB, &args) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return errno;
	// Older kernel: RMFB (also disables a plane that shows it).
	uint32_t id = fb_id;
	return drm_ioctl(dev_fd, DRM_IOCTL_MODE_RMFB, &id);
}

result<std::string> linux_kernel::dmabuf_exporter(int dmabuf_fd) {
	const std::string path = "/proc/self/fdinfo/" + std::to_string(dmabuf_fd);
	unique_fd info(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!info)
		return errno_error(errno, "open " + path);
	char buf[1024];
	size_t got = 0;
	for (;;) {
		ssize_t n = ::read(info.get(), buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno_error(errno, "read " + path);
		if (n == 0 || (got += size_t(n)) == sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	const char *line = std::strstr(buf, "\nexp_name:");
	if (!line)
		return error{"fd " + std::to_string(dmabuf_fd) + " is no dma-buf (no exp_name in " +
		                 path + ")",
		             EINVAL};
	line += std::strlen("\nexp_name:");
	line += std::strspn(line, " \t");
	return std::string(line, std::strcspn(line, "\n"));
}

// --- KMS output: atomic commits and dumb buffers ---

int linux_kernel::atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
                                void *user_data) {
	if (!request.valid())
		return EINVAL;
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	if (req == nullptr)
		return ENOMEM;
	for (const atomic_prop &p : request.props()) {
		int ret = drmModeAtomicAddProperty(req, p.object, p.property, p.value);
		if (ret < 0) {
			drmModeAtomicFree(req);
			return -ret;
		}
	}
	// libdrm sorts by object and returns -errno.
	int ret = drmModeAtomicCommit(dev_fd, req, flags, user_data);
	drmModeAtomicFree(req);
	return ret < 0 ? -ret : 0;
}

int linux_kernel::create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
                              dumb_buffer *out) {
	struct drm_mode_create_dumb args = {};
	args.width = width;
	args.height = height;
	args.bpp = bpp;
	if (int err = drm_ioctl(dev_fd, DRM_IOCTL_MODE_CREATE_DUMB, &args))
		return err;
	out->handle = args.handle;
	out->pitch = args.pitch;
	out->size = args.size;
	return 0;
}

int linux_kernel::map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) {
	struct drm_mode_map_dumb args = {};
	args.handle = handle;
	if (int err = drm_ioctl(dev_fd, DRM_IOCTL_MODE_MAP_DUMB, &args))
		return err;
	void *map = mmap(nullptr, size, prot, MAP_SHARED, dev_fd, static_cast<off_t>(args.offset));
	if (map == MAP_FAILED)
		return errno;
	*data = map;
	return 0;
}

int linux_kernel::destroy_dumb(int dev_fd, uint32_t handle) {
	struct drm_mode_destroy_dumb args = {};
	args.handle = handle;
	return drm_ioctl(dev_fd, DRM_IOCTL_MODE_DESTROY_DUMB, &args);
}

ioctl_counts counting_kernel::counts() const {
	auto get = [](const std::atomic<uint64_t> &a) { return a.load(std::memory_order_relaxed); };
	ioctl_counts n;
	n.fd_to_handle = get(fd_to_handle_);
	n.handle_to_fd = get(handle_to_fd_);
	n.gem_close = get(gem_close_);
	n.add_fb = get(add_fb_);
	n.remove_fb = get(remove_fb_);
	n.atomic_commits = get(atomic_commits_);
	n.atomic_tests = get(atomic_tests_);
	n.create_dumb = get(create_dumb_);
	n.map_dumb = get(map_dumb_);
	n.destroy_dumb = get(destroy_dumb_);
	return n;
}

int counting_kernel::add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) {
	add_fb_.fetch_add(1, std::memory_order_relaxed);
	return inner_.add_fb2(dev_fd, request, fb_id);
}

int counting_kernel::remove_fb(int dev_fd, uint32_t fb_id) {
	remove_fb_.fetch_add(1, std::memory_order_relaxed);
	return inner_.remove_fb(dev_fd, fb_id);
}

int counting_kernel::prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) {
	fd_to_handle_.fetch_add(1, std::memory_order_relaxed);
	return inner_.prime_fd_to_handle(dev_fd, dmabuf_fd, handle);
}

int counting_kernel::prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) {
	handle_to_fd_.fetch_add(1, std::memory_order_relaxed);
	return inner_.prime_handle_to_fd(dev_fd, handle, flags, fd);
}

int counting_kernel::gem_close(int dev_fd, uint32_t handle) {
	gem_close_.fetch_add(1, std::memory_order_relaxed);
	return inner_.gem_close(dev_fd, handle);
}

// --- KMS output: atomic commits and dumb buffers ---

int counting_kernel::atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
                                   void *user_data) {
	auto &counter = (flags & DRM_MODE_ATOMIC_TEST_ONLY) ? atomic_tests_ : atomic_commits_;
	counter.fetch_add(1, std::memory_order_relaxed);
	return inner_.atomic_commit(dev_fd, request, flags, user_data);
}

int counting_kernel::create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
                                 dumb_buffer *out) {
	create_dumb_.fetch_add(1, std::memory_order_relaxed);
	return inner_.create_dumb(dev_fd, width, height, bpp, out);
}

int counting_kernel::map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) {
	map_dumb_.fetch_add(1, std::memory_order_relaxed);
	return inner_.map_dumb(dev_fd, handle, size, prot, data);
}

int counting_kernel::destroy_dumb(int dev_fd, uint32_t handle) {
	destroy_dumb_.fetch_add(1, std::memory_order_relaxed);
	return inner_.destroy_dumb(dev_fd, handle);
}

} // namespace wlprime
