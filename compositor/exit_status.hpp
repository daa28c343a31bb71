// exit_status.hpp: wlprime's exit statuses, in one place (the table is in
// docs/usage.md, "Exit status"). Apart from these, wlprime exits with the
// --exec command's status (128 + N if it was killed by signal N) or with
// 128 + N after signal N itself. The range 120-125 is below what a shell
// reserves (126, 127, 128+N); wlprime-vm adds 124 and 125.

#pragma once

namespace wlprime {

inline constexpr int exit_usage = 2;             // a bad command line
inline constexpr int exit_startup = 120;         // could not start (the reason is logged)
inline constexpr int exit_output_missing = 121;  // a screenshot or report asked for was not written
inline constexpr int exit_compare_differs = 122; // --compare: the screenshot differs from REF

} // namespace wlprime
