// gles2_renderer.cpp: the EGL display, context and allocator, and the
// wrapper renderer's forwarding (the textures are import_textures.cpp's).

#include "render/gles2_renderer.hpp"

#include "render/cpu_format.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <utility>
#include <vector>

namespace wlprime {

namespace {

// Whether the space-separated list has word.
bool has_word(std::string_view list, std::string_view word) {
	for (size_t at = 0; (at = list.find(word, at)) != std::string_view::npos;
	     at += word.size()) {
		bool starts = at == 0 || list[at - 1] == ' ';
		bool ends = at + word.size() == list.size() || list[at + word.size()] == ' ';
		if (starts && ends)
			return true;
	}
	return false;
}

gles2_renderer *owner_of(wlr_renderer *r) {
	return gles2_renderer::from_wlr(r);
}
wlr_renderer *in(wlr_renderer *r) {
	return owner_of(r)->inner();
}

// The wrapper: every call goes to the inner GLES2 renderer's own
// implementation, on the inner renderer, except texture_from_buffer.
bool w_bind_buffer(wlr_renderer *r, wlr_buffer *buffer) {
	// Unbinding ends a frame, which wlroots glFlush()es. Mesa's software
	// rasteriser sets no fence on the buffer's dma-buf that a display could
	// wait for, and a flush does not wait for its threads: finished here,
	// before the buffer is scanned out (with the context still current).
	if (buffer == nullptr && owner_of(r)->choice().software_gl)
		glFinish();
	return in(r)->impl->bind_buffer(in(r), buffer);
}
void w_begin(wlr_renderer *r, uint32_t width, uint32_t height) {
	in(r)->impl->begin(in(r), width, height);
}
void w_end(wlr_renderer *r) {
	if (in(r)->impl->end)
		in(r)->impl->end(in(r));
}
void w_clear(wlr_renderer *r, const float color[4]) {
	in(r)->impl->clear(in(r), color);
}
void w_scissor(wlr_renderer *r, wlr_box *box) {
	in(r)->impl->scissor(in(r), box);
}
bool w_render_subtexture(wlr_renderer *r, wlr_texture *texture, const wlr_fbox *box,
                         const float matrix[9], float alpha);
void w_render_quad(wlr_renderer *r, const float color[4], const float matrix[9]) {
	in(r)->impl->render_quad_with_matrix(in(r), color, matrix);
}
const uint32_t *w_shm_formats(wlr_renderer *r, size_t *len) {
	return in(r)->impl->get_shm_texture_formats(in(r), len);
}
const wlr_drm_format_set *w_dmabuf_formats(wlr_renderer *r) {
	return in(r)->impl->get_dmabuf_texture_formats(in(r));
}
const wlr_drm_format_set *w_render_formats(wlr_renderer *r) {
	return in(r)->impl->get_render_formats(in(r));
}
uint32_t w_read_format(wlr_renderer *r) {
	return in(r)->impl->preferred_read_format(in(r));
}
bool w_read_pixels(wlr_renderer *r, uint32_t fmt, uint32_t *flags, uint32_t stride, uint32_t width,
                   uint32_t height, uint32_t src_x, uint32_t src_y, uint32_t dst_x, uint32_t dst_y,
                   void *data) {
	return in(r)->impl->read_pixels(in(r), fmt, flags, stride, width, height, src_x, src_y,
	                                dst_x, dst_y, data);
}
void w_destroy(wlr_renderer *) {
	// Owned by the gles2_renderer, which the server destroys itself.
}
int w_drm_fd(wlr_renderer *r) {
	return in(r)->impl->get_drm_fd(in(r));
}
uint32_t w_buffer_caps(wlr_renderer *r) {
	return in(r)->impl->get_render_buffer_caps(in(r));
}
wlr_texture *w_texture_from_buffer(wlr_renderer *r, wlr_buffer *buffer) {
	return owner_of(r)->texture_from_buffer(buffer);
}

const wlr_renderer_impl wrapper_impl = {
    .bind_buffer = w_bind_buffer,
    .begin = w_begin,
    .end = w_end,
    .clear = w_clear,
    .scissor = w_scissor,
    .render_subtexture_with_matrix = w_render_subtexture,
    .render_quad_with_matrix = w_render_quad,
    .get_shm_texture_formats = w_shm_formats,
    .get_dmabuf_texture_formats = w_dmabuf_formats,
    .get_render_formats = w_render_formats,
    .preferred_read_format = w_read_format,
    .read_pixels = w_read_pixels,
    .destroy = w_destroy,
    .get_drm_fd = w_drm_fd,
    .get_render_buffer_caps = w_buffer_caps,
    .texture_from_buffer = w_texture_from_buffer,
};

} // namespace

// import_textures.cpp: the inner texture behind one of the wrapper's, and
// whether it is to be drawn upside down.
wlr_texture *inner_texture_of(wlr_texture *texture, bool *y_flip);

namespace {
bool w_render_subtexture(wlr_renderer *r, wlr_texture *texture, const wlr_fbox *box,
                         const float matrix[9], float alpha) {
	bool y_flip = false;
	wlr_texture *inner = inner_texture_of(texture, &y_flip);
	if (!y_flip)
		return in(r)->impl->render_subtexture_with_matrix(in(r), inner, box, matrix, alpha);
	// Bottom row first in memory: sample the box's mirror image in the
	// texture, and turn the unit quad upside down ((x, y) -> (x, 1 - y)).
	wlr_fbox mirrored = *box;
	mirrored.y = inner->height - box->y - box->height;
	static const float flip_y[9] = {1, 0, 0, 0, -1, 1, 0, 0, 1};
	float flipped[9];
	wlr_matrix_multiply(flipped, matrix, flip_y);
	return in(r)->impl->render_subtexture_with_matrix(in(r), inner, &mirrored, flipped, alpha);
}
} // namespace

namespace {
// What display imports, as EGL_EXT_image_dma_buf_import(_modifiers) says.
egl_format_offer query_format_offer(EGLDisplay display) {
	egl_format_offer offer;
	const char *exts = eglQueryString(display, EGL_EXTENSIONS);
	if (exts == nullptr || !has_word(exts, "EGL_EXT_image_dma_buf_import"))
		return offer;
	offer.modifiers_extension = has_word(exts, "EGL_EXT_image_dma_buf_import_modifiers");
	if (!offer.modifiers_extension)
		// Without the query: the formats wlroots imports blind are none
		// wlprime could name; EGL imports with implicit layouts still work,
		// but nothing is added to what the CPU path shows.
		return offer;
	auto query_formats = reinterpret_cast<PFNEGLQUERYDMABUFFORMATSEXTPROC>(
	    eglGetProcAddress("eglQueryDmaBufFormatsEXT"));
	auto query_modifiers = reinterpret_cast<PFNEGLQUERYDMABUFMODIFIERSEXTPROC>(
	    eglGetProcAddress("eglQueryDmaBufModifiersEXT"));
	EGLint n = 0;
	if (query_formats == nullptr || query_modifiers == nullptr ||
	    !query_formats(display, 0, nullptr, &n) || n <= 0)
		return offer;
	std::vector<EGLint> formats(static_cast<size_t>(n));
	if (!query_formats(display, n, formats.data(), &n))
		return offer;
	formats.resize(size_t(n));
	for (EGLint fourcc : formats) {
		egl_format_offer::format f{uint32_t(fourcc), {}};
		EGLint m = 0;
		if (query_modifiers(display, fourcc, 0, nullptr, nullptr, &m) && m > 0) {
			std::vector<EGLuint64KHR> mods(static_cast<size_t>(m));
			std::vector<EGLBoolean> external(static_cast<size_t>(m));
			if (query_modifiers(display, fourcc, m, mods.data(), external.data(), &m))
				for (EGLint i = 0; i < m; i++)
					f.modifiers.push_back(
					    {uint64_t(mods[size_t(i)]), external[size_t(i)] != 0});
		}
		offer.formats.push_back(std::move(f));
	}
	return offer;
}
} // namespace

void gles2_renderer::log_formats() const {
	auto names = [](const std::vector<uint32_t> &list) {
		std::string text;
		for (uint32_t f : list)
			text += (text.empty() ? "" : ", ") + format_name(f);
		return text.empty() ? std::string("none") : text;
	};
	size_t explicit_count = 0;
	for (const egl_format_offer::format &f : offer_.formats)
		explicit_count += f.modifiers.size();
	wlr_log(WLR_INFO,
	        "renderer: EGL imports %zu formats (%s, %zu explicit modifiers listed); "
	        "%zu (format, modifier) pairs advertised, %zu of them EGL's; tiled pairs: %zu; "
	        "formats only EGL shows: %s; external-only: %s; YUV through the CPU path: %s; "
	        "without a layout description "
	        "in wlprime (not advertised): %s",
	        offer_.formats.size(),
	        offer_.modifiers_extension ? "EGL_EXT_image_dma_buf_import_modifiers"
	                                   : "no modifier query",
	        explicit_count, formats_.advertised.pairs().size(), formats_.egl.pairs().size(),
	        formats_.tiled.size(), names(formats_.gpu_only).c_str(),
	        names(formats_.external_only).c_str(), names(formats_.yuv_by_cpu).c_str(),
	        names(formats_.dropped).c_str());
}

result<render_device_facts> read_render_device_facts(const std::string &path) {
	unique_fd fd(open(path.c_str(), O_RDWR | O_CLOEXEC));
	if (!fd) {
		int err = errno;
		return error{"cannot open " + path + ": " + std::strerror(err), err};
	}
	render_device_facts facts;
	facts.path = path;
	if (drmVersion *v = drmGetVersion(fd.get())) {
		facts.driver.assign(v->name, size_t(v->name_len));
		drmFreeVersion(v);
	} else {
		int err = errno;
		return error{path + " is no DRM device (drmGetVersion: " + std::strerror(err) + ")",
		             err};
	}
	for (auto [name, out] :
	     {std::pair{drmGetRenderDeviceNameFromFd(fd.get()), &facts.render_node},
	      std::pair{drmGetPrimaryDeviceNameFromFd(fd.get()), &facts.primary_node}}) {
		if (name != nullptr) {
			*out = name;
			std::free(name);
		}
	}
	return facts;
}

gles2_renderer *gles2_renderer::from_wlr(wlr_renderer *r) {
	return r != nullptr && r->impl == &wrapper_impl ? reinterpret_cast<wlr_part *>(r)->owner
	                                                : nullptr;
}

gles2_renderer::gles2_renderer(renderer_choice choice, kernel_api &kernel)
    : choice_(std::move(choice)), kernel_(kernel) {
	base_.owner = this;
}

result<std::unique_ptr<gles2_renderer>> gles2_renderer::create(const renderer_choice &choice,
                                                               kernel_api &kernel) {
	std::unique_ptr<gles2_renderer> r(new gles2_renderer(choice, kernel));
	if (status s = r->init(); !s)
		return error{"gles2 renderer on " + choice.node + ": " + s.err().message,
		             s.err().errnum};
	return r;
}

status gles2_renderer::init() {
	auto open_node = [&](const char *what) -> result<unique_fd> {
		unique_fd fd(open(choice_.node.c_str(), O_RDWR | O_CLOEXEC));
		if (!fd) {
			int err = errno;
			return error{std::string("cannot open it for the ") + what + ": " +
			                 std::strerror(err),
			             err};
		}
		return fd;
	};
	auto node = open_node("renderer");
	if (!node)
		return node.err();
	node_fd_ = std::move(*node);
	gbm_ = gbm_create_device(node_fd_.get());
	if (gbm_ == nullptr)
		return error{"gbm_create_device failed"};

	auto get_platform_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
	    eglGetProcAddress("eglGetPlatformDisplayEXT"));
	if (get_platform_display == nullptr)
		return error{"EGL has no eglGetPlatformDisplayEXT"};
	display_ = get_platform_display(EGL_PLATFORM_GBM_KHR, gbm_, nullptr);
	EGLint major = 0, minor = 0;
	if (display_ == EGL_NO_DISPLAY || !eglInitialize(display_, &major, &minor))
		return error{"no EGL display on its GBM device (EGL error 0x" +
		             std::to_string(eglGetError()) + ")"};
	if (!eglBindAPI(EGL_OPENGL_ES_API))
		return error{"eglBindAPI(EGL_OPENGL_ES_API) failed"};
	const EGLint context_attribs[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};
	// No config: wlroots renders into buffers (EGL_KHR_no_config_context,
	// which it requires of every display anyway).
	context_ = eglCreateContext(display_, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, context_attribs);
	if (context_ == EGL_NO_CONTEXT)
		return error{"eglCreateContext failed (EGL error " + std::to_string(eglGetError()) +
		             ")"};
	offer_ = query_format_offer(display_);
	formats_ = choose_composition_formats(cpu_format_set(), &offer_);
	// wlroots refuses a software rasteriser unless told that it is wanted:
	// it was asked for (renderer_choice::software_gl), and only then.
	if (choice_.software_gl)
		setenv("WLR_RENDERER_ALLOW_SOFTWARE", "1", 1);
	egl_ = wlr_egl_create_with_context(display_, context_);
	if (egl_ == nullptr)
		return error{"wlroots cannot use its EGL display (see the log above)"};
	// From here the context and display are wlr_egl's (wlr_egl_destroy).
	context_ = EGL_NO_CONTEXT;
	display_ = EGL_NO_DISPLAY;
	inner_ = wlr_gles2_renderer_create(egl_);
	if (inner_ == nullptr) {
		wlr_egl_destroy(egl_);
		egl_ = nullptr;
		return error{"wlroots' GLES2 renderer refused the context (see the log above)"};
	}
	if (wlr_egl_make_current(egl_)) {
		auto text = [](GLenum name) {
			const auto *s = reinterpret_cast<const char *>(glGetString(name));
			return std::string(s != nullptr ? s : "?");
		};
		gl_renderer_ = text(GL_RENDERER);
		gl_version_ = text(GL_VERSION);
		wlr_egl_unset_current(egl_);
	}

	auto alloc_fd = open_node("allocator");
	if (!alloc_fd)
		return alloc_fd.err();
	allocator_ = wlr_gbm_allocator_create(alloc_fd->release()); // takes the fd
	if (allocator_ == nullptr)
		return error{"wlroots' GBM allocator refused it (see the log above)"};
	if (choice_.software_gl) {
		auto probe = open_node("software GL's import check");
		if (!probe)
			return probe.err();
		probe_fd_ = std::move(*probe);
	}
	wlr_renderer_init(&base_.base, &wrapper_impl);
	wlr_log(WLR_INFO, "renderer: gles2 on %s, GL_RENDERER %s, %s: %s", choice_.node.c_str(),
	        gl_renderer_.c_str(), gl_version_.c_str(), choice_.reason.c_str());
	log_formats();
	return done{};
}

} // namespace wlprime
