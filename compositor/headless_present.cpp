#include "compositor/headless_present.hpp"

namespace wlprime {

headless_present::headless_present(wlr_output *output,
                                   std::function<void(headless_present *)> on_destroy)
    : output_(output), on_destroy_(std::move(on_destroy)) {
	commit_.connect(&output_->events.commit, [this](wlr_output_event_commit *event) {
		if ((event->committed & WLR_OUTPUT_STATE_BUFFER) == 0) {
			return;
		}
		// commit_seq counts this commit already: the feedback's number.
		commits_.push_back(output_->commit_seq);
		if (idle_ == nullptr) {
			idle_ = wl_event_loop_add_idle(wl_display_get_event_loop(output_->display),
			                               &headless_present::send, this);
		}
	});
	destroy_.connect(&output_->events.destroy, [this] { on_destroy_(this); });
}

headless_present::~headless_present() {
	if (idle_ != nullptr) {
		wl_event_source_remove(idle_);
	}
}

void headless_present::send(void *data) noexcept {
	auto *self = static_cast<headless_present *>(data);
	self->idle_ = nullptr;
	std::vector<uint32_t> commits;
	commits.swap(self->commits_);
	for (uint32_t seq : commits) {
		wlr_output_event_present event{};
		event.commit_seq = seq;
		event.presented = true;
		wlr_output_send_present(self->output_, &event);
	}
}

} // namespace wlprime
