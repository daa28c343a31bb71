// wlr.hpp: the one place where wlroots 0.15 is included from C++.
//
// Every wlroots header that wlprime uses is included here and nowhere else;
// code that needs wlroots includes "render/wlr.hpp". The work-arounds:
//
// 1. C99 array parameters. wlroots' headers declare parameters such as
//    `const float matrix[static 9]` (wlr_matrix.h, wlr_renderer.h,
//    wlr_scene.h, ...). `static` inside array brackets is C only; g++ rejects
//    it. We `#define static` to nothing around the wlroots includes, which
//    turns the declarations into `const float matrix[9]`, the same type after
//    adjustment, so the ABI is unchanged.
//
// 2. Because of (1), every header that wlroots pulls in and that has real
//    `static` functions of its own (wayland's generated protocol headers with
//    their `static inline` request and event helpers, pixman, libdrm,
//    xkbcommon, the libc headers) is included *before* the #define, so that
//    its include guard keeps it from being re-read with `static` erased.
//
// 3. wlr/types/wlr_xdg_shell.h includes "xdg-shell-protocol.h" by that name.
//    protocols/meson.build generates it (wayland-scanner server-header) into
//    the build tree and puts that directory on the include path through the
//    wlprime_protocols_server dependency.
//
// 4. wlroots' headers are C, so they go inside extern "C". (Most of them have
//    no `__cplusplus` guards of their own in 0.15.)
//
// 5. wlroots' headers refuse to compile without WLR_USE_UNSTABLE (0.x has no
//    stable API). It is defined here, not on the command line, so that the
//    opt-in is visible where wlroots comes in.
//
// 6. Do not include wlr/types/wlr_linux_dmabuf_v1.h or wlr/types/wlr_drm.h:
//    wlprime implements linux-dmabuf itself over its import subsystem, and
//    neither wlroots global may be created (see server.cpp, wl_shm set-up).
//
// 7. Known wlroots 0.15.1 bugs that shape code elsewhere:
//    - wlr_scene_attach_output_layout() listens for the layout's destroy only
//      (its "scene destroy" listener is on the layout too), and then walks the
//      scene's outputs: destroy the output layout *before* the scene
//      (server::~server).
//    - wlr_global_destroy_safe() (wl_output, xdg_output when an output goes)
//      leaks its 5 s timer when the display is destroyed first: harmless at
//      exit, suppressed for LeakSanitizer in tests/compositor/lsan.supp.
//
// 8. wlroots 0.15 has no signal between a client's wl_surface.commit request
//    and the moment the commit is applied or cached (0.16 added
//    wlr_surface.events.client_commit). compositor/implicit_sync.cpp uses a
//    libwayland protocol logger (wl_display_add_protocol_logger), which
//    libwayland calls for every request right before dispatching it, to
//    wlr_surface_lock_pending() there, and, when a fence times out, edits
//    the cached wlr_surface_state (public fields) to drop its buffer before
//    wlr_surface_unlock_cached(). Both lean on 0.15.1's surface code
//    (types/wlr_surface.c): re-check them when moving to 0.16.
//
// 9. wlroots 0.15.1's pixman renderer ignores the x and y of the source box
//    in wlr_render_subtexture_with_matrix (it scales by the box's size but
//    samples from the texture's origin), so a wp_viewport crop that does not
//    start at 0,0 shows the wrong part of the buffer. compositor/viewport.cpp
//    swaps the surface's wlr_client_buffer::texture (a public field) for a
//    texture of a view that starts at the crop's origin, and puts the
//    original back before wlroots destroys it. Its wlr_viewporter posts no
//    viewport_exists and checks out_of_buffer against a state it has already
//    moved away (it never fires): wlprime implements wp_viewporter itself
//    over the same public wlr_surface_state fields, and does not include
//    wlr_viewporter.h. Its headless backend sends
//    its present event inside the output commit, before the commit event, so
//    wp_presentation feedback never matches it (compositor/headless_present.cpp
//    sends it again once the commit is done). Re-check both for 0.16.
//
// Not needed so far and therefore not included: wlr_layer_shell_v1.h (it has a
// member named `namespace`, which would need another #define), the wayland
// and x11 backend headers (they pull in wayland-client.h and xcb, whose
// `static inline` helpers would have to be included first too), wlroots' DRM
// backend, EGL/GLES2 (the libseat session, libinput and multi backends are
// used from a TTY: compositor/session.cpp). (wlprime's KMS backend is its own:
// render/kms_backend.cpp, on wlr/backend/interface.h and
// wlr/interfaces/wlr_output.h; wlr/render/dmabuf.h and drm_format_set.h are for
// its buffers and allocator.)

#pragma once

// (5)
#ifndef WLR_USE_UNSTABLE
#define WLR_USE_UNSTABLE
#endif

// (2) System and protocol headers that wlroots includes, first, unmodified.
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <drm_fourcc.h>
#include <gbm.h>
#include <libinput.h>
#include <libudev.h>
#include <pixman.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>
#include <wayland-util.h>
#include <xf86drm.h>
#include <xkbcommon/xkbcommon.h>

// (3) Generated by protocols/meson.build.
#include "xdg-shell-protocol.h"

// (1) + (4)
extern "C" {
#define static
#include <wlr/backend.h>
#include <wlr/backend/headless.h>
#include <wlr/backend/interface.h>
#include <wlr/backend/libinput.h>
#include <wlr/backend/multi.h>
#include <wlr/backend/session.h>
#include <wlr/interfaces/wlr_output.h>
#include <wlr/render/allocator.h>
#include <wlr/render/dmabuf.h>
#include <wlr/render/drm_format_set.h>
#include <wlr/render/egl.h>
#include <wlr/render/gles2.h>
#include <wlr/render/interface.h>
#include <wlr/render/pixman.h>
#include <wlr/render/wlr_renderer.h>
#include <wlr/render/wlr_texture.h>
#include <wlr/types/wlr_buffer.h>
#include <wlr/types/wlr_compositor.h>
#include <wlr/types/wlr_cursor.h>
#include <wlr/types/wlr_data_device.h>
#include <wlr/types/wlr_input_device.h>
#include <wlr/types/wlr_keyboard.h>
#include <wlr/types/wlr_matrix.h>
#include <wlr/types/wlr_output.h>
#include <wlr/types/wlr_output_damage.h>
#include <wlr/types/wlr_output_layout.h>
#include <wlr/types/wlr_pointer.h>
#include <wlr/types/wlr_presentation_time.h>
#include <wlr/types/wlr_scene.h>
#include <wlr/types/wlr_screencopy_v1.h>
#include <wlr/types/wlr_seat.h>
#include <wlr/types/wlr_xcursor_manager.h>
#include <wlr/types/wlr_xdg_decoration_v1.h>
#include <wlr/types/wlr_xdg_output_v1.h>
#include <wlr/types/wlr_xdg_shell.h>
#include <wlr/util/box.h>
#include <wlr/util/edges.h>
#include <wlr/util/log.h>
#include <wlr/version.h>
#undef static

// (7) wlroots 0.15's GBM allocator, exported by libwlroots.so.10 but
// declared only in its private render/allocator/gbm.h: the only way to give
// an allocator a DRM fd of our choosing (wlr_allocator_autocreate takes the
// backend's). It takes ownership of drm_fd. Pinned by the meson version
// check (>=0.15.0, <0.16.0).
struct wlr_allocator *wlr_gbm_allocator_create(int drm_fd);
// Likewise (private render/egl.h): frees a wlr_egl that no renderer took
// (wlr_gles2_renderer_create refused it), its display and context with it.
void wlr_egl_destroy(struct wlr_egl *egl);
}
