#include "render/buffer_import.hpp"

#include <utility>

namespace wlprime {
namespace {

// The addon: its wlr_addon first, so that the wlr_addon pointer wlroots hands
// back is the addon's.
struct import_addon {
	wlr_addon addon;
	import_ref import;
	buffer_origin origin = buffer_origin::client;
};

void addon_destroy(wlr_addon *addon) noexcept;

const wlr_addon_interface addon_impl = {
    .name = "wlprime_import",
    .destroy = addon_destroy,
};

// The owner key of our addons: one per buffer, so the interface alone is
// enough; wlroots wants an owner pointer too.
const void *const addon_owner = &addon_impl;

void addon_destroy(wlr_addon *addon) noexcept {
	auto *self = reinterpret_cast<import_addon *>(addon);
	wlr_addon_finish(addon);
	delete self; // drops the reference
}

import_addon *find(wlr_buffer *buffer) {
	if (buffer == nullptr) {
		return nullptr;
	}
	// What a wlr_surface shows is a wlr_client_buffer wrapping the client's
	// buffer (its source, null once that is destroyed): the Import hangs on
	// the source.
	if (wlr_client_buffer *client = wlr_client_buffer_get(buffer)) {
		buffer = client->source;
		if (buffer == nullptr) {
			return nullptr;
		}
	}
	wlr_addon *addon = wlr_addon_find(&buffer->addons, addon_owner, &addon_impl);
	return reinterpret_cast<import_addon *>(addon);
}

} // namespace

void attach_import(wlr_buffer *buffer, import_ref import, buffer_origin origin) {
	wlr_addon *addon = wlr_addon_find(&buffer->addons, addon_owner, &addon_impl);
	if (auto *existing = reinterpret_cast<import_addon *>(addon)) {
		if (!import) {
			addon_destroy(&existing->addon);
			return;
		}
		existing->import = std::move(import);
		existing->origin = origin;
		return;
	}
	if (!import) {
		return;
	}
	auto *self = new import_addon{};
	self->import = std::move(import);
	self->origin = origin;
	wlr_addon_init(&self->addon, &buffer->addons, addon_owner, &addon_impl);
}

bool is_output_buffer(wlr_buffer *buffer) {
	import_addon *self = find(buffer);
	return self != nullptr && self->origin == buffer_origin::output;
}

dmabuf_import *import_of(wlr_buffer *buffer) {
	import_addon *self = find(buffer);
	return self != nullptr ? self->import.get() : nullptr;
}

import_ref import_ref_of(wlr_buffer *buffer) {
	import_addon *self = find(buffer);
	return self != nullptr ? self->import : import_ref();
}

void dmabuf_attributes_of(const dmabuf_import &import, wlr_dmabuf_attributes *attribs) {
	const import_key &key = import.key();
	*attribs = {};
	attribs->width = key.width;
	attribs->height = key.height;
	attribs->format = key.format;
	attribs->modifier = key.modifier;
	attribs->n_planes = static_cast<int>(key.n_planes);
	for (uint32_t i = 0; i < key.n_planes; i++) {
		attribs->offset[i] = key.planes[i].offset;
		attribs->stride[i] = key.planes[i].stride;
		attribs->fd[i] = import.plane_fd(i);
	}
}

} // namespace wlprime
