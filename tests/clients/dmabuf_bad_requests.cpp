// The malformed requests of zwp_linux_buffer_params_v1, one per connection
// (a protocol error ends it), and what the protocol says must follow.

#include <cerrno>
#include <cstring>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/clients/dmabuf_client_impl.hpp"

namespace wlprime::clients {
namespace {

outcome params_error(uint32_t code) {
	outcome o;
	o.what = outcome::kind::protocol_error;
	o.interface = zwp_linux_buffer_params_v1_interface.name;
	o.code = code;
	return o;
}

outcome event(outcome::kind what) {
	outcome o;
	o.what = what;
	return o;
}

outcome local(int errnum) {
	outcome o;
	o.what = outcome::kind::local_error;
	o.errnum = errnum;
	return o;
}

// The buffer every case starts from.
constexpr int32_t bad_width = 64;
constexpr int32_t bad_height = 48;
// Values the cases send, and that the compositor's messages must name.
constexpr uint32_t far_offset = 1u << 20;      // past the end of a 64x48 buffer
constexpr uint32_t wide_stride = 1024;         // 1024 * 48 > 64 * 4 * 48
constexpr uint32_t overflow_stride = 1u << 31; // * 2 rows: 2^32, 0 in 32 bits
constexpr uint32_t bogus_fourcc = 0x20202020;
constexpr uint32_t unknown_flag = 0x8;

} // namespace

const std::vector<bad_request_info> &bad_requests() {
	using K = outcome::kind;
	static const std::vector<bad_request_info> table = {
	    {bad_request::plane_idx,
	     "plane-idx",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_IDX),
	     {"plane index 4"}},
	    {bad_request::plane_set,
	     "plane-set",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_PLANE_SET),
	     {"plane 0"}},
	    {bad_request::incomplete_gap,
	     "incomplete-gap",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE),
	     {"plane 2", "plane 1"}},
	    {bad_request::no_planes,
	     "no-planes",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE),
	     {"plane 0"}},
	    {bad_request::too_many_planes,
	     "too-many-planes",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INCOMPLETE),
	     {"XR24", "got 2"}},
	    {bad_request::invalid_format,
	     "invalid-format",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT),
	     {"0x20202020"}},
	    {bad_request::invalid_modifier,
	     "invalid-modifier",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT),
	     {"XR24", "0x100000000000001"}},
	    {bad_request::mismatched_modifiers,
	     "mismatched-modifiers",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT),
	     {"plane 1", "plane 0"}},
	    {bad_request::zero_width,
	     "zero-width",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS),
	     {"0x48"}},
	    {bad_request::negative_height,
	     "negative-height",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_DIMENSIONS),
	     {"64x-1"}},
	    {bad_request::offset_past_end,
	     "offset-past-end",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"offset 1048576"}},
	    {bad_request::stride_too_big,
	     "stride-too-big",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"1024 * 47 + 256"}},
	    {bad_request::u32_overflow,
	     "u32-overflow",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"2147483648 * 1 + 256"}},
	    {bad_request::stride_zero,
	     "stride-zero",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"offset 0, stride 0", "smaller than one row"}},
	    {bad_request::stride_below_row,
	     "stride-below-row",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"stride 255", "rows of 256 bytes"}},
	    {bad_request::row_past_end,
	     "row-past-end",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"offset 12284, stride 4", "1 rows of 256 bytes"}},
	    {bad_request::unknown_flags, "unknown-flags", event(K::failed), {}},
	    {bad_request::unknown_flags_immed,
	     "unknown-flags-immed",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER),
	     {"0x8"}},
	    {bad_request::interlaced, "interlaced", event(K::failed), {}},
	    {bad_request::interlaced_immed,
	     "interlaced-immed",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER),
	     {"interlaced", "0x2"}},
	    {bad_request::add_after_create,
	     "add-after-create",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED),
	     {"already used"}},
	    {bad_request::create_twice,
	     "create-twice",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_ALREADY_USED),
	     {"already used"}},
	    {bad_request::not_dmabuf, "not-dmabuf", event(K::failed), {}},
	    {bad_request::not_dmabuf_immed,
	     "not-dmabuf-immed",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER),
	     {}},
	    {bad_request::pipe_fd, "pipe-fd", event(K::failed), {}},
	    {bad_request::dev_null_fd,
	     "dev-null-fd",
	     params_error(ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_OUT_OF_BOUNDS),
	     {"0-byte"}},
	    {bad_request::closed_fd, "closed-fd", local(EBADF), {}},
	};
	return table;
}

const bad_request_info *find_bad_request(const std::string &name) {
	for (const bad_request_info &info : bad_requests()) {
		if (name == info.name) {
			return &info;
		}
	}
	return nullptr;
}

const bad_request_info &info_of(bad_request request) {
	for (const bad_request_info &info : bad_requests()) {
		if (info.request == request) {
			return info;
		}
	}
	return bad_requests().front(); // unreachable: the table has every value
}

void dmabuf_client::state::send_bad_request() {
	width = bad_width;
	height = bad_height;
	const int d = allocate_entry();
	if (d < 0) {
		return;
	}
	const int fd = pool[size_t(d)].bos[0]->fd();
	const uint32_t stride = pool[size_t(d)].strides[0];
	const uint64_t size = pool[size_t(d)].bos[0]->size();

	// The params, with listener, as a buffer entry (created and failed are
	// recorded as outcomes; whatever is left is destroyed with the client).
	auto entry = std::make_unique<buffer_entry>();
	entry->s = this;
	entry->index = static_cast<int>(entries.size());
	buffer_entry &e = *entry;
	entries.push_back(std::move(entry));
	records.push_back(buffer_record{d});
	e.params = zwp_linux_dmabuf_v1_create_params(dmabuf);
	zwp_linux_buffer_params_v1_add_listener(e.params, &dmabuf_params_listener, &e);

	auto add = [&](int plane_fd, uint32_t plane, uint32_t offset, uint32_t plane_stride,
	               uint64_t mod) {
		zwp_linux_buffer_params_v1_add(e.params, plane_fd, plane, offset, plane_stride,
		                               uint32_t(mod >> 32), uint32_t(mod & 0xffffffff));
	};
	auto add0 = [&] { add(fd, 0, 0, stride, modifier); };
	auto create = [&](int32_t w, int32_t h, uint32_t fmt, uint32_t flags) {
		zwp_linux_buffer_params_v1_create(e.params, w, h, fmt, flags);
	};
	auto create_immed = [&](int32_t w, int32_t h, uint32_t fmt, uint32_t flags) {
		e.buffer = zwp_linux_buffer_params_v1_create_immed(e.params, w, h, fmt, flags);
	};
	const uint32_t xrgb = DRM_FORMAT_XRGB8888;
	// A dma-buf-sized fd that is no dma-buf.
	auto plain_memfd = [&]() {
		unique_fd memfd(memfd_create("wlprime-not-a-dmabuf", MFD_CLOEXEC));
		if (memfd && ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) {
			memfd.reset();
		}
		if (!memfd) {
			fail(std::string("memfd for a non-dma-buf fd: ") + std::strerror(errno));
		}
		return memfd;
	};

	switch (*opts.bad) {
	case bad_request::plane_idx:
		add(fd, 4, 0, stride, modifier);
		break;
	case bad_request::plane_set:
		add0();
		add0();
		break;
	case bad_request::incomplete_gap:
		add0();
		add(fd, 2, 0, stride, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::no_planes:
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::too_many_planes:
		add0();
		add(fd, 1, 0, stride, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::invalid_format:
		add0();
		create(bad_width, bad_height, bogus_fourcc, 0);
		break;
	case bad_request::invalid_modifier:
		add(fd, 0, 0, stride, I915_FORMAT_MOD_X_TILED);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::mismatched_modifiers:
		add0();
		add(fd, 1, 0, stride,
		    modifier == DRM_FORMAT_MOD_LINEAR ? DRM_FORMAT_MOD_INVALID
		                                      : DRM_FORMAT_MOD_LINEAR);
		break;
	case bad_request::zero_width:
		add0();
		create(0, bad_height, xrgb, 0);
		break;
	case bad_request::negative_height:
		add0();
		create(bad_width, -1, xrgb, 0);
		break;
	case bad_request::offset_past_end:
		add(fd, 0, far_offset, stride, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::stride_too_big:
		add(fd, 0, 0, wide_stride, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::u32_overflow:
		add(fd, 0, 0, overflow_stride, modifier);
		create(bad_width, 2, xrgb, 0);
		break;
	case bad_request::stride_zero:
		add(fd, 0, 0, 0, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::stride_below_row:
		add(fd, 0, 0, uint32_t(bad_width) * 4 - 1, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	case bad_request::row_past_end:
		// offset + stride * height == size: passed the old check.
		add(fd, 0, uint32_t(bad_width * bad_height * 4 - 4), 4, modifier);
		create(bad_width, 1, xrgb, 0);
		break;
	case bad_request::y_invert:
		add0();
		create(bad_width, bad_height, xrgb, ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT);
		break;
	case bad_request::y_invert_immed:
		add0();
		create_immed(bad_width, bad_height, xrgb,
		             ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT);
		break;
	case bad_request::unknown_flags:
		add0();
		create(bad_width, bad_height, xrgb, unknown_flag);
		break;
	case bad_request::unknown_flags_immed:
		add0();
		create_immed(bad_width, bad_height, xrgb, unknown_flag);
		break;
	case bad_request::interlaced:
		add0();
		create(bad_width, bad_height, xrgb, ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_INTERLACED);
		break;
	case bad_request::interlaced_immed:
		add0();
		create_immed(bad_width, bad_height, xrgb,
		             ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_INTERLACED);
		break;
	// The second request is sent once `created` came: had both gone at once,
	// the error would end the connection with `created` (and the wl_buffer
	// proxy libwayland-client made for it) still undispatched.
	case bad_request::add_after_create:
		add0();
		create(bad_width, bad_height, xrgb, 0);
		bad_after_created = [this, &e, fd, stride] {
			zwp_linux_buffer_params_v1_add(e.params, fd, 1, 0, stride,
			                               uint32_t(modifier >> 32),
			                               uint32_t(modifier & 0xffffffff));
		};
		break;
	case bad_request::create_twice:
		add0();
		create(bad_width, bad_height, xrgb, 0);
		bad_after_created = [&e] {
			zwp_linux_buffer_params_v1_create(e.params, bad_width, bad_height,
			                                  DRM_FORMAT_XRGB8888, 0);
		};
		break;
	case bad_request::not_dmabuf:
	case bad_request::not_dmabuf_immed: {
		unique_fd memfd = plain_memfd();
		if (!memfd) {
			return;
		}
		add(memfd.get(), 0, 0, stride, modifier);
		if (*opts.bad == bad_request::not_dmabuf) {
			create(bad_width, bad_height, xrgb, 0);
		} else {
			create_immed(bad_width, bad_height, xrgb, 0);
		}
		break; // memfd: libwayland sent a duplicate, ours closes here
	}
	case bad_request::pipe_fd: {
		int ends[2];
		if (pipe2(ends, O_CLOEXEC) != 0) {
			fail(std::string("pipe2: ") + std::strerror(errno));
			return;
		}
		unique_fd read_end(ends[0]), write_end(ends[1]);
		add(read_end.get(), 0, 0, stride, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	}
	case bad_request::dev_null_fd: {
		unique_fd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
		if (!null_fd) {
			fail(std::string("/dev/null: ") + std::strerror(errno));
			return;
		}
		add(null_fd.get(), 0, 0, stride, modifier);
		create(bad_width, bad_height, xrgb, 0);
		break;
	}
	case bad_request::closed_fd: {
		unique_fd memfd = plain_memfd();
		if (!memfd) {
			return;
		}
		const int number = memfd.get();
		memfd.reset();
		if (fcntl(number, F_GETFD) != -1) {
			fail("fd " + std::to_string(number) + " is still open after close");
			return;
		}
		// libwayland-client duplicates an fd when it marshals it: this
		// fails with EBADF and the connection is marked failed here, before
		// anything reaches the compositor.
		add(number, 0, 0, stride, modifier);
		break;
	}
	}
	if (e.buffer != nullptr) {
		// create_immed: the wl_buffer exists unless an error ends it all.
		wl_buffer_add_listener(e.buffer, &dmabuf_buffer_listener, &e);
		records.back().created = true;
		stats.wl_buffers++;
	}
	if (!bad_after_created) {
		send_final_sync();
	}
}

void dmabuf_client::state::send_final_sync() {
	final_sync = wl_display_sync(display);
	wl_callback_add_listener(final_sync, &dmabuf_final_sync_listener, this);
	wl_display_flush(display);
}

} // namespace wlprime::clients
