// SPDX-License-Identifier: MIT
#include "events.hpp"

#include "enum_name.hpp"

namespace wlprime {

const char *to_string(import_event_kind kind) {
	static constexpr const char *names[] = {
	    "created", "hit",        "imported", "import_failed", "negative_hit", "fb_created",
	    "fb_failed", "fb_removed", "mapped",   "idle",          "evicted",
	};
	return enum_name(kind, names, "unknown");
}

} // namespace wlprime
