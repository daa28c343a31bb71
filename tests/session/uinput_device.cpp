// uinput_device.cpp: wlprime-uinput, a virtual keyboard or pointer made with
// the kernel's uinput, for the guest tests that need input through libinput
// (tests/session, tests/planes).
//
//	wlprime-uinput keyboard [NAME]  <commands
//	wlprime-uinput pointer NAME WxH  <commands
//
// Creates the input device (a keyboard: every key from KEY_ESC to
// KEY_MICMUTE, so that udev's input_id tags it ID_INPUT_KEYBOARD; a pointer:
// absolute X in 0..W-1 and Y in 0..H-1 and the left, right and middle
// buttons, like QEMU's USB tablet, ID_INPUT_MOUSE: on a layout of one WxH
// output its units are the output's pixels, with no acceleration), so that
// libinput takes it, prints "ready /dev/input/eventN" on stdout, then
// reads one command per line from stdin, each event followed by its
// SYN_REPORT:
//   key CODE         press and release the evdev key or button CODE
//   chord CODE...    press the keys in order, release them in reverse, e.g.
//                    "chord 29 56 60" for Ctrl+Alt+F2
//   down CODE, up CODE   press, release (held across commands)
//   abs X Y          the pointer to X, Y
// and answers each with "sent ..." on stdout. At end of input it destroys
// the device and exits 0; 1 if /dev/uinput cannot be used (the errno is
// printed); a bad command is reported on stderr and skipped.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/uinput.h>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utility>

namespace {

int fail(const char *what) {
	std::fprintf(stderr, "wlprime-uinput: %s: %s (errno %d)\n", what, std::strerror(errno),
	             errno);
	return 1;
}

bool emit(int fd, unsigned short type, unsigned short code, int value) {
	input_event ev = {};
	ev.type = type;
	ev.code = code;
	ev.value = value;
	return write(fd, &ev, sizeof(ev)) == static_cast<ssize_t>(sizeof(ev));
}

// The event node of the uinput device: /sys/devices/virtual/input/SYSNAME/eventN.
std::string event_node(int fd) {
	char sysname[64] = {};
	if (ioctl(fd, UI_GET_SYSNAME(sizeof(sysname)), sysname) < 0) {
		return "?";
	}
	std::string dir = std::string("/sys/devices/virtual/input/") + sysname;
	DIR *d = opendir(dir.c_str());
	if (d == nullptr) {
		return "?";
	}
	std::string node = "?";
	while (dirent *e = readdir(d)) {
		if (std::strncmp(e->d_name, "event", 5) == 0) {
			node = std::string("/dev/input/") + e->d_name;
		}
	}
	closedir(d);
	return node;
}

bool emit_key(int fd, int code, int value) {
	return emit(fd, EV_KEY, static_cast<unsigned short>(code), value) &&
	       emit(fd, EV_SYN, SYN_REPORT, 0);
}

// One command line; false on a write error. A bad command is reported.
bool run(int fd, bool pointer, const char *line) {
	char word[16] = {};
	int used = 0;
	int args[8];
	int n = 0;
	if (std::sscanf(line, "%15s%n", word, &used) != 1) {
		return true;
	}
	for (const char *p = line + used; n < 8;) {
		int v = 0, len = 0;
		if (std::sscanf(p, "%d%n", &v, &len) != 1) {
			break;
		}
		args[n++] = v;
		p += len;
	}
	std::string cmd = word;
	auto key_ok = [&](int i) { return args[i] > 0 && args[i] <= KEY_MAX; };
	bool ok = false;
	if (cmd == "abs") {
		ok = pointer && n == 2;
		if (ok && (!emit(fd, EV_ABS, ABS_X, args[0]) || !emit(fd, EV_ABS, ABS_Y, args[1]) ||
		           !emit(fd, EV_SYN, SYN_REPORT, 0))) {
			return false;
		}
	} else if (cmd == "key" || cmd == "down" || cmd == "up") {
		ok = n == 1 && key_ok(0);
		if (ok && ((cmd != "up" && !emit_key(fd, args[0], 1)) ||
		           (cmd != "down" && !emit_key(fd, args[0], 0)))) {
			return false;
		}
	} else if (cmd == "chord") {
		ok = n > 0;
		for (int i = 0; i < n; i++) {
			ok = ok && key_ok(i);
		}
		for (int i = 0; ok && i < n; i++) {
			if (!emit_key(fd, args[i], 1)) {
				return false;
			}
		}
		for (int i = n - 1; ok && i >= 0; i--) {
			if (!emit_key(fd, args[i], 0)) {
				return false;
			}
		}
	}
	if (!ok) {
		std::fprintf(stderr, "wlprime-uinput: bad command: %s", line);
		return true;
	}
	std::printf("sent %s", word);
	for (int i = 0; i < n; i++) {
		std::printf(" %d", args[i]);
	}
	std::printf("\n");
	std::fflush(stdout);
	return true;
}

} // namespace

int main(int argc, char *argv[]) {
	std::string kind = argc > 1 ? argv[1] : "";
	if (kind != "keyboard" && kind != "pointer") {
		std::fprintf(stderr, "usage: wlprime-uinput keyboard [NAME] <commands\n"
		                     "       wlprime-uinput pointer NAME WxH <commands\n");
		return 2;
	}
	bool pointer = kind == "pointer";
	int width = 0, height = 0;
	if (pointer && (argc < 4 || std::sscanf(argv[3], "%dx%d", &width, &height) != 2 ||
	                width <= 0 || height <= 0)) {
		std::fprintf(stderr, "wlprime-uinput: pointer needs NAME and WxH\n");
		return 2;
	}
	std::string name = argc > 2 ? argv[2] : "wlprime-uinput-" + kind;
	int fd = open("/dev/uinput", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return fail("open /dev/uinput");
	}
	if (ioctl(fd, UI_SET_EVBIT, EV_KEY) < 0 || ioctl(fd, UI_SET_EVBIT, EV_SYN) < 0) {
		return fail("UI_SET_EVBIT");
	}
	if (pointer) {
		if (ioctl(fd, UI_SET_EVBIT, EV_ABS) < 0) {
			return fail("UI_SET_EVBIT EV_ABS");
		}
		for (auto [axis, size] : {std::pair{ABS_X, width}, {ABS_Y, height}}) {
			uinput_abs_setup abs = {};
			abs.code = static_cast<unsigned short>(axis);
			abs.absinfo.minimum = 0;
			abs.absinfo.maximum = size - 1;
			if (ioctl(fd, UI_ABS_SETUP, &abs) < 0) {
				return fail("UI_ABS_SETUP");
			}
		}
		for (int b : {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE}) {
			if (ioctl(fd, UI_SET_KEYBIT, b) < 0) {
				return fail("UI_SET_KEYBIT");
			}
		}
	} else {
		for (int k = KEY_ESC; k <= KEY_MICMUTE; k++) {
			if (ioctl(fd, UI_SET_KEYBIT, k) < 0) {
				return fail("UI_SET_KEYBIT");
			}
		}
	}
	uinput_setup setup = {};
	setup.id.bustype = BUS_VIRTUAL;
	setup.id.vendor = 0x1d6b; // Linux Foundation
	setup.id.product = pointer ? 0x0105 : 0x0104;
	std::snprintf(setup.name, sizeof(setup.name), "%s", name.c_str());
	if (ioctl(fd, UI_DEV_SETUP, &setup) < 0) {
		return fail("UI_DEV_SETUP");
	}
	if (ioctl(fd, UI_DEV_CREATE) < 0) {
		return fail("UI_DEV_CREATE");
	}
	std::printf("ready %s\n", event_node(fd).c_str());
	std::fflush(stdout);

	char line[128];
	while (std::fgets(line, sizeof(line), stdin) != nullptr) {
		if (!run(fd, pointer, line)) {
			return fail("write");
		}
	}
	ioctl(fd, UI_DEV_DESTROY);
	close(fd);
	return 0;
}
