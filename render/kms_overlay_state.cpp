// kms_overlay_state.cpp: windows on a KMS output's overlay planes: the
// assignment (kms_overlays.hpp does libliftoff), the plane state of a commit,
// overlay-only commits, and what the planes show (see kms_backend.hpp).

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "render/buffer_import.hpp"
#include "render/kms_internal.hpp"

namespace wlprime {
namespace {

std::vector<overlay_plane_use> lit_uses(const kms_output &out) {
	std::vector<overlay_plane_use> lit;
	for (const overlay_slot &s : out.overlays_on_screen) {
		lit.push_back(s.use);
	}
	if (out.overlays_queued) {
		for (const overlay_slot &s : *out.overlays_queued) {
			lit.push_back(s.use);
		}
	}
	return lit;
}

bool plane_takes(const kms_plane &plane, uint32_t format, uint64_t modifier) {
	if (plane.formats.contains(format, modifier)) {
		return true;
	}
	// An implicit modifier is scanned out as the driver's default: linear
	// on the devices wlprime can import implicit buffers for.
	return modifier == DRM_FORMAT_MOD_INVALID &&
	       plane.formats.contains(format, DRM_FORMAT_MOD_LINEAR);
}

overlay_verdict composed(std::string why, int err = 0) {
	overlay_verdict v;
	v.reason = std::move(why);
	v.err = err;
	return v;
}

} // namespace

void add_overlay_state(atomic_request &req, const kms_output &out, bool all_off) {
	if (!out.dev->overlays) {
		return;
	}
	std::vector<overlay_plane_use> shown;
	if (!all_off) {
		for (const overlay_slot &s : out.overlays_pending) {
			shown.push_back(s.use);
		}
	}
	out.dev->overlays->add_state(req, out.crtc_id, shown, lit_uses(out));
}

void overlays_committed(kms_output &out) {
	out.overlays_queued = std::move(out.overlays_pending);
	out.overlays_pending.clear();
	out.stats.overlay_buffers += out.overlays_queued->size();
}

void overlays_reset(kms_output &out) {
	out.overlays_on_screen.clear();
	out.overlays_queued.reset();
	out.overlays_pending.clear();
}

size_t kms_output_overlay_planes(wlr_output *output) {
	const kms_output *out = kms_output_of(output);
	if (out == nullptr || !out->dev->overlays) {
		return 0;
	}
	return out->dev->overlays->planes_for(out->crtc_index).size();
}

std::vector<overlay_verdict>
kms_output_assign_overlays(wlr_output *output, const std::vector<overlay_candidate> &candidates) {
	std::vector<overlay_verdict> verdicts(candidates.size());
	kms_output *found = kms_output_of(output);
	if (found == nullptr) {
		return verdicts;
	}
	kms_output &out = *found;
	out.overlays_pending.clear();
	kms_overlays *overlays = out.dev->overlays.get();
	const std::string &dev_name = out.dev->dev.name();
	std::vector<const kms_plane *> planes = overlays != nullptr
	                                            ? overlays->planes_for(out.crtc_index)
	                                            : std::vector<const kms_plane *>{};
	// The composed frame the planes go over: the one queued, else the one
	// on screen (the commit brings a new one of the same size and format).
	const scanout_slot &primary = out.queued ? out.queued : out.on_screen;
	std::string all_composed;
	if (planes.empty()) {
		all_composed =
		    dev_name + " has no overlay plane for CRTC " + std::to_string(out.crtc_id);
	} else if (out.dev->backend->paused) {
		all_composed = "the session is inactive";
	} else if (!out.active || !primary) {
		all_composed = "output " + std::string(output->name) + " is not lit yet";
	}
	std::vector<overlay_layer> layers;
	std::vector<size_t> layer_of; // candidate index of each layer
	std::vector<scanout_slot> slots;
	for (size_t i = 0; i < candidates.size(); i++) {
		const overlay_candidate &c = candidates[i];
		overlay_verdict &v = verdicts[i];
		dmabuf_import *import = import_of(c.buffer);
		if (import == nullptr) {
			v = composed("not a dma-buf (wl_shm, or its wl_buffer is gone)");
			continue;
		}
		v.import = import->serial();
		if (!all_composed.empty()) {
			v.reason = all_composed;
			continue;
		}
		const import_key &key = import->key();
		if (key.flags & dmabuf_flag_y_invert) {
			v.reason =
			    "y_invert: the overlay planes of " + dev_name + " are not reflected";
			continue;
		}
		bool taken = std::any_of(planes.begin(), planes.end(), [&](const kms_plane *p) {
			return plane_takes(*p, key.format, key.modifier);
		});
		if (!taken) {
			v.reason = "no overlay plane of " + dev_name + " takes " +
			           format_name(key.format) + " with " + modifier_name(key.modifier);
			continue;
		}
		auto slot = scanout_of(out, c.buffer);
		if (!slot) {
			v.reason = "no framebuffer on " + dev_name + ": " + slot.err().message;
			v.err = slot.err().errnum;
			continue;
		}
		v.fb_id = slot->fb_id;
		layers.push_back({c.id, slot->fb_id, c.rect});
		layer_of.push_back(i);
		slots.push_back(std::move(*slot));
	}
	if (layers.empty()) {
		if (overlays != nullptr) {
			overlays->assign(out.crtc_id, layers, atomic_request{},
			                 0); // drops old layers
		}
		return verdicts;
	}
	atomic_request base;
	add_output_state(base, out, primary.fb_id, false);
	std::vector<uint32_t> assigned =
	    overlays->assign(out.crtc_id, layers, base, DRM_MODE_ATOMIC_NONBLOCK);
	for (size_t l = 0; l < layers.size(); l++) {
		overlay_verdict &v = verdicts[layer_of[l]];
		if (assigned[l] == 0) {
			v.reason =
			    "libliftoff found no plane for it: " + std::to_string(planes.size()) +
			    " overlay planes of " + dev_name +
			    ", every TEST_ONLY commit of it on a free one refused";
			continue;
		}
		v.plane_id = assigned[l];
		overlay_slot s;
		s.use = {assigned[l], layers[l].id, layers[l].fb_id, layers[l].rect};
		s.slot = std::move(slots[l]);
		out.overlays_pending.push_back(std::move(s));
	}
	return verdicts;
}

bool kms_output_commit_planes(wlr_output *output) {
	kms_output *found = kms_output_of(output);
	if (found == nullptr) {
		return false;
	}
	kms_output &out = *found;
	if ((!out.dev->overlays && out.cursor.plane_id == 0) || out.dev->backend->paused ||
	    !out.active || out.flip_pending) {
		return false;
	}
	// What the overlay planes will show after the flips already done or
	// queued: the same again, and the cursor as it is, is no commit.
	const std::vector<overlay_slot> &latest =
	    out.overlays_queued ? *out.overlays_queued : out.overlays_on_screen;
	bool same = latest.size() == out.overlays_pending.size() &&
	            std::equal(latest.begin(), latest.end(), out.overlays_pending.begin(),
	                       [](const overlay_slot &a, const overlay_slot &b) {
		                       return a.use.plane_id == b.use.plane_id &&
		                              a.use.fb_id == b.use.fb_id &&
		                              a.use.rect == b.use.rect;
	                       });
	if (same && !out.cursor.dirty) {
		out.overlays_pending.clear();
		return false;
	}
	atomic_request req;
	if (!same) {
		add_overlay_state(req, out);
	}
	add_cursor_state(req, out);
	if (req.empty()) { // an image hidden before it was ever shown: nothing to do
		cursor_committed(out);
		return false;
	}
	int err = out.dev->dev.kernel().atomic_commit(
	    out.dev->dev.fd(), req, DRM_MODE_PAGE_FLIP_EVENT | DRM_MODE_ATOMIC_NONBLOCK, out.dev);
	if (err != 0) {
		wlr_log(WLR_ERROR, "output %s: atomic commit of its planes on %s: %s (errno %d)",
		        output->name, out.dev->dev.name().c_str(), std::strerror(err), err);
		out.overlays_pending.clear();
		return false;
	}
	if (!same) {
		overlays_committed(out);
		out.stats.overlay_commits++;
	} else {
		out.overlays_pending.clear();
	}
	cursor_committed(out);
	out.flip_pending = true;
	wlr_log(
	    WLR_DEBUG, "output %s: plane commit: %s", output->name,
	    same ? "the cursor"
	         : (std::to_string(out.overlays_queued->size()) + " overlay planes lit").c_str());
	return true;
}

format_set kms_output_overlay_formats(wlr_output *output, uint32_t plane_id) {
	format_set formats;
	const kms_output *out = kms_output_of(output);
	if (out == nullptr || !out->dev->overlays) {
		return formats;
	}
	for (const kms_plane *p : out->dev->overlays->planes_for(out->crtc_index)) {
		if (plane_id == 0 || p->id == plane_id) {
			for (const auto &[format, modifier] : p->formats.pairs()) {
				if (!formats.contains(format, modifier)) {
					formats.add(format, modifier);
				}
			}
		}
	}
	return formats;
}

bool kms_output_wants_buffer_commit(wlr_output *output) {
	const kms_output *out = kms_output_of(output);
	return out != nullptr && out->dev->writeback &&
	       out->dev->writeback->wants_commit(out->crtc_id);
}

bool kms_output_wait_writeback(wlr_output *output) {
	kms_output *out = kms_output_of(output);
	if (out == nullptr || !out->dev->writeback || !out->dev->writeback->busy(out->crtc_id)) {
		return false;
	}
	kms_device *kdev = out->dev;
	uint32_t crtc = out->crtc_id;
	kdev->writeback->when_idle(crtc, [kdev, crtc]() {
		for (kms_output *o : kdev->outputs) { // by CRTC: the output may be gone
			if (o->crtc_id == crtc) {
				wlr_output_schedule_frame(o->base());
			}
		}
	});
	return true;
}

bool kms_output_flip_pending(wlr_output *output) {
	const kms_output *out = kms_output_of(output);
	return out != nullptr && out->flip_pending;
}

std::vector<kms_overlay_shown> kms_output_get_overlays(wlr_output *output) {
	std::vector<kms_overlay_shown> shown;
	const kms_output *out = kms_output_of(output);
	if (out == nullptr) {
		return shown;
	}
	auto add = [&](const std::vector<overlay_slot> &slots, bool on_screen) {
		for (const overlay_slot &s : slots) {
			shown.push_back({s.use.plane_id, s.use.fb_id,
			                 s.slot.import ? s.slot.import->serial() : 0,
			                 s.use.layer_id, s.use.rect, on_screen});
		}
	};
	add(out->overlays_on_screen, true);
	if (out->overlays_queued) {
		add(*out->overlays_queued, false);
	}
	return shown;
}

} // namespace wlprime
