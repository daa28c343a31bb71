// SPDX-License-Identifier: MIT
#include "events.hpp"

namespace wlprime {

const char *to_string(import_event_kind kind) {
	switch (kind) {
	case import_event_kind::created:
		return "created";
	case import_event_kind::hit:
		return "hit";
	case import_event_kind::imported:
		return "imported";
	case import_event_kind::import_failed:
		return "import_failed";
	case import_event_kind::negative_hit:
		return "negative_hit";
	case import_event_kind::fb_created:
		return "fb_created";
	case import_event_kind::fb_failed:
		return "fb_failed";
	case import_event_kind::fb_removed:
		return "fb_removed";
	case import_event_kind::mapped:
		return "mapped";
	case import_event_kind::idle:
		return "idle";
	case import_event_kind::evicted:
		return "evicted";
	case import_event_kind::copy:
		return "copy";
	}
	return "unknown";
}

} // namespace wlprime
