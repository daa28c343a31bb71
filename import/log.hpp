// SPDX-License-Identifier: MIT
#pragma once

#include <cstdarg>

namespace wlprime {

/*
 * import/ logs through one sink so that the compositor can route its lines to
 * wlr_log and tests can capture them. Like wlr_log_init(): set once at start
 * (not thread-safe against concurrent logging), default writes errors to
 * stderr. Lines name the buffer, the device and the errno.
 */
enum class LogLevel { error = 1, info = 2, debug = 3 };

using LogHandler = void (*)(LogLevel level, const char *fmt, va_list args);

void set_log_handler(LogHandler handler, LogLevel verbosity);
bool log_enabled(LogLevel level);
[[gnu::format(printf, 2, 3)]] void import_log(LogLevel level, const char *fmt, ...);

} // namespace wlprime
