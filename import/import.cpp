// SPDX-License-Identifier: MIT
#include "import.hpp"

#include <cassert>

#include <drm_fourcc.h>

#include "formats.hpp"
#include "import_cache.hpp"
#include "log.hpp"

namespace wlprime {

size_t import_key_hash::operator()(const import_key &key) const noexcept {
	// FNV-1a over the fields that differ between buffers.
	uint64_t h = 0xcbf29ce484222325ull;
	auto mix = [&h](uint64_t v) {
		h ^= v;
		h *= 0x100000001b3ull;
	};
	mix(key.format);
	mix(key.modifier);
	mix((uint64_t(uint32_t(key.width)) << 32) | uint32_t(key.height));
	mix((uint64_t(key.flags) << 32) | key.n_planes);
	for (uint32_t i = 0; i < key.n_planes && i < max_dmabuf_planes; i++) {
		mix(key.planes[i].id.ino);
		mix(key.planes[i].id.dev);
		mix((uint64_t(key.planes[i].offset) << 32) | key.planes[i].stride);
	}
	return h;
}

uint32_t device_import::handle(uint32_t plane) const {
	return ok() ? refs_[plane_buffer_[plane]].handle() : 0;
}

scanout_verdict device_import::scanout() const {
	if (!ok())
		return {scanout_state::import_failed, error_.errnum, error_.message};
	if (fb_attempted_ && !fb_)
		return {scanout_state::framebuffer_failed, fb_error_.errnum, fb_error_.message};
	return display_;
}

void dmabuf_import::record_scanout(const device &device, const error *refusal) {
	for (device_import &d : devices_) {
		if (d.device_ != &device)
			continue;
		if (refusal)
			d.display_ = {scanout_state::refused, refusal->errnum, refusal->message};
		else
			d.display_ = {scanout_state::scans_out, 0, {}};
		return;
	}
}

dmabuf_import::dmabuf_import(import_cache *cache, uint64_t serial, import_key key)
    : cache_(cache), serial_(serial), key_(key) {}

dmabuf_import::~dmabuf_import() {
	assert(users_ == 0);
	if (cache_)
		for (const device_import &d : devices_)
			if (d.fb_)
				cache_->notify(
				    {import_event_kind::fb_removed, *this, d.device_, d.fb_.id()});
	import_log(log_level::debug, "import #%llu freed",
	           static_cast<unsigned long long>(serial_));
}

const dmabuf_id &dmabuf_import::buffer_id(uint32_t buffer) const {
	uint32_t p = 0;
	while (plane_buffer_[p] != buffer)
		p++;
	return key_.planes[p].id;
}

const device_import *dmabuf_import::find_device(const device &device) const {
	for (const device_import &d : devices_)
		if (d.device_ == &device)
			return &d;
	return nullptr;
}

const device_import &dmabuf_import::on_device(device &device) {
	if (const device_import *found = find_device(device)) {
		if (!found->ok() && cache_) {
			cache_->stats_.negative_hits++;
			cache_->notify({import_event_kind::negative_hit, *this, &device, 0,
			                found->error_.errnum, found->error_.message.c_str()});
		}
		return *found;
	}
	return import_into(device);
}

device_import &dmabuf_import::import_into(device &device) {
	for (device_import &d : devices_)
		if (d.device_ == &device)
			return d;

	device_import &d = devices_.emplace_back();
	d.device_ = &device;
	d.plane_buffer_ = plane_buffer_;
	if (cache_)
		cache_->stats_.device_imports++;
	for (uint32_t b = 0; b < n_buffers_; b++) {
		auto ref = device.handles().import_dmabuf(buffers_[b].get(), buffer_id(b));
		if (!ref) {
			d.refs_ = {};
			d.error_ =
			    error{"import #" + std::to_string(serial_) + ": " + ref.err().message,
			          ref.err().errnum};
			if (d.error_.errnum == 0)
				d.error_.errnum = EINVAL;
			if (cache_)
				cache_->stats_.device_failures++;
			import_log(log_level::error, "%s", d.error_.message.c_str());
			if (cache_)
				cache_->notify({import_event_kind::import_failed, *this, &device, 0,
				                d.error_.errnum, d.error_.message.c_str()});
			return d;
		}
		d.refs_[b] = std::move(*ref);
	}
	if (cache_)
		cache_->notify({import_event_kind::imported, *this, &device});
	if (log_enabled(log_level::info)) {
		std::string handles;
		for (uint32_t p = 0; p < key_.n_planes; p++)
			handles += (p ? "," : "") + std::to_string(d.handle(p));
		import_log(log_level::info, "import #%llu %s %dx%d %s on %s: handles %s",
		           static_cast<unsigned long long>(serial_),
		           format_name(key_.format).c_str(), key_.width, key_.height,
		           modifier_name(key_.modifier).c_str(), device.name().c_str(),
		           handles.c_str());
	}
	return d;
}

const device_import &dmabuf_import::fb_failed(device_import &d, const std::string &why,
                                              int errnum) {
	d.fb_error_ = error{"import #" + std::to_string(serial_) + ": " + why, errnum};
	if (cache_)
		cache_->stats_.framebuffer_failures++;
	import_log(log_level::error, "%s (errno %d)", d.fb_error_.message.c_str(), errnum);
	if (cache_)
		cache_->notify({import_event_kind::fb_failed, *this, d.device_, 0, errnum,
		                d.fb_error_.message.c_str()});
	return d;
}

const device_import &dmabuf_import::framebuffer_on(device &device) {
	device_import &d = import_into(device);
	if (d.fb_attempted_) {
		if (!d.fb_ && cache_)
			cache_->stats_.negative_hits++;
		return d;
	}
	d.fb_attempted_ = true;
	if (!d.ok()) {
		d.fb_error_ = d.error_; // logged by the import
		return d;
	}
	if (const implicit_layout *layout = implicit();
	    layout && !layout->linear && layout->exporter != device.info().rdev) {
		return fb_failed(d, "no framebuffer of an implicit-modifier buffer on " +
		                        device.name() + ", which did not export it: " + layout->why,
		                 EINVAL);
	}

	fb_request request;
	request.width = static_cast<uint32_t>(key_.width);
	request.height = static_cast<uint32_t>(key_.height);
	request.format = key_.format;
	for (uint32_t p = 0; p < key_.n_planes; p++) {
		request.handles[p] = d.handle(p);
		request.pitches[p] = key_.planes[p].stride;
		request.offsets[p] = key_.planes[p].offset;
	}
	request.modifier = key_.modifier;
	request.modifiers = device.info().fb_modifiers && key_.modifier != DRM_FORMAT_MOD_INVALID;

	auto fb = framebuffer::add(device, request);
	if (!fb) {
		return fb_failed(d, fb.err().message, fb.err().errnum);
	}
	d.fb_ = std::move(*fb);
	if (cache_) {
		cache_->stats_.framebuffers++;
		cache_->notify({import_event_kind::fb_created, *this, &device, d.fb_.id()});
	}
	import_log(log_level::info, "import #%llu: framebuffer %u on %s (%s %dx%d, %s%s)",
	           static_cast<unsigned long long>(serial_), d.fb_.id(), device.name().c_str(),
	           format_name(key_.format).c_str(), key_.width, key_.height,
	           modifier_name(key_.modifier).c_str(),
	           request.modifiers ? ", with modifier" : ", no modifier");
	return d;
}

result<const uint8_t *> dmabuf_import::map_plane(uint32_t plane) {
	if (plane >= key_.n_planes)
		return error{"import #" + std::to_string(serial_) + " has no plane " +
		                 std::to_string(plane),
		             EINVAL};
	if (!cpu_error_) {
		if (auto why = check_cpu_layout()) {
			cpu_error_ = std::move(*why);
			import_log(log_level::error, "%s", cpu_error_->message.c_str());
		}
	}
	if (cpu_error_)
		return *cpu_error_;
	uint32_t b = plane_buffer_[plane];
	if (!mappings_[b].mapped()) {
		auto m = dmabuf_mapping::map(buffers_[b].get(), buffer_sizes_[b]);
		if (!m)
			return error{"import #" + std::to_string(serial_) + ": " + m.err().message,
			             m.err().errnum};
		mappings_[b] = std::move(*m);
		if (cache_) {
			cache_->stats_.mappings++;
			cache_->notify({import_event_kind::mapped, *this});
		}
	}
	return mappings_[b].data() + key_.planes[plane].offset;
}

const implicit_layout *dmabuf_import::implicit() const {
	if (key_.modifier != DRM_FORMAT_MOD_INVALID)
		return nullptr;
	if (!implicit_) {
		if (!cache_ || cache_->devices_.empty()) {
			implicit_ = implicit_layout{};
			implicit_->why = "no device to read its exporter through";
		} else if (auto name = cache_->devices_.front()->kernel().dmabuf_exporter(
		               buffers_[0].get())) {
			implicit_ = resolve_implicit_layout(*name, cache_->devices_);
		} else {
			implicit_ = implicit_layout{};
			implicit_->why = "its exporter is unknown: " + name.err().message;
		}
		import_log(
		    log_level::info, "import #%llu: implicit modifier, exporter \"%s\": %s%s",
		    static_cast<unsigned long long>(serial_), implicit_->exporter_name.c_str(),
		    implicit_->linear ? "linear layout" : "layout unknown: ",
		    implicit_->why.c_str());
	}
	return &*implicit_;
}

std::optional<error> dmabuf_import::check_cpu_layout() const {
	const std::string who = "import #" + std::to_string(serial_) + ": no CPU read of " +
	                        format_name(key_.format) + " " + modifier_name(key_.modifier);
	if (key_.modifier != DRM_FORMAT_MOD_LINEAR && key_.modifier != DRM_FORMAT_MOD_INVALID)
		return error{who + ": a tiled layout is not linear", EINVAL};
	if (const implicit_layout *layout = implicit(); layout && !layout->linear)
		return error{who + ": " + layout->why, EINVAL};
	const format_info *info = lookup_format(key_.format);
	if (!info || key_.n_planes != info->planes)
		return error{who + ": no layout description for " + std::to_string(key_.n_planes) +
		                 " planes",
		             EINVAL};
	// Validation checked this against the same rule; checked again against
	// the sizes the mappings will have, so that no Import, however made,
	// is read outside its mapping.
	for (uint32_t p = 0; p < key_.n_planes; p++)
		if (auto why =
		        check_plane_bounds(*info, p, uint32_t(key_.width), uint32_t(key_.height),
		                           key_.planes[p].offset, key_.planes[p].stride,
		                           buffer_sizes_[plane_buffer_[p]]))
			return error{who + ": " + *why, ERANGE};
	return std::nullopt;
}

status dmabuf_import::begin_read() {
	for (uint32_t b = 0; b < n_buffers_; b++)
		if (auto s = dmabuf_mapping::begin_read(buffers_[b].get()); !s)
			return s;
	return done{};
}

status dmabuf_import::end_read() {
	status result = done{};
	for (uint32_t b = 0; b < n_buffers_; b++)
		if (auto s = dmabuf_mapping::end_read(buffers_[b].get()); !s)
			result = s;
	return result;
}

uint32_t dmabuf_import::mapped_count() const {
	uint32_t n = 0;
	for (uint32_t b = 0; b < n_buffers_; b++)
		n += mappings_[b].mapped();
	return n;
}

import_ref::import_ref(dmabuf_import *import) : import_(import) {
	if (import_)
		import_->users_++;
}

import_ref::import_ref(const import_ref &other) : import_ref(other.import_) {}

import_ref &import_ref::operator=(const import_ref &other) {
	if (this != &other) {
		import_ref copy(other);
		*this = std::move(copy);
	}
	return *this;
}

import_ref &import_ref::operator=(import_ref &&other) noexcept {
	if (this != &other) {
		reset();
		import_ = std::exchange(other.import_, nullptr);
	}
	return *this;
}

void import_ref::reset() {
	dmabuf_import *import = std::exchange(import_, nullptr);
	if (!import)
		return;
	assert(import->users_ > 0);
	if (--import->users_ > 0)
		return;
	import->attachment_.reset(); // idle: only what makes a revival free stays
	if (import->cache_)
		import->cache_->unreferenced(import);
	else
		delete import; // orphan: its cache is gone
}

} // namespace wlprime
