// server.hpp: the compositor: a wl_display and the wlroots objects on it.
//
// server::create() builds everything (backend, pixman renderer, wl_shm,
// globals, scene, seat), adds the socket, starts the backend and, with
// --exec, starts the command. The caller then runs the loop (run(), or
// dispatch() from a test harness). Destroying the server tears down in
// reverse: clients, our listeners and objects, backend, scene and layout,
// allocator, renderer, display.
//
// Globals advertised: wl_compositor, wl_subcompositor, wl_shm, wl_seat,
// wl_data_device_manager, wl_output, xdg_wm_base, zxdg_output_manager_v1,
// zwlr_screencopy_manager_v1, wp_presentation, wp_viewporter
// (compositor/viewport.hpp), zxdg_decoration_manager_v1 (client-side only,
// compositor/decoration.hpp), and, with a main DRM device, wlprime's own
// zwp_linux_dmabuf_v1 over the import subsystem. Never wlroots' linux-dmabuf
// nor wl_drm.

#pragma once

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compositor/backend.hpp"
#include "compositor/client_activity.hpp"
#include "compositor/config.hpp"
#include "compositor/debug_dump.hpp"
#include "compositor/debug_server.hpp"
#include "compositor/decoration.hpp"
#include "compositor/exec.hpp"
#include "compositor/headless_present.hpp"
#include "compositor/implicit_sync.hpp"
#include "compositor/import_context.hpp"
#include "compositor/linux_dmabuf.hpp"
#include "compositor/listener.hpp"
#include "compositor/output.hpp"
#include "compositor/picture_damage.hpp"
#include "compositor/screenshot.hpp"
#include "compositor/seat.hpp"
#include "compositor/session.hpp"
#include "compositor/trace.hpp"
#include "compositor/view.hpp"
#include "compositor/viewport.hpp"
#include "import/result.hpp"
#include "render/gles2_renderer.hpp"
#include "render/image.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class server {
public:
	// Needs $XDG_RUNTIME_DIR for the socket. Errors are returned, not logged.
	// kernel: the DRM seam the import subsystem uses; null for the real
	// kernel (tests pass the kernel model). Borrowed, outlives the server.
	static result<std::unique_ptr<server>> create(const config &cfg,
	                                              kernel_api *kernel = nullptr);
	~server();

	server(const server &) = delete;
	server &operator=(const server &) = delete;

	const config &cfg() const { return config_; }
	backend_kind backend() const { return backend_kind_; }
	const std::string &socket_name() const { return socket_name_; }
	wl_display *display() const { return display_; }
	wl_event_loop *event_loop() const { return wl_display_get_event_loop(display_); }

	// Runs the event loop until terminate(); then writes the screenshot
	// (unless it is taken after frames) and the report. Returns the exit
	// code (exit_status.hpp).
	int run();
	// One round of the event loop for a test harness: dispatch ready events,
	// waiting at most timeout_ms, then flush the clients.
	void dispatch(int timeout_ms);
	// Ends run() with exit_code. The first call wins.
	void terminate(int exit_code);
	bool terminated() const { return exit_code_.has_value(); }

	// What wlprime-debug shows now (debug_dump.hpp).
	std::string snapshot(dump_format format) const;

	// What the first output shows now (see frame_capture.hpp).
	result<image> capture_first_output();
	// Writes the first output to cfg().screenshot_path, logs the outcome
	// (screenshot.hpp). A KMS output whose device has a writeback connector
	// is read back from it after its next commit (on the event loop); others
	// render the scene again.
	void write_screenshot();
	// What clients did (--report, --screenshot-after-frames); null without
	// either.
	client_activity *activity() const { return activity_.get(); }

	// --- for the parts of the compositor (and tests) ---
	wlr_backend *wlr_backend_handle() const { return backend_; }
	wlr_renderer *renderer() const { return renderer_; }
	const renderer_choice &renderer_decision() const { return renderer_choice_; }
	gles2_renderer *gles2() const { return gles2_.get(); } // null on pixman
	// Null on the KMS backend: its outputs have their own (output.cpp).
	wlr_allocator *allocator() const { return gles2_ ? gles2_->allocator() : allocator_; }
	wlr_output_layout *layout() const { return layout_; }
	wlr_scene *scene() const { return scene_; }
	wlr_scene_node *view_layer() const { return view_layer_; }
	seat &input() { return *seat_; }
	// The seat session of the KMS backend; null without one (other
	// backends, --no-session, or none could be had).
	session *seat_session() const { return session_.get(); }
	const std::list<std::unique_ptr<output>> &outputs() const { return outputs_; }
	// Null without a main device.
	linux_dmabuf *dmabuf() const { return linux_dmabuf_.get(); }
	viewporter &viewports() const { return *viewporter_; }
	decoration_manager &decorations() const { return *decorations_; }
	// The import subsystem: devices, cache, wl_buffers, ioctl counts, trace
	// (null without a main device and without the KMS backend).
	import_context *context() const { return imports_.get(); }
	// Waits for the write fences of client dma-bufs (null without a main
	// device).
	const implicit_sync *sync() const { return implicit_sync_.get(); }

	output *first_output() const;
	// Views, topmost first.
	const std::list<std::unique_ptr<view>> &views() const { return views_; }

	// The view whose surface tree has a surface at layout point (lx, ly), and
	// that surface with the point in its coordinates. Null if none.
	view *view_at(double lx, double ly, wlr_surface **surface, double *sx, double *sy) const;
	// Raises v, activates it, gives it keyboard focus; deactivates the
	// previously focused toplevel.
	void focus_view(view *v);
	// Called by a view when it is unmapped: focus passes on.
	void view_unmapped(view *v);
	// Called by a view from its destroy handler: frees it.
	void remove_view(view *v);
	// Called by an output from its destroy handler: frees it.
	void remove_output(output *o);

	// Emitted by a view that moved (data: the view): which output shows a
	// surface may have changed.
	wl_signal view_moved;

private:
	explicit server(const config &cfg);

	status init(kernel_api *kernel);
	// The import context, made at the first call.
	status init_import(kernel_api *kernel);
	result<wlr_backend *> create_kms_backend(kernel_api *kernel);
	status init_linux_dmabuf(kernel_api *kernel);
	status init_renderer(kernel_api *kernel);
	picture_source first_output_picture();
	void handle_new_output(wlr_output *wlr_output);
	void handle_new_xdg_surface(wlr_xdg_surface *xdg_surface);
	static int handle_signal(int signal_number, void *data) noexcept;

	config config_;
	backend_kind backend_kind_ = backend_kind::headless;
	std::string socket_name_;
	std::optional<int> exit_code_;
	screenshot_taker screenshots_{config_};

	// Owned unless noted; destroyed in ~server in reverse order.
	wl_display *display_ = nullptr;
	wlr_backend *backend_ = nullptr;
	// KMS from a TTY: outlives backend_ (libinput closes its devices
	// through it), goes before display_.
	std::unique_ptr<session> session_;
	// What composes (render/renderer_choice.hpp), and the GLES2 renderer
	// when that is it: then renderer_ is its wrapper, owned by gles2_.
	renderer_choice renderer_choice_;
	std::unique_ptr<gles2_renderer> gles2_;
	wlr_renderer *renderer_ = nullptr;
	wlr_allocator *allocator_ = nullptr;
	wlr_compositor *compositor_ = nullptr; // owned by display_
	// Which rows of a converted picture each commit changed.
	std::unique_ptr<picture_damage> picture_damage_;
	wlr_output_layout *layout_ = nullptr;
	wlr_scene *scene_ = nullptr;
	wlr_scene_node *view_layer_ = nullptr; // owned by scene_
	wlr_xdg_shell *xdg_shell_ = nullptr;   // owned by display_
	std::unique_ptr<viewporter> viewporter_;
	std::unique_ptr<decoration_manager> decorations_;
	std::unique_ptr<seat> seat_;
	std::list<std::unique_ptr<output>> outputs_; // in order of appearance
	// Presentation feedback on headless outputs (headless_present.hpp).
	std::list<std::unique_ptr<headless_present>> headless_presents_;
	std::list<std::unique_ptr<view>> views_; // topmost first
	std::unique_ptr<child_process> child_;
	std::unique_ptr<client_activity> activity_; // --report, --screenshot-after-frames
	wl_event_source *signal_sources_[4] = {};   // SIGINT, SIGTERM, SIGUSR1, SIGUSR2

	// The import subsystem (import_context.hpp), and linux-dmabuf over it.
	// Null without a main device and without the KMS backend. Freed last:
	// wlr_buffers hold Imports until the display is gone.
	std::unique_ptr<import_context> imports_;
	std::unique_ptr<debug_server> debug_server_;
	std::unique_ptr<linux_dmabuf> linux_dmabuf_;
	std::unique_ptr<implicit_sync> implicit_sync_;

	listener<view *> surface_feedback_update_; // on view_moved
	listener<wlr_output *> new_output_;
	listener<wlr_xdg_surface *> new_xdg_surface_;
};

} // namespace wlprime
