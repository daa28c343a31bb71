#include "compositor/decoration.hpp"

namespace wlprime {

struct decoration_manager::decoration {
	wlr_xdg_toplevel_decoration_v1 *wlr; // not owned
	listener<wlr_xdg_toplevel_decoration_v1 *> request_mode;
	listener<wlr_xdg_toplevel_decoration_v1 *> destroy;

	explicit decoration(wlr_xdg_toplevel_decoration_v1 *d) : wlr(d) {}

	void answer() const {
		// wlprime draws no decorations (decoration.hpp).
		wlr_xdg_toplevel_decoration_v1_set_mode(
		    wlr, WLR_XDG_TOPLEVEL_DECORATION_V1_MODE_CLIENT_SIDE);
	}
};

result<std::unique_ptr<decoration_manager>> decoration_manager::create(wl_display *display) {
	std::unique_ptr<decoration_manager> m(new decoration_manager());
	m->manager_ = wlr_xdg_decoration_manager_v1_create(display);
	if (m->manager_ == nullptr) {
		return error{"cannot create the zxdg_decoration_manager_v1 global"};
	}
	decoration_manager *self = m.get();
	m->new_decoration_.connect(
	    &m->manager_->events.new_toplevel_decoration,
	    [self](wlr_xdg_toplevel_decoration_v1 *d) {
		    self->decorations_.push_back(std::make_unique<decoration>(d));
		    decoration *made = self->decorations_.back().get();
		    made->request_mode.connect(
		        &d->events.request_mode,
		        [made](wlr_xdg_toplevel_decoration_v1 *) { made->answer(); });
		    made->destroy.connect(&d->events.destroy,
		                          [self, made](wlr_xdg_toplevel_decoration_v1 *) {
			                          // Frees made: nothing after it.
			                          self->decorations_.remove_if(
			                              [made](const std::unique_ptr<decoration> &p) {
				                              return p.get() == made;
			                              });
		                          });
		    made->answer();
	    });
	return m;
}

decoration_manager::~decoration_manager() {
	new_decoration_.disconnect();
	decorations_.clear();
}

} // namespace wlprime
