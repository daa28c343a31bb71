// client_report.hpp: --report FILE: per client, what it bound, the dma-buf
// wl_buffers it made and from which exporter, feedback, Imports and cache
// hits, commits and frames presented, release latency and frame pacing,
// protocol errors and lint findings (client_record.hpp), as JSON; and a
// short text summary for stderr. From client_activity's records.

#pragma once

#include <string>
#include <vector>

#include "compositor/client_record.hpp"
#include "import/result.hpp"

namespace wlprime {

// The report as JSON (one object, "clients" in order of connection).
std::string report_json(const std::vector<const client_record *> &clients);
// A few lines per client: the summary printed on stderr at exit.
std::string report_summary(const std::vector<const client_record *> &clients);
// Writes report_json to path (replaced atomically: a temporary beside it,
// then renamed). The error names the path and errno.
status write_report(const std::string &path, const std::vector<const client_record *> &clients);

} // namespace wlprime
