// uinput_keyboard.cpp: wlprime-uinput-keyboard, a virtual keyboard made with
// the kernel's uinput, for the seat-session test (tests/session).
//
//	wlprime-uinput-keyboard [NAME]  <commands
//
// Creates a keyboard input device (every key from KEY_ESC to KEY_MICMUTE, so
// that udev's input_id tags it ID_INPUT_KEYBOARD and libinput takes it),
// prints "ready /dev/input/eventN" on stdout, then reads one command per line
// from stdin: "key CODE" presses and releases the evdev key CODE, "chord
// CODE..." presses the keys in order and releases them in reverse (each event
// with its SYN_REPORT), e.g. "chord 29 56 60" for Ctrl+Alt+F2. At end of input it destroys the
// device and exits 0; 1 if /dev/uinput cannot be used (the errno is printed).

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

namespace {

int fail(const char *what) {
	std::fprintf(stderr, "wlprime-uinput-keyboard: %s: %s (errno %d)\n", what,
	             std::strerror(errno), errno);
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

} // namespace

int main(int argc, char *argv[]) {
	const char *name = argc > 1 ? argv[1] : "wlprime-uinput-keyboard";
	int fd = open("/dev/uinput", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		return fail("open /dev/uinput");
	}
	if (ioctl(fd, UI_SET_EVBIT, EV_KEY) < 0 || ioctl(fd, UI_SET_EVBIT, EV_SYN) < 0) {
		return fail("UI_SET_EVBIT");
	}
	for (int k = KEY_ESC; k <= KEY_MICMUTE; k++) {
		if (ioctl(fd, UI_SET_KEYBIT, k) < 0) {
			return fail("UI_SET_KEYBIT");
		}
	}
	uinput_setup setup = {};
	setup.id.bustype = BUS_VIRTUAL;
	setup.id.vendor = 0x1d6b; // Linux Foundation
	setup.id.product = 0x0104;
	std::snprintf(setup.name, sizeof(setup.name), "%s", name);
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
		// "key A" or "chord A B ...": press in order, release in reverse.
		int codes[8];
		int n = 0;
		char word[16] = {};
		int used = 0;
		bool ok = std::sscanf(line, "%15s%n", word, &used) == 1 &&
		          (std::strcmp(word, "key") == 0 || std::strcmp(word, "chord") == 0);
		for (const char *p = line + used; ok && n < 8;) {
			int code = 0, len = 0;
			if (std::sscanf(p, "%d%n", &code, &len) != 1) {
				break;
			}
			ok = code > 0 && code <= KEY_MAX;
			codes[n++] = code;
			p += len;
		}
		if (!ok || n == 0 || (std::strcmp(word, "key") == 0 && n != 1)) {
			std::fprintf(stderr, "wlprime-uinput-keyboard: bad command: %s", line);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (!emit(fd, EV_KEY, static_cast<unsigned short>(codes[i]), 1) ||
			    !emit(fd, EV_SYN, SYN_REPORT, 0)) {
				return fail("write");
			}
		}
		for (int i = n - 1; i >= 0; i--) {
			if (!emit(fd, EV_KEY, static_cast<unsigned short>(codes[i]), 0) ||
			    !emit(fd, EV_SYN, SYN_REPORT, 0)) {
				return fail("write");
			}
		}
		std::printf("sent%s", n > 1 ? " chord" : "");
		for (int i = 0; i < n; i++) {
			std::printf(" %d", codes[i]);
		}
		std::printf("\n");
		std::fflush(stdout);
	}
	ioctl(fd, UI_DEV_DESTROY);
	close(fd);
	return 0;
}
