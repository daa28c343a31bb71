#include "compositor/dmabuf_buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "import/formats.hpp"
#include "render/buffer_import.hpp"
#include "render/cpu_picture.hpp"

namespace wlprime {

const wlr_buffer_impl dmabuf_buffer::impl = {
    .destroy = handle_destroy,
    .get_dmabuf = handle_get_dmabuf,
    .get_shm = nullptr,
    .begin_data_ptr_access = handle_begin_data_ptr_access,
    .end_data_ptr_access = handle_end_data_ptr_access,
};

static void wl_buffer_destroy(wl_client *, wl_resource *resource) {
	wl_resource_destroy(resource);
}

static const struct wl_buffer_interface wl_buffer_impl = {
    .destroy = wl_buffer_destroy,
};

static bool is_dmabuf_wl_buffer(wl_resource *resource) {
	return wl_resource_instance_of(resource, &wl_buffer_interface, &wl_buffer_impl);
}

static wlr_buffer *wlr_buffer_of_resource(wl_resource *resource) {
	dmabuf_buffer *buffer = dmabuf_buffer::from_resource(resource);
	return buffer ? buffer->base() : nullptr;
}

static const wlr_buffer_resource_interface resource_interface = {
    .name = "wlprime_dmabuf_buffer",
    .is_instance = is_dmabuf_wl_buffer,
    .from_resource = wlr_buffer_of_resource,
};

void dmabuf_buffer::register_resource_interface() {
	wlr_buffer_register_resource_interface(&resource_interface);
}

dmabuf_buffer::dmabuf_buffer(import_ref import) : import_(std::move(import)) {
	static uint64_t serials = 0;
	serial_ = ++serials;
	wlr_.owner = this;
	const import_key &key = import_->key();
	wlr_buffer_init(&wlr_.base, &impl, key.width, key.height);
	attach_import(&wlr_.base, import_); // what direct scanout finds (import_of)
	release_.connect(&wlr_.base.events.release, [this]() {
		if (!resource_)
			return;
		wl_buffer_send_release(resource_);
		releases_++;
		if (registry_ && registry_->on_release)
			registry_->on_release(*this);
	});
}

dmabuf_buffer::~dmabuf_buffer() {
	if (registry_)
		registry_->buffers.erase(this);
}

dmabuf_buffer *dmabuf_buffer::create(wl_client *client, uint32_t id, import_ref import,
                                     buffer_registry *registry) {
	wl_resource *resource = wl_resource_create(client, &wl_buffer_interface, 1, id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return nullptr;
	}
	auto *buffer = new dmabuf_buffer(std::move(import));
	buffer->resource_ = resource;
	buffer->resource_id_ = wl_resource_get_id(resource);
	wl_client_get_credentials(client, &buffer->client_pid_, nullptr, nullptr);
	buffer->registry_ = registry;
	if (registry)
		registry->buffers.insert(buffer);
	wl_resource_set_implementation(resource, &wl_buffer_impl, buffer, handle_resource_destroy);
	if (registry && registry->on_create)
		registry->on_create(*buffer);
	return buffer;
}

dmabuf_buffer *dmabuf_buffer::from_resource(wl_resource *resource) {
	if (!is_dmabuf_wl_buffer(resource))
		return nullptr;
	return static_cast<dmabuf_buffer *>(wl_resource_get_user_data(resource));
}

dmabuf_buffer *dmabuf_buffer::from_wlr_buffer(wlr_buffer *buffer) {
	return buffer != nullptr && buffer->impl == &impl ? from_wlr(buffer) : nullptr;
}

dmabuf_buffer *dmabuf_buffer::from_wlr(wlr_buffer *buffer) {
	return reinterpret_cast<wlr_part *>(buffer)->owner;
}

void dmabuf_buffer::handle_resource_destroy(wl_resource *resource) {
	auto *buffer = static_cast<dmabuf_buffer *>(wl_resource_get_user_data(resource));
	buffer->resource_ = nullptr;
	// Freed now if no one holds a lock, else when the last lock goes.
	wlr_buffer_drop(&buffer->wlr_.base);
}

void dmabuf_buffer::handle_destroy(wlr_buffer *wlr) {
	dmabuf_buffer *buffer = from_wlr(wlr);
	buffer->release_.disconnect();
	delete buffer;
}

bool dmabuf_buffer::handle_get_dmabuf(wlr_buffer *wlr, wlr_dmabuf_attributes *attribs) {
	dmabuf_attributes_of(from_wlr(wlr)->import(), attribs);
	return true;
}

bool dmabuf_buffer::handle_begin_data_ptr_access(wlr_buffer *wlr, uint32_t flags, void **data,
                                                 uint32_t *format, size_t *stride) {
	dmabuf_buffer *buffer = from_wlr(wlr);
	dmabuf_import &import = buffer->import();
	auto fail = [&](const std::string &why) {
		if (!buffer->data_access_failed_)
			wlr_log(WLR_ERROR, "import #%llu: no CPU access for composition: %s",
			        static_cast<unsigned long long>(import.serial()), why.c_str());
		buffer->data_access_failed_ = true;
		return false;
	};
	if (flags & WLR_BUFFER_DATA_PTR_ACCESS_WRITE)
		return fail("write access asked of a client buffer");
	auto view = begin_cpu_read(import);
	if (!view)
		return fail(view.err().message);
	buffer->view_ = *view;
	*data = const_cast<uint8_t *>(view->data);
	*format = view->format;
	// A negative stride (y-inverted) passes through size_t: wlroots hands
	// it to pixman as an int.
	*stride = static_cast<size_t>(view->stride);
	return true;
}

void dmabuf_buffer::handle_end_data_ptr_access(wlr_buffer *wlr) {
	dmabuf_buffer *buffer = from_wlr(wlr);
	dmabuf_import &import = buffer->import();
	if (auto s = end_cpu_read(import, std::exchange(buffer->view_, {})); !s)
		wlr_log(WLR_ERROR, "import #%llu: %s",
		        static_cast<unsigned long long>(import.serial()), s.err().message.c_str());
}

} // namespace wlprime
