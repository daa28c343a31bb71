#include "compositor/picture_damage.hpp"

#include "render/buffer_import.hpp"
#include "render/cpu_picture.hpp"

namespace wlprime {

picture_damage::picture_damage(wlr_compositor *compositor) {
	new_surface_.connect(&compositor->events.new_surface, [this](wlr_surface *surface) {
		tracked &t = surfaces_.emplace_back();
		t.surface = surface;
		t.commit.connect(&surface->events.commit, [this, &t] { handle_commit(t); });
		auto it = std::prev(surfaces_.end());
		t.destroy.connect(&surface->events.destroy, [this, it] { surfaces_.erase(it); });
	});
}

void picture_damage::handle_commit(tracked &t) {
	wlr_surface *surface = t.surface;
	dmabuf_import *import = surface->buffer ? import_of(&surface->buffer->base) : nullptr;
	if (import == nullptr) {
		t.last_import = 0;
		return;
	}
	if (import->serial() != t.last_import) {
		cpu_picture_damage_all(*import);
	} else {
		// Whole rows: a conversion works in rows (the extents are enough:
		// damage is one rectangle in almost every commit).
		const pixman_box32_t *box = pixman_region32_extents(&surface->buffer_damage);
		if (box->y2 > box->y1)
			cpu_picture_damage(*import, box->y1, box->y2);
	}
	t.last_import = import->serial();
}

} // namespace wlprime
