// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <utility>

#include "device.hpp"
#include "kernel.hpp"
#include "result.hpp"

/*
 * DOC: KMS framebuffers of Imports
 *
 * A framebuffer is made with ADDFB2 from the GEM handles that an Import holds
 * on a display device (its device_import), with DRM_MODE_FB_MODIFIERS when the
 * device has DRM_CAP_ADDFB2_MODIFIERS and the Import's modifier is explicit,
 * plain otherwise. There is one per (Import, device), made on first use by
 * dmabuf_import::framebuffer_on() and kept in the device_import; a failure is
 * kept too, with its errno, and never retried. The framebuffer is removed
 * (CLOSEFB, RMFB on kernels before 6.8) when its Import is freed, before the
 * Import's GEM handles are closed.
 *
 * Never while on screen: whoever puts a framebuffer on a plane (render/'s KMS
 * output) holds an import_ref to its Import for as long as the framebuffer is
 * on screen or queued for a flip. The Import cannot be freed before that
 * reference goes, so neither can the framebuffer.
 */

namespace wlprime {

/*
 * One framebuffer id on one device file description. Move-only; destroying it
 * (or reset()) removes the framebuffer from the kernel, exactly once. Must not
 * outlive its device.
 */
class framebuffer {
public:
	framebuffer() = default;
	~framebuffer() { reset(); }
	framebuffer(framebuffer &&other) noexcept
	    : device_(std::exchange(other.device_, nullptr)), id_(std::exchange(other.id_, 0)) {}
	framebuffer &operator=(framebuffer &&other) noexcept;
	framebuffer(const framebuffer &) = delete;
	framebuffer &operator=(const framebuffer &) = delete;

	// ADDFB2 on dev with request. The caller owns the result. The error
	// names the device, the size, the format and the errno.
	static result<framebuffer> add(device &dev, const fb_request &request);

	// 0 when empty.
	uint32_t id() const { return id_; }
	explicit operator bool() const { return id_ != 0; }
	// Removes the framebuffer now (logged if the kernel refuses).
	void reset();

private:
	framebuffer(device *dev, uint32_t id) : device_(dev), id_(id) {}

	device *device_ = nullptr; // borrowed
	uint32_t id_ = 0;
};

} // namespace wlprime
