#include "compositor/debug_server.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


namespace wlprime {

// One connection. Reading: the request line so far in `in`, the fd source
// watching for readable, the timer at request_timeout_ms. Writing: the reply
// in `out` (sent up to `sent`), the fd source watching for writable, the timer
// re-armed at reply_timeout_ms whenever the peer takes bytes.
struct debug_server::peer {
	debug_server *owner = nullptr;
	unique_fd fd;
	pid_t pid = 0; // 0: unknown (no SO_PEERCRED)
	bool writing = false;
	std::string in;
	std::string out;
	size_t sent = 0;
	wl_event_source *io = nullptr;
	wl_event_source *timer = nullptr;

	~peer() {
		if (timer != nullptr)
			wl_event_source_remove(timer);
		if (io != nullptr)
			wl_event_source_remove(io); // closes libwayland's dup of fd
	}
	std::string name() const {
		return pid > 0 ? "peer pid " + std::to_string(pid) : "peer (pid unknown)";
	}
};

debug_server::debug_server(wl_event_loop *loop, dump_maker dump, debug_server_limits limits)
    : loop_(loop), dump_(std::move(dump)), limits_(limits) {}

std::string debug_server::path_for(const std::string &runtime_dir, const std::string &socket_name) {
	return runtime_dir + "/" + socket_name + ".wlprime-debug";
}

result<std::unique_ptr<debug_server>>
debug_server::create(wl_event_loop *loop, dump_maker dump, const std::string &socket_name,
                     debug_server_limits limits) {
	const char *runtime_dir = std::getenv("XDG_RUNTIME_DIR");
	if (!runtime_dir)
		return error{"XDG_RUNTIME_DIR is not set"};
	auto self = std::unique_ptr<debug_server>(new debug_server(loop, std::move(dump), limits));
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
	if (bound != 0 || listen(self->listen_fd_.get(), SOMAXCONN) != 0)
		return error{"debug socket " + self->path_ + ": " + std::strerror(errno), errno};

	self->source_ = wl_event_loop_add_fd(loop, self->listen_fd_.get(),
	                                     WL_EVENT_READABLE, handle_accept, self.get());
	self->accept_retry_ =
	    wl_event_loop_add_timer(loop, handle_accept_retry, self.get());
	if (!self->source_ || !self->accept_retry_)
		return error{"cannot watch the debug socket"};
	wlr_log(WLR_INFO, "debug socket: %s (wlprime-debug)", self->path_.c_str());
	return self;
}

debug_server::~debug_server() {
	peers_.clear(); // their sources and fds
	if (accept_retry_)
		wl_event_source_remove(accept_retry_);
	if (source_)
		wl_event_source_remove(source_);
	if (!path_.empty() && listen_fd_)
		unlink(path_.c_str());
}

int debug_server::handle_accept(int, uint32_t, void *data) noexcept {
	static_cast<debug_server *>(data)->accept_peers();
	return 0;
}

int debug_server::handle_accept_retry(void *data) noexcept {
	auto *self = static_cast<debug_server *>(data);
	wl_event_source_fd_update(self->source_, WL_EVENT_READABLE);
	self->accept_peers();
	return 0;
}

void debug_server::accept_peers() {
	// Everyone waiting, but not forever in one callback.
	for (int round = 0; round < 16; round++) {
		unique_fd conn(
		    accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
		if (!conn) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			// Out of fds or memory: the listening socket stays readable,
			// so stop watching it for a while instead of spinning.
			wlr_log(WLR_ERROR,
			        "debug socket: accept: %s (errno %d); retrying in 100 ms",
			        std::strerror(errno), errno);
			wl_event_source_fd_update(source_, 0);
			wl_event_source_timer_update(accept_retry_, 100);
			return;
		}
		// Same user only: the socket is 0600 in a 0700 directory; check anyway.
		ucred cred = {};
		socklen_t len = sizeof(cred);
		if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
			stats_.refused++;
			wlr_log(WLR_ERROR, "debug socket: SO_PEERCRED: %s (errno %d): refused",
			        std::strerror(errno), errno);
			continue;
		}
		if (cred.uid != getuid()) {
			stats_.refused++;
			wlr_log(WLR_ERROR, "debug socket: refused peer pid %d of uid %u",
			        static_cast<int>(cred.pid), static_cast<unsigned>(cred.uid));
			continue;
		}
		if (peers_.size() >= limits_.max_peers) {
			stats_.refused++;
			wlr_log(
			    WLR_ERROR,
			    "debug socket: refused peer pid %d: %zu peers already connected (the "
			    "most at once)",
			    static_cast<int>(cred.pid), peers_.size());
			continue;
		}
		if (limits_.send_buffer > 0)
			setsockopt(conn.get(), SOL_SOCKET, SO_SNDBUF, &limits_.send_buffer,
			           sizeof(limits_.send_buffer));

		auto p = std::make_unique<peer>();
		p->owner = this;
		p->pid = cred.pid;
		p->fd = std::move(conn);
		wl_event_loop *loop = loop_;
		p->io = wl_event_loop_add_fd(loop, p->fd.get(), WL_EVENT_READABLE, handle_peer_io,
		                             p.get());
		p->timer = wl_event_loop_add_timer(loop, handle_peer_timer, p.get());
		if (p->io == nullptr || p->timer == nullptr) {
			wlr_log(WLR_ERROR, "debug socket: %s: cannot watch the connection: dropped",
			        p->name().c_str());
			stats_.refused++;
			continue; // p's destructor removes what was added
		}
		wl_event_source_timer_update(p->timer, limits_.request_timeout_ms);
		stats_.accepted++;
		wlr_log(WLR_DEBUG, "debug socket: %s connected (%zu peers)", p->name().c_str(),
		        peers_.size() + 1);
		peers_.push_back(std::move(p));
	}
}

int debug_server::handle_peer_io(int, uint32_t mask, void *data) noexcept {
	auto *p = static_cast<peer *>(data);
	debug_server &self = *p->owner;
	if (!p->writing) {
		// Readable or hung up: read tells which (data, then 0 at the end).
		self.read_request(*p);
	} else if (mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) {
		self.stats_.peer_errors++;
		wlr_log(WLR_INFO, "debug socket: %s hung up with %zu of %zu reply bytes unsent",
		        p->name().c_str(), p->out.size() - p->sent, p->out.size());
		self.drop(*p);
	} else {
		self.write_reply(*p);
	}
	return 0;
}

int debug_server::handle_peer_timer(void *data) noexcept {
	auto *p = static_cast<peer *>(data);
	debug_server &self = *p->owner;
	if (!p->writing) {
		self.stats_.request_timeouts++;
		wlr_log(WLR_INFO,
		        "debug socket: %s sent no request line in %d ms (%zu bytes of one): "
		        "dropped",
		        p->name().c_str(), self.limits_.request_timeout_ms, p->in.size());
	} else {
		self.stats_.reply_timeouts++;
		wlr_log(
		    WLR_INFO,
		    "debug socket: %s stopped reading: %zu of %zu reply bytes unsent for %d ms: "
		    "dropped",
		    p->name().c_str(), p->out.size() - p->sent, p->out.size(),
		    self.limits_.reply_timeout_ms);
	}
	self.drop(*p);
	return 0;
}

void debug_server::read_request(peer &p) {
	for (;;) {
		char buf[256];
		ssize_t n = read(p.fd.get(), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; // the rest later
		if (n < 0) {
			stats_.peer_errors++;
			wlr_log(WLR_INFO, "debug socket: %s: read: %s (errno %d): dropped",
			        p.name().c_str(), std::strerror(errno), errno);
			drop(p);
			return;
		}
		if (n == 0) {
			// The peer shut its side: what it sent is the request.
			if (p.in.empty()) {
				stats_.peer_errors++;
				wlr_log(WLR_DEBUG, "debug socket: %s left without a request",
				        p.name().c_str());
				drop(p);
				return;
			}
			answer(p, p.in);
			return;
		}
		const size_t before = p.in.size();
		p.in.append(buf, static_cast<size_t>(n));
		if (size_t nl = p.in.find('\n', before); nl != std::string::npos) {
			p.in.resize(nl); // anything after the line is ignored
			answer(p, p.in);
			return;
		}
		if (p.in.size() > limits_.max_request_line) {
			stats_.too_long++;
			wlr_log(
			    WLR_INFO,
			    "debug socket: %s sent more than %zu bytes without a newline: refused",
			    p.name().c_str(), limits_.max_request_line);
			p.writing = true;
			p.out = "error: request line longer than " +
			        std::to_string(limits_.max_request_line) +
			        " bytes (send \"text\" or \"json\" and a newline)\n";
			wl_event_source_fd_update(p.io, WL_EVENT_WRITABLE);
			wl_event_source_timer_update(p.timer, limits_.reply_timeout_ms);
			write_reply(p);
			return;
		}
	}
}

void debug_server::answer(peer &p, const std::string &line) {
	std::string request(line, 0, line.find_first_of("\r\n"));
	if (request == "json")
		p.out = dump_(dump_format::json);
	else if (request == "text" || request.empty())
		p.out = dump_(dump_format::text);
	else
		p.out = "error: unknown request '" + request + "' (text or json)\n";
	p.writing = true;
	p.in.clear();
	p.in.shrink_to_fit();
	wl_event_source_fd_update(p.io, WL_EVENT_WRITABLE);
	wl_event_source_timer_update(p.timer, limits_.reply_timeout_ms);
	write_reply(p);
}

void debug_server::write_reply(peer &p) {
	const size_t sent_before = p.sent;
	while (p.sent < p.out.size()) {
		ssize_t n = send(p.fd.get(), p.out.data() + p.sent, p.out.size() - p.sent,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			stats_.peer_errors++;
			wlr_log(WLR_INFO,
			        "debug socket: %s: send: %s (errno %d) with %zu of %zu reply bytes "
			        "unsent: dropped",
			        p.name().c_str(), std::strerror(errno), errno,
			        p.out.size() - p.sent, p.out.size());
			drop(p);
			return;
		}
		p.sent += static_cast<size_t>(n);
	}
	if (p.sent == p.out.size()) {
		stats_.answered++;
		wlr_log(WLR_DEBUG, "debug socket: %s answered (%zu bytes)", p.name().c_str(),
		        p.out.size());
		drop(p);
		return;
	}
	const size_t queued = p.out.size() - p.sent;
	if (queued > limits_.max_queued_bytes) {
		stats_.queue_overflows++;
		wlr_log(WLR_ERROR,
		        "debug socket: %s does not read: %zu of %zu reply bytes queued, more than "
		        "the %zu allowed: dropped",
		        p.name().c_str(), queued, p.out.size(), limits_.max_queued_bytes);
		drop(p);
		return;
	}
	if (p.sent != sent_before)
		wl_event_source_timer_update(p.timer, limits_.reply_timeout_ms);
}

void debug_server::drop(peer &p) {
	peers_.remove_if([&p](const std::unique_ptr<peer> &q) { return q.get() == &p; });
}

} // namespace wlprime
