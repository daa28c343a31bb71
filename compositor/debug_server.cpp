#include "compositor/debug_server.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "compositor/debug_dump.hpp"
#include "compositor/server.hpp"

namespace wlprime {

std::string debug_server::path_for(const std::string &runtime_dir, const std::string &socket_name) {
	return runtime_dir + "/" + socket_name + ".wlprime-debug";
}

result<std::unique_ptr<debug_server>> debug_server::create(server &srv,
                                                           const std::string &socket_name) {
	const char *runtime_dir = std::getenv("XDG_RUNTIME_DIR");
	if (!runtime_dir)
		return error{"XDG_RUNTIME_DIR is not set"};
	auto self = std::unique_ptr<debug_server>(new debug_server(srv));
	self->path_ = path_for(runtime_dir, socket_name);

	sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	if (self->path_.size() >= sizeof(addr.sun_path))
		return error{"debug socket path too long: " + self->path_};
	std::memcpy(addr.sun_path, self->path_.c_str(), self->path_.size() + 1);

	self->listen_fd_ =
	    unique_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!self->listen_fd_)
		return error{std::string("debug socket: ") + std::strerror(errno), errno};
	unlink(self->path_.c_str());   // a stale one of a wlprime that died
	mode_t old_mask = umask(0077); // 0600 from the start, no window
	int bound = bind(self->listen_fd_.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
	umask(old_mask);
	if (bound != 0 || listen(self->listen_fd_.get(), 4) != 0)
		return error{"debug socket " + self->path_ + ": " + std::strerror(errno), errno};

	self->source_ = wl_event_loop_add_fd(srv.event_loop(), self->listen_fd_.get(),
	                                     WL_EVENT_READABLE, handle_accept, self.get());
	if (!self->source_)
		return error{"cannot watch the debug socket"};
	wlr_log(WLR_INFO, "debug socket: %s (wlprime-debug)", self->path_.c_str());
	return self;
}

debug_server::~debug_server() {
	if (source_)
		wl_event_source_remove(source_);
	if (!path_.empty() && listen_fd_)
		unlink(path_.c_str());
}

int debug_server::handle_accept(int, uint32_t, void *data) noexcept {
	auto *self = static_cast<debug_server *>(data);
	unique_fd conn(accept4(self->listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
	if (!conn)
		return 0;
	// Same user only: the socket is 0600 in a 0700 directory; check anyway.
	ucred cred = {};
	socklen_t len = sizeof(cred);
	if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != getuid()) {
		wlr_log(WLR_ERROR, "debug socket: refused a connection from uid %u",
		        static_cast<unsigned>(cred.uid));
		return 0;
	}
	// One short request line, within a second.
	char line[32] = {};
	size_t got = 0;
	while (got < sizeof(line) - 1 && !std::memchr(line, '\n', got)) {
		pollfd p = {conn.get(), POLLIN, 0};
		if (poll(&p, 1, 1000) <= 0)
			return 0;
		ssize_t n = read(conn.get(), line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			return 0;
		got += static_cast<size_t>(n);
	}
	std::string request(line, strcspn(line, "\r\n"));
	std::string reply;
	if (request == "json")
		reply = debug_dump(self->srv_, dump_format::json);
	else if (request == "text" || request.empty())
		reply = debug_dump(self->srv_, dump_format::text);
	else
		reply = "error: unknown request '" + request + "' (text or json)\n";
	size_t sent = 0;
	while (sent < reply.size()) {
		ssize_t n =
		    send(conn.get(), reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += static_cast<size_t>(n);
	}
	return 0;
}

} // namespace wlprime
