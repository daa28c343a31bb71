// process.hpp: run a program, capture its output, with a time limit (tests).

#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wlprime {

struct process_result {
	int exit_code = -1; // as a shell reports it (128 + signal if killed)
	bool timed_out = false;
	std::string out;
	std::string err;
};

struct process_options {
	// Added to (or, with nullopt, removed from) the test's environment.
	std::map<std::string, std::optional<std::string>> env;
	std::chrono::milliseconds timeout = std::chrono::seconds(60);
};

// argv[0] is the program's path. A program still running at the timeout is
// killed (SIGKILL) and timed_out is set.
process_result run_process(const std::vector<std::string> &argv, const process_options &opts = {});

} // namespace wlprime
