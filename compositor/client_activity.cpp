#include "compositor/client_activity.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unordered_set>

#include "compositor/dmabuf_buffer.hpp"
#include "compositor/import_context.hpp"
#include "compositor/linux_dmabuf.hpp"
#include "import/formats.hpp"
#include "import/implicit_layout.hpp"

namespace wlprime {

namespace {

using clock = std::chrono::steady_clock;

double ms_between(clock::time_point a, clock::time_point b) {
	return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string command_of(pid_t pid) {
	std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
	std::string name;
	std::getline(in, name);
	return name.empty() ? "?" : name;
}

pid_t parent_of(pid_t pid) {
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	size_t close = stat.rfind(')');
	if (close == std::string::npos) {
		return 0;
	}
	char state = 0;
	int ppid = 0;
	if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) {
		return 0;
	}
	return ppid;
}

bool descends_from(pid_t pid, pid_t ancestor) {
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		if (pid == ancestor) {
			return true;
		}
		pid = parent_of(pid);
	}
	return false;
}

bool is(const wl_protocol_logger_message &m, const char *interface, const char *message) {
	return std::strcmp(m.message->name, message) == 0 &&
	       std::strcmp(wl_resource_get_class(m.resource), interface) == 0;
}

bool on_output(wlr_surface *surface, wlr_output *output) {
	wlr_surface_output *so;
	wl_list_for_each(so, &surface->current_outputs, link) {
		if (so->output == output) {
			return true;
		}
	}
	return false;
}

} // namespace

struct client_activity::surface_state {
	uint32_t id = 0;
	uint64_t last_commit_mark = 0;  // its latest buffer commit
	uint64_t shown_mark = 0;        // the latest of those that was on screen
	bool visible_at_commit = false; // on an output when it was committed
	bool has_feedback = false;
	listener<void> destroy;
};

struct client_activity::client_state {
	struct destroy_listener {
		wl_listener link{}; // first: a wl_listener * is a pointer to this
		client_state *state = nullptr;
	} destroy;
	client_activity *owner = nullptr;
	wl_client *client = nullptr;
	client_record *record = nullptr;

	struct buffer_state {
		uint64_t import = 0; // the Import's serial
		bool unreleased = false;
		clock::time_point committed_at{};
	};
	std::unordered_map<uint64_t, buffer_state> buffers; // by dmabuf_buffer serial
	// Per Import: the wl_buffer it was last committed through.
	std::unordered_map<uint64_t, uint64_t> committed_through;
	std::unordered_map<wlr_surface *, std::unique_ptr<surface_state>> surfaces;
	std::unordered_set<uint32_t> frame_callbacks; // ids of wl_surface.frame not done
	clock::time_point last_callback_done{}, last_presented{};
	bool any_callback_done = false, any_presented = false;

	surface_state &surface(wlr_surface *s) {
		auto &slot = surfaces[s];
		if (!slot) {
			slot = std::make_unique<surface_state>();
			slot->id = wl_resource_get_id(s->resource);
			slot->destroy.connect(&s->events.destroy,
			                      [this, s]() { surfaces.erase(s); });
		}
		return *slot;
	}
};

client_activity::client_activity(wl_display *display, import_context *imports, linux_dmabuf *dmabuf,
                                 std::function<pid_t()> exec_pid)
    : imports_(imports), dmabuf_(dmabuf), exec_pid_(std::move(exec_pid)) {
	logger_ = wl_display_add_protocol_logger(display, &client_activity::handle_message, this);
	client_created_.owner = this;
	client_created_.link.notify = [](wl_listener *l, void *data) {
		reinterpret_cast<created_listener *>(l)->owner->client_created(
		    static_cast<wl_client *>(data));
	};
	wl_display_add_client_created_listener(display, &client_created_.link);
	if (imports_ != nullptr) {
		imports_->buffers().on_create = [this](const dmabuf_buffer &b) {
			buffer_created(b);
		};
	}
}

client_activity::~client_activity() {
	if (imports_ != nullptr) {
		imports_->buffers().on_create = nullptr;
	}
	if (logger_ != nullptr) {
		wl_protocol_logger_destroy(logger_);
	}
	wl_list_remove(&client_created_.link.link);
	for (auto &[client, state] : live_) {
		wl_list_remove(
		    &state->destroy.link.link); // still connected: no disconnect findings
	}
}

double client_activity::seconds() const {
	return std::chrono::duration<double>(clock::now() - start_).count();
}

std::vector<const client_record *> client_activity::records() const {
	std::vector<const client_record *> out;
	for (const auto &r : records_) {
		out.push_back(r.get());
	}
	return out;
}

client_activity::client_state *client_activity::find(wl_client *client) {
	auto it = live_.find(client);
	return it == live_.end() ? nullptr : it->second.get();
}

void client_activity::note(client_record &r, lint which, uint32_t wl_buffer, uint32_t surface) {
	lint_finding &f = r.findings[static_cast<size_t>(which)];
	if (f.count++ == 0) {
		f.first_s = seconds();
		f.wl_buffer = wl_buffer;
		f.surface = surface;
	}
}

void client_activity::client_created(wl_client *client) {
	auto record = std::make_unique<client_record>();
	wl_client_get_credentials(client, &record->pid, nullptr, nullptr);
	record->command = command_of(record->pid);
	pid_t exec = exec_pid_ ? exec_pid_() : -1;
	record->exec_descendant = exec > 0 && descends_from(record->pid, exec);
	record->connected_s = seconds();

	auto state = std::make_unique<client_state>();
	state->owner = this;
	state->client = client;
	state->record = record.get();
	state->destroy.state = state.get();
	state->destroy.link.notify = [](wl_listener *l, void *) {
		client_state *c = reinterpret_cast<client_state::destroy_listener *>(l)->state;
		c->owner->client_destroyed(*c);
	};
	wl_client_add_destroy_listener(client, &state->destroy.link);
	records_.push_back(std::move(record));
	live_.emplace(client, std::move(state));
}

void client_activity::client_destroyed(client_state &c) {
	// The destroy signal comes before libwayland destroys the client's
	// objects: what it did not destroy itself is still there.
	struct left {
		uint64_t params = 0;
		uint64_t buffers = 0;
		uint32_t first_buffer = 0;
	} counts;
	wl_client_for_each_resource(
	    c.client,
	    [](wl_resource *resource, void *data) {
		    auto *n = static_cast<left *>(data);
		    if (std::strcmp(wl_resource_get_class(resource),
		                    "zwp_linux_buffer_params_v1") == 0) {
			    n->params++;
		    } else if (dmabuf_buffer::from_resource(resource) != nullptr) {
			    if (n->buffers++ == 0) {
				    n->first_buffer = wl_resource_get_id(resource);
			    }
		    }
		    return WL_ITERATOR_CONTINUE;
	    },
	    &counts);
	client_record &r = *c.record;
	// A client disconnected for a protocol error had no chance to clean
	// up: what it left is no finding of its own.
	const bool by_error = !r.protocol_errors.empty();
	if (counts.params > 0 && !by_error) {
		note(r, lint::params_not_destroyed, 0, 0);
		r.findings[static_cast<size_t>(lint::params_not_destroyed)].count +=
		    counts.params - 1;
	}
	if (counts.buffers > 0 && !by_error) {
		note(r, lint::buffers_alive_at_disconnect, counts.first_buffer, 0);
		r.findings[static_cast<size_t>(lint::buffers_alive_at_disconnect)].count +=
		    counts.buffers - 1;
	}
	r.disconnected_s = seconds();
	wl_list_remove(&c.destroy.link.link);
	live_.erase(c.client); // frees c
}

void client_activity::handle_message(void *data, wl_protocol_logger_type type,
                                     const wl_protocol_logger_message *message) noexcept {
	auto *self = static_cast<client_activity *>(data);
	client_state *c = self->find(wl_resource_get_client(message->resource));
	if (c == nullptr) {
		return;
	}
	if (type == WL_PROTOCOL_LOGGER_REQUEST) {
		self->request(*c, *message);
	} else {
		self->event(*c, *message);
	}
}

void client_activity::request(client_state &c, const wl_protocol_logger_message &m) {
	client_record &r = *c.record;
	if (is(m, "wl_surface", "commit")) {
		commit(c, m.resource);
	} else if (is(m, "wl_surface", "frame")) {
		c.frame_callbacks.insert(m.arguments[0].n);
	} else if (is(m, "wl_registry", "bind")) {
		r.globals.emplace_back(m.arguments[1].s ? m.arguments[1].s : "?", m.arguments[2].u);
	} else if (is(m, "zwp_linux_dmabuf_v1", "get_default_feedback")) {
		r.default_feedbacks++;
	} else if (is(m, "zwp_linux_dmabuf_v1", "get_surface_feedback")) {
		r.surface_feedbacks++;
		auto *surface_resource = reinterpret_cast<wl_resource *>(m.arguments[1].o);
		if (surface_resource != nullptr) {
			c.surface(wlr_surface_from_resource(surface_resource)).has_feedback = true;
		}
	} else if (is(m, "wl_buffer", "destroy")) {
		if (dmabuf_buffer *b = dmabuf_buffer::from_resource(m.resource)) {
			c.buffers.erase(b->serial());
		}
	}
}

void client_activity::event(client_state &c, const wl_protocol_logger_message &m) {
	client_record &r = *c.record;
	const auto now = clock::now();
	if (is(m, "wl_buffer", "release")) {
		dmabuf_buffer *b = dmabuf_buffer::from_resource(m.resource);
		auto it = b != nullptr ? c.buffers.find(b->serial()) : c.buffers.end();
		if (it != c.buffers.end() && it->second.unreleased) {
			it->second.unreleased = false;
			r.release_latency.add(ms_between(it->second.committed_at, now));
		}
	} else if (is(m, "wl_callback", "done")) {
		if (c.frame_callbacks.erase(wl_resource_get_id(m.resource)) > 0) {
			r.frame_callbacks_done++;
			if (c.any_callback_done && now != c.last_callback_done) {
				r.frame_callback_interval.add(
				    ms_between(c.last_callback_done, now));
			}
			c.any_callback_done = true;
			c.last_callback_done = now;
		}
	} else if (is(m, "zwp_linux_buffer_params_v1", "failed")) {
		r.dmabuf_failed++;
	} else if (is(m, "wl_display", "error")) {
		client_record::posted_error e;
		auto *object = reinterpret_cast<wl_resource *>(m.arguments[0].o);
		if (object != nullptr) {
			e.interface = wl_resource_get_class(object);
			e.object = wl_resource_get_id(object);
		}
		e.code = m.arguments[1].u;
		e.message = m.arguments[2].s ? m.arguments[2].s : "";
		e.time_s = seconds();
		r.protocol_errors.push_back(std::move(e));
	}
}

void client_activity::commit(client_state &c, wl_resource *surface_resource) {
	client_record &r = *c.record;
	r.commits++;
	wlr_surface *surface = wlr_surface_from_resource(surface_resource);
	const wlr_surface_state &pending = surface->pending;
	if ((pending.committed & WLR_SURFACE_STATE_BUFFER) == 0 || pending.buffer == nullptr) {
		return;
	}
	r.buffer_commits++;
	surface_state &st = c.surface(surface);
	const uint64_t previous = st.last_commit_mark;
	const bool previous_visible = st.visible_at_commit;
	st.last_commit_mark = ++commit_mark_;
	st.visible_at_commit = !wl_list_empty(&surface->current_outputs);

	dmabuf_buffer *b = dmabuf_buffer::from_wlr_buffer(pending.buffer);
	const uint32_t buffer_id = b != nullptr ? b->resource_id() : 0;

	// The previous buffer, committed while the surface was on an output,
	// was in no frame of the outputs showing it: it will never be seen.
	// (Before the surface is on an output, a first buffer replaced at
	// once, say after a configure, is no such waste.)
	if (previous > st.shown_mark && previous_visible &&
	    !wl_list_empty(&surface->current_outputs)) {
		bool in_a_frame = false;
		wlr_surface_output *so;
		wl_list_for_each(so, &surface->current_outputs, link) {
			auto it = committed_mark_.find(so->output);
			in_a_frame =
			    in_a_frame || (it != committed_mark_.end() && it->second >= previous);
		}
		if (!in_a_frame) {
			note(r, lint::commits_faster_than_frames, buffer_id, st.id);
		}
	}

	// Size: a multiple of the scale, and what a fullscreen or maximized
	// toplevel was configured to (the configure the client acked).
	int width = pending.buffer->width, height = pending.buffer->height;
	if (pending.transform & WL_OUTPUT_TRANSFORM_90) {
		std::swap(width, height);
	}
	const int scale = pending.scale > 0 ? pending.scale : 1;
	bool mismatch = !pending.viewport.has_src && (width % scale != 0 || height % scale != 0);
	if (!mismatch && wlr_surface_is_xdg_surface(surface)) {
		wlr_xdg_surface *xdg = wlr_xdg_surface_from_wlr_surface(surface);
		if (xdg != nullptr && xdg->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
			const wlr_xdg_toplevel_state &acked = xdg->toplevel->pending;
			int w =
			    pending.viewport.has_dst ? pending.viewport.dst_width : width / scale;
			int h =
			    pending.viewport.has_dst ? pending.viewport.dst_height : height / scale;
			mismatch = (acked.fullscreen || acked.maximized) && acked.width > 0 &&
			           acked.height > 0 &&
			           (w != static_cast<int>(acked.width) ||
			            h != static_cast<int>(acked.height));
		}
	}
	if (mismatch) {
		note(r, lint::size_mismatch, buffer_id, st.id);
	}

	if (b == nullptr) {
		return; // wl_shm: the rest is about dma-bufs
	}
	const uint64_t import = b->import().serial();
	auto &bs = c.buffers[b->serial()];
	bs.import = import;
	if (bs.unreleased) {
		note(r, lint::attached_before_release, buffer_id, st.id);
	}
	bs.unreleased = true;
	bs.committed_at = clock::now();
	auto [through, first] = c.committed_through.try_emplace(import, b->serial());
	if (!first && through->second != b->serial()) {
		note(r, lint::new_wl_buffer_per_frame, buffer_id, st.id);
		through->second = b->serial();
	}

	if (st.has_feedback && dmabuf_ != nullptr) {
		auto tranche = dmabuf_->scanout_for(surface);
		if (tranche && !tranche->formats.empty()) {
			const import_key &key = b->import().key();
			if (tranche->formats.contains(key.format, key.modifier)) {
				r.in_scanout_tranche++;
			} else {
				r.not_in_scanout_tranche++;
			}
		}
	}
}

void client_activity::commit_waits_for_fence(wlr_surface *surface, const dmabuf_buffer &buffer) {
	client_state *c = find(wl_resource_get_client(surface->resource));
	if (c != nullptr) {
		note(*c->record, lint::unsignalled_write_fence, buffer.resource_id(),
		     wl_resource_get_id(surface->resource));
	}
}

void client_activity::buffer_created(const dmabuf_buffer &buffer) {
	if (buffer.resource() == nullptr) {
		return;
	}
	client_state *c = find(wl_resource_get_client(buffer.resource()));
	if (c == nullptr) {
		return;
	}
	client_record &r = *c->record;
	r.dmabuf_buffers++;
	const dmabuf_import &import = buffer.import();
	if (seen_imports_.insert(import.serial()).second) {
		r.imports_created++;
	} else {
		r.cache_hits++;
	}
	c->buffers[buffer.serial()].import = import.serial();

	const import_key &key = import.key();
	auto [exp, fresh] = exporters_.try_emplace(import.serial());
	if (fresh) {
		auto name = imports_->kernel().dmabuf_exporter(import.plane_fd(0));
		exp->second = name ? *name : "?";
	}
	bool counted = false;
	for (auto &kind : r.kinds) {
		if (kind.format == key.format && kind.modifier == key.modifier &&
		    kind.exporter == exp->second) {
			kind.count++;
			counted = true;
			break;
		}
	}
	if (!counted) {
		r.kinds.push_back({key.format, key.modifier, exp->second, 1});
	}

	// Implicit although explicit modifiers were offered, and a layout that
	// only its exporter knows: not a linear-layout exporter (vgem, the
	// dumb-buffer drivers, udmabuf: implicit_layout.hpp), whose implicit
	// buffers are linear and cost nothing (a client whose driver cannot
	// allocate with modifiers, say Mesa's kms_swrast, falls back to them).
	const implicit_layout *layout = import.implicit();
	if (key.modifier == DRM_FORMAT_MOD_INVALID && layout != nullptr && !layout->linear &&
	    dmabuf_ != nullptr) {
		for (const auto &[format, modifier] : dmabuf_->formats().pairs()) {
			if (format == key.format && modifier != DRM_FORMAT_MOD_INVALID) {
				note(r, lint::implicit_modifier, buffer.resource_id(), 0);
				break;
			}
		}
	}
}

void client_activity::frame_committed(wlr_output *output, uint64_t mark) {
	committed_mark_[output] = mark;
}

void client_activity::frame_shown(wlr_output *output, uint64_t mark) {
	const auto now = clock::now();
	bool exec_content = false;
	for (auto &[client, c] : live_) {
		bool shown = false;
		for (auto &[surface, st] : c->surfaces) {
			if (st->last_commit_mark > st->shown_mark && st->last_commit_mark <= mark &&
			    on_output(surface, output)) {
				st->shown_mark = st->last_commit_mark;
				shown = true;
			}
		}
		if (!shown) {
			continue;
		}
		client_record &r = *c->record;
		r.frames_presented++;
		if (c->any_presented) {
			r.frame_interval.add(ms_between(c->last_presented, now));
		}
		c->any_presented = true;
		c->last_presented = now;
		exec_content = exec_content || r.exec_descendant;
	}
	if (exec_content) {
		exec_frames_++;
		if (exec_frame_) {
			exec_frame_(exec_frames_);
		}
	}
}

} // namespace wlprime
