// surface_feedback.hpp: the scanout tranche of a surface's linux-dmabuf
// feedback (zwp_linux_dmabuf_feedback_v1 from get_surface_feedback).
//
// A surface whose primary output (wlr_scene_surface::primary_output: the
// output showing the largest part of it, as the scene tracks it) is a KMS
// output of wlprime's own backend gets, before the main device's tranche, a
// scanout tranche: target_device = the display device driving that output,
// flags = scanout, and the (format, modifier) pairs its primary plane takes
// (the IN_FORMATS blob; without the blob, the plane's format list with LINEAR
// and INVALID). linux_dmabuf intersects them with what the import subsystem
// accepts. A surface on a headless or nested output, or on none, has no
// scanout tranche.
//
// Plane formats are read once per (display device, CRTC) with libdrm on the
// display device's own file description, and kept (failures too, logged
// once). The real planes exist only in the real-kernel guest (tests/feedback);
// parse_in_formats() is pure and unit-tested.

#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>

#include "render/wlr.hpp"
#include "import/formats.hpp"
#include "import/result.hpp"

namespace wlprime {

// A scanout tranche before linux_dmabuf intersects it with its own formats.
struct scanout_tranche {
	dev_t device = 0;        // st_rdev of the display device's node
	format_set formats;      // what the primary plane takes
	std::string device_name; // "vkms /dev/dri/card1 (226:1)", for logs
	std::string output_name; // "Virtual-1", for logs
};

// Parses a plane's IN_FORMATS property blob (struct drm_format_modifier_blob,
// version 1). A blob whose counts or offsets point outside it is an error
// that names them.
result<format_set> parse_in_formats(const void *blob, size_t size);

// The (format, modifier) pairs the primary plane of CRTC crtc_id on the DRM
// device fd (borrowed; DRM_CLIENT_CAP_UNIVERSAL_PLANES set) can scan out.
result<format_set> primary_plane_formats(int fd, uint32_t crtc_id);

// The wlr_scene_surface that shows surface in the tree under root, or null.
wlr_scene_surface *find_scene_surface(wlr_scene_node *root, wlr_surface *surface);

// Finds surfaces' scanout tranches; owned by the server, borrows the scene.
class scanout_tranches {
public:
	explicit scanout_tranches(wlr_scene *scene) : scene_(scene) {}
	scanout_tranches(const scanout_tranches &) = delete;
	scanout_tranches &operator=(const scanout_tranches &) = delete;

	// The tranche of surface now, or none (not shown, its primary output is
	// not a KMS output, or its plane's formats could not be read).
	std::optional<scanout_tranche> for_surface(wlr_surface *surface);

private:
	wlr_scene *scene_;
	// Per (display device, CRTC): the primary plane's formats; empty if they
	// could not be read (logged the first time).
	std::map<std::pair<dev_t, uint32_t>, format_set> plane_formats_;
};

} // namespace wlprime
