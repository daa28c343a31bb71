#include "compositor/import_context.hpp"

#include <chrono>
#include <cstdarg>
#include <string>

#include "import/log.hpp"
#include "render/wlr.hpp"

namespace wlprime {
namespace {

// import/ logs through wlr_log, at the same verbosity.
void import_log_to_wlr(log_level level, const char *fmt, va_list args) {
	wlr_log_importance importance = level == log_level::error  ? WLR_ERROR
	                                : level == log_level::info ? WLR_INFO
	                                                           : WLR_DEBUG;
	_wlr_vlog(importance, fmt, args);
}

void log_totals(const ioctl_counts &n) {
	using std::to_string;
	const std::string totals =
	    "FD_TO_HANDLE " + to_string(n.fd_to_handle) + ", HANDLE_TO_FD " +
	    to_string(n.handle_to_fd) + ", ADDFB2 " + to_string(n.add_fb) + ", RMFB/CLOSEFB " +
	    to_string(n.remove_fb) + ", GEM_CLOSE " + to_string(n.gem_close) +
	    "; KMS: atomic commits " + to_string(n.atomic_commits) + ", TEST_ONLY " +
	    to_string(n.atomic_tests) + ", CREATE_DUMB " + to_string(n.create_dumb) +
	    ", MAP_DUMB " + to_string(n.map_dumb) + ", DESTROY_DUMB " + to_string(n.destroy_dumb);
	wlr_log(WLR_INFO, "import subsystem ioctls in all: %s", totals.c_str());
}

} // namespace

result<std::unique_ptr<import_context>> import_context::create(const config &cfg,
                                                               kernel_api *kernel) {
	set_log_handler(import_log_to_wlr, cfg.verbosity >= 2   ? log_level::debug
	                                   : cfg.verbosity == 1 ? log_level::info
	                                                        : log_level::error);
	std::unique_ptr<import_context> ctx(new import_context());
	if (kernel == nullptr) {
		ctx->real_kernel_ = std::make_unique<linux_kernel>();
		kernel = ctx->real_kernel_.get();
	}
	if (cfg.inject_faults) {
		auto rules = parse_fault_rules(*cfg.inject_faults);
		if (!rules) {
			return error{"WLPRIME_INJECT_FAULTS: " + rules.err().message, EINVAL};
		}
		for (const fault_rule &r : *rules) {
			wlr_log(WLR_ERROR, "fault injection (WLPRIME_INJECT_FAULTS): %s",
			        r.text.c_str());
		}
		ctx->faults_ = std::make_unique<fault_kernel>(*kernel, std::move(*rules));
		kernel = ctx->faults_.get();
	}
	ctx->counts_ = std::make_unique<counting_kernel>(*kernel);
	ctx->totals_.kernel = ctx->counts_.get();
	ctx->totals_.faults = ctx->faults_.get();
	ctx->cache_ = std::make_unique<import_cache>();
	ctx->buffers_ = std::make_unique<buffer_registry>();
	if (cfg.trace_path) {
		auto trace = trace_writer::open(*cfg.trace_path);
		if (!trace) {
			return trace.err();
		}
		trace_writer *writer = trace->get();
		ctx->trace_ = std::move(*trace);
		ctx->cache_->set_observer(
		    [writer](const import_event &event) { writer->import_event(event); });
		ctx->buffers_->on_release = [writer](const dmabuf_buffer &buffer) {
			writer->release(buffer);
		};
	}
	return ctx;
}

import_context::totals_log::~totals_log() {
	if (kernel != nullptr) {
		log_totals(kernel->counts());
	}
	if (faults != nullptr) {
		for (const fault_rule &r : faults->rules()) {
			wlr_log(WLR_INFO,
			        "fault injection: rule %s: %llu calls matched, %llu failed",
			        r.text.c_str(), static_cast<unsigned long long>(r.matched),
			        static_cast<unsigned long long>(r.injected));
		}
	}
}

import_context::~import_context() = default;

result<device *> import_context::open_main(const std::string &path) {
	auto dev = device::open(*counts_, path);
	if (!dev) {
		return error{"main DRM device: " + dev.err().message, dev.err().errnum};
	}
	main_ = std::move(*dev);
	cache_->add_device(*main_);
	return main_.get();
}

device &import_context::add_display(std::unique_ptr<device> dev) {
	displays_.push_back(std::move(dev));
	cache_->add_device(*displays_.back());
	return *displays_.back();
}

void import_context::stop_trim() {
	if (trim_timer_ != nullptr) {
		wl_event_source_remove(trim_timer_);
		trim_timer_ = nullptr;
	}
}

void import_context::start_trim(wl_event_loop *loop) {
	if (trim_timer_ != nullptr) {
		return;
	}
	trim_timer_ = wl_event_loop_add_timer(
	    loop,
	    [](void *data) noexcept -> int {
		    auto *self = static_cast<import_context *>(data);
		    self->cache_->trim(std::chrono::seconds(30));
		    wl_event_source_timer_update(self->trim_timer_, 5000);
		    return 0;
	    },
	    this);
	if (trim_timer_ != nullptr) {
		wl_event_source_timer_update(trim_timer_, 5000);
	}
}

} // namespace wlprime
