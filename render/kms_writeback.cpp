#include "render/kms_writeback.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <linux/sync_file.h>
#include <optional>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "render/kms_props.hpp"

namespace wlprime {

// The framebuffer the connector writes into: a dumb buffer on a file
// description of its own (so that its handle never meets the import
// subsystem's handle table), mapped for reading. Made and freed through the
// device's kernel seam (counted). Freed exactly once, by its destructor:
// unmap, RMFB/CLOSEFB (it is never on a plane: nothing to leave on screen),
// DESTROY_DUMB, close.
struct kms_writeback::target {
	kernel_api *kernel = nullptr;
	unique_fd fd;
	uint32_t handle = 0;
	uint32_t fb_id = 0;
	uint32_t pitch = 0;
	int width = 0, height = 0;
	void *map = MAP_FAILED;
	size_t size = 0;
	std::string device_name;

	target() = default;
	target(const target &) = delete;
	target &operator=(const target &) = delete;
	~target() {
		if (map != MAP_FAILED) {
			munmap(map, size);
		}
		if (fb_id != 0) {
			if (int err = kernel->remove_fb(fd.get(), fb_id)) {
				wlr_log(WLR_ERROR, "writeback on %s: RMFB %u: %s (errno %d)",
				        device_name.c_str(), fb_id, std::strerror(err), err);
			}
		}
		if (handle != 0) {
			if (int err = kernel->destroy_dumb(fd.get(), handle)) {
				wlr_log(WLR_ERROR,
				        "writeback on %s: DESTROY_DUMB %u: %s (errno %d)",
				        device_name.c_str(), handle, std::strerror(err), err);
			}
		}
	}
};

kms_writeback::job::job() = default;
kms_writeback::job::job(job &&o) noexcept
    : owner(o.owner), crtc_id(o.crtc_id), waiting(std::move(o.waiting)),
      buffer(std::move(o.buffer)), out_fence(std::exchange(o.out_fence, -1)),
      fence(std::move(o.fence)), source(std::exchange(o.source, nullptr)) {}
kms_writeback::job::~job() {
	if (source != nullptr) {
		wl_event_source_remove(source);
	}
}

namespace {

// A connector's property: its id, and its current value into *value.
uint32_t find_prop(int fd, uint32_t connector, const char *name, uint64_t *value) {
	std::optional<kms_prop> prop =
	    kms_find_prop(fd, connector, DRM_MODE_OBJECT_CONNECTOR, name);
	if (!prop) {
		return 0;
	}
	if (value != nullptr) {
		*value = prop->value;
	}
	return prop->id;
}

std::string fourcc_name(uint32_t format) {
	char s[5] = {};
	std::memcpy(s, &format, 4);
	return s;
}

} // namespace

kms_writeback::kms_writeback(device &dev, wl_event_loop *loop) : dev_(dev), loop_(loop) {}

std::unique_ptr<kms_writeback> kms_writeback::create(device &dev, wl_event_loop *loop) {
	int fd = dev.fd();
	const char *name = dev.name().c_str();
	if (drmSetClientCap(fd, DRM_CLIENT_CAP_WRITEBACK_CONNECTORS, 1) != 0) {
		wlr_log(WLR_INFO, "%s: no writeback connectors (client cap: %s)", name,
		        std::strerror(errno));
		return nullptr;
	}
	drmModeRes *res = drmModeGetResources(fd);
	if (res == nullptr) {
		int err = errno;
		wlr_log(WLR_ERROR, "%s: drmModeGetResources: %s (errno %d): no writeback", name,
		        std::strerror(err), err);
		return nullptr;
	}
	std::unique_ptr<kms_writeback> wb(new kms_writeback(dev, loop));
	for (int c = 0; c < res->count_connectors && wb->connector_id_ == 0; c++) {
		drmModeConnector *conn = drmModeGetConnector(fd, res->connectors[c]);
		if (conn == nullptr) {
			int err = errno;
			wlr_log(WLR_ERROR, "%s: drmModeGetConnector(%u): %s (errno %d)", name,
			        res->connectors[c], std::strerror(err), err);
			continue;
		}
		if (conn->connector_type != DRM_MODE_CONNECTOR_WRITEBACK) {
			drmModeFreeConnector(conn);
			continue;
		}
		wb->connector_id_ = conn->connector_id;
		if (conn->count_encoders > 0) {
			if (drmModeEncoder *enc = drmModeGetEncoder(fd, conn->encoders[0])) {
				wb->possible_crtcs_ = enc->possible_crtcs;
				wb->possible_clones_ = enc->possible_clones;
				drmModeFreeEncoder(enc);
			} else {
				int err = errno;
				wlr_log(
				    WLR_ERROR,
				    "%s: writeback encoder %u: %s (errno %d): it serves no CRTC",
				    name, conn->encoders[0], std::strerror(err), err);
			}
			for (int e = 0; e < res->count_encoders; e++) {
				if (res->encoders[e] == conn->encoders[0]) {
					wb->encoder_index_ = static_cast<uint32_t>(e);
				}
			}
		}
		drmModeFreeConnector(conn);
	}
	drmModeFreeResources(res);
	if (wb->connector_id_ == 0) {
		wlr_log(WLR_INFO, "%s: no writeback connector: captures render the scene again",
		        name);
		return nullptr;
	}
	uint32_t id = wb->connector_id_;
	uint64_t attached = 0, formats_blob = 0;
	wb->prop_crtc_id_ = find_prop(fd, id, "CRTC_ID", &attached);
	wb->prop_fb_id_ = find_prop(fd, id, "WRITEBACK_FB_ID", nullptr);
	wb->prop_out_fence_ = find_prop(fd, id, "WRITEBACK_OUT_FENCE_PTR", nullptr);
	uint32_t prop_formats = find_prop(fd, id, "WRITEBACK_PIXEL_FORMATS", &formats_blob);
	if (wb->prop_crtc_id_ == 0 || wb->prop_fb_id_ == 0 || wb->prop_out_fence_ == 0 ||
	    prop_formats == 0) {
		wlr_log(WLR_ERROR, "%s: writeback connector %u lacks a writeback property", name,
		        id);
		return nullptr;
	}
	wb->attached_crtc_ = static_cast<uint32_t>(attached);
	std::string formats;
	drmModePropertyBlobRes *blob =
	    drmModeGetPropertyBlob(fd, static_cast<uint32_t>(formats_blob));
	if (blob == nullptr) {
		int err = errno;
		wlr_log(
		    WLR_ERROR,
		    "%s: writeback connector %u: WRITEBACK_PIXEL_FORMATS blob %llu: %s (errno %d): "
		    "not used",
		    name, id, static_cast<unsigned long long>(formats_blob), std::strerror(err),
		    err);
		return nullptr;
	}
	{
		const auto *list = static_cast<const uint32_t *>(blob->data);
		size_t n = blob->length / sizeof(uint32_t);
		for (uint32_t want : {DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888}) {
			if (wb->format_ == 0 && std::find(list, list + n, want) != list + n) {
				wb->format_ = want;
			}
		}
		for (size_t i = 0; i < n; i++) {
			formats += (i ? " " : "") + fourcc_name(list[i]);
		}
		drmModeFreePropertyBlob(blob);
	}
	if (wb->format_ == 0) {
		wlr_log(WLR_INFO,
		        "%s: writeback connector %u writes none of XR24, AR24 (it writes: %s): "
		        "not used",
		        name, id, formats.c_str());
		return nullptr;
	}
	wlr_log(WLR_INFO,
	        "%s: writeback connector %u (CRTC mask 0x%x, clone mask 0x%x, formats %s): "
	        "captures read what the CRTC produced, as %s",
	        name, id, wb->possible_crtcs_, wb->possible_clones_, formats.c_str(),
	        fourcc_name(wb->format_).c_str());
	return wb;
}

kms_writeback::~kms_writeback() {
	size_t abandoned = requests_.size() + active_.size() + (armed_ ? 1 : 0);
	if (abandoned > 0) {
		wlr_log(WLR_INFO,
		        "%s: %zu writeback capture(s) abandoned: the output is going away",
		        dev_.name().c_str(), abandoned);
	}
	// The jobs' destructors stop watching the fences, the targets' free the
	// framebuffers; the callbacks are dropped unseen.
}

void kms_writeback::request(uint32_t crtc_id, writeback_done done) {
	auto it = std::find_if(requests_.begin(), requests_.end(),
	                       [crtc_id](const job &j) { return j.crtc_id == crtc_id; });
	if (it == requests_.end()) {
		job j;
		j.owner = this;
		j.crtc_id = crtc_id;
		requests_.push_back(std::move(j));
		it = std::prev(requests_.end());
	}
	it->waiting.push_back(std::move(done));
}

void kms_writeback::fail(job &j, const error &e) {
	for (writeback_done &done : j.waiting) {
		done(e);
	}
	j.waiting.clear();
}

bool kms_writeback::clones_with(uint32_t connector_id) const {
	int fd = dev_.fd();
	drmModeConnector *conn = drmModeGetConnector(fd, connector_id);
	int conn_err = conn == nullptr ? errno : 0;
	drmModeRes *res = drmModeGetResources(fd);
	int res_err = res == nullptr ? errno : 0;
	if (conn == nullptr || res == nullptr) {
		int err = conn_err != 0 ? conn_err : res_err;
		wlr_log(WLR_ERROR,
		        "%s: %s: %s (errno %d): taken as no clone of the writeback encoder",
		        dev_.name().c_str(),
		        conn == nullptr
		            ? ("drmModeGetConnector(" + std::to_string(connector_id) + ")").c_str()
		            : "drmModeGetResources",
		        std::strerror(err), err);
	}
	bool clones = false;
	for (int e = 0; conn != nullptr && res != nullptr && e < res->count_encoders; e++) {
		for (int c = 0; c < conn->count_encoders; c++) {
			if (res->encoders[e] == conn->encoders[c] &&
			    ((possible_clones_ >> e) & 1u)) {
				clones = true;
			}
		}
	}
	drmModeFreeResources(res);
	drmModeFreeConnector(conn);
	return clones;
}

bool kms_writeback::arm(atomic_request &req, uint32_t crtc_id, uint32_t connector_id,
                        uint32_t connector_crtc_prop, int width, int height, uint32_t *flags) {
	arming_ = {};
	auto it = std::find_if(requests_.begin(), requests_.end(),
	                       [crtc_id](const job &j) { return j.crtc_id == crtc_id; });
	if (it == requests_.end() || armed_) {
		if (detached_crtc_ != crtc_id || detached_connector_ == 0 || busy(crtc_id)) {
			return false; // (not while the kernel still writes back)
		}
		// The capture is done: the CRTC goes back to the output's connector.
		req.add(detached_connector_, detached_connector_prop_, crtc_id);
		req.add(connector_id_, prop_crtc_id_, 0);
		*flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
		arming_.give_back = true;
		return true;
	}
	auto j = std::make_unique<job>(std::move(*it));
	requests_.erase(it);
	const std::string &name = dev_.name();
	kernel_api &kernel = dev_.kernel();

	auto t = std::make_unique<target>();
	t->kernel = &kernel;
	t->device_name = name;
	t->width = width;
	t->height = height;
	auto fd = kernel.open_node(dev_.info().path);
	if (!fd) {
		fail(*j, error{"writeback on " + name + ": " + fd.err().message, fd.err().errnum});
		return false;
	}
	t->fd = std::move(*fd);
	dumb_buffer dumb;
	if (int err = kernel.create_dumb(t->fd.get(), static_cast<uint32_t>(width),
	                                 static_cast<uint32_t>(height), 32, &dumb)) {
		fail(*j, error{"writeback on " + name + ": CREATE_DUMB " + std::to_string(width) +
		                   "x" + std::to_string(height) + ": " + std::strerror(err),
		               err});
		return false;
	}
	t->handle = dumb.handle;
	t->pitch = dumb.pitch;
	t->size = dumb.size;
	fb_request fb;
	fb.width = static_cast<uint32_t>(width);
	fb.height = static_cast<uint32_t>(height);
	fb.format = format_;
	fb.handles[0] = t->handle;
	fb.pitches[0] = t->pitch;
	if (int err = kernel.add_fb2(t->fd.get(), fb, &t->fb_id)) {
		t->fb_id = 0;
		fail(*j, error{"writeback on " + name + ": ADDFB2 of dumb buffer " +
		                   std::to_string(t->handle) + ": " + std::strerror(err),
		               err});
		return false;
	}
	void *map = nullptr;
	if (int err = kernel.map_dumb(t->fd.get(), t->handle, t->size, PROT_READ, &map)) {
		fail(*j, error{"writeback on " + name + ": cannot map fb " +
		                   std::to_string(t->fb_id) + ": " + std::strerror(err),
		               err});
		return false;
	}
	t->map = map;

	if (attached_crtc_ != crtc_id) {
		req.add(connector_id_, prop_crtc_id_, crtc_id);
		*flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
		arming_.attach_crtc = crtc_id;
	}
	if (detached_connector_ != connector_id && !clones_with(connector_id)) {
		// The writeback connector drives the CRTC alone for this frame.
		req.add(connector_id, connector_crtc_prop, 0);
		*flags |= DRM_MODE_ATOMIC_ALLOW_MODESET;
		arming_.detach_connector = connector_id;
		arming_.detach_connector_prop = connector_crtc_prop;
	}
	req.add(connector_id_, prop_fb_id_, t->fb_id);
	req.add(connector_id_, prop_out_fence_,
	        static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&j->out_fence)));
	j->buffer = std::move(t);
	armed_ = std::move(j);
	return true;
}

void kms_writeback::committed(int err) {
	std::unique_ptr<job> j = std::move(armed_);
	routing r = std::exchange(arming_, routing{});
	const char *name = dev_.name().c_str();
	if (r.give_back) {
		if (err != 0) {
			wlr_log(WLR_ERROR,
			        "%s: cannot give CRTC %u back to connector %u after a capture: %s "
			        "(errno %d); tried again at the next commit",
			        name, detached_crtc_, detached_connector_, std::strerror(err), err);
			return;
		}
		wlr_log(WLR_INFO,
		        "%s: connector %u back on CRTC %u, writeback connector %u detached", name,
		        detached_connector_, detached_crtc_, connector_id_);
		detached_connector_ = detached_crtc_ = attached_crtc_ = 0;
		detached_connector_prop_ = 0;
		return;
	}
	if (j == nullptr) {
		return;
	}
	if (err != 0) {
		fail(*j, error{"writeback on " + dev_.name() +
		                   ": the atomic commit with writeback fb " +
		                   std::to_string(j->buffer->fb_id) + " on CRTC " +
		                   std::to_string(j->crtc_id) + " failed: " + std::strerror(err),
		               err});
		return;
	}
	if (r.attach_crtc != 0) {
		attached_crtc_ = r.attach_crtc;
		wlr_log(WLR_INFO, "%s: writeback connector %u attached to CRTC %u", name,
		        connector_id_, r.attach_crtc);
	}
	if (r.detach_connector != 0) {
		detached_connector_ = r.detach_connector;
		detached_connector_prop_ = r.detach_connector_prop;
		detached_crtc_ = j->crtc_id;
		wlr_log(WLR_INFO,
		        "%s: the writeback encoder is no clone of connector %u's: the writeback "
		        "connector drives CRTC %u alone for the captured frame",
		        name, r.detach_connector, j->crtc_id);
	}
	if (j->out_fence < 0) {
		fail(*j, error{"writeback on " + dev_.name() + ": the kernel gave no out-fence"});
		return;
	}
	j->fence = unique_fd(j->out_fence);
	j->out_fence = -1;
	active_.push_back(std::move(*j));
	job &a = active_.back();
	a.source = wl_event_loop_add_fd(loop_, a.fence.get(), WL_EVENT_READABLE, handle_fence, &a);
	if (a.source == nullptr) {
		fail(a, error{"writeback on " + dev_.name() + ": cannot watch the out-fence"});
		active_.pop_back();
		return;
	}
	wlr_log(WLR_DEBUG, "%s: writeback into fb %u (CRTC %u) committed, out-fence fd %d", name,
	        a.buffer->fb_id, a.crtc_id, a.fence.get());
}

int kms_writeback::handle_fence(int, uint32_t, void *data) noexcept {
	auto *j = static_cast<job *>(data);
	j->owner->finish(*j);
	return 0;
}

void kms_writeback::finish(job &j) {
	const target &t = *j.buffer;
	sync_file_info info = {};
	int status = 1; // readable: signalled
	if (ioctl(j.fence.get(), SYNC_IOC_FILE_INFO, &info) == 0) {
		status = info.status;
	} else {
		int err = errno;
		wlr_log(
		    WLR_ERROR,
		    "%s: SYNC_IOC_FILE_INFO of the out-fence of writeback fb %u: %s (errno %d); "
		    "it is readable, taken as signalled",
		    dev_.name().c_str(), t.fb_id, std::strerror(err), err);
	}
	result<image> out = error{};
	if (status < 0) {
		out = error{"writeback on " + dev_.name() + ": out-fence of fb " +
		                std::to_string(t.fb_id) +
		                " signalled an error: " + std::strerror(-status),
		            -status};
	} else {
		image img;
		img.width = t.width;
		img.height = t.height;
		img.pixels.resize(static_cast<size_t>(t.width) * static_cast<size_t>(t.height));
		for (int y = 0; y < t.height; y++) {
			const auto *row = static_cast<const uint8_t *>(t.map) + size_t(y) * t.pitch;
			std::memcpy(&img.pixels[size_t(y) * size_t(t.width)], row,
			            size_t(t.width) * sizeof(uint32_t));
		}
		for (uint32_t &px : img.pixels) {
			px |= 0xff000000u;
		}
		captures_++;
		wlr_log(WLR_INFO,
		        "%s: writeback connector %u wrote CRTC %u's frame into fb %u (%dx%d %s, "
		        "dumb buffer %u); capture %llu",
		        dev_.name().c_str(), connector_id_, j.crtc_id, t.fb_id, t.width, t.height,
		        fourcc_name(format_).c_str(), t.handle,
		        static_cast<unsigned long long>(captures_));
		out = std::move(img);
	}
	std::vector<writeback_done> waiting = std::move(j.waiting);
	uint32_t crtc_id = j.crtc_id;
	// Free the target (fb, handle, mapping, fd) and stop watching before the
	// callbacks run: they may ask for the next capture.
	active_.remove_if([&j](const job &a) { return &a == &j; });
	for (writeback_done &done : waiting) {
		done(out);
	}
	run_idle(crtc_id);
}

void kms_writeback::when_idle(uint32_t crtc_id, std::function<void()> fn) {
	if (!busy(crtc_id)) {
		fn();
		return;
	}
	idle_.push_back({crtc_id, std::move(fn)});
}

void kms_writeback::run_idle(uint32_t crtc_id) {
	if (busy(crtc_id)) {
		return;
	}
	std::vector<std::function<void()>> ready;
	for (auto it = idle_.begin(); it != idle_.end();) {
		if (it->first == crtc_id) {
			ready.push_back(std::move(it->second));
			it = idle_.erase(it);
		} else {
			++it;
		}
	}
	for (auto &fn : ready) {
		fn();
	}
}

void kms_writeback::drain() {
	// Shutdown only (the backend's destroy): each pending out-fence gets at
	// most 1 s, then the capture is abandoned with the writeback.
	for (job &a : active_) {
		pollfd p = {a.fence.get(), POLLIN, 0};
		int n = poll(&p, 1, 1000);
		if (n != 1) {
			int err = n < 0 ? errno : ETIME;
			wlr_log(WLR_ERROR,
			        "%s: at shutdown, writeback into fb %u (CRTC %u) still pending "
			        "after 1 s: "
			        "%s (errno %d); abandoned",
			        dev_.name().c_str(), a.buffer->fb_id, a.crtc_id, std::strerror(err),
			        err);
		}
	}
}

bool kms_writeback::wants_commit(uint32_t crtc_id) const {
	return detached_crtc_ == crtc_id ||
	       std::any_of(requests_.begin(), requests_.end(),
	                   [crtc_id](const job &j) { return j.crtc_id == crtc_id; });
}

bool kms_writeback::busy(uint32_t crtc_id) const {
	return std::any_of(active_.begin(), active_.end(),
	                   [crtc_id](const job &a) { return a.crtc_id == crtc_id; });
}

void kms_writeback::detach(atomic_request &req, uint32_t crtc_id) {
	// No wait here (this is a commit): the KMS backend defers turning a CRTC
	// off until its writeback is done (when_idle), or drains at shutdown.
	if (busy(crtc_id)) {
		wlr_log(WLR_ERROR, "%s: CRTC %u goes off while a writeback of it is pending",
		        dev_.name().c_str(), crtc_id);
	}
	if (attached_crtc_ == crtc_id && crtc_id != 0) {
		req.add(connector_id_, prop_crtc_id_, 0);
		attached_crtc_ = 0;
	}
	if (detached_crtc_ == crtc_id) {
		// The caller turns the output's connector off anyway.
		detached_connector_ = detached_crtc_ = detached_connector_prop_ = 0;
	}
}

} // namespace wlprime
