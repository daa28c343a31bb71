// debug_dump.hpp: what wlprime-debug shows.
//
// One snapshot of the import subsystem: the devices (path, driver, dev_t,
// role, handles held), the outputs (what each shows and has queued), every
// Import (identity, format, modifier, planes, per-device handles with their
// reference counts, framebuffer ids and scanout verdict, the wl_buffers and
// clients that use it, its state), the cache's statistics and its negative
// entries with their reasons, the ioctl counts, implicit sync, and the copy
// fallback of each KMS output (copies, bytes, counts by reason, the Imports
// its device refused and why). Rendered as text (stable, sorted: fit for
// diff) or as JSON (for scripts).

#pragma once

#include <list>
#include <memory>
#include <string>

#include "compositor/backend.hpp"

namespace wlprime {

class gles2_renderer;
class implicit_sync;
class import_context;
class output;
struct renderer_choice;

enum class dump_format { text, json };

// What the dump reads; borrowed for the call.
struct dump_sources {
	const import_context *imports = nullptr; // null: no import subsystem
	const std::list<std::unique_ptr<output>> *outputs = nullptr;
	const implicit_sync *sync = nullptr; // null without a main device
	backend_kind backend = backend_kind::headless;
	const renderer_choice *renderer = nullptr; // what composes, and why
	gles2_renderer *gles2 = nullptr;           // null on pixman
};

std::string debug_dump(const dump_sources &from, dump_format format);

} // namespace wlprime
