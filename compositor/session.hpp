// session.hpp: the seat session of the KMS backend, from a TTY.
//
// On a TTY a compositor does not open the display and input devices itself:
// a seat manager (systemd-logind, seatd, or libseat's builtin seatd when
// running as root) hands them out, gives DRM master with the display device
// and takes it back when the user switches to another VT. wlroots 0.15's
// wlr_session speaks libseat; this file
//
// - opens the session (session::create), and says why not when it cannot
//   (describe_session_failure: the libseat error, which seat managers were
//   looked for, what to do);
// - opens the KMS backend's display devices through it (DRM master belongs to
//   the session's file description, so import/device adopts a dup() of that
//   fd, sharing the file description), or, without a session, directly
//   (open_display_devices: root, or a user who may open the nodes);
// - adds wlroots' libinput backend on the same session, in a multi backend
//   with the KMS backend (session::add_input): keyboards and pointers reach
//   the seat (compositor/seat.cpp) through the backend's new_input;
// - follows the session's `active` event (VT switches): inactive, the KMS
//   backend stops committing; active again, it mode-sets and repaints
//   (kms_backend_set_active). libinput suspends and resumes by itself.
//   Ctrl+Alt+F1..F12 switch VTs through the session, Ctrl+Alt+BackSpace
//   ends wlprime.
//
// Lifetime: the session must outlive the backends made on it (the libinput
// backend closes its devices through it) and is destroyed before the
// wl_display (server::~server). The display devices may outlive it: their
// fds are their own dups.

#pragma once

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "compositor/config.hpp"
#include "compositor/listener.hpp"
#include "render/wlr.hpp"
#include "import/device.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"

namespace wlprime {

class session {
public:
	// Opens the seat session with whatever libseat finds ($LIBSEAT_BACKEND,
	// else seatd, logind, builtin). The error says why there is none
	// (describe_session_failure), or that it is not active (then nothing
	// could be opened through it).
	static result<std::unique_ptr<session>> create(wl_display *display);
	// Closes the devices opened through it and the session (the VT is given
	// back). The backends made on it must be destroyed first.
	~session();

	session(const session &) = delete;
	session &operator=(const session &) = delete;

	wlr_session *wlr() const { return session_; }
	bool active() const { return session_ != nullptr && session_->active; }
	// "seat0".
	std::string seat_name() const;

	// Opens the DRM node path through the session: the seat manager opens
	// it and, for a primary node, makes its file description DRM master.
	// Returns a dup() of the session's fd (same file description), owned
	// by the caller; the session keeps its own until it is destroyed.
	result<unique_fd> open_drm(const std::string &path);

	// Wraps kms (a KMS backend, owned from now on) in a multi backend with
	// wlroots' libinput backend on this session, and follows VT switches
	// for kms. Returns the multi backend (owned by the caller); on error kms
	// is destroyed.
	result<wlr_backend *> add_input(wl_display *display, wlr_backend *kms);

	// After wlr_backend_start(): logs if libinput has announced no input
	// device 3 s later.
	void backend_started();

	// Input devices the libinput backend announced so far.
	size_t input_devices() const { return input_devices_; }

private:
	// The keys a TTY needs from the compositor, on every keyboard of the
	// session: Ctrl+Alt+F1..F12 switch VTs (the kernel does not while the
	// seat manager holds the VT in graphics mode), Ctrl+Alt+BackSpace ends
	// wlprime (Ctrl+C on its VT does not reach it either).
	struct tty_keys {
		session &owner;
		wlr_input_device *device; // not owned
		listener<wlr_event_keyboard_key *> key;
		listener<void> destroy;
		tty_keys(session &s, wlr_input_device *d) : owner(s), device(d) {}
	};

	explicit session(wlr_session *s);
	void handle_active();
	void handle_key(wlr_input_device *device, const wlr_event_keyboard_key *event);

	wlr_session *session_ = nullptr;    // owned; null once destroyed
	std::vector<wlr_device *> devices_; // opened here, closed in ~session
	wlr_backend *kms_ = nullptr;        // not owned; null once destroyed
	size_t input_devices_ = 0;
	bool set_no_devices_env_ = false;        // WLR_LIBINPUT_NO_DEVICES is ours to unset
	wl_event_source *input_check_ = nullptr; // owned: "no input device" log
	listener<void> active_;
	listener<void> session_destroy_;
	listener<void> kms_destroy_;
	listener<wlr_input_device *> new_input_;
	listener<void> input_destroy_;
	std::list<std::unique_ptr<tty_keys>> keyboards_;
};

// Why wlr_session_create() failed, from err (its errno) and what is on this
// machine: $LIBSEAT_BACKEND, seatd's socket ($SEATD_SOCK or /run/seatd.sock:
// missing, or refusing this user), logind (/run/systemd/seats), root for the
// builtin seatd. One line, for logs and errors.
std::string describe_session_failure(int err);

// What to do to run wlprime from a TTY without root. One line.
std::string session_advice();

// The display devices of the KMS backend (cfg.drm_devices, else every
// primary node with a connected connector), opened through a new seat
// session, stored in *session_out, unless cfg.seat_session is false or no
// session can be had; then opened directly (root, or a user who may open the
// nodes), with the reason logged and that there is no input. Fails, saying
// what to do, when neither works.
result<std::vector<std::unique_ptr<device>>>
open_display_devices(const config &cfg, kernel_api &kernel, wl_display *display,
                     std::unique_ptr<session> *session_out);

} // namespace wlprime
