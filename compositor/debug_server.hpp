// debug_server.hpp: the socket wlprime-debug talks to.
//
// A UNIX stream socket at $XDG_RUNTIME_DIR/<wayland socket>.wlprime-debug,
// mode 0600 (XDG_RUNTIME_DIR is the user's own 0700 directory, so only the
// same user reaches it). A connection sends one line, "text" or "json", and
// gets one snapshot of the import subsystem (debug_dump.hpp) before the
// server closes it. Served on the event loop; a client that does not send its
// line in time is dropped.

#pragma once

#include <memory>
#include <string>

#include "compositor/wlr.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"

namespace wlprime {

class server;

class debug_server {
public:
	// Listens beside the Wayland socket `socket_name`.
	static result<std::unique_ptr<debug_server>> create(server &srv,
	                                                    const std::string &socket_name);
	~debug_server();
	debug_server(const debug_server &) = delete;
	debug_server &operator=(const debug_server &) = delete;

	const std::string &path() const { return path_; }

	// The path wlprime-debug connects to for a Wayland socket name.
	static std::string path_for(const std::string &runtime_dir, const std::string &socket_name);

private:
	debug_server(server &srv) : srv_(srv) {}
	static int handle_accept(int fd, uint32_t mask, void *data) noexcept;

	server &srv_;
	unique_fd listen_fd_;
	std::string path_;
	wl_event_source *source_ = nullptr;
};

} // namespace wlprime
