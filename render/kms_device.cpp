// kms_device.cpp: setting up the KMS backend's devices: outputs from their
// connectors, CRTCs and plane inventory; the wlr_backend; teardown (see
// kms_backend.hpp and kms_internal.hpp).

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/sysmacros.h>

#include "import/drm_nodes.hpp"
#include "render/kms_internal.hpp"
#include "render/kms_props.hpp"

namespace wlprime {
namespace {

bool backend_start(wlr_backend *backend) noexcept;
void backend_destroy(wlr_backend *backend) noexcept;

clockid_t backend_clock(wlr_backend *) noexcept {
	return CLOCK_MONOTONIC;
}
uint32_t backend_caps(wlr_backend *) noexcept {
	return WLR_BUFFER_CAP_DMABUF;
}

// No session (compositor/session.hpp has it) and no DRM fd for wlroots'
// renderer: those members stay null.
const wlr_backend_impl backend_impl = {.start = backend_start,
                                       .destroy = backend_destroy,
                                       .get_presentation_clock = backend_clock,
                                       .get_buffer_caps = backend_caps};

int32_t mode_refresh_mhz(const drmModeModeInfo &m) {
	if (m.htotal == 0 || m.vtotal == 0) {
		return 0;
	}
	int64_t refresh = (int64_t(m.clock) * 1000000 / m.htotal + m.vtotal / 2) / m.vtotal;
	if (m.flags & DRM_MODE_FLAG_INTERLACE) {
		refresh *= 2;
	}
	if (m.flags & DRM_MODE_FLAG_DBLSCAN) {
		refresh /= 2;
	}
	if (m.vscan > 1) {
		refresh /= m.vscan;
	}
	return static_cast<int32_t>(refresh);
}

// Looks up one property; false (logged) if it is absent or cannot be read.
bool find_prop(const device &dev, uint32_t &id, uint32_t object, uint32_t type, const char *what,
               const char *name) {
	id = kms_prop_id(dev.fd(), object, type, name);
	if (id == 0) {
		wlr_log(WLR_ERROR, "%s: %s %u has no property %s (or it cannot be read)",
		        dev.name().c_str(), what, object, name);
		return false;
	}
	return true;
}

// Looks up the atomic property ids of out (connector, CRTC, primary plane).
// False, with the missing one logged, if any is absent or cannot be read.
bool find_output_props(const device &dev, kms_output &out) {
	prop_ids &p = out.props;
	bool ok = find_prop(dev, p.conn_crtc_id, out.connector_id, DRM_MODE_OBJECT_CONNECTOR,
	                    "connector", "CRTC_ID");
	ok = find_prop(dev, p.crtc_mode_id, out.crtc_id, DRM_MODE_OBJECT_CRTC, "CRTC", "MODE_ID") &&
	     ok;
	ok = find_prop(dev, p.crtc_active, out.crtc_id, DRM_MODE_OBJECT_CRTC, "CRTC", "ACTIVE") &&
	     ok;
	std::optional<kms_plane_props> plane =
	    kms_find_plane_props(dev.fd(), out.plane_id, dev.name().c_str(), "primary");
	if (!plane) {
		return false;
	}
	p.plane = *plane;
	return ok;
}

// The outputs of one device: every connected connector with a CRTC and a
// primary plane to spare.
status create_outputs(kms_backend &backend, kms_device &kdev) {
	int fd = kdev.dev.fd();
	drmModeRes *res = drmModeGetResources(fd);
	if (res == nullptr) {
		int err = errno;
		return error{kdev.dev.name() + ": not a KMS device (drmModeGetResources: " +
		                 std::strerror(err) + ")",
		             err};
	}
	std::vector<uint32_t> crtcs_taken;
	for (int c = 0; c < res->count_connectors; c++) {
		drmModeConnector *conn = drmModeGetConnector(fd, res->connectors[c]);
		if (conn == nullptr) {
			int err = errno;
			wlr_log(WLR_ERROR, "%s: drmModeGetConnector(%u): %s (errno %d)",
			        kdev.dev.name().c_str(), res->connectors[c], std::strerror(err),
			        err);
			continue;
		}
		if (conn->connection != DRM_MODE_CONNECTED || conn->count_modes == 0 ||
		    conn->connector_type == DRM_MODE_CONNECTOR_WRITEBACK) {
			drmModeFreeConnector(conn);
			continue;
		}
		// A CRTC that one of the connector's encoders can drive.
		int crtc_index = -1;
		for (int e = 0; e < conn->count_encoders && crtc_index < 0; e++) {
			drmModeEncoder *enc = drmModeGetEncoder(fd, conn->encoders[e]);
			if (enc == nullptr) {
				int err = errno;
				wlr_log(WLR_ERROR, "%s: drmModeGetEncoder(%u): %s (errno %d)",
				        kdev.dev.name().c_str(), conn->encoders[e],
				        std::strerror(err), err);
				continue;
			}
			for (int i = 0; i < res->count_crtcs && crtc_index < 0; i++) {
				if ((enc->possible_crtcs & (1u << i)) &&
				    std::find(crtcs_taken.begin(), crtcs_taken.end(),
				              res->crtcs[i]) == crtcs_taken.end()) {
					crtc_index = i;
				}
			}
			drmModeFreeEncoder(enc);
		}
		const kms_plane *primary =
		    kdev.planes.free_plane(DRM_PLANE_TYPE_PRIMARY, crtc_index);
		uint32_t plane = primary != nullptr ? primary->id : 0;
		if (plane == 0) {
			wlr_log(WLR_ERROR, "%s: connector %u: no free CRTC with a primary plane",
			        kdev.dev.name().c_str(), conn->connector_id);
			drmModeFreeConnector(conn);
			continue;
		}

		auto out = std::make_unique<kms_output>();
		out->wlr_.owner = out.get();
		out->dev = &kdev;
		out->connector_id = conn->connector_id;
		out->crtc_id = res->crtcs[crtc_index];
		out->crtc_index = crtc_index;
		out->plane_id = plane;
		int preferred = 0;
		for (int m = 0; m < conn->count_modes; m++) {
			if (conn->modes[m].type & DRM_MODE_TYPE_PREFERRED) {
				preferred = m;
				break;
			}
		}
		out->mode = conn->modes[preferred];
		if (!find_output_props(kdev.dev, *out)) {
			wlr_log(WLR_ERROR, "%s: connector %u: not driven (a property is missing)",
			        kdev.dev.name().c_str(), conn->connector_id);
			drmModeFreeConnector(conn);
			continue;
		}
		if (drmModeCreatePropertyBlob(fd, &out->mode, sizeof(out->mode), &out->mode_blob) !=
		    0) {
			int err = errno;
			wlr_log(WLR_ERROR,
			        "%s: connector %u: mode blob of %s: %s (errno %d); not driven",
			        kdev.dev.name().c_str(), conn->connector_id, out->mode.name,
			        std::strerror(err), err);
			out->mode_blob = 0;
			drmModeFreeConnector(conn);
			continue;
		}
		crtcs_taken.push_back(out->crtc_id);
		kdev.planes.use_for(plane, out->crtc_id);
		cursor_setup(*out);

		kms_output *raw = out.release(); // owned through its wlr_output from here
		wlr_output *o = raw->base();
		wlr_output_init(o, backend.base(), &kms_output_impl, backend.display);
		auto *mode = new wlr_output_mode();
		mode->width = raw->mode.hdisplay;
		mode->height = raw->mode.vdisplay;
		mode->refresh = mode_refresh_mhz(raw->mode);
		mode->preferred = true;
		wl_list_insert(&o->modes, &mode->link);
		raw->wlr_mode = mode;

		const char *type = drmModeGetConnectorTypeName(conn->connector_type);
		std::string name = std::string(type ? type : "Unknown") + "-" +
		                   std::to_string(conn->connector_type_id);
		for (auto &other : backend.devices) {
			for (kms_output *oo : other->outputs) {
				if (name == oo->base()->name) {
					name += "-" + std::to_string(minor(kdev.dev.info().rdev));
				}
			}
		}
		wlr_output_set_name(o, name.c_str());
		std::snprintf(o->make, sizeof(o->make), "%s", kdev.dev.info().driver.c_str());
		std::snprintf(o->model, sizeof(o->model), "%s", type ? type : "Unknown");
		std::string description =
		    kdev.dev.info().driver + " " + kdev.dev.info().path + " " + name;
		wlr_output_set_description(o, description.c_str());
		o->phys_width = static_cast<int32_t>(conn->mmWidth);
		o->phys_height = static_cast<int32_t>(conn->mmHeight);
		kdev.outputs.push_back(raw);
		wlr_log(WLR_INFO,
		        "%s: output %s: connector %u, CRTC %u, primary plane %u (%zu "
		        "format/modifier pairs), %dx%d",
		        kdev.dev.name().c_str(), name.c_str(), raw->connector_id, raw->crtc_id,
		        plane, primary->formats.pairs().size(), mode->width, mode->height);
		drmModeFreeConnector(conn);
	}
	drmModeFreeResources(res);
	if (kdev.outputs.empty()) {
		return error{kdev.dev.name() + ": no connected connector to drive", ENODEV};
	}
	return done{};
}

bool backend_start(wlr_backend *b) noexcept {
	kms_backend &backend = *kms_backend::from_wlr(b);
	if (backend.started) {
		return true;
	}
	backend.started = true;
	for (auto &kdev : backend.devices) {
		for (kms_output *out : kdev->outputs) {
			wl_signal_emit(&b->events.new_output, out->base());
		}
	}
	return true;
}

void backend_destroy(wlr_backend *b) noexcept {
	kms_backend *backend = kms_backend::from_wlr(b);
	for (auto &kdev : backend->devices) {
		// A writeback still being written finishes first (shutdown only,
		// bounded; never in the commit path): a CRTC turned off under it
		// could leave its job and framebuffer unfinished in the kernel.
		if (kdev->writeback) {
			kdev->writeback->drain();
		}
		// One blocking commit per device: every CRTC off, every plane
		// empty. After it no framebuffer of ours is on screen.
		atomic_request req;
		for (kms_output *out : kdev->outputs) {
			if (out->active) {
				add_output_state(req, *out, 0, true);
			}
		}
		if (!req.empty()) {
			if (int err = kdev->dev.kernel().atomic_commit(
			        kdev->dev.fd(), req, DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr)) {
				wlr_log(WLR_ERROR, "%s: cannot turn the outputs off: %s (errno %d)",
				        kdev->dev.name().c_str(), std::strerror(err), err);
			}
		}
		for (kms_output *out : kdev->outputs) {
			out->active = false;
			const kms_output_stats &st = out->stats;
			wlr_log(
			    WLR_INFO,
			    "output %s on %s: %llu commits (%llu composed, %llu direct scanout), "
			    "%llu overlay-only commits, %llu flips, %llu buffers released after "
			    "their flip",
			    out->base()->name, kdev->dev.name().c_str(),
			    static_cast<unsigned long long>(st.commits),
			    static_cast<unsigned long long>(st.composed),
			    static_cast<unsigned long long>(st.direct_scanout),
			    static_cast<unsigned long long>(st.overlay_commits),
			    static_cast<unsigned long long>(st.flips),
			    static_cast<unsigned long long>(st.released));
		}
		std::vector<kms_output *> outputs = kdev->outputs;
		for (kms_output *out : outputs) {
			wlr_output_destroy(out->base()); // frees out
		}
		if (kdev->source != nullptr) {
			wl_event_source_remove(kdev->source);
		}
		if (kdev->allocator != nullptr) {
			wlr_allocator_destroy(kdev->allocator->base());
		}
		if (kdev->render_allocator != nullptr) {
			wlr_allocator_destroy(kdev->render_allocator->base());
		}
	}
	backend->devices.clear();
	wlr_backend_finish(b);
	delete backend;
}

} // namespace

std::vector<std::string> find_display_devices(const std::string &dri_dir) {
	std::vector<std::string> found;
	result<std::vector<drm_node>> nodes = list_drm_nodes(dri_dir); // in numeric order
	if (!nodes) {
		return found;
	}
	for (const drm_node &node : *nodes) {
		if (node.type != node_type::primary) {
			continue;
		}
		const std::string &path = node.path;
		unique_fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
		if (!fd) {
			int err = errno;
			wlr_log(WLR_INFO, "%s: cannot open: %s (errno %d): not used as a display",
			        path.c_str(), std::strerror(err), err);
			continue;
		}
		drmModeRes *res = drmModeGetResources(fd.get());
		if (res == nullptr) {
			int err = errno;
			wlr_log(WLR_DEBUG,
			        "%s: no KMS (drmModeGetResources: %s, errno %d): not a display",
			        path.c_str(), std::strerror(err), err); // vgem
			continue;
		}
		bool connected = false;
		for (int c = 0; c < res->count_connectors && !connected; c++) {
			drmModeConnector *conn = drmModeGetConnector(fd.get(), res->connectors[c]);
			if (conn == nullptr) {
				int err = errno;
				wlr_log(WLR_ERROR, "%s: drmModeGetConnector(%u): %s (errno %d)",
				        path.c_str(), res->connectors[c], std::strerror(err), err);
				continue;
			}
			connected = conn->connection == DRM_MODE_CONNECTED;
			drmModeFreeConnector(conn);
		}
		drmModeFreeResources(res);
		if (connected) {
			found.push_back(path);
		}
	}
	return found;
}

result<wlr_backend *> kms_backend_create(wl_display *display, const std::vector<device *> &devices,
                                         import_cache &cache) {
	if (devices.empty()) {
		return error{"no display device"};
	}
	auto backend = std::make_unique<kms_backend>();
	backend->wlr_.owner = backend.get();
	backend->display = display;
	backend->cache = &cache;
	wlr_backend_init(backend->base(), &backend_impl);

	auto fail = [&](error e) -> result<wlr_backend *> {
		backend_destroy(backend.release()->base());
		return e;
	};
	for (device *dev : devices) {
		int fd = dev->fd();
		if (drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1) != 0 ||
		    drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) != 0) {
			int err = errno;
			return fail(error{
			    dev->name() + ": no atomic mode setting: " + std::strerror(err), err});
		}
		auto &kdev = backend->devices.emplace_back(std::make_unique<kms_device>(*dev));
		kdev->backend = backend.get();
		kdev->planes = kms_planes::read(*dev);
		if (status s = create_outputs(*backend, *kdev); !s) {
			return fail(s.err());
		}
		auto alloc = kms_allocator::create(*dev, cache);
		if (!alloc) {
			return fail(alloc.err());
		}
		kdev->allocator = *alloc;
		kdev->writeback = kms_writeback::create(*dev, wl_display_get_event_loop(display));
		kdev->overlays = kms_overlays::create(*dev, kdev->planes);
		kdev->source =
		    wl_event_loop_add_fd(wl_display_get_event_loop(display), fd, WL_EVENT_READABLE,
		                         handle_drm_event, kdev.get());
		if (kdev->source == nullptr) {
			int err = errno;
			return fail(error{
			    dev->name() + ": cannot watch for page flips: " + std::strerror(err),
			    err});
		}
		wlr_log(WLR_INFO, "KMS on %s: %zu output(s), DRM master %s", dev->name().c_str(),
		        kdev->outputs.size(), drmIsMaster(fd) ? "yes" : "no");
	}
	return backend.release()->base();
}

bool backend_is_kms(wlr_backend *backend) {
	return backend != nullptr && backend->impl == &backend_impl;
}

wlr_allocator *kms_output_allocator(wlr_output *output) {
	kms_output *out = kms_output_of(output);
	if (out == nullptr) {
		return nullptr;
	}
	kms_device &dev = *out->dev;
	return dev.render_allocator != nullptr ? dev.render_allocator->base()
	                                       : dev.allocator->base();
}

void kms_backend_render_with(wlr_backend *b, wlr_allocator *render_allocator, int render_fd) {
	if (wlr_backend_is_multi(b)) { // with libinput, under a seat session
		struct args {
			wlr_allocator *allocator;
			int fd;
		} a{render_allocator, render_fd};
		wlr_multi_for_each_backend(
		    b,
		    [](wlr_backend *sub, void *data) {
			    auto *p = static_cast<args *>(data);
			    kms_backend_render_with(sub, p->allocator, p->fd);
		    },
		    &a);
		return;
	}
	if (!backend_is_kms(b)) {
		return;
	}
	kms_backend *backend = kms_backend::from_wlr(b);
	for (auto &kdev : backend->devices) {
		format_set primary; // what the device's primary planes take
		for (const kms_plane &plane : kdev->planes.planes()) {
			if (plane.type != DRM_PLANE_TYPE_PRIMARY) {
				continue;
			}
			for (const format_set::Pair &p : plane.formats.pairs()) {
				primary.add(p.first, p.second);
			}
		}
		kdev->render_allocator = kms_render_allocator::create(
		    render_allocator, render_fd, kdev->dev, *backend->cache, std::move(primary));
	}
}

void kms_backend_disable_overlays(wlr_backend *b) {
	if (wlr_backend_is_multi(b)) {
		wlr_multi_for_each_backend(
		    b, [](wlr_backend *sub, void *) { kms_backend_disable_overlays(sub); },
		    nullptr);
		return;
	}
	if (!backend_is_kms(b)) {
		return;
	}
	for (auto &kdev : kms_backend::from_wlr(b)->devices) {
		if (kdev->overlays) {
			wlr_log(WLR_INFO, "%s: overlay planes not used (--overlay-planes off)",
			        kdev->dev.name().c_str());
			kdev->overlays.reset();
		}
	}
}

} // namespace wlprime
