#include "compositor/linux_dmabuf.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compositor/dmabuf_buffer.hpp"
#include "compositor/listener.hpp"
#include "import/dmabuf_params.hpp"
#include "linux-dmabuf-unstable-v1-protocol.h"
#include "render/cpu_format.hpp"

namespace wlprime {

// import/ speaks the protocol's numbers without including it: check them.
#define CHECK_ERROR(name, NAME)                                                                    \
	static_assert(static_cast<uint32_t>(params_error::name) ==                                 \
	              ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_##NAME)
CHECK_ERROR(already_used, ALREADY_USED);
CHECK_ERROR(plane_idx, PLANE_IDX);
CHECK_ERROR(plane_set, PLANE_SET);
CHECK_ERROR(incomplete, INCOMPLETE);
CHECK_ERROR(invalid_format, INVALID_FORMAT);
CHECK_ERROR(invalid_dimensions, INVALID_DIMENSIONS);
CHECK_ERROR(out_of_bounds, OUT_OF_BOUNDS);
CHECK_ERROR(invalid_wl_buffer, INVALID_WL_BUFFER);
#undef CHECK_ERROR
static_assert(uint32_t(dmabuf_flag_y_invert) ==
              uint32_t(ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_Y_INVERT));
static_assert(uint32_t(dmabuf_flag_interlaced) ==
              uint32_t(ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_INTERLACED));
static_assert(uint32_t(dmabuf_flag_bottom_first) ==
              uint32_t(ZWP_LINUX_BUFFER_PARAMS_V1_FLAGS_BOTTOM_FIRST));

// A zwp_linux_dmabuf_feedback_v1 made by get_surface_feedback: the feedback
// of one wl_surface, re-sent when its scanout tranche changes. Owned by the
// global (surfaces_), freed with the resource.
struct linux_dmabuf::surface_entry {
	linux_dmabuf *global = nullptr;
	wl_resource *resource = nullptr;
	wlr_surface *surface = nullptr;      // null once destroyed: inert
	std::optional<scanout_tranche> sent; // the scanout tranche last sent
	listener<void> commit;
	listener<void> destroy;
};

void make_surface_feedback(wl_client *client, wl_resource *resource, uint32_t id,
                           wl_resource *surface);

namespace {

// The state behind one zwp_linux_buffer_params_v1 resource.
struct params_resource {
	linux_dmabuf *global;
	dmabuf_params params;
	params_charge charge; // counts in the client's limits while it lives
};

params_resource *params_of(wl_resource *resource);

std::string client_name(wl_client *client) {
	pid_t pid = 0;
	wl_client_get_credentials(client, &pid, nullptr, nullptr);
	return "client pid " + std::to_string(pid);
}

void post_params_error(linux_dmabuf &global, wl_resource *resource, const params_failure &f) {
	global.stats().protocol_errors++;
	wlr_log(WLR_INFO, "linux-dmabuf: %s: %s: %s",
	        client_name(wl_resource_get_client(resource)).c_str(), to_string(f.code),
	        f.message.c_str());
	wl_resource_post_error(resource, static_cast<uint32_t>(f.code), "%s", f.message.c_str());
}

void params_destroy(wl_client *, wl_resource *resource) {
	wl_resource_destroy(resource);
}

void params_add(wl_client *, wl_resource *resource, int32_t fd, uint32_t plane_idx, uint32_t offset,
                uint32_t stride, uint32_t modifier_hi, uint32_t modifier_lo) {
	unique_fd owned(fd); // ours from here, whatever happens
	params_resource *p = params_of(resource);
	uint64_t modifier = (uint64_t(modifier_hi) << 32) | modifier_lo;
	if (auto failure = p->params.add(std::move(owned), plane_idx, offset, stride, modifier))
		post_params_error(*p->global, resource, *failure);
}

// create and create_immed. buffer_id 0: create (answer with created or
// failed); otherwise create_immed (the id is the new wl_buffer).
void params_create_common(wl_client *client, wl_resource *resource, uint32_t buffer_id,
                          int32_t width, int32_t height, uint32_t format, uint32_t flags) {
	params_resource *p = params_of(resource);
	linux_dmabuf &global = *p->global;
	const bool immed = buffer_id != 0;

	auto fail = [&](const std::string &why) {
		global.stats().failed++;
		wlr_log(WLR_INFO, "linux-dmabuf: %s: buffer %dx%d %s not created: %s",
		        client_name(client).c_str(), width, height, format_name(format).c_str(),
		        why.c_str());
		if (immed)
			wl_resource_post_error(resource,
			                       ZWP_LINUX_BUFFER_PARAMS_V1_ERROR_INVALID_WL_BUFFER,
			                       "%s", why.c_str());
		else
			zwp_linux_buffer_params_v1_send_failed(resource);
	};

	auto validated = p->params.create(width, height, format, flags, global.formats());
	if (auto *failure = std::get_if<params_failure>(&validated)) {
		if (failure->fatal)
			post_params_error(global, resource, *failure);
		else
			fail(failure->message);
		return;
	}

	// Per-client limits (client_limits.hpp): the count before the cache
	// is asked, the bytes once the Import (and its size) is known; both
	// before any PRIME ioctl.
	if (auto refused = global.limits().check_buffer_count(client)) {
		fail(refused->message);
		return;
	}
	auto ref = global.cache().acquire(std::move(std::get<dmabuf_attributes>(validated)));
	if (!ref) {
		fail(ref.err().message);
		return;
	}
	if (auto refused = global.limits().check_buffer_bytes(client, **ref)) {
		fail(refused->message);
		return;
	}
	// The import into the main device is checked now, and kept (or its
	// failure is, so a retry of the same dma-buf costs nothing).
	const device_import &on_main = (*ref)->on_device(global.main_device());
	if (!on_main.ok()) {
		fail(on_main.err().message);
		return;
	}

	dmabuf_buffer *buffer =
	    dmabuf_buffer::create(client, buffer_id, std::move(*ref), global.registry());
	if (!buffer)
		return;
	global.limits().charge_buffer(client, buffer->resource(), buffer->import());
	global.stats().created++;
	if (!immed)
		zwp_linux_buffer_params_v1_send_created(resource, buffer->resource());
}

void params_create(wl_client *client, wl_resource *resource, int32_t width, int32_t height,
                   uint32_t format, uint32_t flags) {
	params_create_common(client, resource, 0, width, height, format, flags);
}

void params_create_immed(wl_client *client, wl_resource *resource, uint32_t buffer_id,
                         int32_t width, int32_t height, uint32_t format, uint32_t flags) {
	params_create_common(client, resource, buffer_id, width, height, format, flags);
}

const struct zwp_linux_buffer_params_v1_interface params_impl = {
    .destroy = params_destroy,
    .add = params_add,
    .create = params_create,
    .create_immed = params_create_immed,
};

params_resource *params_of(wl_resource *resource) {
	return static_cast<params_resource *>(wl_resource_get_user_data(resource));
}

void params_resource_destroy(wl_resource *resource) {
	delete params_of(resource); // closes any fd still in the params
}

void feedback_destroy(wl_client *, wl_resource *resource) {
	wl_resource_destroy(resource);
}

const struct zwp_linux_dmabuf_feedback_v1_interface feedback_impl = {
    .destroy = feedback_destroy,
};

linux_dmabuf *global_of(wl_resource *resource) {
	return static_cast<linux_dmabuf *>(wl_resource_get_user_data(resource));
}

void dmabuf_destroy(wl_client *, wl_resource *resource) {
	wl_resource_destroy(resource);
}

void dmabuf_create_params(wl_client *client, wl_resource *resource, uint32_t id) {
	linux_dmabuf *global = global_of(resource);
	auto charge = global->limits().admit_params(client);
	if (auto *refused = std::get_if<limit_refusal>(&charge)) {
		// zwp_linux_dmabuf_v1 has no error of its own: no_memory on the
		// client's wl_display, with the limit in the message.
		global->stats().protocol_errors++;
		wl_resource_post_error(wl_client_get_object(client, 1), WL_DISPLAY_ERROR_NO_MEMORY,
		                       "%s", refused->message.c_str());
		return;
	}
	wl_resource *params = wl_resource_create(client, &zwp_linux_buffer_params_v1_interface,
	                                         wl_resource_get_version(resource), id);
	if (!params) {
		wl_client_post_no_memory(client);
		return;
	}
	auto *state = new params_resource{global, {}, std::move(std::get<params_charge>(charge))};
	wl_resource_set_implementation(params, &params_impl, state, params_resource_destroy);
}

void make_feedback(wl_client *client, wl_resource *resource, uint32_t id) {
	wl_resource *feedback = wl_resource_create(client, &zwp_linux_dmabuf_feedback_v1_interface,
	                                           wl_resource_get_version(resource), id);
	if (!feedback) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(feedback, &feedback_impl, nullptr, nullptr);
	global_of(resource)->send_feedback(feedback);
}

void dmabuf_get_default_feedback(wl_client *client, wl_resource *resource, uint32_t id) {
	make_feedback(client, resource, id);
}

void dmabuf_get_surface_feedback(wl_client *client, wl_resource *resource, uint32_t id,
                                 wl_resource *surface) {
	make_surface_feedback(client, resource, id, surface);
}

const struct zwp_linux_dmabuf_v1_interface dmabuf_impl = {
    .destroy = dmabuf_destroy,
    .create_params = dmabuf_create_params,
    .get_default_feedback = dmabuf_get_default_feedback,
    .get_surface_feedback = dmabuf_get_surface_feedback,
};

// What a client hears at bind (linux-dmabuf-unstable-v1.xml): versions 1
// and 2 every supported format once as `format`; version 3 the same, then
// every (format, modifier) pair as `modifier`; version 4 and later neither,
// the feedback objects carry the table. formats.pairs() is sorted by format,
// so a format's pairs are adjacent: each format's `format` event comes
// first, then its `modifier` events.
void send_formats_at_bind(wl_resource *resource, const format_set &formats, uint32_t version) {
	if (version >= ZWP_LINUX_DMABUF_V1_GET_DEFAULT_FEEDBACK_SINCE_VERSION)
		return;
	const bool modifiers = version >= ZWP_LINUX_DMABUF_V1_MODIFIER_SINCE_VERSION;
	bool any = false;
	uint32_t last_format = 0;
	for (const auto &[format, modifier] : formats.pairs()) {
		if (!any || format != last_format)
			zwp_linux_dmabuf_v1_send_format(resource, format);
		if (modifiers)
			zwp_linux_dmabuf_v1_send_modifier(resource, format,
			                                  uint32_t(modifier >> 32),
			                                  uint32_t(modifier & 0xffffffff));
		last_format = format;
		any = true;
	}
}

void dmabuf_bind(wl_client *client, void *data, uint32_t version, uint32_t id) {
	auto *global = static_cast<linux_dmabuf *>(data);
	wl_resource *resource = wl_resource_create(client, &zwp_linux_dmabuf_v1_interface,
	                                           static_cast<int>(version), id);
	if (!resource) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &dmabuf_impl, global, nullptr);
	send_formats_at_bind(resource, global->formats(), version);
}

// The v4 format table: 16 bytes per pair, in a sealed memfd that every
// client maps read-only.
result<unique_fd> make_format_table(const format_set &formats, size_t *size) {
	struct entry {
		uint32_t format;
		uint32_t pad;
		uint64_t modifier;
	};
	static_assert(sizeof(entry) == 16);
	std::vector<entry> table;
	for (const auto &[format, modifier] : formats.pairs())
		table.push_back({format, 0, modifier});
	*size = table.size() * sizeof(entry);

	unique_fd fd(memfd_create("wlprime-dmabuf-format-table", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd)
		return error{std::string("memfd_create: ") + std::strerror(errno), errno};
	const char *bytes = reinterpret_cast<const char *>(table.data());
	size_t written = 0;
	while (written < *size) {
		ssize_t n = write(fd.get(), bytes + written, *size - written);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error{std::string("format table write: ") + std::strerror(errno),
			             errno};
		written += static_cast<size_t>(n);
	}
	if (fcntl(fd.get(), F_ADD_SEALS,
	          F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
		return error{std::string("format table seals: ") + std::strerror(errno), errno};
	return fd;
}

} // namespace

void surface_feedback_resource_destroy(wl_resource *resource) {
	auto *entry =
	    static_cast<linux_dmabuf::surface_entry *>(wl_resource_get_user_data(resource));
	if (entry == nullptr) {
		return; // the global went first
	}
	auto &list = entry->global->surfaces_;
	list.remove_if([entry](const auto &p) { return p.get() == entry; });
}

void make_surface_feedback(wl_client *client, wl_resource *resource, uint32_t id,
                           wl_resource *surface_resource) {
	linux_dmabuf *global = global_of(resource);
	wl_resource *feedback = wl_resource_create(client, &zwp_linux_dmabuf_feedback_v1_interface,
	                                           wl_resource_get_version(resource), id);
	if (!feedback) {
		wl_client_post_no_memory(client);
		return;
	}
	auto entry = std::make_unique<linux_dmabuf::surface_entry>();
	entry->global = global;
	entry->resource = feedback;
	entry->surface = wlr_surface_from_resource(surface_resource);
	linux_dmabuf::surface_entry *e = entry.get();
	// After a commit the scene may show the surface elsewhere; it moves its
	// nodes in its own commit handler, which may run after this one: look
	// once the dispatch is over.
	e->commit.connect(&e->surface->events.commit,
	                  [global] { global->schedule_surface_feedback_update(); });
	e->destroy.connect(&e->surface->events.destroy, [e] {
		e->commit.disconnect();
		e->destroy.disconnect();
		e->surface = nullptr;
	});
	global->surfaces_.push_back(std::move(entry));
	wl_resource_set_implementation(feedback, &feedback_impl, e,
	                               surface_feedback_resource_destroy);
	global->refresh(*e, true);
}

linux_dmabuf::linux_dmabuf(device &main, import_cache &cache, format_set formats)
    : main_(main), cache_(cache), formats_(std::move(formats)) {}

result<std::unique_ptr<linux_dmabuf>> linux_dmabuf::create(wl_display *display, device &main,
                                                           import_cache &cache, format_set formats,
                                                           buffer_registry *registry,
                                                           client_limit_values limits) {
	auto self =
	    std::unique_ptr<linux_dmabuf>(new linux_dmabuf(main, cache, std::move(formats)));
	self->registry_ = registry;
	self->display_ = display;
	self->limits_.set_values(limits);
	auto table = make_format_table(self->formats_, &self->table_size_);
	if (!table)
		return table.err();
	self->table_fd_ = std::move(*table);
	self->global_ = wl_global_create(display, &zwp_linux_dmabuf_v1_interface, version,
	                                 self.get(), dmabuf_bind);
	if (!self->global_)
		return error{"cannot create the zwp_linux_dmabuf_v1 global"};
	dmabuf_buffer::register_resource_interface();
	wlr_log(WLR_INFO, "linux-dmabuf v%u on main device %s: %zu format/modifier pairs", version,
	        main.name().c_str(), self->formats_.pairs().size());
	wlr_log(WLR_INFO,
	        "linux-dmabuf: per-client limits: %u params objects, %u wl_buffers, %llu bytes "
	        "(0: none)",
	        limits.max_params, limits.max_buffers,
	        static_cast<unsigned long long>(limits.max_bytes));
	return self;
}

linux_dmabuf::~linux_dmabuf() {
	if (update_idle_ != nullptr) {
		wl_event_source_remove(update_idle_);
	}
	// Feedback resources outliving the global (normally the clients go
	// first) become inert.
	for (const auto &entry : surfaces_) {
		wl_resource_set_user_data(entry->resource, nullptr);
	}
	surfaces_.clear();
	if (global_)
		wl_global_destroy(global_);
}

format_set linux_dmabuf::composition_formats() {
	return cpu_format_set();
}

namespace {

bool same_tranche(const std::optional<scanout_tranche> &a,
                  const std::optional<scanout_tranche> &b) {
	if (!a || !b) {
		return a.has_value() == b.has_value();
	}
	return a->device == b->device && a->formats.pairs() == b->formats.pairs();
}

void send_device(wl_resource *feedback, dev_t dev, void (*send)(wl_resource *, wl_array *)) {
	wl_array array;
	wl_array_init(&array);
	if (void *p = wl_array_add(&array, sizeof(dev))) {
		std::memcpy(p, &dev, sizeof(dev));
	}
	send(feedback, &array);
	wl_array_release(&array);
}

} // namespace

void linux_dmabuf::send_feedback(wl_resource *feedback,
                                 const std::optional<scanout_tranche> &scanout) const {
	zwp_linux_dmabuf_feedback_v1_send_format_table(feedback, table_fd_.get(),
	                                               static_cast<uint32_t>(table_size_));
	send_device(feedback, main_.info().rdev, zwp_linux_dmabuf_feedback_v1_send_main_device);

	const auto &table = formats_.pairs(); // sorted: the table's order
	if (scanout && !scanout->formats.empty()) {
		// The display device's tranche first: the pairs its plane takes,
		// by their index in the one table (scanout_for() kept only pairs
		// of the table).
		send_device(feedback, scanout->device,
		            zwp_linux_dmabuf_feedback_v1_send_tranche_target_device);
		zwp_linux_dmabuf_feedback_v1_send_tranche_flags(
		    feedback, ZWP_LINUX_DMABUF_FEEDBACK_V1_TRANCHE_FLAGS_SCANOUT);
		wl_array indices;
		wl_array_init(&indices);
		for (const auto &pair : scanout->formats.pairs()) {
			auto it = std::lower_bound(table.begin(), table.end(), pair);
			if (it == table.end() || *it != pair) {
				continue;
			}
			if (auto *p =
			        static_cast<uint16_t *>(wl_array_add(&indices, sizeof(uint16_t)))) {
				*p = static_cast<uint16_t>(it - table.begin());
			}
		}
		zwp_linux_dmabuf_feedback_v1_send_tranche_formats(feedback, &indices);
		zwp_linux_dmabuf_feedback_v1_send_tranche_done(feedback);
		wl_array_release(&indices);
	}

	// The main device's tranche: every pair of the table.
	send_device(feedback, main_.info().rdev,
	            zwp_linux_dmabuf_feedback_v1_send_tranche_target_device);
	zwp_linux_dmabuf_feedback_v1_send_tranche_flags(feedback, 0);
	wl_array indices;
	wl_array_init(&indices);
	for (size_t i = 0; i < table.size(); i++)
		if (auto *p = static_cast<uint16_t *>(wl_array_add(&indices, sizeof(uint16_t))))
			*p = static_cast<uint16_t>(i);
	zwp_linux_dmabuf_feedback_v1_send_tranche_formats(feedback, &indices);
	zwp_linux_dmabuf_feedback_v1_send_tranche_done(feedback);
	zwp_linux_dmabuf_feedback_v1_send_done(feedback);
	wl_array_release(&indices);
}

void linux_dmabuf::set_scanout_source(scanout_source source) {
	scanout_source_ = std::move(source);
	update_surface_feedback();
}

std::optional<scanout_tranche> linux_dmabuf::scanout_for(wlr_surface *surface) const {
	if (!scanout_source_ || surface == nullptr) {
		return std::nullopt;
	}
	std::optional<scanout_tranche> found = scanout_source_(surface);
	if (!found) {
		return std::nullopt;
	}
	// What the plane takes and the import subsystem accepts: only those
	// pairs can be in the table, and only those make a wl_buffer.
	format_set both;
	for (const auto &[format, modifier] : found->formats.pairs()) {
		if (formats_.contains(format, modifier)) {
			both.add(format, modifier);
		}
	}
	if (both.empty()) {
		wlr_log(WLR_DEBUG,
		        "linux-dmabuf: output %s on %s: none of the plane's %zu pairs is "
		        "accepted: no scanout tranche",
		        found->output_name.c_str(), found->device_name.c_str(),
		        found->formats.pairs().size());
		return std::nullopt;
	}
	found->formats = std::move(both);
	return found;
}

void linux_dmabuf::refresh(surface_entry &entry, bool force) {
	std::optional<scanout_tranche> now = scanout_for(entry.surface);
	if (!force && same_tranche(now, entry.sent)) {
		return;
	}
	entry.sent = now;
	send_feedback(entry.resource, now);
	stats_.surface_feedback_sent++;
	const std::string who = client_name(wl_resource_get_client(entry.resource));
	const uint32_t surface_id =
	    entry.surface != nullptr ? wl_resource_get_id(entry.surface->resource) : 0;
	if (now) {
		wlr_log(WLR_INFO,
		        "linux-dmabuf: %s: feedback for wl_surface@%u: scanout tranche on %s "
		        "(output %s, %s, %zu pairs), then main device %s (%zu pairs)",
		        who.c_str(), surface_id, now->device_name.c_str(), now->output_name.c_str(),
		        now->plane.c_str(), now->formats.pairs().size(), main_.name().c_str(),
		        formats_.pairs().size());
	} else {
		wlr_log(WLR_INFO,
		        "linux-dmabuf: %s: feedback for wl_surface@%u: main device %s (%zu pairs), "
		        "no scanout tranche",
		        who.c_str(), surface_id, main_.name().c_str(), formats_.pairs().size());
	}
}

void linux_dmabuf::update_surface_feedback() {
	for (const auto &entry : surfaces_) {
		if (entry->surface != nullptr) {
			refresh(*entry, false);
		}
	}
}

void linux_dmabuf::schedule_surface_feedback_update() {
	if (update_idle_ != nullptr || display_ == nullptr) {
		return;
	}
	update_idle_ = wl_event_loop_add_idle(
	    wl_display_get_event_loop(display_),
	    [](void *data) noexcept {
		    auto *self = static_cast<linux_dmabuf *>(data);
		    self->update_idle_ = nullptr; // an idle source fires once
		    self->update_surface_feedback();
	    },
	    this);
}

} // namespace wlprime
