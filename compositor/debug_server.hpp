// debug_server.hpp: the socket wlprime-debug talks to.
//
// A UNIX stream socket at $XDG_RUNTIME_DIR/<wayland socket>.wlprime-debug,
// mode 0600 (XDG_RUNTIME_DIR is the user's own 0700 directory, so only the
// same user reaches it). A connection sends one line, "text" or "json" (an
// empty line, or none before the peer shuts its side, means "text"), and
// gets one snapshot of the import subsystem (debug_dump.hpp) before the
// server closes it.
//
// It never blocks the event loop: every connection is a non-blocking state
// machine on it (peer). Accepted with SOCK_NONBLOCK, the request line is read
// as it comes; the reply is queued and written as the socket becomes
// writable. A peer is dropped, and the log says so with its pid
// (SO_PEERCRED), when it
//   - sends no complete request line within request_timeout_ms,
//   - sends a line longer than max_request_line (it gets an error line),
//   - leaves more than max_queued_bytes of its reply unsent (the kernel's
//     socket buffer is full and the peer does not read),
//   - makes no progress reading its reply for reply_timeout_ms,
//   - would be peer number max_peers + 1 (refused at once).
// So a stuck or hostile peer costs at most max_queued_bytes and two event
// sources, for a bounded time; the others, and the Wayland clients, are
// served meanwhile.
//
// Ownership: the debug_server owns its listening fd, its event sources and
// every peer; a peer owns its connection fd, its fd source and its timer
// (libwayland's fd source holds a dup of the fd, closed when the source is
// removed). Destroying the debug_server drops every peer. It must go before
// the server's event loop.

#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <sys/types.h>

#include "compositor/debug_dump.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"
#include "render/wlr.hpp"

namespace wlprime {

// Makes the snapshot a peer asked for (debug_dump.hpp).
using dump_maker = std::function<std::string(dump_format)>;

struct debug_server_limits {
	int request_timeout_ms = 5000;     // from accept to a complete request line
	int reply_timeout_ms = 10000;      // without any byte of the reply taken
	size_t max_request_line = 256;     // bytes, the newline excluded
	size_t max_queued_bytes = 8 << 20; // of a reply, past what the kernel took
	size_t max_peers = 32;             // connections at once
	// SO_SNDBUF of accepted connections; 0: the system's default. (Tests set
	// it small so that a modest reply fills the kernel's buffer.)
	int send_buffer = 0;
};

class debug_server {
public:
	// Listens beside the Wayland socket `socket_name`, on loop (borrowed,
	// outlives it); each answer is what dump makes.
	static result<std::unique_ptr<debug_server>> create(wl_event_loop *loop, dump_maker dump,
	                                                    const std::string &socket_name,
	                                                    debug_server_limits limits = {});
	~debug_server();
	debug_server(const debug_server &) = delete;
	debug_server &operator=(const debug_server &) = delete;

	const std::string &path() const { return path_; }

	// The path wlprime-debug connects to for a Wayland socket name.
	static std::string path_for(const std::string &runtime_dir, const std::string &socket_name);

	// What happened to the connections so far.
	struct counters {
		uint64_t accepted = 0;         // peers taken on
		uint64_t answered = 0;         // whole reply written
		uint64_t refused = 0;          // other uid, or too many peers
		uint64_t request_timeouts = 0; // no request line in time
		uint64_t too_long = 0;         // request line too long (error sent)
		uint64_t queue_overflows = 0;  // dropped past max_queued_bytes
		uint64_t reply_timeouts = 0;   // stopped reading the reply
		uint64_t peer_errors = 0;      // hung up or failed before the end
	};
	const counters &stats() const { return stats_; }
	// Connections open now.
	size_t peers() const { return peers_.size(); }

private:
	struct peer;

	debug_server(wl_event_loop *loop, dump_maker dump, debug_server_limits limits);
	static int handle_accept(int fd, uint32_t mask, void *data) noexcept;
	static int handle_accept_retry(void *data) noexcept;
	static int handle_peer_io(int fd, uint32_t mask, void *data) noexcept;
	static int handle_peer_timer(void *data) noexcept;
	void accept_peers();
	void read_request(peer &p);
	void answer(peer &p, const std::string &request);
	void write_reply(peer &p);
	// Frees p (its sources and fd); p is gone afterwards.
	void drop(peer &p);

	wl_event_loop *loop_;
	dump_maker dump_;
	debug_server_limits limits_;
	unique_fd listen_fd_;
	std::string path_;
	wl_event_source *source_ = nullptr;
	// Re-enables accepting after the process ran out of fds.
	wl_event_source *accept_retry_ = nullptr;
	std::list<std::unique_ptr<peer>> peers_;
	counters stats_;
};

} // namespace wlprime
