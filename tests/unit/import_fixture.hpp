// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>
#include <memory>
#include <set>
#include <utility>

#include "device.hpp"
#include "dmabuf_attributes.hpp"
#include "import_cache.hpp"
#include "kernel.hpp"
#include "test_kernel.hpp"

namespace wlprime::test {

/*
 * A test against current_kernel(): an importer device (vgem's render node) on a
 * counting_kernel, and an exporter file description (vgem's card node) to make
 * dma-bufs the way a client does. After each test: no fd left open, no GEM
 * handle left in any table, no mapping left, every handle the test saw closed in the kernel,
 * and (real kernel) no dma-buf left alive.
 */
class kernel_test : public ::testing::Test {
protected:
	void SetUp() override;
	void TearDown() override;

	test_kernel_api &tk() { return current_kernel(); }
	// A device on the counting seam; kept until TearDown.
	device &open_device(const std::string &driver, node_type type);
	// The exporter's fd (vgem card node, opened by the test itself).
	int exporter() const { return exporter_.get(); }

	// A new dma-buf of a width x height XRGB8888 dumb buffer on the
	// exporter; the exporter's own handle is closed, so the dma-buf lives
	// only through the returned fd.
	unique_fd new_dmabuf(uint32_t width = 64, uint32_t height = 64, uint32_t *pitch = nullptr);
	// The same, keeping the exporter's handle (returned in *handle).
	unique_fd export_new_bo(uint32_t width, uint32_t height, uint32_t *handle,
	                        uint32_t *pitch = nullptr);
	// A memfd of `size` bytes: what a client sends that is no dma-buf.
	unique_fd not_a_dmabuf(off_t size = 64 * 256);
	// A new width x height XRGB8888 dma-buf (new_dmabuf) and its Import.
	struct acquired {
		unique_fd buf;
		uint32_t pitch = 0;
		import_ref ref;
	};
	acquired acquire_new(import_cache &cache, uint32_t width = 64, uint32_t height = 64);
	// Attributes of a one-plane XRGB8888 buffer on a dup of fd.
	dmabuf_attributes xrgb(int fd, uint32_t width, uint32_t height, uint32_t pitch,
	                       uint32_t offset = 0);

	// cache.acquire(attribs), failing the test (and returning null) if it fails.
	import_ref acquire(import_cache &cache, dmabuf_attributes attribs);

	// Whether `handle` exists on dev_fd's file description, asked of the
	// kernel (PRIME_HANDLE_TO_FD: ENOENT when it does not).
	bool handle_exists(int dev_fd, uint32_t handle);
	// Remember (dev_fd, handle) to check it is closed at TearDown.
	void track(int dev_fd, uint32_t handle) { tracked_.insert({dev_fd, handle}); }

	ioctl_counts counts() const { return counting_->counts(); }

	std::unique_ptr<counting_kernel> counting_;

private:
	unique_fd exporter_;
	std::vector<std::unique_ptr<device>> devices_;
	std::set<std::pair<int, uint32_t>> tracked_;
	int fds_before_ = 0;
	int mappings_before_ = 0;
	long dmabufs_before_ = -1;
};

} // namespace wlprime::test
