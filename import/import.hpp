// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "device.hpp"
#include "dmabuf_attributes.hpp"
#include "dmabuf_id.hpp"
#include "handle_table.hpp"
#include "result.hpp"
#include "unique_fd.hpp"

/*
 * DOC: the import subsystem, overview and lifetime rules
 *
 * A client's dma-buf buffer is described by DmabufAttributes (format,
 * modifier, size, and per plane: fd, offset, stride). Its *layout key* is the
 * same without the fds, each fd replaced by its dma-buf's identity
 * (st_dev, st_ino). Two wl_buffers with the same key, from one client or two,
 * are the same buffer to wlprime: they share one Import.
 *
 * Who holds what:
 *  - An Import owns one fd per distinct dma-buf of its planes (so the identity
 *    in its key cannot be reused while the Import exists) and, per device it
 *    was imported into, one counted GemRef per distinct dma-buf — or the
 *    reason the import into that device failed (the negative cache).
 *  - Users (wl_buffers, the renderer, a scanout) hold ImportRefs. The
 *    ImportCache owns every Import. When the last ImportRef goes, the Import
 *    becomes idle: it stays cached, so a re-created wl_buffer costs nothing,
 *    until it is evicted — least recently used first, when the idle set
 *    exceeds its bounds or ages out. Eviction closes the fds and drops the
 *    GemRefs; the last GemRef of a handle closes the handle.
 *  - A cache lookup never returns an Import that is being freed: eviction
 *    removes the Import from the lookup structure before freeing it, and an
 *    idle Import found by a lookup is revived (taken off the idle list) in
 *    the same step. Single-threaded, so there is no window between the two.
 *  - Devices outlive the ImportCache and every ImportRef.
 *
 * Threading: ImportCache, Import and ImportRef belong to one thread (the
 * compositor's). HandleTable, underneath, is thread-safe.
 */

namespace wlprime {

class ImportCache;

struct PlaneKey {
	DmabufId id;
	uint32_t offset = 0;
	uint32_t stride = 0;
	bool operator==(const PlaneKey &) const = default;
};

// What makes two buffers the same import. Holds no fds.
struct ImportKey {
	uint32_t format = 0;
	uint64_t modifier = 0;
	int32_t width = 0;
	int32_t height = 0;
	uint32_t flags = 0;
	uint32_t n_planes = 0;
	std::array<PlaneKey, max_dmabuf_planes> planes{};
	bool operator==(const ImportKey &) const = default;
};

struct ImportKeyHash {
	size_t operator()(const ImportKey &key) const noexcept;
};

// What one device made of an Import: handles, or the reason it could not.
class DeviceImport {
public:
	Device &device() const { return *device_; }
	bool ok() const { return error_.err == 0 && error_.message.empty(); }
	// Valid when !ok(): errno and a message naming device and dma-buf.
	const Error &error() const { return error_; }
	// The GEM handle of plane i on this device (0 if !ok()).
	uint32_t handle(uint32_t plane) const;

private:
	friend class Import;
	Device *device_ = nullptr;
	std::array<GemRef, max_dmabuf_planes> refs_; // per distinct dma-buf
	std::array<uint8_t, max_dmabuf_planes> plane_buffer_{};
	Error error_;
};

/*
 * One imported buffer layout. Created and freed only by ImportCache; held by
 * users through ImportRef.
 */
class Import {
public:
	Import(const Import &) = delete;
	Import &operator=(const Import &) = delete;

	const ImportKey &key() const { return key_; }
	// A serial number, unique in the cache's life: how logs name the Import.
	uint64_t serial() const { return serial_; }
	// Plane i's dma-buf fd, borrowed, valid for the Import's life.
	int plane_fd(uint32_t plane) const { return buffers_[plane_buffer_[plane]].get(); }
	// Number of distinct dma-bufs behind the planes (1 for NV12 on one BO).
	uint32_t buffer_count() const { return n_buffers_; }
	// Sum of the sizes of the distinct dma-bufs.
	uint64_t bytes() const { return bytes_; }
	uint32_t users() const { return users_; }

	/*
	 * The import into `device`: done on first use (one PRIME_FD_TO_HANDLE
	 * per distinct dma-buf, none if the handle table already holds it),
	 * then cached with the Import, a failure included. The reference is
	 * valid while the Import lives. Failures are logged once, here.
	 */
	const DeviceImport &on_device(Device &device);
	// The import into `device` if it was attempted, else nullptr. No ioctl.
	const DeviceImport *find_device(const Device &device) const;
	const std::vector<DeviceImport> &devices() const { return devices_; }

private:
	friend class ImportCache;
	friend class ImportRef;
	Import(ImportCache *cache, uint64_t serial, ImportKey key);
	~Import();
	const DmabufId &buffer_id(uint32_t buffer) const;

	ImportCache *cache_; // null once the cache is gone (orphan)
	const uint64_t serial_;
	const ImportKey key_;
	std::array<UniqueFd, max_dmabuf_planes> buffers_; // distinct dma-bufs
	std::array<uint8_t, max_dmabuf_planes> plane_buffer_{};
	uint8_t n_buffers_ = 0;
	uint32_t users_ = 0;
	uint64_t bytes_ = 0;
	std::vector<DeviceImport> devices_;

	// Idle list (LRU), owned by the cache.
	Import *idle_prev_ = nullptr;
	Import *idle_next_ = nullptr;
	std::chrono::steady_clock::time_point idle_since_{};
};

/*
 * A counted reference to an Import. Copying takes a new reference; the last
 * one to go makes the Import idle in its cache.
 */
class ImportRef {
public:
	ImportRef() = default;
	~ImportRef() { reset(); }
	ImportRef(const ImportRef &other);
	ImportRef &operator=(const ImportRef &other);
	ImportRef(ImportRef &&other) noexcept : import_(std::exchange(other.import_, nullptr)) {}
	ImportRef &operator=(ImportRef &&other) noexcept;

	Import *get() const { return import_; }
	Import *operator->() const { return import_; }
	Import &operator*() const { return *import_; }
	explicit operator bool() const { return import_ != nullptr; }
	void reset();

private:
	friend class ImportCache;
	explicit ImportRef(Import *import); // takes a new reference

	Import *import_ = nullptr;
};

} // namespace wlprime
