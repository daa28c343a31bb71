// SPDX-License-Identifier: MIT
#include "kernel_model.hpp"

#include "formats.hpp"

#include <cerrno>
#include <drm_mode.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace wlprime::test {

static bool inode_of(int fd, ino_t *ino) {
	struct stat st;
	if (fstat(fd, &st) != 0)
		return false;
	*ino = st.st_ino;
	return true;
}

// The kernel allocates buffer objects in whole pages, and a dma-buf is as
// large as its object: so are the model's, so that the guard page after a
// mapping (import/mapping.cpp) starts right after the dma-buf's last byte.
static uint64_t page_aligned(uint64_t size) {
	const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
	return (size + page - 1) / page * page;
}

static unique_fd new_memfd(const char *name, uint64_t size) {
	unique_fd fd(memfd_create(name, MFD_CLOEXEC));
	if (fd && ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
		fd.reset();
	return fd;
}

void kernel_model::add_node(const std::string &path, const std::string &driver, node_type type,
                            dev_t rdev) {
	std::lock_guard lock(mutex_);
	nodes_[path] = Node{driver, type, rdev};
}

result<unique_fd> kernel_model::open_node(const std::string &path) {
	std::lock_guard lock(mutex_);
	if (!nodes_.contains(path))
		return error{"open " + path + ": No such file or directory", ENOENT};
	unique_fd fd = new_memfd("model-drm-file", 0);
	ino_t ino;
	if (!fd || !inode_of(fd.get(), &ino))
		return error{"memfd for " + path, errno};
	auto file = std::make_unique<File>();
	file->node = path;
	files_[ino] = std::move(file);
	return fd;
}

kernel_model::File *kernel_model::file_of(int fd) {
	ino_t ino;
	if (!inode_of(fd, &ino))
		return nullptr;
	auto it = files_.find(ino);
	return it == files_.end() ? nullptr : it->second.get();
}

result<std::string> kernel_model::node_path(int fd) {
	std::lock_guard lock(mutex_);
	File *file = file_of(fd);
	if (!file)
		return error{"fd " + std::to_string(fd) + " is no model device", ENODEV};
	return file->node;
}

result<device_info> kernel_model::describe(int fd) {
	std::lock_guard lock(mutex_);
	File *file = file_of(fd);
	if (!file)
		return error{"fd " + std::to_string(fd) + " is no model device", ENOTTY};
	const Node &node = nodes_.at(file->node);
	device_info info;
	info.path = file->node;
	info.rdev = node.rdev;
	info.driver = node.driver;
	info.node = node.type;
	info.prime_import = info.prime_export = true;
	info.fb_modifiers = node.type == node_type::primary;
	return info;
}

uint32_t kernel_model::new_handle(File &file, Bo *bo) {
	uint32_t handle = file.next_handle++;
	file.handles[handle] = bo;
	bo->handles++;
	return handle;
}

void kernel_model::drop_handle(File &file, uint32_t handle) {
	Bo *bo = file.handles.at(handle);
	file.handles.erase(handle);
	// Last handle gone: the BO lets go of its dma-buf (the dma-buf itself
	// lives on while userspace holds fds to it).
	if (--bo->handles == 0)
		bo->dmabuf.reset();
}

int kernel_model::prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	ino_t ino;
	if (!inode_of(dmabuf_fd, &ino))
		return EBADF;
	auto it = dmabufs_.find(ino);
	if (it == dmabufs_.end())
		return EINVAL; // not a dma-buf
	Bo *bo = it->second;
	for (const auto &[h, b] : file->handles) {
		if (b == bo) {
			*handle = h;
			return 0;
		}
	}
	// dmabuf_import re-establishes the obj->dma_buf link (drm_gem_prime_fd_to_handle).
	if (!bo->dmabuf)
		bo->dmabuf = unique_fd(fcntl(dmabuf_fd, F_DUPFD_CLOEXEC, 0));
	*handle = new_handle(*file, bo);
	return 0;
}

int kernel_model::prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	auto it = file->handles.find(handle);
	if (it == file->handles.end())
		return ENOENT;
	Bo *bo = it->second;
	if (!bo->dmabuf) {
		bo->dmabuf = new_memfd("model-dma-buf", bo->size);
		ino_t ino;
		if (!bo->dmabuf || !inode_of(bo->dmabuf.get(), &ino))
			return ENOMEM;
		dmabufs_[ino] = bo;
	}
	int out = fcntl(bo->dmabuf.get(), (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (out < 0)
		return errno;
	*fd = out;
	return 0;
}

int kernel_model::gem_close(int dev_fd, uint32_t handle) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	if (!file->handles.contains(handle))
		return EINVAL;
	drop_handle(*file, handle);
	return 0;
}

int kernel_model::add_fb2(int dev_fd, const fb_request &r, uint32_t *fb_id) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	if (r.width == 0 || r.height == 0 || r.handles[0] == 0)
		return EINVAL;
	for (int i = 0; i < 4 && r.handles[i]; i++) {
		auto it = file->handles.find(r.handles[i]);
		if (it == file->handles.end())
			return ENOENT;
		if (r.pitches[i] == 0)
			return EINVAL;
		// As the kernel's framebuffer_check() and drm_gem_fb_init: the
		// pitch holds one row, and the last row ends inside the object.
		if (const format_info *info = lookup_format(r.format); info && i < info->planes) {
			if (check_plane_bounds(*info, uint32_t(i), r.width, r.height, r.offsets[i],
			                       r.pitches[i], it->second->size))
				return EINVAL;
		} else if (uint64_t(r.offsets[i]) + uint64_t(r.pitches[i]) * r.height >
		           it->second->size) {
			return EINVAL;
		}
	}
	*fb_id = next_fb_++;
	file->fbs[*fb_id] = 0;
	return 0;
}

int kernel_model::remove_fb(int dev_fd, uint32_t fb_id) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	if (!file->fbs.erase(fb_id))
		return ENOENT;
	return 0;
}

int kernel_model::create_bo(int dev_fd, uint64_t size, uint32_t *handle) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return EBADF;
	auto bo = std::make_unique<Bo>();
	bo->size = page_aligned(size);
	bo->creator = file;
	*handle = new_handle(*file, bo.get());
	bos_.push_back(std::move(bo));
	return 0;
}

// --- KMS output calls ---------------------------------------------------------

int kernel_model::atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags, void *) {
	std::lock_guard lock(mutex_);
	if (!file_of(dev_fd))
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	if (!request.valid() || request.empty())
		return EINVAL;
	(flags & DRM_MODE_ATOMIC_TEST_ONLY ? atomic_tests_ : atomic_commits_)++;
	return 0;
}

int kernel_model::create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
                              dumb_buffer *out) {
	if (width == 0 || height == 0 || bpp == 0)
		return EINVAL;
	uint32_t pitch = ((width * ((bpp + 7) / 8)) + 63) & ~63u;
	// Whole pages, as the kernel's dumb buffers are.
	uint64_t size = (uint64_t(pitch) * height + 4095) & ~uint64_t(4095);
	uint32_t handle = 0;
	if (int err = create_bo(dev_fd, size, &handle))
		return err;
	out->handle = handle;
	out->pitch = pitch;
	out->size = size;
	return 0;
}

unique_fd &kernel_model::memory_of(Bo &bo) {
	if (!bo.dmabuf) {
		bo.dmabuf = new_memfd("model-dma-buf", bo.size);
		ino_t ino;
		if (bo.dmabuf && inode_of(bo.dmabuf.get(), &ino))
			dmabufs_[ino] = &bo;
	}
	return bo.dmabuf;
}

int kernel_model::map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	if (!file)
		return fcntl(dev_fd, F_GETFD) < 0 ? EBADF : ENOTTY;
	auto it = file->handles.find(handle);
	if (it == file->handles.end())
		return ENOENT;
	Bo *bo = it->second;
	if (bo->creator != file)
		return EINVAL; // an imported handle: MAP_DUMB refuses it
	if (size == 0 || size > bo->size)
		return EINVAL;
	unique_fd &memory = memory_of(*bo);
	if (!memory)
		return ENOMEM;
	void *map = mmap(nullptr, size, prot, MAP_SHARED, memory.get(), 0);
	if (map == MAP_FAILED)
		return errno;
	*data = map;
	return 0;
}

int kernel_model::destroy_dumb(int dev_fd, uint32_t handle) {
	return gem_close(dev_fd, handle);
}

unique_fd kernel_model::create_foreign_dmabuf(uint64_t size) {
	std::lock_guard lock(mutex_);
	unique_fd fd = new_memfd("model-udmabuf", page_aligned(size));
	ino_t ino;
	if (!fd || !inode_of(fd.get(), &ino))
		return unique_fd();
	auto bo = std::make_unique<Bo>();
	bo->size = page_aligned(size);
	bo->foreign = true;
	dmabufs_[ino] = bo.get();
	bos_.push_back(std::move(bo));
	return fd;
}

result<std::string> kernel_model::dmabuf_exporter(int dmabuf_fd) {
	std::lock_guard lock(mutex_);
	ino_t ino;
	if (!inode_of(dmabuf_fd, &ino))
		return error{"fdinfo of fd " + std::to_string(dmabuf_fd), EBADF};
	auto it = dmabufs_.find(ino);
	if (it == dmabufs_.end())
		return error{"fd " + std::to_string(dmabuf_fd) + " is no dma-buf", EINVAL};
	// As the kernel: every DRM driver's PRIME export says "drm".
	return std::string(it->second->foreign ? "udmabuf" : "drm");
}

size_t kernel_model::handle_count(int dev_fd) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	return file ? file->handles.size() : 0;
}

size_t kernel_model::fb_count(int dev_fd) {
	std::lock_guard lock(mutex_);
	File *file = file_of(dev_fd);
	return file ? file->fbs.size() : 0;
}

} // namespace wlprime::test
