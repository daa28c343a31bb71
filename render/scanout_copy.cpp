#include "render/scanout_copy.hpp"

#include <algorithm>
#include <cerrno>

#include "import/device.hpp"
#include "import/dmabuf_id.hpp"
#include "import/enum_name.hpp"
#include "import/formats.hpp"
#include "import/import.hpp"
#include "import/import_cache.hpp"
#include "render/buffer_import.hpp"
#include "render/cpu_format.hpp"
#include "render/kms_backend.hpp"

namespace wlprime {
namespace {

// The one surface on the output, if it covers the output exactly with its
// buffer as it is (scale 1, no transform, no viewport): what direct scanout
// would show. Null otherwise.
struct fullscreen_search {
	wlr_box box;
	int intersecting = 0;
	wlr_surface *covering = nullptr;
};

void check_surface(wlr_surface *surface, int lx, int ly, void *data) {
	auto *search = static_cast<fullscreen_search *>(data);
	wlr_box surface_box = {lx, ly, surface->current.width, surface->current.height};
	wlr_box intersection;
	if (!wlr_box_intersection(&intersection, &search->box, &surface_box)) {
		return;
	}
	search->intersecting++;
	if (surface_box.x == search->box.x && surface_box.y == search->box.y &&
	    surface_box.width == search->box.width && surface_box.height == search->box.height) {
		search->covering = surface;
	}
}

wlr_surface *fullscreen_surface(wlr_scene_output *so) {
	wlr_output *o = so->output;
	fullscreen_search search;
	search.box = {so->x, so->y, o->width, o->height};
	wlr_scene_node_for_each_surface(&so->scene->node, check_surface, &search);
	if (search.intersecting != 1 || search.covering == nullptr) {
		return nullptr;
	}
	wlr_surface *s = search.covering;
	if (s->buffer == nullptr || s->current.viewport.has_src || s->current.scale != 1 ||
	    s->current.transform != o->transform || o->transform != WL_OUTPUT_TRANSFORM_NORMAL ||
	    s->buffer->base.width != o->width || s->buffer->base.height != o->height) {
		return nullptr;
	}
	return s;
}

// The reason of a verdict, as logs, the debug dump and the trace name it.
const char *reason_of(scanout_state state) {
	static constexpr const char *names[] = {nullptr, "import", "framebuffer", "atomic_test",
	                                        nullptr};
	return enum_name(state, names, nullptr);
}

std::string errno_text(const scanout_verdict &v) {
	return v.message + " (errno " + std::to_string(v.errnum) + ")";
}

scanout_verdict verdict_of(const dmabuf_import &import, const device &dev) {
	const device_import *d = import.find_device(dev);
	return d != nullptr ? d->scanout() : scanout_verdict{};
}

} // namespace

scanout_copy::scanout_copy(wlr_output *output, import_cache *cache, copy_observer on_copy)
    : output_(output), cache_(cache), on_copy_(std::move(on_copy)) {}

std::vector<copy_refusal> scanout_copy::refusals() const {
	std::vector<copy_refusal> found;
	const device *dev = kms_output_get_scanout(output_).device;
	if (cache_ == nullptr || dev == nullptr) {
		return found;
	}
	cache_->for_each([&](const dmabuf_import &import) {
		scanout_verdict v = verdict_of(import, *dev);
		if (v.failed()) {
			found.push_back({import.serial(), dev->name(), reason_of(v.state),
			                 errno_text(v), v.errnum});
		}
	});
	std::sort(found.begin(), found.end(),
	          [](const copy_refusal &a, const copy_refusal &b) { return a.import < b.import; });
	return found;
}

bool scanout_copy::frame(wlr_scene_output *so) {
	const device *dev = kms_output_get_scanout(output_).device;
	if (cache_ == nullptr || dev == nullptr || !wlr_renderer_is_pixman(output_->renderer)) {
		return false;
	}
	wlr_surface *surface = fullscreen_surface(so);
	if (surface == nullptr) {
		return false;
	}
	wlr_buffer *source = surface->buffer->source; // null once the client destroyed it
	dmabuf_import *attached = source ? import_of(source) : nullptr;
	if (attached == nullptr) {
		return false; // wl_shm: composed (a copy too, by the renderer)
	}
	dmabuf_import &import = *attached;
	const import_key &key = import.key();

	// Can the display device scan it out? Its scanout verdict says, once
	// asked (import/import.hpp); asked here while it is unknown.
	scanout_verdict verdict = verdict_of(import, *dev);
	if (verdict.state == scanout_state::scans_out) {
		return false; // the scene scans it out directly
	}
	if (verdict.state == scanout_state::unknown) {
		wlr_output_attach_buffer(output_, &surface->buffer->base);
		bool ok = wlr_output_test(output_);
		wlr_output_rollback(output_);
		verdict = verdict_of(import, *dev);
		if (ok || !verdict.failed()) {
			// Scans out (the scene does it), or the display could not be
			// asked now (no DRM master): composed, asked again next frame.
			return false;
		}
		pid_t pid = 0;
		wl_client_get_credentials(wl_resource_get_client(surface->resource), &pid, nullptr,
		                          nullptr);
		wlr_log(WLR_INFO,
		        "output %s: import #%llu (%s %s %ux%u, dma-buf %s, wl_surface %u of pid %d) "
		        "cannot be scanned out by %s: %s: %s; its frames are copied into buffers "
		        "of %s from now on",
		        output_->name, static_cast<unsigned long long>(import.serial()),
		        format_name(key.format).c_str(), modifier_name(key.modifier).c_str(),
		        key.width, key.height, to_string(key.planes[0].id).c_str(),
		        wl_resource_get_id(surface->resource), int(pid), dev->name().c_str(),
		        reason_of(verdict.state), errno_text(verdict).c_str(), dev->name().c_str());
	}
	const char *reason = reason_of(verdict.state);

	// What the CPU path shows it can copy: the buffer reads as a picture
	// pixman takes (converted first if it is YUV, render/cpu_picture.hpp).
	if (find_cpu_format(key.format) == nullptr) {
		if (!cannot_convert_logged_) {
			wlr_log(WLR_ERROR,
			        "output %s: import #%llu: cannot copy %s with pixman; "
			        "composing it instead",
			        output_->name, static_cast<unsigned long long>(import.serial()),
			        format_name(key.format).c_str());
			cannot_convert_logged_ = true;
		}
		return false;
	}

	// The swapchain buffers hold our previous copies only if nothing else
	// was committed since the last one: otherwise copy everything.
	if (!copied_before_ || output_->commit_seq != last_copy_seq_) {
		wlr_output_damage_add_whole(so->damage);
	}
	bool needs_frame = false;
	pixman_region32_t damage;
	pixman_region32_init(&damage);
	if (!wlr_output_damage_attach_render(so->damage, &needs_frame, &damage)) {
		pixman_region32_fini(&damage);
		return false;
	}
	if (!needs_frame) {
		pixman_region32_fini(&damage);
		wlr_output_rollback(output_);
		return true;
	}
	pixman_region32_intersect_rect(&damage, &damage, 0, 0, output_->width, output_->height);

	wlr_renderer *renderer = output_->renderer;
	wlr_buffer *src_buffer = source;
	void *data = nullptr;
	uint32_t data_format = 0;
	size_t stride = 0;
	if (!wlr_buffer_begin_data_ptr_access(src_buffer, WLR_BUFFER_DATA_PTR_ACCESS_READ, &data,
	                                      &data_format, &stride)) {
		// Why: logged once by the buffer's owner (compositor/dmabuf_buffer).
		pixman_region32_fini(&damage);
		wlr_output_rollback(output_);
		return false;
	}
	const pixman_format_code_t src_format = pixman_format_of(data_format);
	if (src_format == 0) { // (every picture handed out is one pixman reads)
		wlr_buffer_end_data_ptr_access(src_buffer);
		pixman_region32_fini(&damage);
		wlr_output_rollback(output_);
		return false;
	}
	wlr_renderer_begin(renderer, output_->width, output_->height);
	pixman_image_t *dst = wlr_pixman_renderer_get_current_image(renderer);
	pixman_image_t *src =
	    pixman_image_create_bits_no_clear(src_format, int(key.width), int(key.height),
	                                      static_cast<uint32_t *>(data), int(stride));
	pixman_image_set_clip_region32(dst, &damage);
	pixman_image_composite32(PIXMAN_OP_SRC, src, nullptr, dst, 0, 0, 0, 0, 0, 0, output_->width,
	                         output_->height);
	pixman_image_set_clip_region32(dst, nullptr);
	pixman_image_unref(src);
	wlr_buffer_end_data_ptr_access(src_buffer);
	wlr_output_render_software_cursors(output_, &damage);
	wlr_renderer_end(renderer);

	int n_rects = 0;
	const pixman_box32_t *rects = pixman_region32_rectangles(&damage, &n_rects);
	uint64_t bytes = 0;
	const uint64_t bpp = PIXMAN_FORMAT_BPP(src_format) / 8;
	for (int i = 0; i < n_rects; i++) {
		bytes +=
		    uint64_t(rects[i].x2 - rects[i].x1) * uint64_t(rects[i].y2 - rects[i].y1) * bpp;
	}
	bool whole = n_rects == 1 && rects[0].x1 == 0 && rects[0].y1 == 0 &&
	             rects[0].x2 == output_->width && rects[0].y2 == output_->height;

	wlr_output_set_damage(output_, &so->damage->current);
	pixman_region32_fini(&damage);
	if (!wlr_output_commit(output_)) {
		wlr_log(WLR_ERROR, "output %s: commit of the copy of import #%llu failed",
		        output_->name, static_cast<unsigned long long>(import.serial()));
		copied_before_ = false;
		return true;
	}
	copied_before_ = true;
	last_copy_seq_ = output_->commit_seq;
	stats_.copies++;
	stats_.bytes += bytes;
	stats_.whole_frames += whole ? 1 : 0;
	stats_.by_reason[reason]++;
	wlr_log(WLR_DEBUG, "output %s: copy %llu: import #%llu, %d rects, %llu bytes%s",
	        output_->name, static_cast<unsigned long long>(stats_.copies),
	        static_cast<unsigned long long>(import.serial()), n_rects,
	        static_cast<unsigned long long>(bytes), whole ? " (whole buffer)" : "");

	if (on_copy_) {
		on_copy_(copy_event{import, *dev, bytes, uint32_t(n_rects), reason, verdict.errnum,
		                    errno_text(verdict)});
	}
	return true;
}

} // namespace wlprime
