#include "tests/compositor/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compositor/exec.hpp"

extern char **environ;

namespace wlprime {

process_result run_process(const std::vector<std::string> &argv, const process_options &opts) {
	process_result result;
	int out_pipe[2];
	int err_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
		result.err = std::string("pipe: ") + std::strerror(errno);
		return result;
	}

	// Environment: ours, edited.
	std::map<std::string, std::string> env;
	for (char **e = environ; *e != nullptr; e++) {
		std::string entry = *e;
		std::size_t eq = entry.find('=');
		if (eq != std::string::npos) {
			env[entry.substr(0, eq)] = entry.substr(eq + 1);
		}
	}
	for (const auto &[name, value] : opts.env) {
		if (value) {
			env[name] = *value;
		} else {
			env.erase(name);
		}
	}
	std::vector<std::string> env_strings;
	for (const auto &[name, value] : env) {
		env_strings.push_back(name + "=" + value);
	}
	std::vector<char *> envp;
	for (std::string &s : env_strings) {
		envp.push_back(s.data());
	}
	envp.push_back(nullptr);
	std::vector<std::string> argv_copy = argv;
	std::vector<char *> args;
	for (std::string &s : argv_copy) {
		args.push_back(s.data());
	}
	args.push_back(nullptr);

	pid_t pid = fork();
	if (pid == 0) {
		dup2(out_pipe[1], STDOUT_FILENO);
		dup2(err_pipe[1], STDERR_FILENO);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		execve(args[0], args.data(), envp.data());
		_exit(127);
	}
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (pid < 0) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		result.err = std::string("fork: ") + std::strerror(errno);
		return result;
	}

	auto deadline = std::chrono::steady_clock::now() + opts.timeout;
	pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
	std::string *sinks[2] = {&result.out, &result.err};
	int open_fds = 2;
	while (open_fds > 0) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0) {
			result.timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || fds[i].revents == 0) {
				continue;
			}
			char buf[4096];
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				sinks[i]->append(buf, static_cast<std::size_t>(n));
			} else {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (pollfd &p : fds) {
		if (p.fd >= 0) {
			close(p.fd);
		}
	}
	// The output pipes can reach EOF before the exit (or stay open in a
	// grandchild after it); waitpid with the remaining time.
	int status = 0;
	while (true) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			result.exit_code = exit_code_from_wait_status(status);
			break;
		}
		if (std::chrono::steady_clock::now() >= deadline) {
			result.timed_out = true;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			result.exit_code = exit_code_from_wait_status(status);
			break;
		}
		usleep(2000);
	}
	return result;
}

} // namespace wlprime
