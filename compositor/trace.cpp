#include "compositor/trace.hpp"

#include <cerrno>
#include <cstring>

#include "compositor/dmabuf_buffer.hpp"
#include "compositor/overlay_frame.hpp"
#include "import/device.hpp"
#include "import/formats.hpp"
#include "import/import.hpp"

namespace wlprime {

namespace {

std::string json_string(const std::string &s) {
	std::string out = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\')
			out += '\\';
		if (static_cast<unsigned char>(c) < 0x20)
			continue;
		out += c;
	}
	return out + "\"";
}

// The fields of a failure: its errno (with its name) and message, if any.
std::string failure(int errnum, const char *message) {
	std::string body;
	if (errnum)
		body += ",\"errno\":" + std::to_string(errnum) + ",\"errno_name\":" +
		        json_string(strerrorname_np(errnum) ? strerrorname_np(errnum) : "?");
	if (message)
		body += ",\"message\":" + json_string(message);
	return body;
}

} // namespace

result<std::unique_ptr<trace_writer>> trace_writer::open(const std::string &path) {
	std::FILE *file = std::fopen(path.c_str(), "we");
	if (!file)
		return error{"--trace " + path + ": " + std::strerror(errno), errno};
	std::setvbuf(file, nullptr, _IOLBF, 0);
	return std::unique_ptr<trace_writer>(new trace_writer(file));
}

trace_writer::~trace_writer() {
	std::fclose(file_);
}

void trace_writer::line(const std::string &body) {
	double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
	std::fprintf(file_, "{\"t\":%.6f,%s}\n", t, body.c_str());
}

void trace_writer::import_event(const wlprime::import_event &e) {
	const import_key &key = e.import.key();
	std::string body = "\"event\":" + json_string(to_string(e.kind)) +
	                   ",\"import\":" + std::to_string(e.import.serial());
	if (e.kind == import_event_kind::created) {
		body += ",\"format\":" + json_string(format_name(key.format)) +
		        ",\"modifier\":" + json_string(modifier_name(key.modifier)) +
		        ",\"size\":\"" + std::to_string(key.width) + "x" +
		        std::to_string(key.height) + "\",\"planes\":[";
		for (uint32_t p = 0; p < key.n_planes; p++)
			body += std::string(p ? "," : "") + "{\"dmabuf\":\"" +
			        to_string(key.planes[p].id) +
			        "\",\"offset\":" + std::to_string(key.planes[p].offset) +
			        ",\"stride\":" + std::to_string(key.planes[p].stride) + "}";
		body += "]";
	}
	if (e.dev) {
		body += ",\"device\":" + json_string(e.dev->name());
		if (e.kind == import_event_kind::imported) {
			if (const device_import *d = e.import.find_device(*e.dev)) {
				body += ",\"handles\":[";
				for (uint32_t p = 0; p < key.n_planes; p++)
					body += std::string(p ? "," : "") +
					        std::to_string(d->handle(p));
				body += "]";
			}
		}
	}
	if (e.fb_id)
		body += ",\"fb\":" + std::to_string(e.fb_id);
	line(body + failure(e.errnum, e.message));
}

void trace_writer::copy(const copy_event &e) {
	line("\"event\":\"copy\",\"import\":" + std::to_string(e.import.serial()) +
	     ",\"device\":" + json_string(e.dev.name()) + ",\"bytes\":" + std::to_string(e.bytes) +
	     ",\"rects\":" + std::to_string(e.rects) + ",\"reason\":" +
	     json_string(e.reason ? e.reason : "?") + failure(e.errnum, e.message.c_str()));
}

void trace_writer::release(const dmabuf_buffer &buffer) {
	line("\"event\":\"release\",\"import\":" + std::to_string(buffer.import().serial()) +
	     ",\"client_pid\":" + std::to_string(buffer.client_pid()) +
	     ",\"wl_buffer\":" + std::to_string(buffer.resource_id()));
}

void trace_writer::plane(const char *output, const surface_plane_verdict &v) {
	line("\"event\":\"plane\",\"output\":" + json_string(output) +
	     ",\"surface\":" + json_string(v.surface) + ",\"import\":" + std::to_string(v.import) +
	     ",\"plane\":" + std::to_string(v.plane_id) + ",\"fb\":" + std::to_string(v.fb_id) +
	     ",\"box\":" +
	     json_string(std::to_string(v.box.width) + "x" + std::to_string(v.box.height) + "+" +
	                 std::to_string(v.box.x) + "+" + std::to_string(v.box.y)) +
	     (v.plane_id == 0 ? ",\"reason\":" + json_string(v.reason) : std::string()) +
	     (v.err != 0 ? ",\"errno\":" + std::to_string(v.err) : std::string()));
}

} // namespace wlprime
