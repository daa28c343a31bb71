// SPDX-License-Identifier: MIT
#include "handle_table.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "log.hpp"

namespace wlprime {

gem_ref::gem_ref(gem_ref &&other) noexcept
    : table_(std::exchange(other.table_, nullptr)), handle_(std::exchange(other.handle_, 0)) {}

gem_ref &gem_ref::operator=(gem_ref &&other) noexcept {
	if (this != &other) {
		reset();
		table_ = std::exchange(other.table_, nullptr);
		handle_ = std::exchange(other.handle_, 0);
	}
	return *this;
}

void gem_ref::reset() {
	if (handle_table *table = std::exchange(table_, nullptr))
		table->unref(handle_);
	handle_ = 0;
}

handle_table::handle_table(kernel_api &kernel, int dev_fd, std::string device_name)
    : kernel_(kernel), dev_fd_(dev_fd), device_name_(std::move(device_name)) {}

handle_table::~handle_table() {
	std::lock_guard lock(mutex_);
	for (const auto &[handle, entry] : entries_) {
		import_log(log_level::error, "%s: GEM handle %u still held (%u refs) at teardown",
		           device_name_.c_str(), handle, entry.refs);
		kernel_.gem_close(dev_fd_, handle);
	}
}

result<gem_ref> handle_table::import_dmabuf(int dmabuf_fd, const dmabuf_id &id) {
	std::lock_guard lock(mutex_);
	if (auto it = by_id_.find(id); it != by_id_.end()) {
		entries_[it->second].refs++;
		return gem_ref(this, it->second);
	}

	uint32_t handle = 0;
	if (int err = kernel_.prime_fd_to_handle(dev_fd_, dmabuf_fd, &handle)) {
		return error{device_name_ + ": PRIME_FD_TO_HANDLE of dma-buf " + to_string(id) +
		                 " (fd " + std::to_string(dmabuf_fd) + "): " + std::strerror(err),
		             err};
	}
	Entry &entry = entries_[handle];
	// Another dma-buf of a buffer object we already hold: same handle.
	entry.refs++;
	entry.ids.push_back(id);
	by_id_[id] = handle;
	import_log(log_level::debug, "%s: dma-buf %s -> GEM handle %u (refs %u)",
	           device_name_.c_str(), to_string(id).c_str(), handle, entry.refs);
	return gem_ref(this, handle);
}

result<gem_ref> handle_table::ref(uint32_t handle) {
	std::lock_guard lock(mutex_);
	auto it = entries_.find(handle);
	if (it == entries_.end())
		return error{device_name_ + ": GEM handle " + std::to_string(handle) +
		                 " is not held",
		             ENOENT};
	it->second.refs++;
	return gem_ref(this, handle);
}

result<unique_fd> handle_table::export_handle(uint32_t handle, uint32_t flags) {
	std::lock_guard lock(mutex_);
	if (!entries_.contains(handle))
		return error{device_name_ + ": GEM handle " + std::to_string(handle) +
		                 " is not held",
		             ENOENT};
	int fd = -1;
	if (int err = kernel_.prime_handle_to_fd(dev_fd_, handle, flags, &fd))
		return error{device_name_ + ": PRIME_HANDLE_TO_FD of GEM handle " +
		                 std::to_string(handle) + ": " + std::strerror(err),
		             err};
	return unique_fd(fd);
}

void handle_table::unref(uint32_t handle) {
	std::lock_guard lock(mutex_);
	auto it = entries_.find(handle);
	assert(it != entries_.end() && it->second.refs > 0);
	if (it == entries_.end())
		return;
	if (--it->second.refs > 0)
		return;
	for (const dmabuf_id &id : it->second.ids)
		by_id_.erase(id);
	entries_.erase(it);
	if (int err = kernel_.gem_close(dev_fd_, handle))
		import_log(log_level::error, "%s: GEM_CLOSE of handle %u: %s", device_name_.c_str(),
		           handle, std::strerror(err));
	else
		import_log(log_level::debug, "%s: GEM handle %u closed", device_name_.c_str(),
		           handle);
}

size_t handle_table::size() const {
	std::lock_guard lock(mutex_);
	return entries_.size();
}

uint32_t handle_table::count(uint32_t handle) const {
	std::lock_guard lock(mutex_);
	auto it = entries_.find(handle);
	return it == entries_.end() ? 0 : it->second.refs;
}

} // namespace wlprime
