#include "render/memory_buffer.hpp"

#include <cassert>
#include <cstddef>
#include <type_traits>

namespace wlprime {

const wlr_buffer_impl memory_buffer::impl_ = {
    .destroy = &memory_buffer::destroy,
    .get_dmabuf = nullptr,
    .get_shm = nullptr,
    .begin_data_ptr_access = &memory_buffer::begin_data_ptr_access,
    .end_data_ptr_access = &memory_buffer::end_data_ptr_access,
};

memory_buffer::memory_buffer(int width, int height)
    : pixels_(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), 0) {
	wlr_buffer_init(&base_, &impl_, width, height);
}

memory_buffer *memory_buffer::create(int width, int height) {
	if (width <= 0 || height <= 0) {
		return nullptr;
	}
	return new memory_buffer(width, height);
}

memory_buffer *memory_buffer::from_base(wlr_buffer *buffer) {
	static_assert(std::is_standard_layout_v<memory_buffer>);
	assert(buffer->impl == &impl_);
	// base_ is the first member of a standard-layout class.
	return reinterpret_cast<memory_buffer *>(buffer);
}

void memory_buffer::destroy(wlr_buffer *buffer) noexcept {
	delete from_base(buffer);
}

bool memory_buffer::begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
                                          uint32_t *format, std::size_t *stride) noexcept {
	memory_buffer *self = from_base(buffer);
	*data = self->pixels_.data();
	*format = DRM_FORMAT_XRGB8888;
	*stride = self->stride();
	return true;
}

void memory_buffer::end_data_ptr_access(wlr_buffer *buffer) noexcept {}

} // namespace wlprime
