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
enum class log_level { error = 1, info = 2, debug = 3 };

using log_handler = void (*)(log_level level, const char *fmt, va_list args);

void set_log_handler(log_handler handler, log_level verbosity);
bool log_enabled(log_level level);
[[gnu::format(printf, 2, 3)]] void import_log(log_level level, const char *fmt, ...);

} // namespace wlprime
