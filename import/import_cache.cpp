// SPDX-License-Identifier: MIT
#include "import_cache.hpp"

#include <cassert>

#include "formats.hpp"
#include "log.hpp"

namespace wlprime {

import_cache::import_cache(cache_limits limits) : limits_(limits) {}

import_cache::~import_cache() {
	evict_idle();
	for (dmabuf_import *import : imports_)
		import->cache_ = nullptr; // orphans: freed by their last import_ref
	imports_.clear();
}

result<import_key> layout_key(const dmabuf_attributes &attribs) {
	import_key key;
	key.format = attribs.format;
	key.modifier = attribs.modifier;
	key.width = attribs.width;
	key.height = attribs.height;
	key.flags = attribs.flags;
	key.n_planes = attribs.n_planes;
	for (uint32_t i = 0; i < attribs.n_planes; i++) {
		const dmabuf_plane &plane = attribs.planes[i];
		auto id = dmabuf_id_of(plane.fd.get());
		if (!id)
			return error{"plane " + std::to_string(i) + ": " + id.err().message,
			             id.err().errnum};
		key.planes[i] = plane_key{*id, plane.offset, plane.stride};
	}
	return key;
}

import_ref import_cache::lookup(const import_key &key) {
	auto it = imports_.find(key);
	if (it == imports_.end())
		return import_ref();
	dmabuf_import *import = *it;
	if (import->users_ == 0)
		idle_unlink(import);
	stats_.hits++;
	notify({import_event_kind::hit, *import});
	return import_ref(import);
}

result<import_ref> import_cache::acquire(dmabuf_attributes attribs) {
	auto key_or = layout_key(attribs);
	if (!key_or)
		return key_or.err();
	const import_key &key = *key_or;
	if (import_ref hit = lookup(key))
		return hit; // attribs' fds close on return

	stats_.misses++;
	auto *import = new dmabuf_import(this, next_serial_++, key);
	for (uint32_t i = 0; i < attribs.n_planes; i++) {
		uint32_t b = 0;
		while (b < import->n_buffers_ && import->buffer_id(b) != key.planes[i].id)
			b++;
		import->plane_buffer_[i] = static_cast<uint8_t>(b);
		if (b == import->n_buffers_) {
			import->buffers_[b] = std::move(attribs.planes[i].fd);
			import->n_buffers_++;
			if (auto size = dmabuf_size_of(import->buffers_[b].get())) {
				import->buffer_sizes_[b] = *size;
				import->bytes_ += *size;
			} else {
				// Size 0: map_plane() refuses every CPU read of it.
				import_log(
				    log_level::error,
				    "import #%llu: dma-buf %u: size unknown (%s, errno %d): no CPU "
				    "reads of it",
				    static_cast<unsigned long long>(import->serial_), b,
				    size.err().message.c_str(), size.err().errnum);
			}
		}
	}
	imports_.insert(import);
	notify({import_event_kind::created, *import});
	import_log(log_level::debug, "import #%llu created: %s %dx%d, %u planes on %u dma-bufs",
	           static_cast<unsigned long long>(import->serial_),
	           format_name(key.format).c_str(), key.width, key.height, key.n_planes,
	           import->n_buffers_);
	return import_ref(import);
}

void import_cache::unreferenced(dmabuf_import *import) {
	// Newest at the tail; eviction takes from the head.
	import->idle_since_ = std::chrono::steady_clock::now();
	import->idle_prev_ = idle_newest_;
	import->idle_next_ = nullptr;
	if (idle_newest_)
		idle_newest_->idle_next_ = import;
	else
		idle_oldest_ = import;
	idle_newest_ = import;
	idle_count_++;
	idle_bytes_ += import->bytes_;
	notify({import_event_kind::idle, *import});
	enforce_limits();
}

void import_cache::idle_unlink(dmabuf_import *import) {
	if (import->idle_prev_)
		import->idle_prev_->idle_next_ = import->idle_next_;
	else
		idle_oldest_ = import->idle_next_;
	if (import->idle_next_)
		import->idle_next_->idle_prev_ = import->idle_prev_;
	else
		idle_newest_ = import->idle_prev_;
	import->idle_prev_ = import->idle_next_ = nullptr;
	idle_count_--;
	idle_bytes_ -= import->bytes_;
}

void import_cache::evict(dmabuf_import *import) {
	assert(import->users_ == 0);
	idle_unlink(import);
	imports_.erase(import);
	stats_.evictions++;
	notify({import_event_kind::evicted, *import});
	import_log(log_level::debug, "import #%llu evicted",
	           static_cast<unsigned long long>(import->serial_));
	delete import;
}

void import_cache::enforce_limits() {
	while (idle_oldest_ &&
	       (idle_count_ > limits_.max_idle_imports || idle_bytes_ > limits_.max_idle_bytes))
		evict(idle_oldest_);
}

size_t import_cache::trim(std::chrono::steady_clock::duration max_age,
                          std::chrono::steady_clock::time_point now) {
	size_t n = 0;
	while (idle_oldest_ && now - idle_oldest_->idle_since_ > max_age) {
		evict(idle_oldest_);
		n++;
	}
	return n;
}

size_t import_cache::evict_idle() {
	size_t n = 0;
	while (idle_oldest_) {
		evict(idle_oldest_);
		n++;
	}
	return n;
}

} // namespace wlprime
