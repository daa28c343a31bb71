// viewport.hpp: wp_viewporter, the crop and scale of a surface's buffer.
//
// wlprime implements the protocol itself (wlroots 0.15.1's wlr_viewporter
// never posts viewport_exists, and its out_of_buffer check reads a state it
// has already moved away, so it never fires: render/wlr.hpp, item 9), over
// the public wlr_surface_state fields that wlroots' surface code reads:
// set_source and set_destination set surface->pending.viewport and mark it
// committed; at commit wlroots makes current.width/height the destination
// size and wlr_surface_get_buffer_source_box the crop in buffer pixels, and
// its scene draws the surface at that size from that box. Input, output
// enter/leave, frame callbacks and presentation feedback all follow the
// surface's size, so they are in destination coordinates too.
//
// Protocol errors, as viewporter.xml names them (the message names the
// values):
//   wp_viewporter.viewport_exists  get_viewport for a surface that has one
//   wp_viewport.bad_value          set_source with x or y < 0 or width or
//                                  height <= 0 (other than all -1);
//                                  set_destination with width or height <= 0
//                                  (other than both -1)
//   wp_viewport.bad_size           at commit: a source rectangle whose size
//                                  is not integer, without a destination
//   wp_viewport.out_of_buffer      at commit: a source rectangle that is not
//                                  inside the buffer (in surface coordinates:
//                                  after buffer_transform and buffer_scale)
//   wp_viewport.no_surface         set_source or set_destination after the
//                                  wl_surface was destroyed
// The commit errors are posted from the surface's commit signal, as wlroots
// 0.15 has no earlier hook: the state has been applied, and the client is
// disconnected right after.
//
// Destroying the wp_viewport removes the crop and the scale at the next
// commit.
//
// The crop's position is wlprime's work (viewport_crop.hpp): 0.15.1's pixman
// renderer ignores it.
//
// Scanout: the display shows a buffer 1:1, so a surface whose viewport
// changes the picture (a crop that is not the whole buffer, or a
// destination size other than the source's) is never scanned out directly
// nor copied 1:1: wlroots' scene refuses a surface with a source rectangle,
// wlroots' output test a buffer whose size is not the output's, and
// render/scanout_copy both. It is composed, and wlprime logs that once for
// each viewport state of the surface ("viewport shows ... composed, never
// scanned out directly").
//
// Lifetime: owned by the server; made after wl_compositor (it listens to
// new_surface, so each surface's commit listener runs before the scene's),
// destroyed before the display. Each surface's state goes with its surface
// (a wlr_addon on it).

#pragma once

#include <memory>

#include "compositor/listener.hpp"
#include "import/result.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class viewporter {
public:
	// The wp_viewporter global on display, for the surfaces of compositor
	// (borrowed, outlives this).
	static result<std::unique_ptr<viewporter>> create(wl_display *display,
	                                                  wlr_compositor *compositor);
	~viewporter();

	viewporter(const viewporter &) = delete;
	viewporter &operator=(const viewporter &) = delete;

	// Surfaces shown through a crop view now (viewport_crop.hpp), for tests.
	int cropped_surfaces() const { return cropped_; }

	// --- for the per-surface state (viewport.cpp) ---
	void crop_started() { cropped_++; }
	void crop_ended() { cropped_--; }

private:
	viewporter() = default;

	wl_global *global_ = nullptr; // owned
	int cropped_ = 0;
	listener<wlr_surface *> new_surface_;
};

} // namespace wlprime
