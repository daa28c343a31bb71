// output.hpp: one output (monitor, nested window or headless framebuffer).
//
// On every frame event it commits the scene: direct scanout of a fullscreen
// client buffer when the backend takes it, else composition of the damage.
// On a KMS output a fullscreen client dma-buf that the display device cannot
// scan out is copied instead (render/scanout_copy.hpp). Frame callbacks (wl_surface
// frame-done) go out when the frame is on screen: on a KMS output at the
// wlr_output present event of the page flip that showed the committed frame;
// on headless and nested outputs, which present at commit, right after the
// commit; and right away when nothing was committed (no damage). After a
// direct scanout a KMS output commits again only when something changed.

#pragma once

#include <memory>

#include "compositor/listener.hpp"
#include "compositor/overlay_frame.hpp"
#include "render/scanout_copy.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class server;

class output {
public:
	// Initialises wlr_output for rendering with the server's renderer and
	// allocator, enables it (preferred mode, if it has modes) and adds it to
	// the layout, which creates its wlr_scene_output. The server owns the
	// output object and frees it when the wlr_output is destroyed.
	// Check ok() before use.
	// on_copy: told of every frame the copy path copies (may be empty).
	// on_plane: told of every change of a surface's overlay plane verdict.
	output(server &srv, wlr_output *wlr_output, copy_observer on_copy,
	       overlay_frame::change_observer on_plane);
	~output();

	output(const output &) = delete;
	output &operator=(const output &) = delete;

	bool ok() const { return ok_; }
	wlr_output *wlr() const { return wlr_output_; }
	// Owned by the wlr_output (an addon); null until added to the layout.
	wlr_scene_output *scene_output() const;
	// The copy fallback of a KMS output; null on other outputs.
	const scanout_copy *copy() const { return copy_.get(); }
	// The overlay planes' frames of a KMS output; null on other outputs.
	const overlay_frame *overlays() const { return overlays_.get(); }

private:
	void handle_frame();
	void handle_present(const wlr_output_event_present &event);
	void send_frame_done(const timespec *when);
	void send_frame_done_unless_pending();
	void commit_planes_or_frame_done();
	// A frame made at mark was committed: client_activity is told.
	void frame_committed(uint64_t mark);
	// The frame committed last is on screen (headless, nested: at once).
	void frame_shown();

	server &server_;
	wlr_output *wlr_output_; // not owned
	bool ok_ = false;
	bool is_kms_ = false;
	// KMS: a frame was committed and its frame callbacks wait for the
	// flip that shows it (its wlr_output commit_seq).
	bool frame_done_pending_ = false;
	bool last_commit_direct_ = false; // KMS: the last commit was a direct scanout
	uint32_t frame_done_seq_ = 0;
	// client_activity's content mark of the frame committed last
	// (compositor/client_activity.hpp): told when it is on screen.
	uint64_t frame_mark_ = 0;
	std::unique_ptr<scanout_copy> copy_;      // KMS outputs only
	std::unique_ptr<overlay_frame> overlays_; // KMS outputs only

	listener<void> frame_;
	listener<wlr_output_event_present *> present_;
	listener<void> destroy_;
};

} // namespace wlprime
