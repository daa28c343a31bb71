// SPDX-License-Identifier: MIT
#include "dmabuf_params.hpp"

#include <cstdio>
#include <drm_fourcc.h>

#include "dmabuf_id.hpp"
#include "enum_name.hpp"

namespace wlprime {

const char *to_string(params_error error) {
	// In protocol order: the enum's values are the protocol's error codes.
	static constexpr const char *names[] = {
	    "already_used",   "plane_idx",          "plane_set",     "incomplete",
	    "invalid_format", "invalid_dimensions", "out_of_bounds", "invalid_wl_buffer",
	};
	return enum_name(error, names, "unknown");
}

static std::string hex(uint32_t v) {
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%x", v);
	return buf;
}

static params_failure fatal(params_error code, std::string message) {
	return params_failure{true, code, std::move(message)};
}

std::optional<params_failure> dmabuf_params::add(unique_fd fd, uint32_t plane_idx, uint32_t offset,
                                                 uint32_t stride, uint64_t modifier) {
	// fd is closed on return unless moved into a plane below.
	if (used_)
		return fatal(params_error::already_used,
		             "params were already used to create a wl_buffer");
	if (plane_idx >= max_dmabuf_planes)
		return fatal(params_error::plane_idx,
		             "plane index " + std::to_string(plane_idx) + " is too large (max " +
		                 std::to_string(max_dmabuf_planes - 1) + ")");
	if (planes_[plane_idx])
		return fatal(params_error::plane_set,
		             "plane " + std::to_string(plane_idx) + " was already set");
	for (uint32_t i = 0; i < max_dmabuf_planes; i++) {
		if (planes_[i] && planes_[i]->modifier != modifier)
			return fatal(params_error::invalid_format,
			             "modifier " + modifier_name(modifier) + " of plane " +
			                 std::to_string(plane_idx) + " differs from modifier " +
			                 modifier_name(planes_[i]->modifier) + " of plane " +
			                 std::to_string(i));
	}
	planes_[plane_idx] = Plane{dmabuf_plane{std::move(fd), offset, stride}, modifier};
	return std::nullopt;
}

uint32_t dmabuf_params::plane_count() const {
	uint32_t n = 0;
	for (const auto &p : planes_)
		n += p.has_value();
	return n;
}

std::optional<params_failure> dmabuf_params::check_bounds(const format_info &info, uint32_t width,
                                                          uint32_t height) const {
	for (uint32_t i = 0; i < max_dmabuf_planes && planes_[i]; i++) {
		const dmabuf_plane &plane = planes_[i]->plane;
		auto size = dmabuf_size_of(plane.fd.get());
		if (!size)
			// Without the size no stage could read it safely; not the
			// client's fault (not a dma-buf, an old kernel): not fatal.
			return params_failure{
			    false, params_error::invalid_wl_buffer,
			    "plane " + std::to_string(i) +
			        ": the size of the dma-buf cannot be read: " + size.err().message};
		if (plane.offset >= *size)
			return fatal(params_error::out_of_bounds,
			             "plane " + std::to_string(i) + ": offset " +
			                 std::to_string(plane.offset) + " is past the end of the " +
			                 std::to_string(*size) + "-byte dma-buf");
		// An extra (vendor auxiliary) plane of an explicit modifier has a
		// layout only its driver knows: only its offset is checked, and
		// no CPU stage reads such a buffer.
		if (i >= info.planes)
			continue;
		if (auto why = check_plane_bounds(info, i, width, height, plane.offset,
		                                  plane.stride, *size))
			return fatal(params_error::out_of_bounds, *why);
	}
	return std::nullopt;
}

std::variant<dmabuf_attributes, params_failure> dmabuf_params::create(int32_t width, int32_t height,
                                                                      uint32_t format,
                                                                      uint32_t flags,
                                                                      const format_set &supported) {
	if (used_)
		return fatal(params_error::already_used,
		             "params were already used to create a wl_buffer");
	used_ = true;

	uint32_t n = 0;
	while (n < max_dmabuf_planes && planes_[n])
		n++;
	if (n == 0)
		return fatal(params_error::incomplete, "no plane 0 was added");
	for (uint32_t i = n; i < max_dmabuf_planes; i++)
		if (planes_[i])
			return fatal(params_error::incomplete,
			             "plane " + std::to_string(i) + " was added but plane " +
			                 std::to_string(n) + " is missing");

	if (width < 1 || height < 1)
		return fatal(params_error::invalid_dimensions, "invalid size " +
		                                                   std::to_string(width) + "x" +
		                                                   std::to_string(height));

	const uint64_t modifier = planes_[0]->modifier;
	if (!supported.contains(format, modifier))
		return fatal(params_error::invalid_format,
		             "format " + format_name(format) + " with modifier " +
		                 modifier_name(modifier) + " is not supported");

	const format_info *info = lookup_format(format);
	if (!info)
		return fatal(params_error::invalid_format,
		             "format " + format_name(format) +
		                 " has no layout description in wlprime");
	// Explicit vendor modifiers may add auxiliary planes; linear and
	// implicit layouts have exactly the format's planes.
	bool exact = modifier == DRM_FORMAT_MOD_LINEAR || modifier == DRM_FORMAT_MOD_INVALID;
	if (n < info->planes || (exact && n != info->planes))
		return fatal(params_error::incomplete, "format " + format_name(format) +
		                                           " with modifier " +
		                                           modifier_name(modifier) + " needs " +
		                                           std::to_string(info->planes) +
		                                           " planes, got " + std::to_string(n));

	const uint32_t known =
	    dmabuf_flag_y_invert | dmabuf_flag_interlaced | dmabuf_flag_bottom_first;
	if (flags & ~known)
		return params_failure{false, params_error::invalid_wl_buffer,
		                      "unknown flags " + hex(flags & ~known)};
	if (flags & (dmabuf_flag_interlaced | dmabuf_flag_bottom_first))
		return params_failure{false, params_error::invalid_wl_buffer,
		                      "interlaced buffers are not supported (flags " + hex(flags) +
		                          ")"};
	if (auto failure =
	        check_bounds(*info, static_cast<uint32_t>(width), static_cast<uint32_t>(height)))
		return *failure;

	dmabuf_attributes attribs;
	attribs.width = width;
	attribs.height = height;
	attribs.format = format;
	attribs.modifier = modifier;
	attribs.flags = flags;
	attribs.n_planes = n;
	for (uint32_t i = 0; i < n; i++)
		attribs.planes[i] = std::move(planes_[i]->plane);
	planes_ = {};
	return attribs;
}

} // namespace wlprime
