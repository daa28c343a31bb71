// picture_damage.hpp: tells each converted picture (render/cpu_picture.hpp)
// which rows a commit changed.
//
// One per wl_compositor. On every wl_surface commit that shows a linux-dmabuf
// buffer, it passes the commit's buffer damage (its rows) to that buffer's
// Import when the surface showed the same Import before this commit, and
// "everything" otherwise: wl_surface damage is relative to the surface's
// previous buffer, not to what this buffer held when it was last shown.

#pragma once

#include <cstdint>
#include <list>

#include "compositor/listener.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class picture_damage {
public:
	explicit picture_damage(wlr_compositor *compositor);
	picture_damage(const picture_damage &) = delete;
	picture_damage &operator=(const picture_damage &) = delete;

private:
	struct tracked {
		wlr_surface *surface;
		uint64_t last_import = 0; // serial of the Import last committed, 0: none
		listener<void> commit;
		listener<void> destroy;
	};
	void handle_commit(tracked &t);

	listener<wlr_surface *> new_surface_;
	std::list<tracked> surfaces_;
};

} // namespace wlprime
