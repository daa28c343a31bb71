// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "dmabuf_attributes.hpp"
#include "formats.hpp"
#include "unique_fd.hpp"

namespace wlprime {

/*
 * The error codes of zwp_linux_buffer_params_v1, with the protocol's values
 * (import/ does not include Wayland headers; compositor/ static_asserts that
 * the numbers match the generated enum).
 */
enum class params_error : uint32_t {
	already_used = 0,
	plane_idx = 1,
	plane_set = 2,
	incomplete = 3,
	invalid_format = 4,
	invalid_dimensions = 5,
	out_of_bounds = 6,
	invalid_wl_buffer = 7,
};
const char *to_string(params_error error);

/*
 * Why params were refused. A protocol error is fatal for the client: post
 * `code` with `message`. Otherwise the buffer cannot be created for a reason
 * the client could not predict (unsupported flags): send `failed` for create,
 * or for create_immed post invalid_wl_buffer.
 */
struct params_failure {
	bool fatal = true;
	params_error code = params_error::incomplete;
	std::string message;
};

/*
 * The state of one zwp_linux_buffer_params_v1: the planes added so far and
 * whether create has been called. Implements every rule and error code of
 * linux-dmabuf-unstable-v1 (v3/v4). Owns every fd it is given, on every
 * path: a refused add closes its fd at once; create moves the fds into the
 * attributes or, on failure, closes them with the params.
 */
class dmabuf_params {
public:
	// Takes ownership of fd whatever the result. modifier is the 64-bit
	// value of modifier_hi/lo.
	std::optional<params_failure> add(unique_fd fd, uint32_t plane_idx, uint32_t offset,
	                                  uint32_t stride, uint64_t modifier);

	// Validates in the order: already_used, incomplete (no plane 0, gaps),
	// invalid_dimensions, invalid_format (pair not in `supported`, a
	// format with no layout description, or the planes' modifiers
	// disagree), incomplete (plane count against the format), unsupported
	// flags (non-fatal: interlaced, unknown bits; y_invert is kept in
	// the attributes, every stage honours it), out_of_bounds
	// (per plane, check_plane_bounds() against the dma-buf's lseek size;
	// a size that cannot be read is a non-fatal failure). Marks the params
	// used on every path.
	std::variant<dmabuf_attributes, params_failure> create(int32_t width, int32_t height,
	                                                       uint32_t format, uint32_t flags,
	                                                       const format_set &supported);

	bool used() const { return used_; }
	uint32_t plane_count() const;

private:
	struct Plane {
		dmabuf_plane plane;
		uint64_t modifier = 0;
	};
	std::optional<params_failure> check_bounds(const format_info &info, uint32_t width,
	                                           uint32_t height) const;

	std::array<std::optional<Plane>, max_dmabuf_planes> planes_;
	bool used_ = false;
};

} // namespace wlprime
