#include "compositor/viewport.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include "compositor/viewport_crop.hpp"
#include "viewporter-protocol.h"

namespace wlprime {
namespace {

constexpr uint32_t viewporter_version = 1;

std::string fixed_text(wl_fixed_t v) {
	char text[32];
	snprintf(text, sizeof text, "%.4g", wl_fixed_to_double(v));
	return text;
}

// What a viewport does to the picture, for the scanout note in the log.
struct viewport_note {
	bool changes = false; // crops or scales
	double src_x = 0, src_y = 0, src_w = 0, src_h = 0;
	int buffer_w = 0, buffer_h = 0;
	int dst_w = 0, dst_h = 0;

	bool operator==(const viewport_note &) const = default;
};

// The surface's size from its buffer alone: after buffer_transform and
// buffer_scale, before the viewport. What the source rectangle must fit.
void content_size(const wlr_surface_state &st, double *w, double *h) {
	*w = double(st.buffer_width) / st.scale;
	*h = double(st.buffer_height) / st.scale;
	if (st.transform & WL_OUTPUT_TRANSFORM_90) {
		std::swap(*w, *h);
	}
}

viewport_note note_of(wlr_surface *surface) {
	viewport_note n;
	const wlr_surface_state &st = surface->current;
	if (surface->buffer == nullptr || (!st.viewport.has_src && !st.viewport.has_dst)) {
		return n;
	}
	wlr_fbox src{};
	wlr_surface_get_buffer_source_box(surface, &src);
	n = {false,    src.x,    src.y, src.width, src.height, st.buffer_width, st.buffer_height,
	     st.width, st.height};
	bool crops = src.x != 0 || src.y != 0 || src.width != st.buffer_width ||
	             src.height != st.buffer_height;
	double natural_w = 0, natural_h = 0;
	content_size(st, &natural_w, &natural_h);
	if (st.viewport.has_src) {
		natural_w = st.viewport.src.width;
		natural_h = st.viewport.src.height;
	}
	bool scales = st.viewport.has_dst &&
	              (st.viewport.dst_width != natural_w || st.viewport.dst_height != natural_h);
	n.changes = crops || scales;
	return n;
}

// One surface's viewport: its wp_viewport (if any), its crop view, and what
// was last logged about it. A wlr_addon of the surface, freed with it.
class surface_viewport {
public:
	surface_viewport(viewporter &owner, wlr_surface *surface)
	    : owner_(owner), surface_(surface) {
		link_.self = this;
		wlr_addon_init(&link_.addon, &surface->addons, &owner_, &addon_impl);
		commit_.connect(&surface->events.commit, [this] { handle_commit(); });
	}
	~surface_viewport() {
		set_cropping(false);
		if (resource_ != nullptr) {
			wl_resource_set_user_data(resource_, nullptr); // inert: no_surface
		}
	}
	surface_viewport(const surface_viewport &) = delete;
	surface_viewport &operator=(const surface_viewport &) = delete;

	static surface_viewport *find(viewporter &owner, wlr_surface *surface) {
		wlr_addon *addon = wlr_addon_find(&surface->addons, &owner, &addon_impl);
		return addon != nullptr ? from_addon(addon) : nullptr;
	}

	wlr_surface *surface() const { return surface_; }
	wl_resource *resource() const { return resource_; }
	void set_resource(wl_resource *r) { resource_ = r; }

	// The surface is being destroyed: frees this.
	static void addon_destroy(wlr_addon *addon) noexcept {
		surface_viewport *self = from_addon(addon);
		wlr_addon_finish(addon);
		delete self;
	}

private:
	// Standard-layout, addon first: a wlr_addon * is also a pointer to it.
	struct addon_link {
		wlr_addon addon;
		surface_viewport *self;
	};
	static surface_viewport *from_addon(wlr_addon *addon) {
		static_assert(std::is_standard_layout_v<addon_link>);
		return reinterpret_cast<addon_link *>(addon)->self;
	}
	static const wlr_addon_interface addon_impl;

	void handle_commit();
	bool check_commit();
	void note_scanout();
	void set_cropping(bool on) {
		if (on != cropping_) {
			cropping_ = on;
			on ? owner_.crop_started() : owner_.crop_ended();
		}
	}

	addon_link link_{}; // in surface->addons
	viewporter &owner_;
	wlr_surface *surface_;            // not owned; owns this
	wl_resource *resource_ = nullptr; // the wp_viewport; null: none
	viewport_crop crop_;
	bool cropping_ = false;
	viewport_note noted_;
	listener<void> commit_;
};

const wlr_addon_interface surface_viewport::addon_impl = {
    .name = "wlprime_viewport",
    .destroy = &surface_viewport::addon_destroy,
};

void surface_viewport::handle_commit() {
	if (!check_commit()) {
		return; // the client is gone with a protocol error
	}
	note_scanout();
	if (crop_.update(surface_)) {
		// A new crop view shows other pixels even where the client damaged
		// nothing (a crop moved over the same buffer). wlroots 0.15.1 was
		// seen to damage a moved crop by itself (the surface-protocols test
		// checks the redraw); this makes sure of it for one redraw of the
		// surface per new view. This listener was added when the surface
		// was made, before the scene's, which reads the damage next.
		pixman_region32_union_rect(&surface_->buffer_damage, &surface_->buffer_damage, 0, 0,
		                           static_cast<unsigned>(surface_->current.buffer_width),
		                           static_cast<unsigned>(surface_->current.buffer_height));
	}
	set_cropping(crop_.active());
}

bool surface_viewport::check_commit() {
	const wlr_surface_state &st = surface_->current;
	if (resource_ == nullptr || !st.viewport.has_src) {
		return true;
	}
	const wlr_fbox &src = st.viewport.src;
	if (!st.viewport.has_dst &&
	    (std::floor(src.width) != src.width || std::floor(src.height) != src.height)) {
		wl_resource_post_error(resource_, WP_VIEWPORT_ERROR_BAD_SIZE,
		                       "source rectangle %gx%g is not integer and no destination "
		                       "size is set",
		                       src.width, src.height);
		return false;
	}
	if (surface_->buffer == nullptr || st.buffer_width <= 0) {
		return true; // no content: nothing to be outside of
	}
	double w = 0, h = 0;
	content_size(st, &w, &h);
	if (src.x + src.width > w || src.y + src.height > h) {
		wl_resource_post_error(
		    resource_, WP_VIEWPORT_ERROR_OUT_OF_BUFFER,
		    "source rectangle %g,%g %gx%g is outside the %gx%g content of "
		    "the %dx%d buffer (scale %d, transform %d)",
		    src.x, src.y, src.width, src.height, w, h, st.buffer_width, st.buffer_height,
		    st.scale, int(st.transform));
		return false;
	}
	return true;
}

void surface_viewport::note_scanout() {
	viewport_note n = note_of(surface_);
	if (n == noted_) {
		return;
	}
	noted_ = n;
	if (!n.changes) {
		return;
	}
	pid_t pid = 0;
	wl_client_get_credentials(wl_resource_get_client(surface_->resource), &pid, nullptr,
	                          nullptr);
	wlr_log(WLR_INFO,
	        "wl_surface %u of pid %d: viewport shows %.2f,%.2f %.2fx%.2f of its %dx%d buffer "
	        "at %dx%d: composed, never scanned out directly (a display plane shows a buffer "
	        "1:1)",
	        wl_resource_get_id(surface_->resource), int(pid), n.src_x, n.src_y, n.src_w,
	        n.src_h, n.buffer_w, n.buffer_h, n.dst_w, n.dst_h);
}

// --- wp_viewport ----------------------------------------------------------------

// Null once the surface is gone (the resource is inert).
surface_viewport *viewport_of(wl_resource *resource) {
	return static_cast<surface_viewport *>(wl_resource_get_user_data(resource));
}

void viewport_destroy(wl_client *, wl_resource *resource) noexcept {
	wl_resource_destroy(resource);
}

void viewport_set_source(wl_client *, wl_resource *resource, wl_fixed_t x, wl_fixed_t y,
                         wl_fixed_t width, wl_fixed_t height) noexcept {
	surface_viewport *vp = viewport_of(resource);
	if (vp == nullptr) {
		wl_resource_post_error(
		    resource, WP_VIEWPORT_ERROR_NO_SURFACE,
		    "set_source: the wl_surface of this wp_viewport was destroyed");
		return;
	}
	wlr_surface_state &pending = vp->surface()->pending;
	const wl_fixed_t unset = wl_fixed_from_int(-1);
	if (x == unset && y == unset && width == unset && height == unset) {
		pending.viewport.has_src = false;
	} else if (x < 0 || y < 0 || width <= 0 || height <= 0) {
		std::string values = fixed_text(x) + "," + fixed_text(y) + " " + fixed_text(width) +
		                     "x" + fixed_text(height);
		wl_resource_post_error(
		    resource, WP_VIEWPORT_ERROR_BAD_VALUE,
		    "set_source %s: x and y must be >= 0 and width and height > 0 "
		    "(or all -1 to unset)",
		    values.c_str());
		return;
	} else {
		pending.viewport.has_src = true;
		pending.viewport.src = {wl_fixed_to_double(x), wl_fixed_to_double(y),
		                        wl_fixed_to_double(width), wl_fixed_to_double(height)};
	}
	pending.committed |= WLR_SURFACE_STATE_VIEWPORT;
}

void viewport_set_destination(wl_client *, wl_resource *resource, int32_t width,
                              int32_t height) noexcept {
	surface_viewport *vp = viewport_of(resource);
	if (vp == nullptr) {
		wl_resource_post_error(resource, WP_VIEWPORT_ERROR_NO_SURFACE,
		                       "set_destination: the wl_surface of this wp_viewport was "
		                       "destroyed");
		return;
	}
	wlr_surface_state &pending = vp->surface()->pending;
	if (width == -1 && height == -1) {
		pending.viewport.has_dst = false;
	} else if (width <= 0 || height <= 0) {
		wl_resource_post_error(
		    resource, WP_VIEWPORT_ERROR_BAD_VALUE,
		    "set_destination %dx%d: width and height must be > 0 (or both "
		    "-1 to unset)",
		    width, height);
		return;
	} else {
		pending.viewport.has_dst = true;
		pending.viewport.dst_width = width;
		pending.viewport.dst_height = height;
	}
	pending.committed |= WLR_SURFACE_STATE_VIEWPORT;
}

const struct wp_viewport_interface viewport_impl = {
    .destroy = viewport_destroy,
    .set_source = viewport_set_source,
    .set_destination = viewport_set_destination,
};

// The wp_viewport is gone: its crop and scale go at the next commit.
void viewport_resource_destroy(wl_resource *resource) noexcept {
	surface_viewport *vp = viewport_of(resource);
	if (vp == nullptr) {
		return;
	}
	vp->set_resource(nullptr);
	wlr_surface_state &pending = vp->surface()->pending;
	pending.viewport.has_src = false;
	pending.viewport.has_dst = false;
	pending.committed |= WLR_SURFACE_STATE_VIEWPORT;
}

// --- wp_viewporter --------------------------------------------------------------

void viewporter_destroy(wl_client *, wl_resource *resource) noexcept {
	wl_resource_destroy(resource);
}

void viewporter_get_viewport(wl_client *client, wl_resource *resource, uint32_t id,
                             wl_resource *surface_resource) noexcept {
	auto *self = static_cast<viewporter *>(wl_resource_get_user_data(resource));
	wlr_surface *surface = wlr_surface_from_resource(surface_resource);
	surface_viewport *vp = surface_viewport::find(*self, surface);
	if (vp == nullptr) {
		// A surface made before the viewporter: none in wlprime.
		wl_client_post_no_memory(client);
		return;
	}
	if (vp->resource() != nullptr) {
		wl_resource_post_error(resource, WP_VIEWPORTER_ERROR_VIEWPORT_EXISTS,
		                       "wl_surface %u already has wp_viewport %u",
		                       wl_resource_get_id(surface_resource),
		                       wl_resource_get_id(vp->resource()));
		return;
	}
	wl_resource *viewport = wl_resource_create(client, &wp_viewport_interface,
	                                           wl_resource_get_version(resource), id);
	if (viewport == nullptr) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(viewport, &viewport_impl, vp, viewport_resource_destroy);
	vp->set_resource(viewport);
}

const struct wp_viewporter_interface viewporter_impl = {
    .destroy = viewporter_destroy,
    .get_viewport = viewporter_get_viewport,
};

void viewporter_bind(wl_client *client, void *data, uint32_t version, uint32_t id) noexcept {
	wl_resource *resource =
	    wl_resource_create(client, &wp_viewporter_interface, int(version), id);
	if (resource == nullptr) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(resource, &viewporter_impl, data, nullptr);
}

} // namespace

result<std::unique_ptr<viewporter>> viewporter::create(wl_display *display,
                                                       wlr_compositor *compositor) {
	std::unique_ptr<viewporter> v(new viewporter());
	v->global_ = wl_global_create(display, &wp_viewporter_interface, viewporter_version,
	                              v.get(), viewporter_bind);
	if (v->global_ == nullptr) {
		return error{"cannot create the wp_viewporter global"};
	}
	viewporter *self = v.get();
	v->new_surface_.connect(&compositor->events.new_surface, [self](wlr_surface *surface) {
		new surface_viewport(*self, surface); // owned by the surface (addon)
	});
	return v;
}

viewporter::~viewporter() {
	// The server destroys the clients (and their surfaces, and with them
	// every surface_viewport, which points here) first.
	new_surface_.disconnect();
	wl_global_destroy(global_);
}

} // namespace wlprime
