// exec.hpp: --exec, a child command whose exit ends the compositor.

#pragma once

#include <functional>
#include <memory>
#include <string>

#include <sys/types.h>
#include <wayland-server-core.h>

#include "import/result.hpp"

namespace wlprime {

// The exit code a shell would report for a waitpid() status: the exit status,
// or 128 + the signal number.
int exit_code_from_wait_status(int wait_status);

class child_process {
public:
	using exit_callback = std::function<void(int exit_code)>;

	// Runs `/bin/sh -c command` with WAYLAND_DISPLAY=wayland_display in its
	// environment, default signal dispositions and an empty signal mask.
	// on_exit is called from loop (SIGCHLD) with exit_code_from_wait_status()
	// once the child has been reaped; it may destroy the child_process.
	static result<std::unique_ptr<child_process>> spawn(wl_event_loop *loop,
	                                                    const std::string &command,
	                                                    const std::string &wayland_display,
	                                                    exit_callback on_exit);

	// A child still running gets SIGTERM (it is not waited for).
	~child_process();

	child_process(const child_process &) = delete;
	child_process &operator=(const child_process &) = delete;

	pid_t pid() const { return pid_; }
	bool running() const { return pid_ > 0; }

private:
	child_process() = default;
	static int handle_sigchld(int signal_number, void *data) noexcept;

	pid_t pid_ = -1;
	wl_event_source *sigchld_ = nullptr; // owned
	exit_callback on_exit_;
};

} // namespace wlprime
