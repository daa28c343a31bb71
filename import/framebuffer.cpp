// SPDX-License-Identifier: MIT
#include "framebuffer.hpp"

#include <cstring>

#include "formats.hpp"
#include "log.hpp"

namespace wlprime {

framebuffer &framebuffer::operator=(framebuffer &&other) noexcept {
	if (this != &other) {
		reset();
		device_ = std::exchange(other.device_, nullptr);
		id_ = std::exchange(other.id_, 0);
	}
	return *this;
}

result<framebuffer> framebuffer::add(device &dev, const fb_request &request) {
	uint32_t id = 0;
	int err = dev.kernel().add_fb2(dev.fd(), request, &id);
	if (err != 0) {
		return error{"ADDFB2 " + std::to_string(request.width) + "x" +
		                 std::to_string(request.height) + " " +
		                 format_name(request.format) +
		                 (request.modifiers ? " " + modifier_name(request.modifier)
		                                    : std::string(" (no modifier)")) +
		                 " on " + dev.name() + ": " + std::strerror(err),
		             err};
	}
	return framebuffer(&dev, id);
}

void framebuffer::reset() {
	device *dev = std::exchange(device_, nullptr);
	uint32_t id = std::exchange(id_, 0);
	if (dev == nullptr || id == 0)
		return;
	int err = dev->kernel().remove_fb(dev->fd(), id);
	if (err != 0)
		import_log(log_level::error, "framebuffer %u on %s: remove failed: %s (errno %d)",
		           id, dev->name().c_str(), std::strerror(err), err);
	else
		import_log(log_level::debug, "framebuffer %u on %s removed", id,
		           dev->name().c_str());
}

} // namespace wlprime
