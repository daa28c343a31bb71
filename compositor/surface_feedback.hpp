// surface_feedback.hpp: the scanout tranche of a surface's linux-dmabuf
// feedback (zwp_linux_dmabuf_feedback_v1 from get_surface_feedback).
//
// A surface whose primary output (wlr_scene_surface::primary_output: the
// output showing the largest part of it, as the scene tracks it) is a KMS
// output of wlprime's own backend gets, before the main device's tranche, a
// scanout tranche: target_device = the display device driving that output,
// flags = scanout, and the (format, modifier) pairs of the plane it would be
// scanned out on (the IN_FORMATS blob; without the blob, the plane's format
// list with LINEAR and INVALID): for a window on an output with overlay
// planes, the overlay plane it is on, else the union of the overlay planes
// the output may get; otherwise (covering its output, or no overlay plane)
// the primary plane. linux_dmabuf intersects them with what the import
// subsystem accepts and re-sends the feedback when they change (a window
// moved, put on a plane or taken off one). A surface on a headless or
// nested output, or on none, has no scanout tranche.
//
// The plane is the one the KMS backend shows the output on, from the
// device's plane inventory (render/kms_planes.hpp: read once, IN_FORMATS
// parsed there, failures logged there): this file lists no planes itself.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

#include "import/formats.hpp"
#include "render/wlr.hpp"

namespace wlprime {

// A scanout tranche before linux_dmabuf intersects it with its own formats.
struct scanout_tranche {
	dev_t device = 0;        // st_rdev of the display device's node
	format_set formats;      // what the plane takes
	std::string device_name; // "vkms /dev/dri/card1 (226:1)", for logs
	std::string output_name; // "Virtual-1", for logs
	std::string plane;       // "overlay plane 56", "primary plane 32", for logs
};

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
	std::optional<scanout_tranche> for_surface(wlr_surface *surface) const;

private:
	wlr_scene *scene_;
};

} // namespace wlprime
