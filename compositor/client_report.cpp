#include "compositor/client_report.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "compositor/dump_node.hpp"
#include "import/formats.hpp"

#ifndef WLPRIME_VERSION
#define WLPRIME_VERSION "unknown"
#endif

namespace wlprime {

const char *lint_id(lint which) {
	switch (which) {
	case lint::new_wl_buffer_per_frame:
		return "new_wl_buffer_per_frame";
	case lint::attached_before_release:
		return "attached_before_release";
	case lint::commits_faster_than_frames:
		return "commits_faster_than_frames";
	case lint::implicit_modifier:
		return "implicit_modifier";
	case lint::size_mismatch:
		return "size_mismatch";
	case lint::params_not_destroyed:
		return "params_not_destroyed";
	case lint::buffers_alive_at_disconnect:
		return "buffers_alive_at_disconnect";
	case lint::unsignalled_write_fence:
		return "unsignalled_write_fence";
	}
	return "?";
}

const char *lint_explanation(lint which) {
	switch (which) {
	case lint::new_wl_buffer_per_frame:
		return "a dma-buf already committed through another wl_buffer was committed "
		       "through a "
		       "new one: a compositor without a re-import cache imports it again every "
		       "frame";
	case lint::attached_before_release:
		return "a wl_buffer was committed again before the compositor released it: the "
		       "client may be drawing into a buffer that is still being read or scanned "
		       "out";
	case lint::commits_faster_than_frames:
		return "a new buffer was committed before the previous one was in any frame: that "
		       "frame was drawn for nothing (wait for wl_surface.frame callbacks)";
	case lint::implicit_modifier:
		return "a buffer was created with DRM_FORMAT_MOD_INVALID although explicit "
		       "modifiers "
		       "were offered for its format, by an exporter whose implicit layout is its "
		       "own "
		       "(not linear): only that driver knows it, which keeps the buffer from other "
		       "devices, from the CPU and from scanout elsewhere";
	case lint::size_mismatch:
		return "the buffer's size is not a multiple of the buffer scale, or differs from "
		       "the "
		       "size a fullscreen or maximized toplevel was configured to";
	case lint::params_not_destroyed:
		return "zwp_linux_buffer_params_v1 objects were never destroyed (alive at "
		       "disconnect): "
		       "each holds its plane fds until then";
	case lint::buffers_alive_at_disconnect:
		return "dma-buf wl_buffers were alive at disconnect: the client did not destroy "
		       "them";
	case lint::unsignalled_write_fence:
		return "a buffer was committed while its dma-buf's write fence had not signalled: "
		       "the "
		       "compositor must wait (or would show unfinished pixels)";
	}
	return "?";
}

namespace {

double percentile(std::vector<double> v, double p) {
	if (v.empty()) {
		return 0;
	}
	std::sort(v.begin(), v.end());
	size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
	return v[std::min(i, v.size() - 1)];
}

dump_node series_node(const ms_series &s) {
	return dump_node::object()
	    .set("count", dump_node::num(s.samples.size()))
	    .set("median", dump_node::real(percentile(s.samples, 0.5)))
	    .set("p99", dump_node::real(percentile(s.samples, 0.99)));
}

std::string modifier_hex(uint64_t modifier) {
	char buf[24];
	std::snprintf(buf, sizeof(buf), "0x%016" PRIx64, modifier);
	return buf;
}

// "XR24 (0x34325258)" -> "XR24", "LINEAR (0x0)" -> "LINEAR".
std::string short_name(std::string name) {
	size_t paren = name.find(" (");
	return paren == std::string::npos ? name : name.substr(0, paren);
}

dump_node client_node(const client_record &r) {
	dump_node globals = dump_node::array();
	for (const auto &[interface, version] : r.globals) {
		globals.push(dump_node::object()
		                 .set("interface", dump_node::str(interface))
		                 .set("version", dump_node::num(version)));
	}
	dump_node kinds = dump_node::array();
	for (const auto &k : r.kinds) {
		kinds.push(
		    dump_node::object()
		        .set("format", dump_node::str(short_name(format_name(k.format))))
		        .set("modifier", dump_node::str(modifier_hex(k.modifier)))
		        .set("modifier_name", dump_node::str(short_name(modifier_name(k.modifier))))
		        .set("exporter", dump_node::str(k.exporter))
		        .set("count", dump_node::num(k.count)));
	}
	dump_node errors = dump_node::array();
	for (const auto &e : r.protocol_errors) {
		errors.push(dump_node::object()
		                .set("interface", dump_node::str(e.interface))
		                .set("object", dump_node::num(e.object))
		                .set("code", dump_node::num(e.code))
		                .set("message", dump_node::str(e.message))
		                .set("time_s", dump_node::real(e.time_s)));
	}
	dump_node findings = dump_node::array();
	for (size_t i = 0; i < lint_count; i++) {
		const lint_finding &f = r.findings[i];
		if (f.count == 0) {
			continue;
		}
		const auto which = static_cast<lint>(i);
		findings.push(dump_node::object()
		                  .set("lint", dump_node::str(lint_id(which)))
		                  .set("count", dump_node::num(f.count))
		                  .set("first", dump_node::object()
		                                    .set("time_s", dump_node::real(f.first_s))
		                                    .set("wl_buffer", dump_node::num(f.wl_buffer))
		                                    .set("surface", dump_node::num(f.surface)))
		                  .set("explanation", dump_node::str(lint_explanation(which))));
	}
	dump_node client = dump_node::object()
	                       .set("pid", dump_node::num(static_cast<uint64_t>(r.pid)))
	                       .set("command", dump_node::str(r.command))
	                       .set("exec_descendant", dump_node::boolean(r.exec_descendant))
	                       .set("connected_s", dump_node::real(r.connected_s));
	if (r.disconnected_s >= 0) {
		client.set("disconnected_s", dump_node::real(r.disconnected_s));
	}
	return client.set("globals", std::move(globals))
	    .set("dmabuf_buffers", dump_node::object()
	                               .set("created", dump_node::num(r.dmabuf_buffers))
	                               .set("failed", dump_node::num(r.dmabuf_failed))
	                               .set("kinds", std::move(kinds)))
	    .set("feedback",
	         dump_node::object()
	             .set("default", dump_node::num(r.default_feedbacks))
	             .set("surface", dump_node::num(r.surface_feedbacks))
	             .set("buffers_in_scanout_tranche", dump_node::num(r.in_scanout_tranche))
	             .set("buffers_not_in_scanout_tranche",
	                  dump_node::num(r.not_in_scanout_tranche)))
	    .set("imports", dump_node::object()
	                        .set("created", dump_node::num(r.imports_created))
	                        .set("cache_hits", dump_node::num(r.cache_hits)))
	    .set("commits", dump_node::num(r.commits))
	    .set("buffer_commits", dump_node::num(r.buffer_commits))
	    .set("frames_presented", dump_node::num(r.frames_presented))
	    .set("frame_callbacks_done", dump_node::num(r.frame_callbacks_done))
	    .set("release_latency_ms", series_node(r.release_latency))
	    .set("frame_interval_ms", series_node(r.frame_interval))
	    .set("frame_callback_interval_ms", series_node(r.frame_callback_interval))
	    .set("protocol_errors", std::move(errors))
	    .set("findings", std::move(findings));
}

} // namespace

std::string report_json(const std::vector<const client_record *> &clients) {
	dump_node list = dump_node::array();
	for (const client_record *r : clients) {
		list.push(client_node(*r));
	}
	std::string out;
	dump_node::object()
	    .set("wlprime", dump_node::str(WLPRIME_VERSION))
	    .set("clients", std::move(list))
	    .json(out);
	out += '\n';
	return out;
}

std::string report_summary(const std::vector<const client_record *> &clients) {
	std::string out;
	char line[512];
	for (const client_record *r : clients) {
		std::snprintf(
		    line, sizeof(line),
		    "  pid %d %s%s: %" PRIu64 " commits (%" PRIu64 " with a buffer), %" PRIu64
		    " frames presented, %" PRIu64 " dma-buf wl_buffers (%" PRIu64
		    " Imports, %" PRIu64 " cache hits), release %.1f/%.1f ms (median/p99), "
		    "%zu protocol errors\n",
		    static_cast<int>(r->pid), r->command.c_str(),
		    r->exec_descendant ? " (--exec)" : "", r->commits, r->buffer_commits,
		    r->frames_presented, r->dmabuf_buffers, r->imports_created, r->cache_hits,
		    percentile(r->release_latency.samples, 0.5),
		    percentile(r->release_latency.samples, 0.99), r->protocol_errors.size());
		out += line;
		for (const auto &e : r->protocol_errors) {
			std::snprintf(line, sizeof(line), "    protocol error: %s@%u code %u: %s\n",
			              e.interface.c_str(), e.object, e.code, e.message.c_str());
			out += line;
		}
		for (size_t i = 0; i < lint_count; i++) {
			const lint_finding &f = r->findings[i];
			if (f.count == 0) {
				continue;
			}
			std::snprintf(line, sizeof(line),
			              "    lint %s: %" PRIu64
			              " times, first at %.3f s (wl_buffer %u, "
			              "surface %u)\n",
			              lint_id(static_cast<lint>(i)), f.count, f.first_s,
			              f.wl_buffer, f.surface);
			out += line;
		}
	}
	return out;
}

status write_report(const std::string &path, const std::vector<const client_record *> &clients) {
	const std::string json = report_json(clients);
	const std::string tmp = path + ".tmp";
	std::FILE *f = std::fopen(tmp.c_str(), "w");
	if (f == nullptr) {
		return error{"cannot write " + path + ": " + std::strerror(errno), errno};
	}
	bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size();
	int err = errno;
	ok = std::fclose(f) == 0 && ok;
	if (!ok) {
		std::remove(tmp.c_str());
		return error{"cannot write " + path + ": " + std::strerror(err), err};
	}
	if (std::rename(tmp.c_str(), path.c_str()) != 0) {
		err = errno;
		std::remove(tmp.c_str());
		return error{"cannot write " + path + ": " + std::strerror(err), err};
	}
	return done{};
}

} // namespace wlprime
