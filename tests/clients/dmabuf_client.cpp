#include "tests/clients/dmabuf_client.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>

#include <drm_fourcc.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/clients/dmabuf_client_impl.hpp"
#include "tests/clients/dmabuf_pattern.hpp"

namespace wlprime::clients {

// --- libwayland-client's log: where protocol error messages go ---------------

namespace {

struct wayland_log {
	std::mutex mutex;
	std::deque<std::string> lines; // the last few
	bool quiet = false;
	bool installed = false;
};

wayland_log &client_log() {
	static wayland_log log; // process-wide, as libwayland's handler is
	return log;
}

void client_log_handler(const char *fmt, va_list args) {
	char text[4096];
	std::vsnprintf(text, sizeof(text), fmt, args);
	wayland_log &log = client_log();
	std::lock_guard lock(log.mutex);
	log.lines.emplace_back(text);
	if (log.lines.size() > 64) {
		log.lines.pop_front();
	}
	if (!log.quiet) {
		std::fprintf(stderr, "%s", text);
	}
}

// The message of "interface@id: error code: message\n", logged by
// libwayland-client when the error event came.
std::string logged_error_message(const std::string &interface, uint32_t id, uint32_t code) {
	const std::string prefix =
	    interface + "@" + std::to_string(id) + ": error " + std::to_string(code) + ": ";
	wayland_log &log = client_log();
	std::lock_guard lock(log.mutex);
	for (auto it = log.lines.rbegin(); it != log.lines.rend(); ++it) {
		if (it->rfind(prefix, 0) == 0) {
			std::string message = it->substr(prefix.size());
			while (!message.empty() && message.back() == '\n') {
				message.pop_back();
			}
			return message;
		}
	}
	return {};
}

const char *params_error_name(uint32_t code) {
	static const char *const names[] = {
	    "already_used",   "plane_idx",          "plane_set",     "incomplete",
	    "invalid_format", "invalid_dimensions", "out_of_bounds", "invalid_wl_buffer",
	};
	return code < std::size(names) ? names[code] : "unknown";
}

const char *display_error_name(uint32_t code) {
	static const char *const names[] = {"invalid_object", "invalid_method", "no_memory",
	                                    "implementation"};
	return code < std::size(names) ? names[code] : "unknown";
}

std::string fourcc_name(uint32_t format) {
	std::string s;
	for (int i = 0; i < 4; i++) {
		char c = static_cast<char>((format >> (8 * i)) & 0xff);
		s += (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	return s;
}

std::string modifier_text(uint64_t modifier) {
	if (modifier == DRM_FORMAT_MOD_LINEAR) {
		return "LINEAR";
	}
	if (modifier == DRM_FORMAT_MOD_INVALID) {
		return "INVALID";
	}
	char buf[32];
	std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(modifier));
	return buf;
}

} // namespace

namespace {

void install_client_log_handler() {
	wayland_log &log = client_log();
	std::lock_guard lock(log.mutex);
	if (!log.installed) {
		wl_log_set_handler_client(client_log_handler);
		log.installed = true;
	}
}

} // namespace

void capture_wayland_client_log(bool quiet) {
	install_client_log_handler();
	wayland_log &log = client_log();
	std::lock_guard lock(log.mutex);
	log.quiet = quiet;
}

std::string pair_name(const format_pair &pair) {
	return fourcc_name(pair.first) + "/" + modifier_text(pair.second);
}

std::string describe_protocol_error(const std::string &interface, uint32_t code) {
	std::string name = interface == "zwp_linux_buffer_params_v1" ? params_error_name(code)
	                   : interface == "wl_display"               ? display_error_name(code)
	                                                             : "";
	return interface + " error " + std::to_string(code) +
	       (name.empty() ? "" : " (" + name + ")");
}

std::string to_string(const outcome &o) {
	switch (o.what) {
	case outcome::kind::none:
		return "nothing";
	case outcome::kind::created:
		return "a wl_buffer (created)";
	case outcome::kind::failed:
		return "a failed event";
	case outcome::kind::protocol_error:
		return "protocol error " + describe_protocol_error(o.interface, o.code) +
		       (o.message.empty() ? "" : ": " + o.message);
	case outcome::kind::local_error:
		return std::string("a local error: ") + std::strerror(o.errnum);
	}
	return "?";
}

// --- listeners ---------------------------------------------------------------

namespace {

using state = dmabuf_client::state;

void output_geometry(void *, wl_output *, int32_t, int32_t, int32_t, int32_t, int32_t, const char *,
                     const char *, int32_t) {}
void output_mode(void *data, wl_output *, uint32_t flags, int32_t width, int32_t height, int32_t) {
	auto *o = static_cast<output_entry *>(data);
	if (flags & WL_OUTPUT_MODE_CURRENT) {
		o->s->outputs[size_t(o->index)].width = width;
		o->s->outputs[size_t(o->index)].height = height;
	}
}
void output_done(void *, wl_output *) {}
void output_scale(void *, wl_output *, int32_t) {}
void output_name(void *data, wl_output *, const char *name) {
	auto *o = static_cast<output_entry *>(data);
	o->s->outputs[size_t(o->index)].name = name;
}
void output_description(void *data, wl_output *, const char *description) {
	auto *o = static_cast<output_entry *>(data);
	o->s->outputs[size_t(o->index)].description = description;
}
const wl_output_listener output_listener = {
    .geometry = output_geometry,
    .mode = output_mode,
    .done = output_done,
    .scale = output_scale,
    .name = output_name,
    .description = output_description,
};

// The globals client_base does not bind: every wl_output.
void add_output(state *s, wl_registry *registry, uint32_t name, uint32_t version) {
	auto o = std::make_unique<output_entry>();
	o->s = s;
	o->index = static_cast<int>(s->outputs.size());
	o->output = static_cast<wl_output *>(
	    wl_registry_bind(registry, name, &wl_output_interface, std::min(version, 4u)));
	wl_output_add_listener(o->output, &output_listener, o.get());
	s->outputs.push_back({name, "", "", 0, 0});
	s->output_entries.push_back(std::move(o));
}

void dmabuf_format(void *, zwp_linux_dmabuf_v1 *, uint32_t) {}
void dmabuf_modifier(void *data, zwp_linux_dmabuf_v1 *, uint32_t format, uint32_t hi, uint32_t lo) {
	auto *s = static_cast<state *>(data);
	s->modifier_events.emplace_back(format, (uint64_t(hi) << 32) | lo);
}
const zwp_linux_dmabuf_v1_listener dmabuf_listener = {
    .format = dmabuf_format,
    .modifier = dmabuf_modifier,
};

// Feedback (v4).

bool dev_from_array(wl_array *array, dev_t *dev) {
	if (array->size != sizeof(dev_t)) {
		return false;
	}
	std::memcpy(dev, array->data, sizeof(dev_t));
	return true;
}

void feedback_done(void *data, zwp_linux_dmabuf_feedback_v1 *) {
	auto *f = static_cast<feedback_entry *>(data);
	*f->out = f->building;
	f->out->done = true;
	if (f == &f->s->surface_feedback) {
		f->s->surface_history.push_back(*f->out);
	}
	// A later feedback re-sends its tranches; table and main device stay
	// unless re-sent.
	f->building.tranches.clear();
	if (f == &f->s->default_feedback && !f->s->ready) {
		f->s->on_formats_known();
	}
}

void feedback_format_table(void *data, zwp_linux_dmabuf_feedback_v1 *, int32_t fd, uint32_t size) {
	auto *f = static_cast<feedback_entry *>(data);
	unique_fd table(fd);
	dmabuf_feedback &b = f->building;
	b.table.clear();
	b.table_size = size;
	b.table_seals = fcntl(table.get(), F_GET_SEALS);
	// Clients must map it read-only and private (it is shared by every
	// client); a writable shared mapping must be refused.
	void *writable = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, table.get(), 0);
	b.table_writable_map = writable != MAP_FAILED;
	if (writable != MAP_FAILED) {
		munmap(writable, size);
	}
	if (size % 16 != 0) {
		b.error = "format table size " + std::to_string(size) + " is not a multiple of 16";
		return;
	}
	if (size == 0) {
		return;
	}
	void *map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, table.get(), 0);
	if (map == MAP_FAILED) {
		b.error = std::string("mmap of the format table: ") + std::strerror(errno);
		return;
	}
	const auto *bytes = static_cast<const uint8_t *>(map);
	for (uint32_t off = 0; off < size; off += 16) {
		uint32_t format;
		uint64_t modifier;
		std::memcpy(&format, bytes + off, sizeof(format));
		std::memcpy(&modifier, bytes + off + 8, sizeof(modifier));
		b.table.emplace_back(format, modifier);
	}
	munmap(map, size);
}

void feedback_main_device(void *data, zwp_linux_dmabuf_feedback_v1 *, wl_array *device) {
	auto *f = static_cast<feedback_entry *>(data);
	if (!dev_from_array(device, &f->building.main_device)) {
		f->building.error = "main_device array of " + std::to_string(device->size) +
		                    " bytes, not sizeof(dev_t)";
	}
}

void feedback_tranche_done(void *data, zwp_linux_dmabuf_feedback_v1 *) {
	auto *f = static_cast<feedback_entry *>(data);
	feedback_tranche &t = f->tranche;
	for (uint16_t index : t.indices) {
		if (index >= f->building.table.size()) {
			f->building.error = "tranche format index " + std::to_string(index) +
			                    " past the table's " +
			                    std::to_string(f->building.table.size()) + " entries";
			continue;
		}
		t.formats.push_back(f->building.table[index]);
	}
	f->building.tranches.push_back(std::move(t));
	t = {};
}

void feedback_tranche_target_device(void *data, zwp_linux_dmabuf_feedback_v1 *, wl_array *device) {
	auto *f = static_cast<feedback_entry *>(data);
	if (!dev_from_array(device, &f->tranche.target_device)) {
		f->building.error =
		    "tranche_target_device array of " + std::to_string(device->size) + " bytes";
	}
}

void feedback_tranche_formats(void *data, zwp_linux_dmabuf_feedback_v1 *, wl_array *indices) {
	auto *f = static_cast<feedback_entry *>(data);
	const auto *p = static_cast<const uint16_t *>(indices->data);
	for (size_t i = 0; i < indices->size / sizeof(uint16_t); i++) {
		f->tranche.indices.push_back(p[i]);
	}
}

void feedback_tranche_flags(void *data, zwp_linux_dmabuf_feedback_v1 *, uint32_t flags) {
	static_cast<feedback_entry *>(data)->tranche.flags = flags;
}

const zwp_linux_dmabuf_feedback_v1_listener feedback_listener = {
    .done = feedback_done,
    .format_table = feedback_format_table,
    .main_device = feedback_main_device,
    .tranche_done = feedback_tranche_done,
    .tranche_target_device = feedback_tranche_target_device,
    .tranche_formats = feedback_tranche_formats,
    .tranche_flags = feedback_tranche_flags,
};

// Syncs.

void formats_done(void *data, wl_callback *callback, uint32_t) {
	auto *s = static_cast<state *>(data);
	wl_callback_destroy(callback);
	s->formats_sync = nullptr;
	s->on_formats_known();
}
const wl_callback_listener formats_listener = {.done = formats_done};

void final_done(void *data, wl_callback *callback, uint32_t) {
	auto *s = static_cast<state *>(data);
	wl_callback_destroy(callback);
	s->final_sync = nullptr;
	s->on_final_sync();
}

// Window.

int output_index(state *s, wl_output *output) {
	for (const auto &o : s->output_entries) {
		if (o->output == output) {
			return o->index;
		}
	}
	return -1;
}
void surface_enter(void *data, wl_surface *, wl_output *output) {
	auto *s = static_cast<state *>(data);
	int i = output_index(s, output);
	if (i >= 0) {
		s->entered.push_back(i);
		s->output_events.push_back(i);
	}
}
void surface_leave(void *data, wl_surface *, wl_output *output) {
	auto *s = static_cast<state *>(data);
	int i = output_index(s, output);
	if (i >= 0) {
		std::erase(s->entered, i);
		s->output_events.push_back(-i - 1);
	}
}
const wl_surface_listener surface_listener = {.enter = surface_enter, .leave = surface_leave};

// Buffers.

void params_created(void *data, zwp_linux_buffer_params_v1 *, wl_buffer *buffer) {
	auto *e = static_cast<buffer_entry *>(data);
	e->s->on_created(*e, buffer);
}
void params_failed(void *data, zwp_linux_buffer_params_v1 *) {
	auto *e = static_cast<buffer_entry *>(data);
	e->s->on_failed(*e);
}

void buffer_release(void *data, wl_buffer *) {
	auto *e = static_cast<buffer_entry *>(data);
	e->s->on_release(*e);
}

} // namespace

const zwp_linux_buffer_params_v1_listener dmabuf_params_listener = {
    .created = params_created,
    .failed = params_failed,
};
const wl_buffer_listener dmabuf_buffer_listener = {.release = buffer_release};
const wl_callback_listener dmabuf_final_sync_listener = {.done = final_done};

// --- state ---------------------------------------------------------------------

state::~state() {
	for (auto &e : entries) {
		if (e->params != nullptr) {
			zwp_linux_buffer_params_v1_destroy(e->params);
		}
		if (e->buffer != nullptr) {
			wl_buffer_destroy(e->buffer);
		}
	}
	frame.cancel();
	for (wl_callback *cb : {final_sync, formats_sync}) {
		if (cb != nullptr) {
			wl_callback_destroy(cb);
		}
	}
	for (feedback_entry *f : {&default_feedback, &surface_feedback}) {
		if (f->feedback != nullptr) {
			zwp_linux_dmabuf_feedback_v1_destroy(f->feedback);
		}
	}
	// The window (a member) goes next, then the globals (the base).
	for (const auto &o : output_entries) {
		if (wl_output_get_version(o->output) >= WL_OUTPUT_RELEASE_SINCE_VERSION) {
			wl_output_release(o->output);
		} else {
			wl_output_destroy(o->output);
		}
	}
}

void state::fail(const std::string &why) {
	if (failure.empty()) {
		failure = why;
	}
	finished = true;
}

void state::check_display() {
	if (display == nullptr || abrupt || last.what == outcome::kind::protocol_error ||
	    last.what == outcome::kind::local_error) {
		return;
	}
	int err = wl_display_get_error(display);
	if (err == 0) {
		return;
	}
	outcome o;
	if (err == EPROTO) {
		const wl_interface *iface = nullptr;
		uint32_t id = 0;
		o.what = outcome::kind::protocol_error;
		o.code = wl_display_get_protocol_error(display, &iface, &id);
		o.interface = iface != nullptr ? iface->name : "unknown";
		o.message = logged_error_message(o.interface, id, o.code);
	} else {
		o.what = outcome::kind::local_error;
		o.errnum = err;
	}
	last = o;
	if (opts.bad) {
		finished = true;
		return;
	}
	if (expect_refusal && o.what == outcome::kind::protocol_error &&
	    o.interface == zwp_linux_buffer_params_v1_interface.name &&
	    o.code == ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_FORMAT) {
		note = fourcc_name(format) + " is not advertised and was refused: " + to_string(o);
		finished = true;
		return;
	}
	if (o.what == outcome::kind::protocol_error) {
		fail(to_string(o));
	} else {
		fail(std::string("Wayland connection failed: ") + std::strerror(err));
	}
}

void state::on_globals() {
	if (dmabuf == nullptr) {
		fail("the compositor does not advertise zwp_linux_dmabuf_v1");
		return;
	}
	if (!opts.bad && (compositor == nullptr || wm_base == nullptr)) {
		fail("the compositor lacks wl_compositor or xdg_wm_base");
		return;
	}
	if (opts.presentation_feedback && !presentation.bound()) {
		fail("the compositor does not advertise wp_presentation");
		return;
	}
	zwp_linux_dmabuf_v1_add_listener(dmabuf, &dmabuf_listener, this);
	if (dmabuf_version >= ZWP_LINUX_DMABUF_V1_GET_DEFAULT_FEEDBACK_SINCE_VERSION) {
		default_feedback.s = this;
		default_feedback.out = &default_result;
		default_feedback.feedback = zwp_linux_dmabuf_v1_get_default_feedback(dmabuf);
		zwp_linux_dmabuf_feedback_v1_add_listener(default_feedback.feedback,
		                                          &feedback_listener, &default_feedback);
	} else {
		// The modifier events follow the bind: they are in before this.
		formats_sync = wl_display_sync(display);
		wl_callback_add_listener(formats_sync, &formats_listener, this);
	}
}

void state::on_formats_known() {
	ready = true;
	if (!choose_format()) {
		return;
	}
	if (opts.bad) {
		send_bad_request();
		return;
	}
	create_window();
}

bool state::choose_format() {
	std::vector<format_pair> advertised;
	if (dmabuf_version >= ZWP_LINUX_DMABUF_V1_GET_DEFAULT_FEEDBACK_SINCE_VERSION) {
		if (!default_result.error.empty()) {
			fail("bad default feedback: " + default_result.error);
			return false;
		}
		for (const feedback_tranche &t : default_result.tranches) {
			advertised.insert(advertised.end(), t.formats.begin(), t.formats.end());
		}
	} else {
		advertised = modifier_events;
	}
	const uint32_t yuv = yuv_format();
	format = yuv != 0 ? yuv : DRM_FORMAT_XRGB8888;
	for (uint64_t want : {DRM_FORMAT_MOD_LINEAR, DRM_FORMAT_MOD_INVALID}) {
		for (const format_pair &p : advertised) {
			if (p.first == format && p.second == want) {
				modifier = want;
				return true;
			}
		}
	}
	if (yuv != 0) {
		// Sent all the same: the compositor decides (and says so).
		expect_refusal = true;
		modifier = DRM_FORMAT_MOD_LINEAR;
		return true;
	}
	fail("the compositor advertises " + fourcc_name(format) +
	     " with neither the LINEAR nor the INVALID (implicit) modifier (" +
	     std::to_string(advertised.size()) + " pairs advertised)");
	return false;
}

void state::create_window() {
	wl_surface *surface = wl_compositor_create_surface(compositor);
	wl_surface_add_listener(surface, &surface_listener, this);
	if (dmabuf_version >= ZWP_LINUX_DMABUF_V1_GET_SURFACE_FEEDBACK_SINCE_VERSION) {
		surface_feedback.s = this;
		surface_feedback.out = &surface_result;
		surface_feedback.feedback =
		    zwp_linux_dmabuf_v1_get_surface_feedback(dmabuf, surface);
		zwp_linux_dmabuf_feedback_v1_add_listener(surface_feedback.feedback,
		                                          &feedback_listener, &surface_feedback);
	}
	window.on_configure = [this](uint32_t) { on_configure(); };
	window.create(*this, opts.title.c_str(), surface);
	if (!opts.fullscreen.empty()) {
		go_fullscreen(opts.fullscreen);
		if (finished) {
			return;
		}
	}
	window.initial_commit();
}

bool state::find_output(const std::string &spec, wl_output **out) {
	*out = nullptr;
	if (spec == "current") {
		return true;
	}
	bool number = !spec.empty() && std::all_of(spec.begin(), spec.end(),
	                                           [](char c) { return c >= '0' && c <= '9'; });
	for (const auto &o : output_entries) {
		const output_record &r = outputs[size_t(o->index)];
		if (number ? std::to_string(o->index) == spec
		           : (r.name.find(spec) != std::string::npos ||
		              r.description.find(spec) != std::string::npos)) {
			*out = o->output;
			return true;
		}
	}
	std::string known;
	for (const output_record &r : outputs) {
		known += (known.empty() ? "" : ", ") + std::string("'") + r.name + "' ('" +
		         r.description + "')";
	}
	fail("no wl_output matches '" + spec + "' (the compositor has " +
	     std::to_string(outputs.size()) + ": " + known + ")");
	return false;
}

void state::go_fullscreen(const std::string &spec) {
	wl_output *out = nullptr;
	if (!find_output(spec, &out)) {
		return;
	}
	xdg_toplevel_set_fullscreen(window.toplevel, out);
}

void state::on_configure() {
	if (configured) {
		return;
	}
	configured = true;
	if (width > 0) {
		advance(); // configured again after an unmap: same size
		return;
	}
	width = window.width > 0 ? window.width : opts.width;
	height = window.height > 0 ? window.height : opts.height;
	if (yuv_format() != 0) {
		width += width % 2; // whole chroma samples
		height += height % 2;
	}
	advance();
}

uint32_t state::yuv_format() const {
	if (opts.bad) {
		return 0;
	}
	if (opts.nv12 != nv12_layout::none) {
		return DRM_FORMAT_NV12;
	}
	return opts.yuv420 != yuv420_layout::none ? DRM_FORMAT_YUV420 : 0;
}

bool state::one_bo_per_plane() const {
	return opts.nv12 == nv12_layout::two_bo || opts.yuv420 == yuv420_layout::three_bo;
}

int state::allocate_entry() {
	const uint32_t w = static_cast<uint32_t>(width > 0 ? width : opts.width);
	const uint32_t h = static_cast<uint32_t>(height > 0 ? height : opts.height);
	pool_entry e;
	auto get = [&](uint32_t texels, uint32_t rows, uint32_t cpp) -> std::unique_ptr<dmabuf_bo> {
		auto bo = opts.allocator->allocate(texels, rows, cpp);
		if (!bo) {
			fail("allocation of a " + std::to_string(texels) + "x" +
			     std::to_string(rows) + "x" + std::to_string(cpp) + " buffer with " +
			     opts.allocator->name() + ": " + bo.err().message);
			return nullptr;
		}
		return std::move(*bo);
	};
	const uint32_t yuv = yuv_format();
	if (yuv == 0) {
		if (!(e.bos[0] = get(w, h, 4))) {
			return -1;
		}
		e.strides[0] = e.bos[0]->stride();
	} else if (!one_bo_per_plane()) {
		// The luma rows, then the chroma rows: NV12's interleaved CbCr
		// at the same stride, YUV420's Cb then Cr at half of it.
		if (!(e.bos[0] = get(w, h + h / 2, 1))) {
			return -1;
		}
		const uint32_t stride = e.bos[0]->stride();
		e.planes = yuv420_planes(yuv);
		e.strides[0] = stride;
		e.offsets[1] = stride * h;
		if (yuv == DRM_FORMAT_NV12) {
			e.strides[1] = stride;
		} else {
			if (stride % 2 != 0) {
				fail("a one-bo YUV420 buffer needs an even stride, " +
				     opts.allocator->name() + " gave " + std::to_string(stride));
				return -1;
			}
			e.strides[1] = e.strides[2] = stride / 2;
			e.offsets[2] = e.offsets[1] + stride / 2 * (h / 2);
		}
	} else {
		// One bo per plane: NV12's CbCr rows are as wide as the luma rows,
		// YUV420's Cb and Cr rows half as wide.
		e.planes = yuv420_planes(yuv);
		const uint32_t chroma_width = yuv == DRM_FORMAT_NV12 ? w : w / 2;
		for (int p = 0; p < e.planes; p++) {
			if (!(e.bos[p] = get(p == 0 ? w : chroma_width, p == 0 ? h : h / 2, 1))) {
				return -1;
			}
			e.plane_bo[p] = p;
			e.strides[p] = e.bos[p]->stride();
		}
	}
	if (opts.draw && !draw_entry(e, w, h)) {
		return -1;
	}
	for (const auto &bo : e.bos) {
		stats.dmabufs += bo ? 1 : 0;
	}
	pool.push_back(std::move(e));
	return static_cast<int>(pool.size()) - 1;
}

bool state::draw_entry(const pool_entry &e, uint32_t w, uint32_t h) {
	const int iw = static_cast<int>(w), ih = static_cast<int>(h);
	const uint32_t yuv = yuv_format();
	for (int b = 0; b < pool_entry::max_planes && e.bos[b]; b++) {
		status s = e.bos[b]->write([&](uint8_t *data) {
			if (yuv == 0) {
				for (int y = 0; y < ih; y++) {
					auto *row = reinterpret_cast<uint32_t *>(
					    data + size_t(y) * e.strides[0]);
					for (int x = 0; x < iw; x++) {
						row[x] = pattern_pixel(opts, x, y, iw, ih);
					}
				}
				return;
			}
			for (int plane = 0; plane < e.planes; plane++) {
				if (e.plane_bo[plane] == b) {
					draw_yuv420_plane(yuv, plane, data + e.offsets[plane],
					                  e.strides[plane], opts, iw, ih);
				}
			}
		});
		if (!s) {
			fail("drawing " + fourcc_name(format) + " into " + opts.allocator->name() +
			     " buffer: " + s.err().message);
			return false;
		}
	}
	return true;
}

bool state::make_pool() {
	for (int i = 0; i < opts.buffers; i++) {
		if (allocate_entry() < 0) {
			return false;
		}
	}
	if (!opts.new_wl_buffer_per_frame) {
		for (int i = 0; i < opts.buffers; i++) {
			create_buffer(i, opts.create_immed);
		}
	}
	pool_made = true;
	return true;
}

int state::create_buffer(int pool_index, bool immed) {
	const pool_entry &p = pool.at(static_cast<size_t>(pool_index));
	auto e = std::make_unique<buffer_entry>();
	e->s = this;
	e->index = static_cast<int>(entries.size());
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(dmabuf);
	for (int plane = 0; plane < p.planes; plane++) {
		zwp_linux_buffer_params_v1_add(params, p.bos[p.plane_bo[plane]]->fd(),
		                               static_cast<uint32_t>(plane), p.offsets[plane],
		                               p.strides[plane], uint32_t(modifier >> 32),
		                               uint32_t(modifier & 0xffffffff));
	}
	buffer_record rec;
	rec.dmabuf = pool_index;
	if (immed) {
		e->buffer = zwp_linux_buffer_params_v1_create_immed(params, width, height, format,
		                                                    opts.flags);
		wl_buffer_add_listener(e->buffer, &dmabuf_buffer_listener, e.get());
		zwp_linux_buffer_params_v1_destroy(params);
		rec.created = true;
		stats.wl_buffers++;
	} else {
		e->params = params;
		zwp_linux_buffer_params_v1_add_listener(params, &dmabuf_params_listener, e.get());
		zwp_linux_buffer_params_v1_create(params, width, height, format, opts.flags);
	}
	entries.push_back(std::move(e));
	records.push_back(rec);
	return static_cast<int>(entries.size()) - 1;
}

void state::on_created(buffer_entry &e, wl_buffer *buffer) {
	e.buffer = buffer;
	wl_buffer_add_listener(buffer, &dmabuf_buffer_listener, &e);
	records[size_t(e.index)].created = true;
	stats.wl_buffers++;
	if (opts.bad) {
		// The params stay: the bad request may use them again.
		last.what = outcome::kind::created;
		if (auto follow_up = std::exchange(bad_after_created, nullptr)) {
			follow_up();
			send_final_sync();
		}
		return;
	}
	zwp_linux_buffer_params_v1_destroy(e.params);
	e.params = nullptr;
	advance();
}

void state::on_failed(buffer_entry &e) {
	zwp_linux_buffer_params_v1_destroy(e.params);
	e.params = nullptr;
	records[size_t(e.index)].failed = true;
	stats.failed++;
	if (opts.bad) {
		last.what = outcome::kind::failed;
		return;
	}
	if (!opts.manual) {
		const pool_entry &p = pool[size_t(records[size_t(e.index)].dmabuf)];
		fail("the compositor sent failed for wl_buffer #" + std::to_string(e.index) + " (" +
		     fourcc_name(format) + " " + modifier_text(modifier) + ", " +
		     std::to_string(width) + "x" + std::to_string(height) + ", stride " +
		     std::to_string(p.strides[0]) + ", from " + opts.allocator->name() + ")");
	}
}

void state::attach(int buffer) {
	wl_surface *surface = window.surface;
	if (surface == nullptr || !configured) {
		fail("attach before the window was configured");
		return;
	}
	if (current >= 0 && current != buffer) {
		stats.expected_releases++;
	}
	if (buffer >= 0) {
		buffer_record &rec = records.at(size_t(buffer));
		wl_surface_attach(surface, entries[size_t(buffer)]->buffer, 0, 0);
		wl_surface_damage_buffer(surface, 0, 0, INT32_MAX, INT32_MAX);
		frame.request(surface);
		if (opts.presentation_feedback) {
			presentation.request(surface, stats.frames_committed);
		}
		rec.busy = true;
		rec.commits.push_back(stats.frames_committed);
		stats.frames_committed++;
		unmapped = false;
		wl_surface_commit(surface);
	} else {
		// Unmapped: xdg-shell wants a new initial commit and configure
		// before the next buffer.
		wl_surface_attach(surface, nullptr, 0, 0);
		wl_surface_commit(surface);
		wl_surface_commit(surface);
		unmapped = true;
		configured = false;
	}
	current = buffer;
}

void state::destroy_buffer(int buffer) {
	buffer_entry &e = *entries.at(size_t(buffer));
	if (e.buffer != nullptr) {
		wl_buffer_destroy(e.buffer);
		e.buffer = nullptr;
	}
	records[size_t(buffer)].destroyed = true;
}

void state::on_release(buffer_entry &e) {
	buffer_record &rec = records[size_t(e.index)];
	rec.releases.push_back(stats.frames_committed - 1);
	rec.busy = false;
	stats.releases++;
	// Video-player style: a wl_buffer is used once, and goes once released.
	if (opts.new_wl_buffer_per_frame && !opts.manual && e.index != current) {
		destroy_buffer(e.index);
	}
	advance();
}

void state::on_frame_done() {
	stats.frames_shown++;
	advance();
}

bool state::pool_entry_busy(int pool_index) const {
	for (const buffer_record &rec : records) {
		if (rec.dmabuf == pool_index && rec.busy && !rec.destroyed) {
			return true;
		}
	}
	return false;
}

// The frames mode: one step further if nothing is awaited.
void state::advance() {
	if (opts.manual || opts.bad || finished || !ready || !configured) {
		return;
	}
	if (!pool_made && !make_pool()) {
		return;
	}
	if (frame.pending() || final_sync != nullptr) {
		return; // the last frame is not shown yet / the end is being checked
	}
	const int k = opts.buffers;
	if (!opts.move_to.empty() && !moved && stats.frames_committed >= opts.frames / 2) {
		moved = true;
		go_fullscreen(opts.move_to);
		if (finished) {
			return;
		}
	}
	const bool more_time = opts.seconds > 0 && (stats.frames_committed == 0 ||
	                                            std::chrono::steady_clock::now() < run_until);
	if (!stopped && (stats.frames_committed < opts.frames || more_time)) {
		const int d = stats.frames_committed % k;
		int b;
		if (opts.new_wl_buffer_per_frame) {
			if (next_buffer < 0) {
				// Reuse a dma-buf only once released (with one, the
				// compositor holds it: it is drawn once and never changes).
				if (k > 1 && pool_entry_busy(d)) {
					return;
				}
				next_buffer = create_buffer(d, opts.create_immed);
			}
			if (!records[size_t(next_buffer)].created) {
				return; // waiting for created
			}
			b = std::exchange(next_buffer, -1);
		} else {
			b = d;
			if (!records[size_t(b)].created) {
				return;
			}
			if (k > 1 && records[size_t(b)].busy && b != current) {
				return; // waiting for its release
			}
		}
		if (stats.frames_committed == 0) {
			run_until =
			    std::chrono::steady_clock::now() + std::chrono::seconds(opts.seconds);
		}
		attach(b);
		return;
	}
	if (opts.unmap_at_end && !unmapped) {
		attach(-1);
	}
	// Every release sent before this sync's done is in by then.
	release_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
	final_sync = wl_display_sync(display);
	wl_callback_add_listener(final_sync, &dmabuf_final_sync_listener, this);
}

void state::on_final_sync() {
	if (opts.bad) {
		// create_immed that was not refused: a usable wl_buffer.
		if (last.what == outcome::kind::none && !records.empty() &&
		    records.back().created) {
			last.what = outcome::kind::created;
		}
		finished = true;
		return;
	}
	if (stats.releases < stats.expected_releases &&
	    std::chrono::steady_clock::now() < release_deadline) {
		// A release may still be on its way (after a page flip): ask
		// again in a moment, for a bounded time.
		usleep(10000);
		final_sync = wl_display_sync(display);
		wl_callback_add_listener(final_sync, &dmabuf_final_sync_listener, this);
		return;
	}
	if (presentation.pending() > 0 && std::chrono::steady_clock::now() < release_deadline) {
		// The last frame's presented (or discarded) comes with a flip.
		usleep(10000);
		final_sync = wl_display_sync(display);
		wl_callback_add_listener(final_sync, &dmabuf_final_sync_listener, this);
		return;
	}
	if (presentation.pending() > 0) {
		fail(std::to_string(presentation.pending()) +
		     " wp_presentation_feedbacks neither presented nor discarded");
		return;
	}
	if (stats.releases != stats.expected_releases) {
		fail("expected " + std::to_string(stats.expected_releases) +
		     " wl_buffer.release events (one per replaced buffer), got " +
		     std::to_string(stats.releases));
		return;
	}
	if (opts.new_wl_buffer_per_frame) {
		int alive = 0;
		for (const buffer_record &rec : records) {
			alive += !rec.destroyed;
		}
		int expected = (current >= 0 && !unmapped) ? 1 : 0;
		if (alive != expected) {
			fail(std::to_string(alive) +
			     " wl_buffers not released and destroyed at the end, " + "expected " +
			     std::to_string(expected));
			return;
		}
	}
	finished = true;
}

// --- dmabuf_client -------------------------------------------------------------

std::unique_ptr<dmabuf_client>
dmabuf_client::connect(const char *socket, const dmabuf_client_options &opts, std::string *error) {
	if (!opts.allocator) {
		*error = "no allocator given";
		return nullptr;
	}
	if (opts.buffers < 1 || opts.frames < 0 || opts.seconds < 0) {
		*error = "buffers must be at least 1, frames and seconds not negative";
		return nullptr;
	}
	if (opts.nv12 != nv12_layout::none && opts.yuv420 != yuv420_layout::none) {
		*error = "NV12 or YUV420, not both";
		return nullptr;
	}
	install_client_log_handler();
	auto s = std::make_unique<state>(opts);
	state *raw = s.get();
	s->on_global = [raw](wl_registry *registry, uint32_t name, std::string_view interface,
	                     uint32_t version) {
		if (interface == wl_output_interface.name) {
			add_output(raw, registry, name, version);
		} else if (raw->opts.presentation_feedback) {
			raw->presentation.on_global(registry, name, std::string(interface));
		}
	};
	if (!s->connect(socket, error, [raw] { raw->on_globals(); })) {
		return nullptr;
	}
	return std::unique_ptr<dmabuf_client>(new dmabuf_client(std::move(s)));
}

dmabuf_client::dmabuf_client(std::unique_ptr<state> s) : s_(std::move(s)) {}
dmabuf_client::~dmabuf_client() = default;

wl_display *dmabuf_client::display() const {
	return s_->display;
}
bool dmabuf_client::ready() const {
	return s_->ready;
}
uint32_t dmabuf_client::bound_version() const {
	return s_->dmabuf_version;
}
const dmabuf_feedback &dmabuf_client::default_feedback() const {
	return s_->default_result;
}
const dmabuf_feedback &dmabuf_client::surface_feedback() const {
	return s_->surface_result;
}
const std::vector<dmabuf_feedback> &dmabuf_client::surface_feedback_history() const {
	return s_->surface_history;
}
const std::vector<output_record> &dmabuf_client::outputs() const {
	return s_->outputs;
}
const std::vector<int> &dmabuf_client::entered_outputs() const {
	return s_->entered;
}
const std::vector<int> &dmabuf_client::output_events() const {
	return s_->output_events;
}
const std::vector<presented_frame> &dmabuf_client::presentation() const {
	return s_->presentation.frames();
}
uint32_t dmabuf_client::presentation_clock() const {
	return s_->presentation.clock_id();
}
const std::vector<format_pair> &dmabuf_client::modifier_events() const {
	return s_->modifier_events;
}
bool dmabuf_client::finished() const {
	s_->check_display();
	return s_->finished;
}
std::string dmabuf_client::failure() const {
	s_->check_display();
	return s_->failure;
}
const outcome &dmabuf_client::last_outcome() const {
	s_->check_display();
	return s_->last;
}
const dmabuf_client_stats &dmabuf_client::stats() const {
	return s_->stats;
}
const std::vector<buffer_record> &dmabuf_client::buffers() const {
	return s_->records;
}
bool dmabuf_client::configured() const {
	return s_->configured;
}
int dmabuf_client::width() const {
	return s_->width;
}
int dmabuf_client::height() const {
	return s_->height;
}

std::string dmabuf_client::summary() const {
	s_->check_display();
	const state &s = *s_;
	if (s.opts.bad) {
		const bad_request_info &info = info_of(*s.opts.bad);
		return std::string("dmabuf-client: --bad ") + info.name + ": " + to_string(s.last) +
		       "; expected " + to_string(info.expected);
	}
	const dmabuf_client_stats &st = s.stats;
	std::string line = "dmabuf-client: " + std::to_string(st.frames_committed) + " frames, " +
	                   std::to_string(st.dmabufs) + " dma-bufs, " +
	                   std::to_string(st.wl_buffers) + " wl_buffers, " +
	                   std::to_string(st.releases) + " releases, " + std::to_string(st.failed) +
	                   " failed";
	std::string planes;
	if (!s.pool.empty() && s.pool[0].planes > 1) {
		planes = " (" + std::to_string(s.pool[0].planes) + " planes in " +
		         (s.one_bo_per_plane() ? std::to_string(s.pool[0].planes) + " dma-bufs"
		                               : std::string("one dma-buf")) +
		         ")";
	}
	line += " (zwp_linux_dmabuf_v1 v" + std::to_string(s.dmabuf_version) + ", " +
	        s.opts.allocator->name() + ", " + fourcc_name(s.format) + " " +
	        modifier_text(s.modifier) + planes + ", " + std::to_string(s.width) + "x" +
	        std::to_string(s.height) + ", " +
	        (s.opts.create_immed ? "create_immed" : "create") +
	        (s.opts.new_wl_buffer_per_frame ? ", new wl_buffer per frame" : "") + ")";
	if (!s.note.empty()) {
		line += "; " + s.note;
	}
	return line;
}

std::string dmabuf_client::details() const {
	std::string text;
	for (size_t i = 0; i < s_->records.size(); i++) {
		const buffer_record &r = s_->records[i];
		text += "wl_buffer #" + std::to_string(i) + ": dma-buf " +
		        std::to_string(r.dmabuf) +
		        (r.failed    ? ", failed"
		         : r.created ? ", created"
		                     : ", pending") +
		        (r.destroyed ? ", destroyed" : "") + "; committed in frames";
		for (int f : r.commits) {
			text += " " + std::to_string(f);
		}
		text += "; released at frames";
		for (int f : r.releases) {
			text += " " + std::to_string(f);
		}
		text += "\n";
	}
	return text;
}

int dmabuf_client::allocate_dmabuf() {
	return s_->allocate_entry();
}

void dmabuf_client::set_color(uint32_t color) {
	s_->opts.color = color;
}

int dmabuf_client::create_wl_buffer(int dmabuf, bool immed) {
	return s_->create_buffer(dmabuf, immed);
}

void dmabuf_client::attach(int buffer) {
	s_->attach(buffer);
}

void dmabuf_client::destroy_wl_buffer(int buffer) {
	s_->destroy_buffer(buffer);
}

void dmabuf_client::leave_params_half_filled(int dmabuf) {
	const pool_entry &p = s_->pool.at(size_t(dmabuf));
	zwp_linux_buffer_params_v1 *params = zwp_linux_dmabuf_v1_create_params(s_->dmabuf);
	zwp_linux_buffer_params_v1_add(params, p.bos[0]->fd(), 0, p.offsets[0], p.strides[0],
	                               uint32_t(s_->modifier >> 32),
	                               uint32_t(s_->modifier & 0xffffffff));
	// Kept as a buffer entry without a listener, so that it is destroyed
	// (client side only, if the connection is gone) with the client.
	auto e = std::make_unique<buffer_entry>();
	e->s = s_.get();
	e->index = static_cast<int>(s_->entries.size());
	e->params = params;
	s_->entries.push_back(std::move(e));
	buffer_record rec;
	rec.dmabuf = dmabuf;
	s_->records.push_back(rec);
}

void dmabuf_client::stop() {
	s_->stopped = true;
	s_->advance();
}

void dmabuf_client::disconnect_abruptly() {
	wl_display_flush(s_->display);
	shutdown(wl_display_get_fd(s_->display), SHUT_RDWR);
	s_->abrupt = true;
	s_->finished = true;
}

} // namespace wlprime::clients
