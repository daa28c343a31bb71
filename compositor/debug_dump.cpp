#include "compositor/debug_dump.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sys/sysmacros.h>
#include <vector>

#include "compositor/dmabuf_buffer.hpp"
#include "compositor/dump_node.hpp"
#include "compositor/implicit_sync.hpp"
#include "compositor/import_context.hpp"
#include "compositor/output.hpp"
#include "import/enum_name.hpp"
#include "import/formats.hpp"
#include "render/gles2_renderer.hpp"
#include "render/kms_backend.hpp"
#include "render/kms_render_target.hpp"

namespace wlprime {

namespace {

using node = dump_node;

std::string dev_t_string(dev_t d) {
	return std::to_string(major(d)) + ":" + std::to_string(minor(d));
}

// "message (errno N)", as every failure is shown.
std::string error_text(const std::string &message, int errnum) {
	return message + " (errno " + std::to_string(errnum) + ")";
}
std::string error_text(const error &e) {
	return error_text(e.message, e.errnum);
}

node device_node(const device &dev, const char *role) {
	const device_info &info = dev.info();
	return node::object()
	    .set("path", node::str(info.path))
	    .set("driver", node::str(info.driver))
	    .set("dev_t", node::str(dev_t_string(info.rdev)))
	    .set("node", node::str(to_string(info.node)))
	    .set("role", node::str(role))
	    .set("prime_import", node::boolean(info.prime_import))
	    .set("fb_modifiers", node::boolean(info.fb_modifiers))
	    .set("gem_handles_held", node::num(const_cast<device &>(dev).handles().size()));
}

node devices_node(const import_context *imports) {
	node devices = node::array();
	if (imports == nullptr)
		return devices;
	if (const device *main = imports->main_device())
		devices.push(device_node(*main, "main"));
	for (const auto &dev : imports->display_devices())
		devices.push(device_node(*dev, "display"));
	return devices;
}

struct scanout_use {
	std::string output;
	bool on_screen;
	uint32_t fb;
};
// Which outputs show (or have queued) each Import, by serial.
using scanout_map = std::map<uint64_t, std::vector<scanout_use>>;

std::string shown_text(uint64_t import, uint32_t fb) {
	return import ? "import #" + std::to_string(import) + " fb " + std::to_string(fb)
	              : "nothing";
}

std::string box_text(const wlr_box &b) {
	return std::to_string(b.width) + "x" + std::to_string(b.height) + "+" +
	       std::to_string(b.x) + "+" + std::to_string(b.y);
}

// Per overlay plane of a KMS output, what it shows (on screen, or queued);
// per visible surface, its plane or why it is composed.
node planes_node(wlr_output *o, const overlay_frame &frames) {
	node n = node::object();
	n.set("overlay_planes", node::num(kms_output_overlay_planes(o)));
	n.set("composed_frames", node::num(frames.composed_frames()));
	n.set("overlay_only_frames", node::num(frames.overlay_only_frames()));
	node shown = node::array();
	for (const kms_overlay_shown &s : kms_output_get_overlays(o)) {
		wlr_box b{s.rect.x, s.rect.y, static_cast<int>(s.rect.width),
		          static_cast<int>(s.rect.height)};
		shown.push(node::object()
		               .set("plane", node::num(s.plane_id))
		               .set("shows", node::str(shown_text(s.import, s.fb_id)))
		               .set("at", node::str(box_text(b)))
		               .set("state", node::str(s.on_screen ? "on screen" : "queued")));
	}
	n.set("planes", std::move(shown));
	node surfaces = node::array();
	for (const surface_plane_verdict &v : frames.verdicts()) {
		node sn = node::object()
		              .set("surface", node::str(v.surface))
		              .set("at", node::str(box_text(v.box)));
		if (v.import)
			sn.set("import", node::num(v.import));
		if (v.plane_id) {
			sn.set("plane", node::num(v.plane_id)).set("fb", node::num(v.fb_id));
		} else {
			sn.set("composed",
			       node::str(v.err ? error_text(v.reason, v.err) : v.reason));
		}
		surfaces.push(std::move(sn));
	}
	n.set("surfaces", std::move(surfaces));
	return n;
}

// The pointer on the cursor plane (what it shows, where), or why it is
// drawn in software.
node cursor_node(const kms_cursor_shown &c) {
	node n = node::object();
	if (c.plane_id == 0 || c.fb_id == 0) {
		n.set("plane", c.plane_id ? node::num(c.plane_id) : node::str("none"));
		n.set("shows", node::str(c.refused.empty() ? "nothing (no pointer image)"
		                                           : "software cursor: " + c.refused));
	} else {
		wlr_box b{c.x - c.hotspot_x, c.y - c.hotspot_y, c.width, c.height};
		n.set("plane", node::num(c.plane_id))
		    .set("shows", node::str(shown_text(c.import, c.fb_id)))
		    .set("pointer", node::str(std::to_string(c.x) + "," + std::to_string(c.y)))
		    .set("at", node::str(box_text(b)))
		    .set("state", node::str(c.on_screen ? "on screen" : "queued"));
		if (!c.refused.empty())
			n.set("refused", node::str(c.refused));
	}
	return n.set("images", node::num(c.images))
	    .set("moves", node::num(c.moves))
	    .set("commits", node::num(c.commits));
}

node output_node(const output &out, backend_kind backend, scanout_map &scanout) {
	wlr_output *o = out.wlr();
	node n = node::object().set("name", node::str(o->name));
	n.set("size", node::str(std::to_string(o->width) + "x" + std::to_string(o->height)));
	kms_scanout_state state = kms_output_get_scanout(o);
	if (!state.device)
		return n.set("backend", node::str(std::string(to_string(backend))));
	n.set("device", node::str(state.device->name()));
	n.set("connector", node::num(state.connector_id));
	n.set("crtc", node::num(state.crtc_id));
	n.set("on_screen", node::str(shown_text(state.on_screen_import, state.on_screen_fb)));
	n.set("queued", node::str(shown_text(state.queued_import, state.queued_fb)));
	const kms_output_stats *st = kms_output_get_stats(o);
	if (const kms_render_allocator *rt = state.render_target)
		n.set("composed_into",
		      node::object()
		          .set("buffers", node::str("GBM on the render device"))
		          .set("path", node::str(rt->path()))
		          .set("reason", node::str(rt->reason()))
		          .set("display_copies", node::num(st != nullptr ? st->display_copies : 0))
		          .set("display_copy_bytes",
		               node::num(st != nullptr ? st->display_copy_bytes : 0)));
	else
		n.set(
		    "composed_into",
		    node::object().set("buffers", node::str("dumb buffers on the display device")));
	if (state.on_screen_import)
		scanout[state.on_screen_import].push_back({o->name, true, state.on_screen_fb});
	if (state.queued_import)
		scanout[state.queued_import].push_back({o->name, false, state.queued_fb});
	if (const kms_output_stats *st = kms_output_get_stats(o)) {
		n.set("commits", node::num(st->commits));
		n.set("direct_scanout", node::num(st->direct_scanout));
		n.set("composed", node::num(st->composed));
		n.set("flips", node::num(st->flips));
	}
	if (const overlay_frame *frames = out.overlays())
		n.set("overlays", planes_node(o, *frames));
	n.set("cursor", cursor_node(kms_output_get_cursor(o)));
	for (const kms_overlay_shown &s : kms_output_get_overlays(o))
		if (s.import)
			scanout[s.import].push_back({o->name, s.on_screen, s.fb_id});
	return n;
}

// The scanout verdict of a device_import (import/import.hpp), if known.
const char *verdict_name(scanout_state state) {
	// Unknown: not shown; failed imports and framebuffers: shown as
	// import_failed and framebuffer_failed.
	static constexpr const char *names[] = {nullptr, nullptr, nullptr, "refused", "scans out"};
	return enum_name(state, names, nullptr);
}

node device_import_node(const device_import &d, const import_key &key, node &negatives,
                        uint64_t serial) {
	node dn = node::object().set("device", node::str(d.device().name()));
	if (!d.ok()) {
		dn.set("import_failed", node::str(error_text(d.err())));
		negatives.push(node::object()
		                   .set("import", node::num(serial))
		                   .set("device", node::str(d.device().name()))
		                   .set("errno", node::num(uint64_t(d.err().errnum)))
		                   .set("reason", node::str(d.err().message)));
		return dn;
	}
	node handles = node::array();
	for (uint32_t p = 0; p < key.n_planes; p++) {
		uint32_t h = d.handle(p);
		handles.push(node::str(std::to_string(h) + " (refs " +
		                       std::to_string(d.device().handles().count(h)) + ")"));
	}
	dn.set("handles", std::move(handles));
	if (d.fb_id())
		dn.set("framebuffer", node::num(d.fb_id()));
	else if (d.fb_attempted())
		dn.set("framebuffer_failed", node::str(error_text(d.fb_err())));
	scanout_verdict verdict = d.scanout();
	if (const char *name = verdict_name(verdict.state))
		dn.set("scanout", node::str(verdict.state == scanout_state::refused
		                                ? std::string(name) + ": " +
		                                      error_text(verdict.message, verdict.errnum)
		                                : std::string(name)));
	return dn;
}

node buffers_node(std::vector<const dmabuf_buffer *> &bs, bool *in_use) {
	std::sort(bs.begin(), bs.end(), [](auto *a, auto *b) {
		return std::pair(a->client_pid(), a->resource_id()) <
		       std::pair(b->client_pid(), b->resource_id());
	});
	node buffers = node::array();
	for (const dmabuf_buffer *b : bs) {
		*in_use |= b->locks() > 0;
		buffers.push(node::object()
		                 .set("client_pid", node::num(uint64_t(b->client_pid())))
		                 .set("wl_buffer", node::num(b->resource_id()))
		                 .set("destroyed_by_client", node::boolean(!b->resource()))
		                 .set("locks", node::num(b->locks()))
		                 .set("releases_sent", node::num(b->releases())));
	}
	return buffers;
}

node import_node(const dmabuf_import &i, std::vector<const dmabuf_buffer *> &users,
                 const std::vector<scanout_use> &scanout, node &negatives) {
	const import_key &key = i.key();
	node n = node::object();
	n.set("import", node::num(i.serial()));
	n.set("format", node::str(format_name(key.format)));
	n.set("modifier", node::str(modifier_name(key.modifier)));
	n.set("size", node::str(std::to_string(key.width) + "x" + std::to_string(key.height)));
	n.set("bytes", node::num(i.bytes()));
	node planes = node::array();
	for (uint32_t p = 0; p < key.n_planes; p++)
		planes.push(node::object()
		                .set("dmabuf", node::str(to_string(key.planes[p].id)))
		                .set("offset", node::num(key.planes[p].offset))
		                .set("stride", node::num(key.planes[p].stride)));
	n.set("planes", std::move(planes));
	if (const implicit_layout *layout = i.implicit())
		n.set("implicit_layout",
		      node::str("exporter \"" + layout->exporter_name +
		                "\": " + (layout->linear ? std::string("linear") : layout->why)));
	if (const error *cpu = i.cpu_error())
		n.set("cpu_read_refused", node::str(error_text(*cpu)));

	node per_device = node::array();
	for (const device_import &d : i.devices())
		per_device.push(device_import_node(d, key, negatives, i.serial()));
	n.set("devices", std::move(per_device));

	bool in_use = false;
	n.set("wl_buffers", buffers_node(users, &in_use));
	std::string state = i.users() == 0 ? "idle (cached)" : in_use ? "in use" : "held";
	for (const scanout_use &u : scanout)
		state = std::string(u.on_screen ? "on screen" : "queued") + " on " + u.output;
	n.set("state", node::str(state));
	n.set("users", node::num(i.users()));
	n.set("mapped_dmabufs", node::num(i.mapped_count()));
	return n;
}

node cache_node(const import_cache &cache) {
	const cache_stats &st = cache.stats();
	return node::object()
	    .set("imports", node::num(cache.size()))
	    .set("idle", node::num(cache.idle_count()))
	    .set("idle_bytes", node::num(cache.idle_bytes()))
	    .set("hits", node::num(st.hits))
	    .set("misses", node::num(st.misses))
	    .set("evictions", node::num(st.evictions))
	    .set("device_imports", node::num(st.device_imports))
	    .set("device_failures", node::num(st.device_failures))
	    .set("negative_hits", node::num(st.negative_hits))
	    .set("framebuffers", node::num(st.framebuffers))
	    .set("framebuffer_failures", node::num(st.framebuffer_failures))
	    .set("mappings", node::num(st.mappings));
}

node ioctls_node(const ioctl_counts &n) {
	return node::object()
	    .set("PRIME_FD_TO_HANDLE", node::num(n.fd_to_handle))
	    .set("PRIME_HANDLE_TO_FD", node::num(n.handle_to_fd))
	    .set("GEM_CLOSE", node::num(n.gem_close))
	    .set("ADDFB2", node::num(n.add_fb))
	    .set("RMFB_CLOSEFB", node::num(n.remove_fb))
	    .set("ATOMIC_COMMIT", node::num(n.atomic_commits))
	    .set("ATOMIC_TEST_ONLY", node::num(n.atomic_tests))
	    .set("CREATE_DUMB", node::num(n.create_dumb))
	    .set("MAP_DUMB", node::num(n.map_dumb))
	    .set("DESTROY_DUMB", node::num(n.destroy_dumb));
}

node sync_node(const implicit_sync &sync) {
	const fence_wait_stats &st = sync.stats();
	auto as_ms = [](std::chrono::nanoseconds d) {
		return node::num(
		    uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
	};
	return node::object()
	    .set("timeout_ms", node::num(uint64_t(sync.timeout().count())))
	    .set("buffers_checked", node::num(st.checked))
	    .set("waits", node::num(st.waits))
	    .set("waiting_now", node::num(sync.waiting()))
	    .set("signalled", node::num(st.signaled))
	    .set("timeouts", node::num(st.timeouts))
	    .set("abandoned", node::num(st.abandoned))
	    .set("fence_failures", node::num(st.export_failures))
	    .set("poll_fallbacks", node::num(st.poll_fallbacks))
	    .set("waited_total_ms", as_ms(st.total))
	    .set("waited_max_ms", as_ms(st.max));
}

// The copy fallback (render/scanout_copy.hpp) of one KMS output: the frames
// copied, bytes, counts by reason, and every Import that its device cannot
// scan out, with why (their scanout verdicts).
node copy_node(const char *output_name, const scanout_copy &copy) {
	const copy_stats &st = copy.stats();
	node reasons = node::object();
	for (const auto &[reason, count] : st.by_reason)
		reasons.set(reason, node::num(count));
	node refused = node::array();
	for (const copy_refusal &r : copy.refusals())
		refused.push(node::object()
		                 .set("import", node::num(r.import))
		                 .set("device", node::str(r.device))
		                 .set("reason", node::str(r.reason))
		                 .set("errno", node::num(uint64_t(r.errnum)))
		                 .set("message", node::str(r.message)));
	return node::object()
	    .set("output", node::str(output_name))
	    .set("copies", node::num(st.copies))
	    .set("bytes", node::num(st.bytes))
	    .set("whole_frames", node::num(st.whole_frames))
	    .set("by_reason", std::move(reasons))
	    .set("not_scanned_out", std::move(refused));
}

// What linux-dmabuf advertises because of the renderer: EGL's pairs, and
// which formats are shown only by EGL, external-only, tiled or left out.
node formats_node(const composition_formats &f, const egl_format_offer &offer) {
	auto fourccs = [](const std::vector<uint32_t> &list) {
		node a = node::array();
		for (uint32_t fourcc : list)
			a.push(node::str(format_name(fourcc)));
		return a;
	};
	node tiled = node::array();
	for (const format_set::Pair &p : f.tiled)
		tiled.push(node::str(format_name(p.first) + " " + modifier_name(p.second)));
	return node::object()
	    .set("egl_formats", node::num(offer.formats.size()))
	    .set("egl_modifier_query", node::str(offer.modifiers_extension ? "yes" : "no"))
	    .set("egl_pairs", node::num(f.egl.pairs().size()))
	    .set("advertised_pairs", node::num(f.advertised.pairs().size()))
	    .set("gpu_only", fourccs(f.gpu_only))
	    .set("external_only", fourccs(f.external_only))
	    .set("tiled", std::move(tiled))
	    .set("yuv_by_cpu", fourccs(f.yuv_by_cpu))
	    .set("not_advertised", fourccs(f.dropped));
}

// What composes, on which node and why; with GLES2, the per-Import texture
// cache's counters and every Import on the CPU path with its reason.
node renderer_node(const renderer_choice &choice, gles2_renderer *gles2,
                   const import_context *ctx) {
	node n = node::object()
	             .set("kind", node::str(to_string(choice.kind)))
	             .set("reason", node::str(choice.reason));
	if (gles2 == nullptr)
		return n;
	const gles2_texture_stats &st = gles2->stats();
	node cpu = node::array();
	if (ctx != nullptr)
		ctx->cache().for_each([&](const dmabuf_import &i) {
			if (std::string(gles2->path_of(i)) == "cpu")
				cpu.push(node::object()
				             .set("import", node::num(i.serial()))
				             .set("reason", node::str(gles2->cpu_reason(i))));
		});
	return n.set("node", node::str(choice.node))
	    .set("formats", formats_node(gles2->formats(), gles2->format_offer()))
	    .set("software_gl", node::str(choice.software_gl ? "yes" : "no"))
	    .set("gl_renderer", node::str(gles2->gl_renderer()))
	    .set("gl_version", node::str(gles2->gl_version()))
	    .set("egl_imports", node::num(st.egl_imports))
	    .set("egl_reuses", node::num(st.egl_reuses))
	    .set("egl_failures", node::num(st.egl_failures))
	    .set("cpu_path_imports", node::num(st.cpu_imports))
	    .set("cpu_uploads", node::num(st.cpu_uploads))
	    .set("textures_live", node::num(st.textures_live))
	    .set("cpu_path", std::move(cpu));
}

} // namespace

std::string debug_dump(const dump_sources &from, dump_format format) {
	static const std::list<std::unique_ptr<output>> no_outputs;
	const auto &outs = from.outputs ? *from.outputs : no_outputs;
	const import_context *ctx = from.imports;
	node root = node::object();
	root.set("devices", devices_node(ctx));
	if (from.renderer != nullptr)
		root.set("renderer", renderer_node(*from.renderer, from.gles2, ctx));

	// Outputs, and which Import each shows or has queued.
	scanout_map scanout;
	node outputs = node::array();
	for (const auto &out : outs)
		outputs.push(output_node(*out, from.backend, scanout));
	root.set("outputs", std::move(outputs));

	node imports = node::array();
	node negatives = node::array();
	if (ctx != nullptr) {
		// The wl_buffers of each Import.
		std::map<uint64_t, std::vector<const dmabuf_buffer *>> users;
		for (const dmabuf_buffer *b : ctx->buffers().buffers)
			users[b->import().serial()].push_back(b);
		std::vector<const dmabuf_import *> all;
		ctx->cache().for_each([&](const dmabuf_import &i) { all.push_back(&i); });
		std::sort(all.begin(), all.end(),
		          [](auto *a, auto *b) { return a->serial() < b->serial(); });
		for (const dmabuf_import *i : all)
			imports.push(
			    import_node(*i, users[i->serial()], scanout[i->serial()], negatives));
		root.set("cache", cache_node(ctx->cache()));
	}
	root.set("imports", std::move(imports));
	root.set("negative_entries", std::move(negatives));
	if (ctx != nullptr)
		root.set("ioctls", ioctls_node(ctx->counts().counts()));
	if (from.sync != nullptr)
		root.set("implicit_sync", sync_node(*from.sync));
	node copies = node::array();
	for (const auto &out : outs)
		if (const scanout_copy *copy = out->copy())
			copies.push(copy_node(out->wlr()->name, *copy));
	root.set("copies", std::move(copies));

	std::string out;
	if (format == dump_format::json) {
		root.json(out);
		out += '\n';
	} else {
		root.text(out, 0);
	}
	return out;
}

} // namespace wlprime
