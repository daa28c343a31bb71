// dmabuf_alloc.hpp: where the test clients' dma-bufs come from.
//
// A client of linux-dmabuf needs linear buffers it can draw into with the CPU
// and share as dma-bufs. Three real sources, as a user's client would use
// them, and one for tests without DRM:
//
//  - udmabuf: a sealed memfd turned into a dma-buf by /dev/udmabuf
//    (UDMABUF_CREATE). Belongs to no DRM device.
//  - vgem: a dumb buffer on vgem's primary node (found by driver name,
//    drmGetVersion), exported with PRIME; the GEM handle is closed at once,
//    the dma-buf keeps the buffer alive.
//  - gbm: gbm_bo_create (LINEAR XRGB8888, RENDERING or else SCANOUT) on the
//    vkms primary node, exported with gbm_bo_get_fd.
//  - a callback (in-process tests): any function that returns an fd of at
//    least the asked size, e.g. the kernel model's create_foreign_dmabuf().
//
// Drawing goes through a mapping of the dma-buf fd bracketed with
// DMA_BUF_IOCTL_SYNC (ENOTTY, as from a memfd, is fine); a GBM buffer whose
// fd cannot be mapped for writing is drawn with gbm_bo_map instead.

#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "import/result.hpp"
#include "import/unique_fd.hpp"

namespace wlprime::clients {

// A linear buffer object shared as one dma-buf. Owns its dma-buf fd (and
// whatever else its allocator made for it); freed by its owner.
class dmabuf_bo {
public:
	virtual ~dmabuf_bo() = default;
	dmabuf_bo(const dmabuf_bo &) = delete;
	dmabuf_bo &operator=(const dmabuf_bo &) = delete;

	// The dma-buf, borrowed: valid for the bo's life.
	int fd() const { return fd_.get(); }
	uint32_t stride() const { return stride_; }
	// Size of the dma-buf in bytes (at least stride * rows).
	uint64_t size() const { return size_; }

	// CPU writes: draw(data) gets the first byte of the buffer (rows of
	// stride() bytes), between DMA_BUF_SYNC_START and DMA_BUF_SYNC_END.
	virtual status write(const std::function<void(uint8_t *data)> &draw);

protected:
	dmabuf_bo(unique_fd fd, uint32_t stride, uint64_t size)
	    : fd_(std::move(fd)), stride_(stride), size_(size) {}

	unique_fd fd_;
	uint32_t stride_;
	uint64_t size_;
};

class dmabuf_allocator {
public:
	virtual ~dmabuf_allocator() = default;

	// How logs and summaries name it: "udmabuf", "vgem /dev/dri/card0", ...
	virtual std::string name() const = 0;

	// A linear buffer of `rows` rows of `width` texels of `cpp` bytes each
	// (1 or 4). The caller owns the result.
	virtual result<std::unique_ptr<dmabuf_bo>> allocate(uint32_t width, uint32_t rows,
	                                                    uint32_t cpp) = 0;
};

enum class alloc_kind { udmabuf, vgem, gbm };
const char *to_string(alloc_kind kind);

// Opens the device the allocator needs (/dev/udmabuf, vgem's or vkms'
// primary node). The caller owns the allocator; its buffers may outlive it.
result<std::unique_ptr<dmabuf_allocator>> open_allocator(alloc_kind kind);

// An fd of at least `size` bytes that the client may mmap (a memfd, a real
// dma-buf); invalid if it cannot. Rows are width * cpp bytes.
using dmabuf_alloc_fn = std::function<unique_fd(uint64_t size)>;
std::unique_ptr<dmabuf_allocator> callback_allocator(dmabuf_alloc_fn fn,
                                                     std::string name = "callback");

} // namespace wlprime::clients
