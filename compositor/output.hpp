// output.hpp: one output (monitor, nested window or headless framebuffer).

#pragma once

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"

namespace wlprime {

class server;

class output {
public:
	// Initialises wlr_output for rendering with the server's renderer and
	// allocator, enables it (preferred mode, if it has modes) and adds it to
	// the layout, which creates its wlr_scene_output. The server owns the
	// output object and frees it when the wlr_output is destroyed.
	// Check ok() before use.
	output(server &srv, wlr_output *wlr_output);
	~output();

	output(const output &) = delete;
	output &operator=(const output &) = delete;

	bool ok() const { return ok_; }
	wlr_output *wlr() const { return wlr_output_; }
	// Owned by the wlr_output (an addon); null until added to the layout.
	wlr_scene_output *scene_output() const;

private:
	void handle_frame();

	server &server_;
	wlr_output *wlr_output_; // not owned
	bool ok_ = false;

	listener<void> frame_;
	listener<void> destroy_;
};

} // namespace wlprime
