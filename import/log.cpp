// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <cstdio>

namespace wlprime {

static void stderr_handler(log_level level, const char *fmt, va_list args) {
	static const char *const names[] = {"", "ERROR", "INFO", "DEBUG"};
	std::fprintf(stderr, "[import] %s: ", names[static_cast<int>(level)]);
	std::vfprintf(stderr, fmt, args);
	std::fputc('\n', stderr);
}

static log_handler handler = stderr_handler;
static log_level verbosity = log_level::error;

void set_log_handler(log_handler h, log_level v) {
	handler = h ? h : stderr_handler;
	verbosity = v;
}

bool log_enabled(log_level level) {
	return level <= verbosity;
}

void import_log(log_level level, const char *fmt, ...) {
	if (!log_enabled(level))
		return;
	va_list args;
	va_start(args, fmt);
	handler(level, fmt, args);
	va_end(args);
}

} // namespace wlprime
