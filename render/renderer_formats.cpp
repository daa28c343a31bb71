// renderer_formats.cpp: the union of what the CPU path and EGL show.

#include "render/renderer_formats.hpp"

#include <algorithm>
#include <drm_fourcc.h>

#include "render/cpu_format.hpp"

namespace wlprime {

namespace {

void add_once(std::vector<uint32_t> &list, uint32_t fourcc) {
	if (std::find(list.begin(), list.end(), fourcc) == list.end())
		list.push_back(fourcc);
}

// YUV: wlroots 0.15 samples an EGLImage as GL_TEXTURE_2D unless EGL listed
// its (format, modifier) as external-only, and Mesa shows a YUV image bound
// that way as black (measured: NV12 on llvmpipe, no GL error). Only explicit
// external-only pairs of YUV formats are EGL's; the CPU path converts the rest.
bool is_yuv(uint32_t fourcc) {
	const cpu_format *f = find_cpu_format(fourcc);
	return f != nullptr && f->reader == cpu_reader::yuv;
}

} // namespace

composition_formats choose_composition_formats(const format_set &cpu, const egl_format_offer *egl) {
	composition_formats out;
	out.advertised = cpu;
	if (egl == nullptr)
		return out;
	for (const egl_format_offer::format &f : egl->formats) {
		if (lookup_format(f.fourcc) == nullptr) {
			add_once(out.dropped, f.fourcc);
			continue;
		}
		const bool yuv = is_yuv(f.fourcc);
		if (yuv) {
			add_once(out.yuv_by_cpu, f.fourcc);
		} else {
			out.egl.add(f.fourcc, DRM_FORMAT_MOD_INVALID);
			if (f.modifiers.empty())
				out.egl.add(f.fourcc, DRM_FORMAT_MOD_LINEAR);
		}
		for (const egl_format_offer::modifier &m : f.modifiers) {
			if (yuv && !m.external_only)
				continue;
			out.egl.add(f.fourcc, m.value);
			if (m.external_only)
				add_once(out.external_only, f.fourcc);
			if (m.value != DRM_FORMAT_MOD_LINEAR && m.value != DRM_FORMAT_MOD_INVALID)
				out.tiled.push_back({f.fourcc, m.value});
		}
		if (!cpu.has_format(f.fourcc))
			add_once(out.gpu_only, f.fourcc);
	}
	for (const format_set::Pair &p : out.egl.pairs())
		out.advertised.add(p.first, p.second);
	return out;
}

} // namespace wlprime
