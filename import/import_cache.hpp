// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_set>

#include "dmabuf_attributes.hpp"
#include "import.hpp"
#include "result.hpp"

namespace wlprime {

struct CacheLimits {
	// Bounds on Imports that no one uses: past either, the least recently
	// used idle Imports are evicted.
	size_t max_idle_imports = 256;
	uint64_t max_idle_bytes = 1ull << 30;
};

struct CacheStats {
	uint64_t hits = 0;           // acquire() found the layout
	uint64_t misses = 0;         // acquire() made a new Import
	uint64_t evictions = 0;      // idle Imports freed
	uint64_t device_imports = 0; // Import::on_device() that ran the import
	uint64_t device_failures = 0;// ... and failed (now negative entries)
	uint64_t negative_hits = 0;  // on_device() answered by a cached failure
};

/*
 * The re-import cache: layout key -> the one Import of that layout. See the
 * lifetime rules in import.hpp. Single-threaded. Must outlive nothing: on
 * destruction idle Imports are freed and Imports still in use become orphans,
 * freed by their last ImportRef.
 */
class ImportCache {
public:
	explicit ImportCache(CacheLimits limits = {});
	~ImportCache();
	ImportCache(const ImportCache &) = delete;
	ImportCache &operator=(const ImportCache &) = delete;

	/*
	 * The Import of attribs' layout, with a new reference. A hit costs one
	 * fstat per plane and no ioctl; attribs' fds are then closed when
	 * attribs is destroyed. A miss makes a new Import that takes the fds
	 * (one per distinct dma-buf; duplicates are closed). The import into a
	 * device is Import::on_device()'s job. Fails only if an fd cannot be
	 * fstat()ed (EBADF), closing every fd.
	 */
	Result<ImportRef> acquire(DmabufAttributes attribs);

	// Evicts idle Imports that have been idle for longer than max_age.
	// Returns how many were evicted.
	size_t trim(std::chrono::steady_clock::duration max_age,
		    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
	// Evicts every idle Import.
	size_t evict_idle();

	const CacheStats &stats() const { return stats_; }
	const CacheLimits &limits() const { return limits_; }
	size_t size() const { return imports_.size(); }
	size_t idle_count() const { return idle_count_; }
	uint64_t idle_bytes() const { return idle_bytes_; }

	// Calls f(const Import &) for every Import, in no particular order.
	template <typename F>
	void for_each(F &&f) const
	{
		for (const Import *import : imports_)
			f(*import);
	}

private:
	friend class Import;
	friend class ImportRef;

	struct Hash {
		using is_transparent = void;
		size_t operator()(const Import *i) const noexcept { return ImportKeyHash()(i->key()); }
		size_t operator()(const ImportKey &k) const noexcept { return ImportKeyHash()(k); }
	};
	struct Equal {
		using is_transparent = void;
		static const ImportKey &k(const Import *i) { return i->key(); }
		static const ImportKey &k(const ImportKey &key) { return key; }
		template <typename A, typename B>
		bool operator()(const A &a, const B &b) const noexcept
		{
			return k(a) == k(b);
		}
	};

	void unreferenced(Import *import); // the last ImportRef went
	void idle_unlink(Import *import);
	void evict(Import *import);
	void enforce_limits();

	const CacheLimits limits_;
	CacheStats stats_;
	uint64_t next_serial_ = 1;
	std::unordered_set<Import *, Hash, Equal> imports_;
	Import *idle_oldest_ = nullptr;
	Import *idle_newest_ = nullptr;
	size_t idle_count_ = 0;
	uint64_t idle_bytes_ = 0;
};

} // namespace wlprime
