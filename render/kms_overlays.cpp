// kms_overlays.cpp: overlay planes assigned by libliftoff (see
// kms_overlays.hpp).

#include "render/kms_overlays.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <xf86drmMode.h>

extern "C" { // libliftoff 0.3's header has no C++ guard
#include <libliftoff.h>
}

#include "render/kms_props.hpp"
#include "render/wlr.hpp"

namespace wlprime {
namespace {

void liftoff_to_wlr_log(enum liftoff_log_priority priority, const char *fmt, va_list args) {
	_wlr_vlog(priority == LIFTOFF_ERROR ? WLR_ERROR : WLR_DEBUG, fmt, args);
}

// The request as libdrm takes it; null (logged) when it cannot be made.
drmModeAtomicReq *to_libdrm(const atomic_request &request) {
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	if (req == nullptr) {
		return nullptr;
	}
	for (const atomic_prop &p : request.props()) {
		if (drmModeAtomicAddProperty(req, p.object, p.property, p.value) < 0) {
			drmModeAtomicFree(req);
			return nullptr;
		}
	}
	return req;
}

} // namespace

std::unique_ptr<kms_overlays> kms_overlays::create(device &dev, const kms_planes &planes) {
	size_t overlays =
	    std::count_if(planes.planes().begin(), planes.planes().end(),
	                  [](const kms_plane &p) { return p.type == DRM_PLANE_TYPE_OVERLAY; });
	if (overlays == 0) {
		return nullptr;
	}
	liftoff_log_set_handler(liftoff_to_wlr_log);
	liftoff_log_set_priority(LIFTOFF_ERROR);
	int fd = fcntl(dev.fd(), F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;
		wlr_log(WLR_ERROR, "%s: overlay planes not used: dup of its fd: %s (errno %d)",
		        dev.name().c_str(), std::strerror(err), err);
		return nullptr;
	}
	liftoff_device *lo = liftoff_device_create(fd); // owns fd, even on failure
	if (lo == nullptr) {
		wlr_log(WLR_ERROR, "%s: overlay planes not used: libliftoff cannot open the device",
		        dev.name().c_str());
		return nullptr;
	}
	std::unique_ptr<kms_overlays> self(new kms_overlays(dev, lo));
	for (const kms_plane &p : planes.planes()) {
		if (p.type != DRM_PLANE_TYPE_OVERLAY) {
			continue;
		}
		std::optional<kms_plane_props> props =
		    kms_find_plane_props(dev.fd(), p.id, dev.name().c_str(), "overlay");
		if (!props) {
			continue; // (logged) not used
		}
		registered r{&p, *props};
		if (p.formats_error) {
			continue; // its formats cannot be known (logged by kms_planes)
		}
		if (liftoff_plane_create(lo, p.id) == nullptr) {
			wlr_log(WLR_ERROR,
			        "%s: libliftoff cannot register overlay plane %u: not used",
			        dev.name().c_str(), p.id);
			continue;
		}
		self->planes_.push_back(r);
	}
	if (self->planes_.empty()) {
		return nullptr;
	}
	wlr_log(WLR_INFO, "%s: %zu overlay planes, assigned by libliftoff", dev.name().c_str(),
	        self->planes_.size());
	return self;
}

kms_overlays::~kms_overlays() {
	for (auto &[crtc, out] : outputs_) {
		for (auto &[id, layer] : out.layers) {
			liftoff_layer_destroy(layer);
		}
		liftoff_output_destroy(out.output);
	}
	liftoff_device_destroy(device_); // closes its dup
}

std::vector<const kms_plane *> kms_overlays::planes_for(int crtc_index) const {
	std::vector<const kms_plane *> out;
	for (const registered &r : planes_) {
		if (crtc_index >= 0 && (r.plane->possible_crtcs & (1u << crtc_index))) {
			out.push_back(r.plane);
		}
	}
	return out;
}

kms_overlays::output_layers *kms_overlays::output_of(uint32_t crtc_id) {
	auto it = outputs_.find(crtc_id);
	if (it != outputs_.end()) {
		return &it->second;
	}
	liftoff_output *lo = liftoff_output_create(device_, crtc_id);
	if (lo == nullptr) {
		wlr_log(WLR_ERROR, "%s: libliftoff has no output for CRTC %u", dev_.name().c_str(),
		        crtc_id);
		return nullptr;
	}
	return &outputs_.emplace(crtc_id, output_layers{lo, {}}).first->second;
}

const kms_overlays::registered *kms_overlays::find(uint32_t plane_id) const {
	for (const registered &r : planes_) {
		if (r.plane->id == plane_id) {
			return &r;
		}
	}
	return nullptr;
}

std::vector<uint32_t> kms_overlays::assign(uint32_t crtc_id,
                                           const std::vector<overlay_layer> &layers,
                                           const atomic_request &base, uint32_t flags) {
	std::vector<uint32_t> planes(layers.size(), 0);
	output_layers *out = output_of(crtc_id);
	if (out == nullptr) {
		return planes;
	}
	// Layers of candidates that are gone go; the others are kept (and
	// libliftoff with them its last allocation).
	for (auto it = out->layers.begin(); it != out->layers.end();) {
		bool wanted =
		    std::any_of(layers.begin(), layers.end(),
		                [&](const overlay_layer &l) { return l.id == it->first; });
		if (wanted) {
			++it;
		} else {
			liftoff_layer_destroy(it->second);
			it = out->layers.erase(it);
		}
	}
	if (layers.empty()) {
		return planes; // nothing to test: the commit turns the lit planes off
	}
	std::vector<liftoff_layer *> made;
	for (const overlay_layer &l : layers) {
		liftoff_layer *&layer = out->layers[l.id];
		if (layer == nullptr) {
			layer = liftoff_layer_create(out->output);
		}
		made.push_back(layer);
		if (layer == nullptr) {
			continue;
		}
		const plane_rect &r = l.rect;
		liftoff_layer_set_property(layer, "FB_ID", l.fb_id);
		liftoff_layer_set_property(layer, "CRTC_X",
		                           static_cast<uint64_t>(static_cast<int64_t>(r.x)));
		liftoff_layer_set_property(layer, "CRTC_Y",
		                           static_cast<uint64_t>(static_cast<int64_t>(r.y)));
		liftoff_layer_set_property(layer, "CRTC_W", r.width);
		liftoff_layer_set_property(layer, "CRTC_H", r.height);
		liftoff_layer_set_property(layer, "SRC_X", uint64_t(r.src_x) << 16);
		liftoff_layer_set_property(layer, "SRC_Y", uint64_t(r.src_y) << 16);
		liftoff_layer_set_property(layer, "SRC_W", uint64_t(r.src_width) << 16);
		liftoff_layer_set_property(layer, "SRC_H", uint64_t(r.src_height) << 16);
	}
	drmModeAtomicReq *req = to_libdrm(base);
	if (req == nullptr) {
		wlr_log(WLR_ERROR,
		        "%s: CRTC %u: no memory for a test request: every window composed",
		        dev_.name().c_str(), crtc_id);
		return planes;
	}
	int ret = liftoff_output_apply(out->output, req, flags);
	drmModeAtomicFree(req);
	if (ret != 0) {
		wlr_log(WLR_ERROR, "%s: CRTC %u: libliftoff could not assign planes: %s (errno %d)",
		        dev_.name().c_str(), crtc_id, std::strerror(-ret), -ret);
		return planes;
	}
	for (size_t i = 0; i < layers.size(); i++) {
		if (made[i] != nullptr) {
			if (liftoff_plane *p = liftoff_layer_get_plane(made[i])) {
				planes[i] = liftoff_plane_get_id(p);
			}
		}
	}
	return planes;
}

void kms_overlays::add_state(atomic_request &req, uint32_t crtc_id,
                             const std::vector<overlay_plane_use> &shown,
                             const std::vector<overlay_plane_use> &lit) const {
	for (const overlay_plane_use &u : shown) {
		const registered *r = find(u.plane_id);
		if (r == nullptr) {
			req.add(u.plane_id, 0, 0); // not ours: the request becomes invalid
			continue;
		}
		add_plane_state(req, u.plane_id, r->props, u.fb_id, crtc_id, u.rect);
	}
	for (const overlay_plane_use &u : lit) {
		bool kept =
		    std::any_of(shown.begin(), shown.end(), [&](const overlay_plane_use &s) {
			    return s.plane_id == u.plane_id;
		    });
		const registered *r = find(u.plane_id);
		if (!kept && r != nullptr) {
			req.add(u.plane_id, r->props.fb_id, 0);
			req.add(u.plane_id, r->props.crtc_id, 0);
		}
	}
}

void kms_overlays::drop_output(uint32_t crtc_id) {
	auto it = outputs_.find(crtc_id);
	if (it == outputs_.end()) {
		return;
	}
	for (auto &[id, layer] : it->second.layers) {
		liftoff_layer_destroy(layer);
	}
	liftoff_output_destroy(it->second.output);
	outputs_.erase(it);
}

} // namespace wlprime
