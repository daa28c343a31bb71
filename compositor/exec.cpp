#include "compositor/exec.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <sys/wait.h>
#include <unistd.h>

#include "render/wlr.hpp"

namespace wlprime {

int exit_code_from_wait_status(int wait_status) {
	if (WIFEXITED(wait_status)) {
		return WEXITSTATUS(wait_status);
	}
	if (WIFSIGNALED(wait_status)) {
		return 128 + WTERMSIG(wait_status);
	}
	return 1;
}

result<std::unique_ptr<child_process>> child_process::spawn(wl_event_loop *loop,
                                                            const std::string &command,
                                                            const std::string &wayland_display,
                                                            exit_callback on_exit) {
	std::unique_ptr<child_process> child(new child_process());
	child->on_exit_ = std::move(on_exit);
	// SIGCHLD first, so that a child that exits at once is not missed: the
	// signalfd behind it blocks the signal from here on and queues it.
	child->sigchld_ =
	    wl_event_loop_add_signal(loop, SIGCHLD, &child_process::handle_sigchld, child.get());
	if (child->sigchld_ == nullptr) {
		return error{"cannot watch SIGCHLD for --exec"};
	}

	pid_t pid = fork();
	if (pid < 0) {
		return error{std::string("fork for --exec failed: ") + std::strerror(errno)};
	}
	if (pid == 0) {
		// Child: only async-signal-safe calls until exec (setenv is fine here:
		// the compositor is single-threaded).
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGUSR1, SIGPIPE}) {
			std::signal(sig, SIG_DFL);
		}
		setenv("WAYLAND_DISPLAY", wayland_display.c_str(), 1);
		execl("/bin/sh", "/bin/sh", "-c", command.c_str(), static_cast<char *>(nullptr));
		_exit(127);
	}
	child->pid_ = pid;
	wlr_log(WLR_INFO, "--exec: started pid %d: %s", static_cast<int>(pid), command.c_str());
	return child;
}

child_process::~child_process() {
	if (sigchld_ != nullptr) {
		wl_event_source_remove(sigchld_);
	}
	if (pid_ > 0) {
		wlr_log(WLR_INFO, "--exec: pid %d still running, sending SIGTERM",
		        static_cast<int>(pid_));
		kill(pid_, SIGTERM);
	}
}

int child_process::handle_sigchld(int, void *data) noexcept {
	auto *self = static_cast<child_process *>(data);
	if (self->pid_ <= 0) {
		return 0;
	}
	int wait_status = 0;
	pid_t reaped = waitpid(self->pid_, &wait_status, WNOHANG);
	if (reaped != self->pid_) {
		return 0; // another child of ours, or not exited yet
	}
	self->pid_ = -1;
	int code = exit_code_from_wait_status(wait_status);
	wlr_log(WLR_INFO, "--exec: pid %d exited, status %d", static_cast<int>(reaped), code);
	// May destroy self: nothing after this.
	self->on_exit_(code);
	return 0;
}

} // namespace wlprime
