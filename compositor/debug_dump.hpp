// debug_dump.hpp: what wlprime-debug shows, built from a running server.
//
// One snapshot of the import subsystem: the devices (path, driver, dev_t,
// role, handles held), the outputs (what each shows and has queued), every
// Import (identity, format, modifier, planes, per-device handles with their
// reference counts and framebuffer ids, the wl_buffers and clients that use
// it, its state), the cache's statistics and its negative entries with their
// reasons, the ioctl counts, and the copy fallback of each KMS output
// (copies, bytes, counts by reason, the Imports its device refused and why). Rendered as text
// (stable, sorted: fit for diff) or as JSON (for scripts).

#pragma once

#include <string>

namespace wlprime {

class server;

enum class dump_format { text, json };

std::string debug_dump(const server &srv, dump_format format);

} // namespace wlprime
