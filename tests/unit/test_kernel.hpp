// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernel.hpp"
#include "unique_fd.hpp"

namespace wlprime::test {

/*
 * What a test case needs from "the kernel", so that one list of cases runs
 * against the kernel model (fast, anywhere) and against the real kernel (in
 * the QEMU guest, tests/vm): the seam itself, the device nodes by driver,
 * and the exporter-side helpers a client would use to make dma-bufs.
 */
class test_kernel_api {
public:
	virtual ~test_kernel_api() = default;
	virtual const char *name() const = 0;
	virtual kernel_api &kernel() = 0;

	// Path of a node of `driver` ("vgem", "vkms", "cirrus") of that type, or
	// "" if the machine has none.
	virtual std::string node(const std::string &driver, node_type type) = 0;

	// A dma-buf not exported by a DRM device (udmabuf), or an invalid fd if
	// this kernel has none.
	virtual unique_fd foreign_dmabuf(uint64_t size) = 0;
	// Number of live dma-bufs in the whole system, or -1 if unknown.
	virtual long live_dmabufs() = 0;
	// Number of framebuffers on the device of `path`, or -1 if unknown.
	virtual long framebuffers(const std::string &path) = 0;
};

// The kernel this test run uses (chosen by --kernel=model|real).
test_kernel_api &current_kernel();
std::unique_ptr<test_kernel_api> make_model_kernel();
std::unique_ptr<test_kernel_api> make_real_kernel();

// Number of open fds of this process (/proc/self/fd).
int open_fd_count();
// Number of shared mappings of this process (/proc/self/maps): dma-buf
// mappings are shared, and little else in a test is.
int shared_mapping_count();

} // namespace wlprime::test
