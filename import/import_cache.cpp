// SPDX-License-Identifier: MIT
#include "import_cache.hpp"

#include <cassert>

#include "formats.hpp"
#include "log.hpp"

namespace wlprime {

ImportCache::ImportCache(CacheLimits limits) : limits_(limits) {}

ImportCache::~ImportCache()
{
	evict_idle();
	for (Import *import : imports_)
		import->cache_ = nullptr; // orphans: freed by their last ImportRef
	imports_.clear();
}

Result<ImportRef> ImportCache::acquire(DmabufAttributes attribs)
{
	ImportKey key;
	key.format = attribs.format;
	key.modifier = attribs.modifier;
	key.width = attribs.width;
	key.height = attribs.height;
	key.flags = attribs.flags;
	key.n_planes = attribs.n_planes;
	for (uint32_t i = 0; i < attribs.n_planes; i++) {
		const DmabufPlane &plane = attribs.planes[i];
		auto id = dmabuf_id_of(plane.fd.get());
		if (!id)
			return Error{id.error().err,
				     "plane " + std::to_string(i) + ": " + id.error().message};
		key.planes[i] = PlaneKey{*id, plane.offset, plane.stride};
	}

	if (auto it = imports_.find(key); it != imports_.end()) {
		Import *import = *it;
		if (import->users_ == 0)
			idle_unlink(import);
		stats_.hits++;
		return ImportRef(import); // attribs' fds close on return
	}

	stats_.misses++;
	auto *import = new Import(this, next_serial_++, key);
	for (uint32_t i = 0; i < attribs.n_planes; i++) {
		uint32_t b = 0;
		while (b < import->n_buffers_ && import->buffer_id(b) != key.planes[i].id)
			b++;
		import->plane_buffer_[i] = static_cast<uint8_t>(b);
		if (b == import->n_buffers_) {
			import->buffers_[b] = std::move(attribs.planes[i].fd);
			import->n_buffers_++;
			if (auto size = dmabuf_size_of(import->buffers_[b].get()))
				import->bytes_ += *size;
		}
	}
	imports_.insert(import);
	import_log(LogLevel::debug, "import #%llu created: %s %dx%d, %u planes on %u dma-bufs",
		   static_cast<unsigned long long>(import->serial_),
		   format_name(key.format).c_str(), key.width, key.height, key.n_planes,
		   import->n_buffers_);
	return ImportRef(import);
}

void ImportCache::unreferenced(Import *import)
{
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
	enforce_limits();
}

void ImportCache::idle_unlink(Import *import)
{
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

void ImportCache::evict(Import *import)
{
	assert(import->users_ == 0);
	idle_unlink(import);
	imports_.erase(import);
	stats_.evictions++;
	import_log(LogLevel::debug, "import #%llu evicted",
		   static_cast<unsigned long long>(import->serial_));
	delete import;
}

void ImportCache::enforce_limits()
{
	while (idle_oldest_ &&
	       (idle_count_ > limits_.max_idle_imports || idle_bytes_ > limits_.max_idle_bytes))
		evict(idle_oldest_);
}

size_t ImportCache::trim(std::chrono::steady_clock::duration max_age,
			 std::chrono::steady_clock::time_point now)
{
	size_t n = 0;
	while (idle_oldest_ && now - idle_oldest_->idle_since_ > max_age) {
		evict(idle_oldest_);
		n++;
	}
	return n;
}

size_t ImportCache::evict_idle()
{
	size_t n = 0;
	while (idle_oldest_) {
		evict(idle_oldest_);
		n++;
	}
	return n;
}

} // namespace wlprime
