#include "tests/clients/presentation_log.hpp"

#include <algorithm>

#include "tests/clients/client_base.hpp"

namespace wlprime::clients {

namespace {

void clock_id(void *data, wp_presentation *, uint32_t clk_id) {
	static_cast<presentation_log *>(data)->handle_clock_id(clk_id);
}
const wp_presentation_listener presentation_listener = {.clock_id = clock_id};

void sync_output(void *data, struct wp_presentation_feedback *, wl_output *output) {
	auto *e = static_cast<presentation_log::entry *>(data);
	e->log->handle_sync_output(e, output);
}

void presented(void *data, struct wp_presentation_feedback *, uint32_t tv_sec_hi,
               uint32_t tv_sec_lo, uint32_t tv_nsec, uint32_t refresh, uint32_t seq_hi,
               uint32_t seq_lo, uint32_t flags) {
	auto *e = static_cast<presentation_log::entry *>(data);
	presented_frame f;
	f.presented = true;
	f.when_ns = ((uint64_t(tv_sec_hi) << 32) | tv_sec_lo) * 1000000000ull + tv_nsec;
	f.tv_nsec = tv_nsec;
	f.refresh_ns = refresh;
	f.seq = (uint64_t(seq_hi) << 32) | seq_lo;
	f.flags = flags;
	e->log->handle_presented(e, f);
}

void discarded(void *data, struct wp_presentation_feedback *) {
	auto *e = static_cast<presentation_log::entry *>(data);
	e->log->handle_discarded(e);
}

const wp_presentation_feedback_listener feedback_listener = {
    .sync_output = sync_output,
    .presented = presented,
    .discarded = discarded,
};

} // namespace

std::string presentation_flags_text(uint32_t flags) {
	static const std::pair<uint32_t, const char *> names[] = {
	    {WP_PRESENTATION_FEEDBACK_KIND_VSYNC, "vsync"},
	    {WP_PRESENTATION_FEEDBACK_KIND_HW_CLOCK, "hw_clock"},
	    {WP_PRESENTATION_FEEDBACK_KIND_HW_COMPLETION, "hw_completion"},
	    {WP_PRESENTATION_FEEDBACK_KIND_ZERO_COPY, "zero_copy"},
	};
	std::string text;
	for (const auto &[bit, name] : names) {
		if (flags & bit) {
			text += (text.empty() ? "" : "|") + std::string(name);
			flags &= ~bit;
		}
	}
	if (flags != 0) {
		text += (text.empty() ? "" : "|") + std::to_string(flags);
	}
	return text.empty() ? "none" : text;
}

presentation_log::~presentation_log() {
	for (const auto &e : entries_) {
		wp_presentation_feedback_destroy(e->feedback);
	}
	if (presentation_ != nullptr) {
		wp_presentation_destroy(presentation_);
	}
}

void presentation_log::on_global(wl_registry *registry, uint32_t name,
                                 const std::string &interface) {
	if (interface == wp_presentation_interface.name &&
	    bind_once(registry, name, wp_presentation_interface, 1, &presentation_)) {
		wp_presentation_add_listener(presentation_, &presentation_listener, this);
	}
}

void presentation_log::request(wl_surface *surface, int frame) {
	if (presentation_ == nullptr) {
		return;
	}
	auto e = std::make_unique<entry>();
	e->log = this;
	e->index = frames_.size();
	e->feedback = wp_presentation_feedback(presentation_, surface);
	wp_presentation_feedback_add_listener(e->feedback, &feedback_listener, e.get());
	frames_.push_back({.frame = frame});
	entries_.push_back(std::move(e));
}

int presentation_log::pending() const {
	return static_cast<int>(entries_.size());
}

void presentation_log::handle_sync_output(entry *e, wl_output *output) {
	frames_[e->index].sync_outputs++;
	frames_[e->index].synced_output = output;
}

void presentation_log::handle_presented(entry *e, const presented_frame &f) {
	presented_frame &out = frames_[e->index];
	out.presented = true;
	out.when_ns = f.when_ns;
	out.tv_nsec = f.tv_nsec;
	out.refresh_ns = f.refresh_ns;
	out.seq = f.seq;
	out.flags = f.flags;
	out.done = true;
	finish(e);
}

void presentation_log::handle_discarded(entry *e) {
	frames_[e->index].done = true;
	finish(e);
}

void presentation_log::finish(entry *e) {
	// The feedback object is gone once presented or discarded came.
	wp_presentation_feedback_destroy(e->feedback);
	std::erase_if(entries_, [e](const std::unique_ptr<entry> &p) { return p.get() == e; });
}

} // namespace wlprime::clients
