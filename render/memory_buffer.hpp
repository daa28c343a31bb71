// memory_buffer.hpp: a wlr_buffer over memory that wlprime allocates itself.
//
// Used as an off-screen render target: the pixman renderer binds any buffer
// that offers data-pointer access. The buffer owns its pixels; wlroots owns
// the buffer's lifetime through the wlr_buffer lock count.

#pragma once

#include <cstdint>
#include <vector>

#include "render/wlr.hpp"

namespace wlprime {

class memory_buffer {
public:
	// Creates a width x height XRGB8888 buffer, zero-filled. Returns null if
	// the size is not positive. The caller owns the returned buffer's producer
	// reference and releases it with wlr_buffer_drop(&buf->base()); the
	// memory is freed once the last lock (e.g. the renderer's) is gone too.
	static memory_buffer *create(int width, int height);

	wlr_buffer *base() { return &base_; }

	// The pixels, row-major, stride() bytes a row. Valid until the buffer is
	// destroyed.
	const uint32_t *data() const { return pixels_.data(); }
	std::size_t stride() const { return static_cast<std::size_t>(base_.width) * 4; }

	memory_buffer(const memory_buffer &) = delete;
	memory_buffer &operator=(const memory_buffer &) = delete;

private:
	memory_buffer(int width, int height);
	~memory_buffer() = default;

	static void destroy(wlr_buffer *buffer) noexcept;
	static bool begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
	                                  uint32_t *format, std::size_t *stride) noexcept;
	static void end_data_ptr_access(wlr_buffer *buffer) noexcept;
	static memory_buffer *from_base(wlr_buffer *buffer);

	static const wlr_buffer_impl impl_;

	// wlr_buffer is the first member: from_base() relies on it.
	wlr_buffer base_{};
	std::vector<uint32_t> pixels_;
};

} // namespace wlprime
