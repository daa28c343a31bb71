// options.hpp: the command line.

#pragma once

#include <span>
#include <string>
#include <string_view>

#include "compositor/config.hpp"
#include "compositor/exit_status.hpp"

namespace wlprime {

struct parsed_options {
	enum class action {
		run,         // start the compositor with cfg
		help,        // print usage_text() to stdout, exit 0
		version,     // print the version to stdout, exit 0
		usage_error, // print message and a hint to stderr, exit 2
	};
	action what = action::run;
	config cfg;
	std::string message; // for usage_error
};

// args: argv[1..argc). Accepts "--opt VALUE" and "--opt=VALUE" for long
// options, "-v" repeated or bundled ("-vv").
parsed_options parse_options(std::span<const char *const> args);

std::string usage_text(std::string_view program);

// "WxH" with both in [1, 16384]; false if malformed.
bool parse_output_size(std::string_view text, output_size *out);

} // namespace wlprime
