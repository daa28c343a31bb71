// decoration.hpp: xdg-decoration (zxdg_decoration_manager_v1), answered with
// what wlprime draws: nothing. Every toplevel decoration is told
// client_side, when it is made and after every set_mode or unset_mode, even
// when the client asks for server_side: the protocol lets the compositor
// pick, and a client told client_side draws its own title bar and borders
// (a client that waits for server-side decorations would otherwise show a
// bare window).
//
// wlroots 0.15.1 does the protocol (wlr_xdg_decoration_manager_v1_create)
// and announces a decoration once its toplevel has had its initial commit;
// wlr_xdg_toplevel_decoration_v1_set_mode schedules the toplevel's
// configure. The first configure carries the mode (xdg-decoration's
// configure comes before the xdg_surface.configure it belongs to); later
// requests are answered with an xdg_surface.configure alone, as wlroots
// sends the decoration's configure only when the mode changes, and it stays
// client_side.
//
// Lifetime: owned by the server, destroyed before the display (its global
// goes with the display). Each decoration's state goes with the decoration.

#pragma once

#include <list>
#include <memory>

#include "compositor/listener.hpp"
#include "import/result.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class decoration_manager {
public:
	static result<std::unique_ptr<decoration_manager>> create(wl_display *display);
	~decoration_manager();

	decoration_manager(const decoration_manager &) = delete;
	decoration_manager &operator=(const decoration_manager &) = delete;

	// Toplevel decorations alive now (for tests).
	std::size_t decorations() const { return decorations_.size(); }

private:
	struct decoration; // one toplevel's
	decoration_manager() = default;

	wlr_xdg_decoration_manager_v1 *manager_ = nullptr; // owned by the display
	std::list<std::unique_ptr<decoration>> decorations_;
	listener<wlr_xdg_toplevel_decoration_v1 *> new_decoration_;
};

} // namespace wlprime
