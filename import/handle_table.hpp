// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dmabuf_id.hpp"
#include "kernel.hpp"
#include "result.hpp"

namespace wlprime {

class handle_table;

/*
 * One counted reference to a GEM handle of one device file description.
 * Move-only; the destructor drops the reference, and the last reference to
 * a handle closes it (DRM_IOCTL_GEM_CLOSE, exactly once). A gem_ref must not
 * outlive its handle_table (that is, its device).
 */
class gem_ref {
public:
	gem_ref() = default;
	~gem_ref() { reset(); }
	gem_ref(gem_ref &&other) noexcept;
	gem_ref &operator=(gem_ref &&other) noexcept;
	gem_ref(const gem_ref &) = delete;
	gem_ref &operator=(const gem_ref &) = delete;

	uint32_t handle() const { return handle_; }
	bool valid() const { return table_ != nullptr; }
	// Drops the reference now (GEM_CLOSE if it was the last).
	void reset();

private:
	friend class handle_table;
	gem_ref(handle_table *table, uint32_t handle) : table_(table), handle_(handle) {}

	handle_table *table_ = nullptr;
	uint32_t handle_ = 0;
};

/*
 * The GEM handles that wlprime holds on one DRM file description.
 *
 * The kernel does not count GEM handles: importing one dma-buf twice on a
 * file description returns the same handle, and one GEM_CLOSE removes it for
 * every user. This table does the counting: handle -> number of GemRefs, and
 * GEM_CLOSE when that number reaches zero. Planes that share a buffer object,
 * and buffers that share a dma-buf, therefore share one handle.
 *
 * While a handle is held, its dma-buf cannot be freed (the kernel links a GEM
 * object 1:1 to its dma-buf while a handle exists), so the table also maps
 * dma-buf identity -> handle and serves a second import of a held dma-buf
 * with no ioctl at all.
 *
 * Threading: every method may be called from any thread. One mutex covers the
 * table *and* the ioctls that change the kernel's handle set (FD_TO_HANDLE,
 * GEM_CLOSE). It must: a GEM_CLOSE for the last reference racing with an
 * import of the same dma-buf would otherwise hand out a handle that is closed
 * a moment later (the userspace twin of the kernel's object_name_lock dance,
 * see shared/background/01). HANDLE_TO_FD runs under the lock too, so that
 * the handle cannot be closed under it.
 *
 * The table must outlive every gem_ref it handed out; its destructor closes
 * (and logs) any handle still held, so a leak upstream does not become a
 * leak in the kernel.
 */
class handle_table {
public:
	// dev_fd is borrowed and must stay open for the table's life.
	handle_table(kernel_api &kernel, int dev_fd, std::string device_name);
	~handle_table();
	handle_table(const handle_table &) = delete;
	handle_table &operator=(const handle_table &) = delete;

	// Imports dmabuf_fd (borrowed; its identity is id) and returns a new
	// counted reference to its handle. Costs one FD_TO_HANDLE unless the
	// dma-buf's handle is already held.
	result<gem_ref> import_dmabuf(int dmabuf_fd, const dmabuf_id &id);

	// Takes a new reference to a handle that is already held (count > 0);
	// ENOENT otherwise. Never an ioctl.
	result<gem_ref> ref(uint32_t handle);

	// Exports a held handle as a new dma-buf fd owned by the caller.
	// ENOENT without an ioctl if the handle is not held by this table.
	result<unique_fd> export_handle(uint32_t handle, uint32_t flags);

	// Number of distinct handles held, and the count of one (0 if not held).
	size_t size() const;
	uint32_t count(uint32_t handle) const;
	const std::string &device_name() const { return device_name_; }

private:
	friend class gem_ref;
	void unref(uint32_t handle);

	struct Entry {
		uint32_t refs = 0;
		std::vector<dmabuf_id> ids; // usually one
	};

	kernel_api &kernel_;
	const int dev_fd_;
	const std::string device_name_;
	mutable std::mutex mutex_;
	std::unordered_map<uint32_t, Entry> entries_;
	std::unordered_map<dmabuf_id, uint32_t> by_id_;
};

} // namespace wlprime
