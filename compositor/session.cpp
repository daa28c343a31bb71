#include "compositor/session.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "import/enum_name.hpp"
#include "render/kms_backend.hpp"

namespace wlprime {
namespace {

std::string env_or(const char *name, const char *fallback) {
	const char *value = std::getenv(name);
	return value != nullptr && value[0] != '\0' ? value : fallback;
}

const char *input_type_name(wlr_input_device_type type) {
	// In the order of wlroots' enum.
	static constexpr const char *names[] = {"keyboard",   "pointer",    "touch",
	                                        "tablet tool", "tablet pad", "switch"};
	return enum_name(type, names, "input device");
}

// What connecting to seatd's socket says: 0, or the errno.
int probe_unix_socket(const std::string &path) {
	unique_fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd) {
		return errno;
	}
	sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	if (path.size() >= sizeof(addr.sun_path)) {
		return ENAMETOOLONG;
	}
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
		return errno;
	}
	return 0;
}

// wlroots 0.15's libinput backend fails to start when it finds no input
// device, unless this is "1". With it set, though, the devices libinput finds
// at start are only announced at its next event (a key press): so it is set
// only when udev knows no input device of the seat, so that wlprime still
// comes up on a machine with no keyboard yet (hotplug adds them later).
constexpr const char *no_devices_env = "WLR_LIBINPUT_NO_DEVICES";

// The input devices udev knows for seat, as libinput counts them: evdev
// nodes, initialized by udev, tagged ID_INPUT, on that seat (ID_SEAT,
// default seat0).
size_t udev_input_devices(udev *u, const std::string &seat) {
	udev_enumerate *e = u != nullptr ? udev_enumerate_new(u) : nullptr;
	if (e == nullptr) {
		return 0;
	}
	udev_enumerate_add_match_subsystem(e, "input");
	udev_enumerate_add_match_sysname(e, "event*");
	udev_enumerate_scan_devices(e);
	size_t n = 0;
	udev_list_entry *entry = nullptr;
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
		udev_device *d = udev_device_new_from_syspath(u, udev_list_entry_get_name(entry));
		if (d == nullptr) {
			continue;
		}
		const char *dev_seat = udev_device_get_property_value(d, "ID_SEAT");
		if (udev_device_get_is_initialized(d) &&
		    udev_device_get_property_value(d, "ID_INPUT") != nullptr &&
		    seat == (dev_seat != nullptr ? dev_seat : "seat0")) {
			n++;
		}
		udev_device_unref(d);
	}
	udev_enumerate_unref(e);
	return n;
}

// "; seatd: ...; logind: ...; builtin seatd: ...": what libseat could use
// here, and why each would fail.
std::string seat_managers() {
	std::string out;
	if (const char *forced = std::getenv("LIBSEAT_BACKEND"); forced && forced[0] != '\0') {
		out += "; LIBSEAT_BACKEND=" + std::string(forced) + " allows that backend only";
	}
	const std::string sock = env_or("SEATD_SOCK", "/run/seatd.sock");
	struct stat st = {};
	if (stat(sock.c_str(), &st) != 0) {
		out += "; seatd: not running (no " + sock + ")";
	} else if (int e = probe_unix_socket(sock); e != 0) {
		out += "; seatd: " + sock + " refuses this user (" + std::strerror(e) +
		       "): the user must be in seatd's group (seatd -g GROUP; Debian's "
		       "seatd.service uses video)";
	} else {
		out += "; seatd: " + sock +
		       " is reachable but gave no seat (another session holds it? see the "
		       "[libseat] lines above)";
	}
	if (access("/run/systemd/seats", F_OK) != 0) {
		out += "; logind: not running (no /run/systemd/seats)";
	} else if (const char *id = std::getenv("XDG_SESSION_ID"); id && id[0] != '\0') {
		out += "; logind: session " + std::string(id) +
		       " could not take its seat (not the active session of a seat?)";
	} else {
		out += "; logind: this process is in no logind session (XDG_SESSION_ID is "
		       "unset: log in on a VT)";
	}
	out += geteuid() == 0 ? "; builtin seatd: failed too (no VT? /dev/tty0)"
	                      : "; builtin seatd: needs root";
	return out;
}

} // namespace

std::string describe_session_failure(int err) {
	std::string out = "libseat could not open a seat";
	if (err != 0) {
		out += " (" + std::string(std::strerror(err)) + ")";
	}
	return out + seat_managers();
}

std::string session_advice() {
	return "to run wlprime on a TTY without root, log in on a VT of a systemd-logind "
	       "system, or run seatd (Debian: apt install seatd; its service runs 'seatd -g "
	       "video') and put the user in the video group (usermod -aG video USER, then "
	       "log in again); as root it runs without a session too (--no-session: no "
	       "input)";
}

session::session(wlr_session *s) : session_(s) {
	session_destroy_.connect(&session_->events.destroy, [this] {
		// The display went first: wlroots closed the devices itself.
		active_.disconnect();
		session_destroy_.disconnect();
		session_ = nullptr;
		devices_.clear();
	});
}

result<std::unique_ptr<session>> session::create(wl_display *display) {
	errno = 0;
	wlr_session *s = wlr_session_create(display);
	int err = errno;
	if (s == nullptr) {
		return error{describe_session_failure(err), err};
	}
	std::unique_ptr<session> out(new session(s));
	// The seat manager may enable the seat a little later (seatd answers
	// over its socket): wait for it, at most 10 s, as wlroots' own
	// autocreate does.
	wl_event_loop *loop = wl_display_get_event_loop(display);
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	if (!s->active) {
		wlr_log(WLR_INFO, "seat %s: waiting for the session to become active",
		        out->seat_name().c_str());
	}
	while (!s->active) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0 ||
		    wl_event_loop_dispatch(loop, static_cast<int>(left.count())) < 0) {
			break;
		}
	}
	if (!s->active) {
		// Nothing can be opened through it: libseat's builtin seatd for a
		// user who is not root, or a seat whose VT is not in front.
		return error{"the seat session libseat opened on seat " + out->seat_name() +
		                 " did not become active within 10 s (not started on the VT in "
		                 "front, or libseat's builtin seatd without root: see the "
		                 "[libseat] lines above)" +
		                 seat_managers(),
		             EPERM};
	}
	wlr_log(WLR_INFO, "seat session: seat %s, active", out->seat_name().c_str());
	return out;
}

session::~session() {
	active_.disconnect();
	kms_destroy_.disconnect();
	new_input_.disconnect();
	input_destroy_.disconnect();
	keyboards_.clear();
	if (input_check_ != nullptr) {
		wl_event_source_remove(input_check_);
	}
	if (session_ == nullptr) {
		return;
	}
	for (wlr_device *dev : devices_) {
		wlr_session_close_file(session_, dev);
	}
	devices_.clear();
	session_destroy_.disconnect();
	wlr_session_destroy(session_);
	wlr_log(WLR_INFO, "seat session closed");
}

std::string session::seat_name() const {
	return session_ != nullptr ? std::string(session_->seat) : std::string();
}

result<unique_fd> session::open_drm(const std::string &path) {
	if (session_ == nullptr) {
		return error{path + ": the seat session is gone", ENODEV};
	}
	wlr_device *dev = wlr_session_open_file(session_, path.c_str());
	if (dev == nullptr) {
		// wlroots logged the errno (its logging may have changed errno since).
		std::string why = "cannot open " + path + " through the seat session on seat " +
		                  seat_name() + ": the seat manager refused (see the lines above)";
		if (!session_->active) {
			why += "; the session is not active: run wlprime on the VT in front";
		}
		return error{why, EACCES};
	}
	devices_.push_back(dev);
	unique_fd fd(fcntl(dev->fd, F_DUPFD_CLOEXEC, 0));
	if (!fd) {
		int err = errno;
		return error{"dup of the seat session's fd " + std::to_string(dev->fd) + " of " +
		                 path + ": " + std::strerror(err),
		             err};
	}
	wlr_log(WLR_INFO,
	        "%s: opened through seat %s (session fd %d, ours %d, one file description), "
	        "DRM master %s",
	        path.c_str(), session_->seat, dev->fd, fd.get(),
	        drmIsMaster(dev->fd) ? "yes" : "no");
	return fd;
}

result<wlr_backend *> session::add_input(wl_display *display, wlr_backend *kms) {
	wlr_backend *multi = wlr_multi_backend_create(display);
	wlr_backend *input =
	    multi != nullptr ? wlr_libinput_backend_create(display, session_) : nullptr;
	bool kms_added = multi != nullptr && input != nullptr && wlr_multi_backend_add(multi, kms);
	if (!kms_added || !wlr_multi_backend_add(multi, input)) {
		if (input != nullptr) {
			wlr_backend_destroy(input);
		}
		if (!kms_added) {
			wlr_backend_destroy(kms);
		}
		if (multi != nullptr) {
			wlr_backend_destroy(multi); // and kms if it was added
		}
		return error{"cannot combine the KMS backend with wlroots' libinput backend"};
	}
	kms_ = kms;
	kms_destroy_.connect(&kms->events.destroy, [this] {
		kms_ = nullptr;
		kms_destroy_.disconnect();
	});
	new_input_.connect(&input->events.new_input, [this](wlr_input_device *dev) {
		input_devices_++;
		if (dev->type == WLR_INPUT_DEVICE_KEYBOARD) {
			auto &k = keyboards_.emplace_back(std::make_unique<tty_keys>(*this, dev));
			tty_keys *raw = k.get();
			raw->key.connect(
			    &dev->keyboard->events.key,
			    [this, dev](wlr_event_keyboard_key *e) { handle_key(dev, e); });
			raw->destroy.connect(&dev->events.destroy, [this, raw] {
				keyboards_.remove_if([raw](const std::unique_ptr<tty_keys> &p) {
					return p.get() == raw;
				});
			});
		}
		wlr_log(WLR_INFO, "libinput: %s '%s' (vendor %04x, product %04x) through seat %s",
		        input_type_name(dev->type), dev->name, dev->vendor, dev->product,
		        seat_name().c_str());
	});
	// Unlinked before the libinput backend is freed (with the multi backend).
	input_destroy_.connect(&input->events.destroy, [this] {
		new_input_.disconnect();
		input_destroy_.disconnect();
	});
	active_.connect(&session_->events.active, [this] { handle_active(); });
	kms_backend_set_active(kms_, session_->active);
	size_t known = udev_input_devices(session_->udev, seat_name());
	wlr_log(WLR_INFO, "seat %s: udev knows %zu input device(s) for libinput",
	        seat_name().c_str(), known);
	if (known == 0 && std::getenv(no_devices_env) == nullptr) {
		setenv(no_devices_env, "1", 0);
		set_no_devices_env_ = true;
	}
	return multi;
}

void session::backend_started() {
	if (set_no_devices_env_) {
		unsetenv(no_devices_env); // not for the --exec child
		set_no_devices_env_ = false;
	}
	// libinput announces the devices it found from the event loop, after
	// start: look a little later.
	input_check_ = wl_event_loop_add_timer(
	    wl_display_get_event_loop(session_->display),
	    [](void *data) noexcept -> int {
		    auto *self = static_cast<session *>(data);
		    if (self->input_devices_ == 0) {
			    wlr_log(WLR_ERROR,
			            "seat %s: libinput has found no input device (keyboards and "
			            "pointers plugged in later are added); is udev running, and "
			            "does it tag them ID_INPUT?",
			            self->seat_name().c_str());
		    }
		    return 0;
	    },
	    this);
	if (input_check_ != nullptr) {
		wl_event_source_timer_update(input_check_, 3000);
	}
}

void session::handle_key(wlr_input_device *device, const wlr_event_keyboard_key *event) {
	wlr_keyboard *kb = device->keyboard;
	if (event->state != WL_KEYBOARD_KEY_STATE_PRESSED || kb->xkb_state == nullptr ||
	    session_ == nullptr) {
		return;
	}
	const uint32_t ctrl_alt = WLR_MODIFIER_CTRL | WLR_MODIFIER_ALT;
	const xkb_keysym_t *syms = nullptr;
	// The state before this key: the modifiers held, the keysym of its level.
	int n = xkb_state_key_get_syms(kb->xkb_state, event->keycode + 8, &syms);
	for (int i = 0; i < n; i++) {
		if (syms[i] >= XKB_KEY_XF86Switch_VT_1 && syms[i] <= XKB_KEY_XF86Switch_VT_12) {
			unsigned vt = syms[i] - XKB_KEY_XF86Switch_VT_1 + 1;
			wlr_log(WLR_INFO, "%s: Ctrl+Alt+F%u: switching to VT %u", device->name, vt,
			        vt);
			if (!wlr_session_change_vt(session_, vt)) {
				wlr_log(WLR_ERROR,
				        "seat %s: cannot switch to VT %u (no VTs on this seat?)",
				        session_->seat, vt);
			}
		} else if ((syms[i] == XKB_KEY_BackSpace || syms[i] == XKB_KEY_Terminate_Server) &&
		           (wlr_keyboard_get_modifiers(kb) & ctrl_alt) == ctrl_alt) {
			wlr_log(WLR_INFO, "%s: Ctrl+Alt+BackSpace: exiting", device->name);
			wl_display_terminate(session_->display);
		}
	}
}

void session::handle_active() {
	bool active = session_->active;
	if (active) {
		wlr_log(WLR_INFO, "seat session active: DRM master and input are back");
	} else {
		wlr_log(WLR_INFO,
		        "seat session inactive (VT switched away): DRM master and input devices "
		        "are revoked until it comes back");
	}
	if (kms_ != nullptr) {
		kms_backend_set_active(kms_, active);
	}
}

result<std::vector<std::unique_ptr<device>>>
open_display_devices(const config &cfg, kernel_api &kernel, wl_display *display,
                     std::unique_ptr<session> *session_out) {
	std::vector<std::string> paths = cfg.drm_devices;
	if (paths.empty()) {
		paths = find_display_devices();
		if (paths.empty()) {
			return error{
			    "neither WAYLAND_DISPLAY nor DISPLAY is set, and no DRM device in "
			    "/dev/dri has a connected connector (or none may be opened by this "
			    "user: the video group): run wlprime in a Wayland or X11 session, give "
			    "--drm-device /dev/dri/cardN, or use --headless WIDTHxHEIGHT"};
		}
	}

	std::string no_session;
	if (cfg.seat_session) {
		auto s = session::create(display);
		if (s) {
			*session_out = std::move(*s);
		} else {
			no_session = s.err().message;
		}
	} else {
		no_session = "--no-session given";
	}

	std::vector<std::unique_ptr<device>> devices;
	if (*session_out != nullptr) {
		for (const std::string &path : paths) {
			auto fd = (*session_out)->open_drm(path);
			if (!fd) {
				return error{"display device: " + fd.err().message,
				             fd.err().errnum};
			}
			auto dev = device::adopt(kernel, std::move(*fd), path);
			if (!dev) {
				return error{"display device: " + dev.err().message,
				             dev.err().errnum};
			}
			devices.push_back(std::move(*dev));
		}
		return devices;
	}

	wlr_log(cfg.seat_session ? WLR_ERROR : WLR_INFO,
	        "no seat session: %s. Opening the display devices directly (needs root or "
	        "the video group, and no other display server on them): no input devices "
	        "(keyboard, pointer), no VT switching",
	        no_session.c_str());
	for (const std::string &path : paths) {
		auto dev = device::open(kernel, path);
		if (!dev) {
			int err = dev.err().errnum;
			std::string message = "display device: " + dev.err().message;
			if (err == EACCES || err == EPERM) {
				message += "; and there is no seat session (" + no_session +
				           "): " + session_advice();
			}
			return error{message, err};
		}
		if (!drmIsMaster((*dev)->fd())) {
			wlr_log(WLR_ERROR,
			        "%s: not DRM master (another display server holds the device): "
			        "nothing can be shown; %s",
			        (*dev)->name().c_str(), session_advice().c_str());
		}
		devices.push_back(std::move(*dev));
	}
	return devices;
}

} // namespace wlprime
