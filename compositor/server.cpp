#include "compositor/server.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "compositor/client_report.hpp"
#include "compositor/exit_status.hpp"
#include "render/frame_capture.hpp"
#include "render/kms_backend.hpp"
#include "render/kms_writeback.hpp"
#include "render/png.hpp"

namespace wlprime {

result<std::unique_ptr<server>> server::create(const config &cfg, kernel_api *kernel) {
	std::unique_ptr<server> srv(new server(cfg));
	if (status s = srv->init(kernel); !s) {
		return s.err();
	}
	return srv;
}

server::server(const config &cfg) : config_(cfg) {
	wl_signal_init(&view_moved);
}

status server::init_import(kernel_api *kernel) {
	if (imports_ != nullptr) {
		return done{};
	}
	auto ctx = import_context::create(config_, kernel);
	if (!ctx) {
		return ctx.err();
	}
	imports_ = std::move(*ctx);
	return done{};
}

result<wlr_backend *> server::create_kms_backend(kernel_api *kernel) {
	if (status s = init_import(kernel); !s) {
		return s.err();
	}
	// Through the seat session when there is one (compositor/session.hpp).
	auto opened = open_display_devices(config_, imports_->kernel(), display_, &session_);
	if (!opened) {
		return opened.err();
	}
	std::vector<device *> devices;
	for (std::unique_ptr<device> &dev : *opened) {
		devices.push_back(&imports_->add_display(std::move(dev)));
	}
	auto kms = kms_backend_create(display_, devices, imports_->cache());
	if (!kms || session_ == nullptr) {
		return kms;
	}
	// With libinput on the same session, in a multi backend.
	return session_->add_input(display_, *kms);
}

status server::init_renderer(kernel_api *kernel) {
	const renderer_request request = config_.renderer.value_or(renderer_request::automatic);
	std::optional<render_device_facts> facts;
	if (config_.render_device && request != renderer_request::pixman) {
		auto read = read_render_device_facts(*config_.render_device);
		if (!read && request == renderer_request::gles2) {
			return error{"--renderer gles2: " + read.err().message, read.err().errnum};
		}
		if (read) {
			facts = *read;
		} else {
			// (The kernel model's devices of the compositor tests, say.)
			wlr_log(WLR_INFO, "renderer: the main device tells nothing: %s",
			        read.err().message.c_str());
		}
	}
	auto choice = choose_renderer(request, facts);
	if (!choice) {
		return choice.err();
	}
	renderer_choice_ = *choice;
	if (choice->kind == renderer_kind::pixman) {
		renderer_ = wlr_pixman_renderer_create();
		if (renderer_ == nullptr) {
			return error{"cannot create the pixman renderer"};
		}
		wlr_log(WLR_INFO, "renderer: pixman: %s", choice->reason.c_str());
		return done{};
	}
	if (status s = init_import(kernel); !s) {
		return s;
	}
	auto gles2 = gles2_renderer::create(*choice, imports_->kernel());
	if (!gles2) {
		return gles2.err();
	}
	gles2_ = std::move(*gles2);
	renderer_ = gles2_->wlr();
	if (backend_kind_ == backend_kind::kms)
		// The outputs compose into GBM buffers of the render device, which
		// their display devices scan out (render/kms_render_target.hpp).
		kms_backend_render_with(backend_, gles2_->allocator(), gles2_->drm_fd());
	return done{};
}

status server::init_linux_dmabuf(kernel_api *kernel) {
	if (!config_.render_device) {
		wlr_log(WLR_INFO, "no main DRM device: linux-dmabuf is not advertised");
		return done{};
	}
	if (status s = init_import(kernel); !s) {
		return s;
	}
	auto main = imports_->open_main(*config_.render_device);
	if (!main) {
		return main.err();
	}
	// What the renderer shows: the CPU path's pairs, and with GLES2 also
	// what its EGL display imports (render/renderer_formats.hpp).
	auto global = linux_dmabuf::create(display_, **main, imports_->cache(),
	                                   gles2_ ? gles2_->formats().advertised
	                                          : linux_dmabuf::composition_formats(),
	                                   &imports_->buffers(), config_.client_limits);
	if (!global) {
		return global.err();
	}
	linux_dmabuf_ = std::move(*global);
	// Commits of dma-bufs wait for the client's writes (implicit_sync.hpp).
	implicit_sync_ =
	    std::make_unique<implicit_sync>(display_, implicit_sync::timeout_from_environment());

	imports_->start_trim(event_loop());
	return done{};
}

status server::init(kernel_api *kernel) {
	const char *runtime_dir = std::getenv("XDG_RUNTIME_DIR");
	if (runtime_dir == nullptr || runtime_dir[0] == '\0') {
		return error{"XDG_RUNTIME_DIR is not set: it is where the Wayland socket goes"};
	}

	display_ = wl_display_create();
	if (display_ == nullptr) {
		return error{"cannot create the Wayland display"};
	}
	wl_event_loop *loop = event_loop();
	const int signals[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
	for (std::size_t i = 0; i < std::size(signals); i++) {
		signal_sources_[i] =
		    wl_event_loop_add_signal(loop, signals[i], &server::handle_signal, this);
		if (signal_sources_[i] == nullptr) {
			return error{"cannot watch signal " + std::to_string(signals[i])};
		}
	}

	backend_kind_ = pick_backend(config_, current_backend_environment());
	result<wlr_backend *> backend = backend_kind_ == backend_kind::kms
	                                    ? create_kms_backend(kernel)
	                                    : create_backend(backend_kind_, config_, display_);
	if (!backend) {
		return backend.err();
	}
	backend_ = *backend;
	if (!config_.overlay_planes) {
		kms_backend_disable_overlays(backend_);
	}

	if (status s = init_renderer(kernel); !s) {
		return s;
	}
	// wl_shm with the renderer's formats, and nothing else: not
	// wlr_renderer_init_wl_display, which would add wlroots' linux-dmabuf and
	// wl_drm for a renderer that can import dma-bufs.
	if (!wlr_renderer_init_wl_shm(renderer_, display_)) {
		return error{"cannot create the wl_shm global"};
	}
	// With pixman, headless and nested backends take shm buffers: this is
	// the shm allocator for them; the GLES2 renderer brings its own (GBM on
	// its node). KMS outputs have an allocator each, on their display device
	// (kms_output_allocator(), see output.cpp).
	if (backend_kind_ != backend_kind::kms) {
		allocator_ = gles2_ ? nullptr : wlr_allocator_autocreate(backend_, renderer_);
	}
	if (allocator() == nullptr && backend_kind_ != backend_kind::kms) {
		return error{"cannot create an allocator for the " +
		             std::string(to_string(backend_kind_)) +
		             " backend and the pixman renderer"};
	}

	if (status s = init_linux_dmabuf(kernel); !s) {
		return s;
	}

	compositor_ = wlr_compositor_create(display_, renderer_);
	if (compositor_ == nullptr || wlr_data_device_manager_create(display_) == nullptr) {
		return error{"cannot create wl_compositor / wl_data_device_manager"};
	}
	picture_damage_ = std::make_unique<picture_damage>(compositor_);
	auto viewports = viewporter::create(display_, compositor_);
	if (!viewports) {
		return viewports.err();
	}
	viewporter_ = std::move(*viewports);

	layout_ = wlr_output_layout_create();
	scene_ = wlr_scene_create();
	if (layout_ == nullptr || scene_ == nullptr ||
	    !wlr_scene_attach_output_layout(scene_, layout_)) {
		return error{"cannot create the output layout and the scene"};
	}
	wlr_scene_tree *views = wlr_scene_tree_create(&scene_->node);
	if (views == nullptr) {
		return error{"cannot create the scene's view layer"};
	}
	view_layer_ = &views->node;
	// A surface on a KMS output gets a scanout tranche in its linux-dmabuf
	// feedback (surface_feedback.hpp); elsewhere the main tranche only.
	if (linux_dmabuf_ != nullptr) {
		auto tranches = std::make_shared<scanout_tranches>(scene_);
		linux_dmabuf_->set_scanout_source(
		    [tranches](wlr_surface *surface) { return tranches->for_surface(surface); });
		surface_feedback_update_.connect(&view_moved, [this](view *) {
			linux_dmabuf_->schedule_surface_feedback_update();
		});
	}

	// wp_presentation: the scene marks what it renders or scans out; the
	// feedback has the output's present time and flags (KMS: the page flip).
	wlr_presentation *presentation = wlr_presentation_create(display_, backend_);
	if (presentation == nullptr) {
		return error{"cannot create the wp_presentation global"};
	}
	wlr_scene_set_presentation(scene_, presentation);

	xdg_shell_ = wlr_xdg_shell_create(display_);
	if (xdg_shell_ == nullptr) {
		return error{"cannot create the xdg_wm_base global"};
	}
	auto decorations = decoration_manager::create(display_);
	if (!decorations) {
		return decorations.err();
	}
	decorations_ = std::move(*decorations);
	new_xdg_surface_.connect(&xdg_shell_->events.new_surface, [this](wlr_xdg_surface *surface) {
		handle_new_xdg_surface(surface);
	});

	// For grim and other screenshot tools.
	if (wlr_xdg_output_manager_v1_create(display_, layout_) == nullptr ||
	    wlr_screencopy_manager_v1_create(display_) == nullptr) {
		return error{"cannot create the xdg-output / screencopy globals"};
	}

	seat_ = std::make_unique<seat>(*this, display_, backend_, layout_);

	new_output_.connect(&backend_->events.new_output,
	                    [this](wlr_output *wlr_output) { handle_new_output(wlr_output); });

	if (config_.socket_name) {
		if (wl_display_add_socket(display_, config_.socket_name->c_str()) != 0) {
			return error{"cannot create the Wayland socket " +
			             std::string(runtime_dir) + "/" + *config_.socket_name +
			             " (in use?)"};
		}
		socket_name_ = *config_.socket_name;
	} else {
		const char *name = wl_display_add_socket_auto(display_);
		if (name == nullptr) {
			return error{"cannot create a Wayland socket in " +
			             std::string(runtime_dir)};
		}
		socket_name_ = name;
	}

	if (imports_ != nullptr) {
		auto debug = debug_server::create(
		    loop, [this](dump_format format) { return snapshot(format); }, socket_name_);
		if (!debug) {
			return debug.err();
		}
		debug_server_ = std::move(*debug);
	}

	if (!wlr_backend_start(backend_)) {
		return error{"cannot start the " + std::string(to_string(backend_kind_)) +
		             " backend"};
	}
	if (session_ != nullptr) {
		session_->backend_started();
	}
	wlr_log(WLR_INFO, "running on WAYLAND_DISPLAY=%s (%s backend)", socket_name_.c_str(),
	        std::string(to_string(backend_kind_)).c_str());

	// Before a client can connect: the first thing a client does is seen.
	if (config_.report_path || config_.screenshot_after_frames) {
		activity_ = std::make_unique<client_activity>(
		    display_, imports_.get(), linux_dmabuf_.get(),
		    [this]() { return child_ != nullptr ? child_->pid() : pid_t(-1); });
		activity_->on_exec_frame([this](uint64_t frames) {
			screenshots_.exec_frames(frames, first_output_picture());
		});
		if (implicit_sync_ != nullptr) {
			implicit_sync_->on_wait(
			    [this](wlr_surface *surface, const dmabuf_buffer &b) {
				    activity_->commit_waits_for_fence(surface, b);
			    });
		}
	}

	if (config_.exec_command) {
		auto child = child_process::spawn(loop, *config_.exec_command, socket_name_,
		                                  [this](int code) { terminate(code); });
		if (!child) {
			return child.err();
		}
		child_ = std::move(*child);
	}
	return done{};
}

server::~server() {
	// Teardown in reverse order of init(), each step guarded: init() may
	// have stopped part-way.
	child_.reset();
	// Before the clients go: their teardown is no disconnect of theirs.
	if (implicit_sync_ != nullptr) {
		implicit_sync_->on_wait(nullptr);
	}
	activity_.reset();
	if (display_ != nullptr) {
		// Clients first: their surfaces hold textures of renderer_, and their
		// xdg_surfaces' destroy handlers free our views.
		wl_display_destroy_clients(display_);
	}
	if (imports_ != nullptr) {
		imports_->stop_trim();
	}
	debug_server_.reset();
	if (implicit_sync_ != nullptr) {
		const fence_wait_stats &st = implicit_sync_->stats();
		wlr_log(
		    WLR_INFO,
		    "implicit sync: %llu buffers checked, %llu waits for write fences (%llu "
		    "signalled, %llu timed out after %lld ms, %llu abandoned), waited %lld ms "
		    "in all, %lld ms at most",
		    static_cast<unsigned long long>(st.checked),
		    static_cast<unsigned long long>(st.waits),
		    static_cast<unsigned long long>(st.signaled),
		    static_cast<unsigned long long>(st.timeouts),
		    static_cast<long long>(implicit_sync_->timeout().count()),
		    static_cast<unsigned long long>(st.abandoned),
		    static_cast<long long>(
		        std::chrono::duration_cast<std::chrono::milliseconds>(st.total).count()),
		    static_cast<long long>(
		        std::chrono::duration_cast<std::chrono::milliseconds>(st.max).count()));
		implicit_sync_.reset();
	}
	surface_feedback_update_.disconnect();
	linux_dmabuf_.reset();
	new_output_.disconnect();
	new_xdg_surface_.disconnect();
	views_.clear();
	seat_.reset();
	decorations_.reset();
	viewporter_.reset();
	headless_presents_.clear();
	outputs_.clear();
	if (backend_ != nullptr) {
		// Destroys the wlr_outputs (and with them their wlr_scene_outputs,
		// which need the scene alive) and the input devices.
		wlr_backend_destroy(backend_);
	}
	// After the backends made on it, before the display.
	session_.reset();
	// The layout before the scene: wlroots 0.15.1's scene/output-layout
	// helper listens to the layout's destroy only, and then reads the scene.
	if (layout_ != nullptr) {
		wlr_output_layout_destroy(layout_);
	}
	if (scene_ != nullptr) {
		wlr_scene_node_destroy(&scene_->node);
	}
	if (allocator_ != nullptr) {
		wlr_allocator_destroy(allocator_);
	}
	if (gles2_ != nullptr) {
		gles2_.reset(); // its renderer, allocator, EGL and textures
	} else if (renderer_ != nullptr) {
		wlr_renderer_destroy(renderer_);
	}
	for (wl_event_source *&source : signal_sources_) {
		if (source != nullptr) {
			wl_event_source_remove(source);
			source = nullptr;
		}
	}
	if (display_ != nullptr) {
		// Also destroys the globals: compositor, shm, xdg-shell, seat, ...
		wl_display_destroy(display_);
	}
	// Every wlr_buffer is gone now, and with them every import_ref.
	imports_.reset();
}

int server::run() {
	if (!exit_code_) {
		wl_display_run(display_);
	}
	screenshots_.at_exit(first_output_picture(), activity_ ? activity_->exec_frames() : 0);
	// A capture through a writeback connector completes on the event
	// loop, after the output's next commit.
	for (int i = 0; screenshots_.in_flight() > 0 && i < 100; i++) {
		dispatch(50);
	}
	if (screenshots_.in_flight() > 0) {
		wlr_log(WLR_ERROR, "screenshot %s: the display did not write its frame back in 5 s",
		        config_.screenshot_path->c_str());
	}
	bool missing = screenshots_.missing() || screenshots_.in_flight() > 0;
	if (config_.report_path && activity_ != nullptr) {
		auto records = activity_->records();
		if (status s = write_report(*config_.report_path, records); !s) {
			wlr_log(WLR_ERROR, "--report: %s", s.err().message.c_str());
			missing = true;
		}
		std::fprintf(stderr, "wlprime: report %s: %zu clients\n%s",
		             config_.report_path->c_str(), records.size(),
		             report_summary(records).c_str());
	}
	int code = exit_code_.value_or(0);
	if (code == 0 && missing) {
		return exit_output_missing;
	}
	if (code == 0 && screenshots_.differs()) {
		return exit_compare_differs;
	}
	return code;
}

void server::dispatch(int timeout_ms) {
	wl_display_flush_clients(display_);
	wl_event_loop_dispatch(event_loop(), timeout_ms);
	wl_display_flush_clients(display_);
}

void server::terminate(int exit_code) {
	if (!exit_code_) {
		exit_code_ = exit_code;
	}
	wl_display_terminate(display_);
}

int server::handle_signal(int signal_number, void *data) noexcept {
	auto *self = static_cast<server *>(data);
	if (signal_number == SIGUSR1) {
		if (self->config_.screenshot_path) {
			self->write_screenshot();
		} else {
			wlr_log(WLR_ERROR, "SIGUSR1: no --screenshot FILE given, nothing written");
		}
		return 0;
	}
	if (signal_number == SIGUSR2) {
		// Lets go of every idle Import now (their handles and dma-bufs),
		// instead of when they age out: for leak checks and soak tests.
		if (self->imports_ != nullptr) {
			import_cache &cache = self->imports_->cache();
			const size_t evicted = cache.evict_idle();
			wlr_log(WLR_INFO, "SIGUSR2: evicted %zu idle Imports, %zu left in use",
			        evicted, cache.size());
		}
		return 0;
	}
	wlr_log(WLR_INFO, "signal %d: exiting", signal_number);
	self->terminate(128 + signal_number);
	return 0;
}

std::string server::snapshot(dump_format format) const {
	return debug_dump({imports_.get(), &outputs_, implicit_sync_.get(), backend_kind_,
	                   &renderer_choice_, gles2_.get()},
	                  format);
}

output *server::first_output() const {
	return outputs_.empty() ? nullptr : outputs_.front().get();
}

result<image> server::capture_first_output() {
	output *out = first_output();
	if (out == nullptr) {
		return error{"there is no output"};
	}
	return capture_output(scene_, out->wlr());
}

picture_source server::first_output_picture() {
	picture_source source;
	output *out = first_output();
	if (out == nullptr) {
		return source;
	}
	source.output = out->wlr()->name;
	source.render = [this]() { return capture_first_output(); };
	if (backend_kind_ == backend_kind::kms) {
		// What the display produced, if its device can write it back
		// (kms_writeback.hpp).
		wlr_output *wlr = out->wlr();
		source.read_back = [wlr](std::function<void(result<image>)> done) {
			return kms_output_capture(wlr, std::move(done));
		};
	}
	return source;
}

void server::write_screenshot() {
	screenshots_.take(first_output_picture());
}

void server::handle_new_output(wlr_output *wlr_output) {
	auto out = std::make_unique<output>(
	    *this, wlr_output,
	    [this](const copy_event &e) {
		    if (trace_writer *trace = imports_ ? imports_->trace() : nullptr) {
			    trace->copy(e);
		    }
	    },
	    [this](const char *output_name, const surface_plane_verdict &v) {
		    if (v.plane_id != 0) {
			    wlr_log(WLR_INFO,
			            "output %s: %s (import #%llu, fb %u) on overlay plane %u",
			            output_name, v.surface.c_str(),
			            static_cast<unsigned long long>(v.import), v.fb_id, v.plane_id);
		    } else {
			    wlr_log(WLR_INFO, "output %s: %s composed: %s", output_name,
			            v.surface.c_str(), v.reason.c_str());
		    }
		    if (trace_writer *trace = imports_ ? imports_->trace() : nullptr) {
			    trace->plane(output_name, v);
		    }
		    // Its scanout tranche may name another plane now.
		    if (linux_dmabuf_ != nullptr) {
			    linux_dmabuf_->schedule_surface_feedback_update();
		    }
	    });
	if (!out->ok()) {
		return; // logged; the wlr_output stays unused
	}
	if (wlr_output_is_headless(wlr_output)) {
		headless_presents_.push_back(
		    std::make_unique<headless_present>(wlr_output, [this](headless_present *p) {
			    headless_presents_.remove_if(
			        [p](const std::unique_ptr<headless_present> &q) {
				        return q.get() == p;
			        });
		    }));
	}
	outputs_.push_back(std::move(out));
}

void server::remove_output(output *o) {
	auto it = std::find_if(outputs_.begin(), outputs_.end(),
	                       [o](const std::unique_ptr<output> &p) { return p.get() == o; });
	if (it != outputs_.end()) {
		outputs_.erase(it);
	}
	// A nested wlprime whose last window was closed has nothing to show.
	if (outputs_.empty() && backend_kind_ == backend_kind::nested) {
		wlr_log(WLR_INFO, "last output gone: exiting");
		terminate(0);
	}
}

void server::handle_new_xdg_surface(wlr_xdg_surface *xdg_surface) {
	if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_POPUP) {
		// A popup goes into its parent's scene tree, which the parent's
		// xdg_surface->data names (set by view, or by this for popups).
		wlr_xdg_surface *parent =
		    wlr_xdg_surface_from_wlr_surface(xdg_surface->popup->parent);
		auto *parent_node =
		    parent != nullptr ? static_cast<wlr_scene_node *>(parent->data) : nullptr;
		if (parent_node == nullptr) {
			wlr_log(WLR_ERROR, "xdg popup without a known parent: not shown");
			return;
		}
		xdg_surface->data = wlr_scene_xdg_surface_create(parent_node, xdg_surface);
		return;
	}
	if (xdg_surface->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
		views_.push_front(std::make_unique<view>(*this, xdg_surface));
	}
}

view *server::view_at(double lx, double ly, wlr_surface **surface, double *sx, double *sy) const {
	wlr_scene_node *node = wlr_scene_node_at(view_layer_, lx, ly, sx, sy);
	if (node == nullptr || node->type != WLR_SCENE_NODE_SURFACE) {
		return nullptr;
	}
	*surface = wlr_scene_surface_from_node(node)->surface;
	// Up to the view's own node, the one whose data is set.
	while (node != nullptr && node->data == nullptr) {
		node = node->parent;
	}
	return node != nullptr ? static_cast<view *>(node->data) : nullptr;
}

void server::focus_view(view *v) {
	if (v == nullptr || !v->mapped()) {
		return;
	}
	wlr_surface *previous = seat_->keyboard_focus();
	if (previous == v->surface()) {
		return;
	}
	if (previous != nullptr && wlr_surface_is_xdg_surface(previous)) {
		wlr_xdg_surface *prev = wlr_xdg_surface_from_wlr_surface(previous);
		if (prev != nullptr && prev->role == WLR_XDG_SURFACE_ROLE_TOPLEVEL) {
			wlr_xdg_toplevel_set_activated(prev, false);
		}
	}
	auto it = std::find_if(views_.begin(), views_.end(),
	                       [v](const std::unique_ptr<view> &p) { return p.get() == v; });
	if (it != views_.end()) {
		views_.splice(views_.begin(), views_, it);
	}
	wlr_scene_node_raise_to_top(v->scene_node());
	v->set_activated(true);
	seat_->keyboard_enter(v->surface());
}

void server::view_unmapped(view *v) {
	seat_->forget_view(v);
	if (seat_->keyboard_focus() != v->surface()) {
		return;
	}
	for (const std::unique_ptr<view> &other : views_) {
		if (other.get() != v && other->mapped()) {
			focus_view(other.get());
			return;
		}
	}
	seat_->keyboard_enter(nullptr);
}

void server::remove_view(view *v) {
	seat_->forget_view(v);
	auto it = std::find_if(views_.begin(), views_.end(),
	                       [v](const std::unique_ptr<view> &p) { return p.get() == v; });
	if (it != views_.end()) {
		views_.erase(it);
	}
}

} // namespace wlprime
