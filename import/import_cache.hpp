// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "dmabuf_attributes.hpp"
#include "events.hpp"
#include "import.hpp"
#include "result.hpp"

namespace wlprime {

struct cache_limits {
	// Bounds on Imports that no one uses: past either, the least recently
	// used idle Imports are evicted.
	size_t max_idle_imports = 256;
	uint64_t max_idle_bytes = 1ull << 30;
};

// The layout key of attribs: one fstat() per plane. EBADF if an fd is bad.
result<import_key> layout_key(const dmabuf_attributes &attribs);

struct cache_stats {
	uint64_t hits = 0;                 // acquire() found the layout
	uint64_t misses = 0;               // acquire() made a new dmabuf_import
	uint64_t evictions = 0;            // idle Imports freed
	uint64_t device_imports = 0;       // dmabuf_import::on_device() that ran the import
	uint64_t device_failures = 0;      // ... and failed (now negative entries)
	uint64_t negative_hits = 0;        // on_device() answered by a cached failure
	uint64_t mappings = 0;             // dma-bufs mmap()ed for CPU reads
	uint64_t framebuffers = 0;         // framebuffer_on() that made one (ADDFB2)
	uint64_t framebuffer_failures = 0; // ... and failed (cached, not retried)
};

/*
 * The re-import cache: layout key -> the one dmabuf_import of that layout. See the
 * lifetime rules in import.hpp. Single-threaded. Must outlive nothing: on
 * destruction idle Imports are freed and Imports still in use become orphans,
 * freed by their last import_ref.
 */
class import_cache {
public:
	explicit import_cache(cache_limits limits = {});
	~import_cache();
	import_cache(const import_cache &) = delete;
	import_cache &operator=(const import_cache &) = delete;

	/*
	 * The dmabuf_import of attribs' layout, with a new reference. A hit costs one
	 * fstat per plane and no ioctl; attribs' fds are then closed when
	 * attribs is destroyed. A miss makes a new dmabuf_import that takes the fds
	 * (one per distinct dma-buf; duplicates are closed). The import into a
	 * device is dmabuf_import::on_device()'s job. Fails only if an fd cannot be
	 * fstat()ed (EBADF), closing every fd.
	 */
	result<import_ref> acquire(dmabuf_attributes attribs);

	// The hit path of acquire(), given a key: a new reference to the dmabuf_import
	// of that layout, or null. No syscall, no ioctl.
	import_ref lookup(const import_key &key);

	// Evicts idle Imports that have been idle for longer than max_age.
	// Returns how many were evicted.
	size_t trim(std::chrono::steady_clock::duration max_age,
	            std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
	// Evicts every idle dmabuf_import.
	size_t evict_idle();

	// A DRM device of the compositor (borrowed; outlives the cache): a
	// candidate exporter of clients' implicit-modifier buffers
	// (implicit_layout.hpp), and the kernel seam through which their
	// exporter is read. Once per device.
	void add_device(device &dev) { devices_.push_back(&dev); }
	const std::vector<device *> &devices() const { return devices_; }

	// Every event of every Import goes to observer (one at a time; null to
	// stop). For tracing and introspection.
	void set_observer(import_observer observer) { observer_ = std::move(observer); }

	const cache_stats &stats() const { return stats_; }
	const cache_limits &limits() const { return limits_; }
	size_t size() const { return imports_.size(); }
	size_t idle_count() const { return idle_count_; }
	uint64_t idle_bytes() const { return idle_bytes_; }

	// Calls f(const dmabuf_import &) for every dmabuf_import, in no particular order.
	template <typename F>
	void for_each(F &&f) const {
		for (const dmabuf_import *import : imports_)
			f(*import);
	}

private:
	friend class dmabuf_import;
	friend class import_ref;

	struct Hash {
		using is_transparent = void;
		size_t operator()(const dmabuf_import *i) const noexcept {
			return import_key_hash()(i->key());
		}
		size_t operator()(const import_key &k) const noexcept {
			return import_key_hash()(k);
		}
	};
	struct Equal {
		using is_transparent = void;
		static const import_key &k(const dmabuf_import *i) { return i->key(); }
		static const import_key &k(const import_key &key) { return key; }
		template <typename A, typename B>
		bool operator()(const A &a, const B &b) const noexcept {
			return k(a) == k(b);
		}
	};

	// Events come from the cache and its Imports only.
	void notify(const import_event &event) const {
		if (observer_)
			observer_(event);
	}
	void unreferenced(dmabuf_import *import); // the last import_ref went
	void idle_unlink(dmabuf_import *import);
	void evict(dmabuf_import *import);
	void enforce_limits();

	const cache_limits limits_;
	std::vector<device *> devices_;
	import_observer observer_;
	cache_stats stats_;
	uint64_t next_serial_ = 1;
	std::unordered_set<dmabuf_import *, Hash, Equal> imports_;
	dmabuf_import *idle_oldest_ = nullptr;
	dmabuf_import *idle_newest_ = nullptr;
	size_t idle_count_ = 0;
	uint64_t idle_bytes_ = 0;
};

} // namespace wlprime
