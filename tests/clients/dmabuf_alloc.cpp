#include "tests/clients/dmabuf_alloc.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <drm.h>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <gbm.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include "import/drm_nodes.hpp"
#include "tests/clients/dumb_export.hpp"

namespace wlprime::clients {
namespace {

error sys_error(const std::string &what, int errnum = errno) {
	return error{what + ": " + std::strerror(errnum), errnum};
}

status dmabuf_sync(int fd, uint64_t flags) {
	dma_buf_sync args = {flags};
	int ret;
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &args);
	} while (ret != 0 && (errno == EINTR || errno == EAGAIN));
	// A memfd standing in for a dma-buf (in-process tests) has no sync.
	if (ret != 0 && errno != ENOTTY) {
		return sys_error("DMA_BUF_IOCTL_SYNC on fd " + std::to_string(fd));
	}
	return done{};
}

uint64_t page_round(uint64_t size) {
	const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
	return (size + page - 1) / page * page;
}

// A bo that is nothing but its dma-buf (udmabuf, vgem, callback).
class plain_bo final : public dmabuf_bo {
public:
	plain_bo(unique_fd fd, uint32_t stride, uint64_t size)
	    : dmabuf_bo(std::move(fd), stride, size) {}
};

// --- udmabuf ---------------------------------------------------------------

class udmabuf_allocator final : public dmabuf_allocator {
public:
	explicit udmabuf_allocator(unique_fd dev) : dev_(std::move(dev)) {}
	std::string name() const override { return "udmabuf"; }

	result<std::unique_ptr<dmabuf_bo>> allocate(uint32_t width, uint32_t rows,
	                                            uint32_t cpp) override {
		const uint32_t stride = width * cpp;
		// udmabuf wants whole pages and a memfd that cannot shrink.
		const uint64_t size = page_round(uint64_t(stride) * rows);
		unique_fd memfd(memfd_create("wlprime-udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
		if (!memfd) {
			return sys_error("memfd_create");
		}
		if (ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) {
			return sys_error("ftruncate memfd to " + std::to_string(size));
		}
		if (fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
			return sys_error("memfd F_SEAL_SHRINK");
		}
		udmabuf_create create{};
		create.memfd = static_cast<uint32_t>(memfd.get());
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		create.offset = 0;
		create.size = size;
		// The dma-buf holds the memfd's pages; the memfd itself can go.
		unique_fd dmabuf(ioctl(dev_.get(), UDMABUF_CREATE, &create));
		if (!dmabuf) {
			return sys_error("UDMABUF_CREATE of " + std::to_string(size) + " bytes");
		}
		return std::unique_ptr<dmabuf_bo>(new plain_bo(std::move(dmabuf), stride, size));
	}

private:
	unique_fd dev_;
};

// --- vgem: dumb buffer + PRIME export ----------------------------------------

class vgem_allocator final : public dmabuf_allocator {
public:
	vgem_allocator(unique_fd card, std::string path)
	    : card_(std::move(card)), path_(std::move(path)) {}
	std::string name() const override { return "vgem " + path_; }

	result<std::unique_ptr<dmabuf_bo>> allocate(uint32_t width, uint32_t rows,
	                                            uint32_t cpp) override {
		auto made = export_dumb(kernel_, card_.get(), width, rows, cpp * 8, true);
		if (!made) {
			return error{made.err().message + " (" + path_ + ")", made.err().errnum};
		}
		return std::unique_ptr<dmabuf_bo>(
		    new plain_bo(std::move(made->dmabuf), made->dumb.pitch, made->dumb.size));
	}

private:
	linux_kernel kernel_;
	unique_fd card_;
	std::string path_;
};

// --- gbm on vkms ------------------------------------------------------------

// The GBM device and the node it was opened on; shared by the allocator and
// its buffers (a gbm_bo must not outlive its gbm_device).
struct gbm_state {
	unique_fd card;
	std::string path;
	gbm_device *device = nullptr;
	const char *drawn_with = nullptr; // how the last buffer was drawn
	~gbm_state() {
		if (device != nullptr) {
			gbm_device_destroy(device);
		}
	}
};

class gbm_dmabuf_bo final : public dmabuf_bo {
public:
	gbm_dmabuf_bo(std::shared_ptr<gbm_state> gbm, gbm_bo *bo, unique_fd fd, uint32_t stride,
	              uint64_t size, uint32_t width, uint32_t height)
	    : dmabuf_bo(std::move(fd), stride, size), gbm_(std::move(gbm)), bo_(bo), width_(width),
	      height_(height) {}
	~gbm_dmabuf_bo() override { gbm_bo_destroy(bo_); }

	status write(const std::function<void(uint8_t *data)> &draw) override {
		// The dma-buf first, like any client; Mesa may export it read-only
		// (no DRM_RDWR): then through GBM's own mapping.
		status through_dmabuf = dmabuf_bo::write(draw);
		if (through_dmabuf) {
			gbm_->drawn_with = "mmap of the dma-buf";
			return through_dmabuf;
		}
		uint32_t map_stride = 0;
		void *map_data = nullptr;
		void *map = gbm_bo_map(bo_, 0, 0, width_, height_, GBM_BO_TRANSFER_WRITE,
		                       &map_stride, &map_data);
		if (map == nullptr) {
			return error{through_dmabuf.err().message + "; gbm_bo_map failed too"};
		}
		if (map_stride != stride_) {
			gbm_bo_unmap(bo_, map_data);
			return error{"gbm_bo_map stride " + std::to_string(map_stride) +
			             " differs from the bo's stride " + std::to_string(stride_)};
		}
		draw(static_cast<uint8_t *>(map));
		gbm_bo_unmap(bo_, map_data);
		gbm_->drawn_with = "gbm_bo_map";
		return done{};
	}

private:
	std::shared_ptr<gbm_state> gbm_;
	gbm_bo *bo_;
	uint32_t width_;
	uint32_t height_;
};

class gbm_allocator final : public dmabuf_allocator {
public:
	explicit gbm_allocator(std::shared_ptr<gbm_state> gbm) : gbm_(std::move(gbm)) {}
	std::string name() const override {
		return "gbm vkms " + gbm_->path +
		       (gbm_->drawn_with ? std::string(", drawn with ") + gbm_->drawn_with : "");
	}

	result<std::unique_ptr<dmabuf_bo>> allocate(uint32_t width, uint32_t rows,
	                                            uint32_t cpp) override {
		// One-byte texels (NV12 planes) as XRGB8888 texels four times fewer:
		// GBM on vkms has no R8.
		const uint32_t bo_width = cpp == 4 ? width : (width * cpp + 3) / 4;
		gbm_bo *bo = nullptr;
		for (uint32_t usage : {GBM_BO_USE_LINEAR | GBM_BO_USE_RENDERING,
		                       GBM_BO_USE_LINEAR | GBM_BO_USE_SCANOUT}) {
			bo =
			    gbm_bo_create(gbm_->device, bo_width, rows, GBM_FORMAT_XRGB8888, usage);
			if (bo != nullptr) {
				break;
			}
		}
		if (bo == nullptr) {
			return sys_error("gbm_bo_create " + std::to_string(bo_width) + "x" +
			                 std::to_string(rows) + " XRGB8888 LINEAR on " +
			                 gbm_->path);
		}
		const uint32_t stride = gbm_bo_get_stride(bo);
		unique_fd fd(gbm_bo_get_fd(bo));
		if (!fd) {
			int err = errno;
			gbm_bo_destroy(bo);
			return sys_error("gbm_bo_get_fd", err);
		}
		off_t end = lseek(fd.get(), 0, SEEK_END);
		const uint64_t size =
		    end > 0 ? static_cast<uint64_t>(end) : uint64_t(stride) * rows;
		return std::unique_ptr<dmabuf_bo>(
		    new gbm_dmabuf_bo(gbm_, bo, std::move(fd), stride, size, bo_width, rows));
	}

private:
	std::shared_ptr<gbm_state> gbm_;
};

// --- callback (in-process tests) ---------------------------------------------

class fn_allocator final : public dmabuf_allocator {
public:
	fn_allocator(dmabuf_alloc_fn fn, std::string name)
	    : fn_(std::move(fn)), name_(std::move(name)) {}
	std::string name() const override { return name_; }

	result<std::unique_ptr<dmabuf_bo>> allocate(uint32_t width, uint32_t rows,
	                                            uint32_t cpp) override {
		const uint32_t stride = width * cpp;
		const uint64_t size = uint64_t(stride) * rows;
		unique_fd fd = fn_(size);
		if (!fd) {
			return error{name_ + ": no buffer of " + std::to_string(size) + " bytes"};
		}
		off_t end = lseek(fd.get(), 0, SEEK_END);
		return std::unique_ptr<dmabuf_bo>(new plain_bo(
		    std::move(fd), stride, end > 0 ? static_cast<uint64_t>(end) : size));
	}

private:
	dmabuf_alloc_fn fn_;
	std::string name_;
};

} // namespace

status dmabuf_bo::write(const std::function<void(uint8_t *data)> &draw) {
	void *map = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
	if (map == MAP_FAILED) {
		return sys_error("mmap of " + std::to_string(size_) + " bytes of dma-buf fd " +
		                 std::to_string(fd_.get()) + " for writing");
	}
	status s = dmabuf_sync(fd_.get(), DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	if (s) {
		draw(static_cast<uint8_t *>(map));
		s = dmabuf_sync(fd_.get(), DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	}
	munmap(map, size_);
	return s;
}

const char *to_string(alloc_kind kind) {
	switch (kind) {
	case alloc_kind::udmabuf:
		return "udmabuf";
	case alloc_kind::vgem:
		return "vgem";
	case alloc_kind::gbm:
		return "gbm";
	}
	return "unknown";
}

result<std::unique_ptr<dmabuf_allocator>> open_allocator(alloc_kind kind) {
	switch (kind) {
	case alloc_kind::udmabuf: {
		unique_fd dev(open("/dev/udmabuf", O_RDWR | O_CLOEXEC));
		if (!dev) {
			return sys_error("/dev/udmabuf");
		}
		return std::unique_ptr<dmabuf_allocator>(new udmabuf_allocator(std::move(dev)));
	}
	case alloc_kind::vgem: {
		auto path = find_drm_node("vgem", node_type::primary);
		if (!path) {
			return path.err();
		}
		unique_fd card(open(path->c_str(), O_RDWR | O_CLOEXEC));
		if (!card) {
			return sys_error(*path);
		}
		return std::unique_ptr<dmabuf_allocator>(
		    new vgem_allocator(std::move(card), *path));
	}
	case alloc_kind::gbm: {
		auto path = find_drm_node("vkms", node_type::primary);
		if (!path) {
			return path.err();
		}
		auto gbm = std::make_shared<gbm_state>();
		gbm->path = *path;
		gbm->card = unique_fd(open(path->c_str(), O_RDWR | O_CLOEXEC));
		if (!gbm->card) {
			return sys_error(*path);
		}
		gbm->device = gbm_create_device(gbm->card.get());
		if (gbm->device == nullptr) {
			return sys_error("gbm_create_device on " + *path);
		}
		return std::unique_ptr<dmabuf_allocator>(new gbm_allocator(std::move(gbm)));
	}
	}
	return error{"unknown allocator", EINVAL};
}

std::unique_ptr<dmabuf_allocator> callback_allocator(dmabuf_alloc_fn fn, std::string name) {
	return std::make_unique<fn_allocator>(std::move(fn), std::move(name));
}

} // namespace wlprime::clients
