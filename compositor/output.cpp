#include "compositor/output.hpp"

#include <ctime>

#include "compositor/server.hpp"
#include "render/kms_backend.hpp"

namespace wlprime {

output::output(server &srv, wlr_output *wlr_output) : server_(srv), wlr_output_(wlr_output) {
	// A KMS output allocates on its own display device; others share the
	// server's allocator.
	wlr_allocator *allocator = kms_output_allocator(wlr_output_);
	if (allocator == nullptr) {
		allocator = server_.allocator();
	}
	if (!wlr_output_init_render(wlr_output_, allocator, server_.renderer())) {
		wlr_log(WLR_ERROR, "output %s: cannot initialise rendering", wlr_output_->name);
		return;
	}

	// Outputs with modes (DRM, and some nested ones) need one set; headless
	// and nested outputs have a custom size already.
	if (!wl_list_empty(&wlr_output_->modes)) {
		wlr_output_mode *mode = wlr_output_preferred_mode(wlr_output_);
		wlr_output_set_mode(wlr_output_, mode);
	}
	wlr_output_enable(wlr_output_, true);
	if (!wlr_output_commit(wlr_output_)) {
		wlr_log(WLR_ERROR, "output %s: cannot enable", wlr_output_->name);
		return;
	}

	frame_.connect(&wlr_output_->events.frame, [this] { handle_frame(); });
	destroy_.connect(&wlr_output_->events.destroy, [this] {
		// Frees this: nothing after it.
		server_.remove_output(this);
	});

	// Creates the wl_output global's place in the layout and, through
	// wlr_scene_attach_output_layout, this output's wlr_scene_output.
	wlr_output_layout_add_auto(server_.layout(), wlr_output_);
	wlr_log(WLR_INFO, "output %s: %dx%d, added to the layout", wlr_output_->name,
	        wlr_output_->width, wlr_output_->height);
	ok_ = true;
}

output::~output() = default;

wlr_scene_output *output::scene_output() const {
	return wlr_scene_get_scene_output(server_.scene(), wlr_output_);
}

void output::handle_frame() {
	wlr_scene_output *so = scene_output();
	if (so == nullptr) {
		return;
	}
	// Renders the scene's damage and commits; a no-op without damage.
	if (!wlr_scene_output_commit(so)) {
		wlr_log(WLR_DEBUG, "output %s: frame commit failed", wlr_output_->name);
	}
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	wlr_scene_output_send_frame_done(so, &now);
}

} // namespace wlprime
