/*
 * exit_watch: an LD_PRELOAD library for a Wayland client we did not write,
 * saying on stderr whether a fatal signal came while it was running or while
 * it was tearing itself down.
 *
 * A client's teardown begins, for this purpose, at the first wl_proxy_destroy
 * made outside wl_display_dispatch (and roundtrip): weston's simple clients destroy their
 * objects from event handlers while they run (inside the dispatch), and only
 * from main once the loop has ended. The signal is then re-raised with its
 * default action, so the exit status is the client's own.
 *
 * Used by feedback-test for weston 10's simple-dmabuf-feedback, whose
 * teardown can destroy a wl_buffer twice (see there).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct wl_display;
struct wl_proxy;

static volatile sig_atomic_t dispatch_depth;
static volatile sig_atomic_t tearing_down;

static void say(const char *text) {
	ssize_t unused = write(STDERR_FILENO, text, strlen(text));
	(void)unused;
}

static void on_fatal(int sig) {
	char line[160];
	snprintf(line, sizeof line, "exit_watch: signal %d (%s) %s\n", sig, strsignal(sig),
	         tearing_down ? "during the client's teardown"
	                      : "while the client was running (not in its teardown)");
	say(line);
	/* Where: frames as object(+offset), for addr2line on the host. */
	void *frames[32];
	backtrace_symbols_fd(frames, backtrace(frames, 32), STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((constructor)) static void exit_watch_init(void) {
	static const int fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE};
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_fatal;
		sa.sa_flags = SA_RESETHAND;
		sigaction(fatal[i], &sa, NULL);
	}
}

struct wl_event_queue;

/* The calls that run event handlers (or, for a roundtrip, destroy the
 * library's own wl_callback): a wl_proxy_destroy within them is not the
 * client's teardown. */
#define WITHIN(name, params, args)                                                                 \
	int name params {                                                                          \
		static int(*next) params;                                                          \
		if (!next)                                                                         \
			*(void **)&next = dlsym(RTLD_NEXT, #name);                                 \
		dispatch_depth++;                                                                  \
		int ret = next args;                                                               \
		dispatch_depth--;                                                                  \
		return ret;                                                                        \
	}
WITHIN(wl_display_dispatch, (struct wl_display * display), (display))
WITHIN(wl_display_roundtrip, (struct wl_display * display), (display))
WITHIN(wl_display_roundtrip_queue, (struct wl_display * display, struct wl_event_queue *queue),
       (display, queue))

void wl_proxy_destroy(struct wl_proxy *proxy) {
	static void (*next)(struct wl_proxy *);
	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "wl_proxy_destroy");
	if (dispatch_depth == 0 && !tearing_down) {
		tearing_down = 1;
		say("exit_watch: teardown began (wl_proxy_destroy outside wl_display_dispatch)\n");
	}
	next(proxy);
}
