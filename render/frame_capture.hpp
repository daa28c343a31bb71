// frame_capture.hpp: render what an output shows into a CPU image.
//
// The scene is rendered again, off screen, with the output's own renderer,
// transform and scale into a buffer of the output's size: the same
// composition as the output's last frame, without the (software) cursor.
// This is how the tests and --screenshot look at pixels.

#pragma once

#include "render/wlr.hpp"
#include "import/result.hpp"
#include "render/image.hpp"

namespace wlprime {

// Background where no scene node covers the output, as wlr_scene paints it.
inline constexpr float capture_background[4] = {0.0f, 0.0f, 0.0f, 1.0f};

// output must be enabled and initialised for rendering
// (wlr_output_init_render). The output's position in the scene is taken from
// its wlr_scene_output, (0, 0) if it has none.
result<image> capture_output(wlr_scene *scene, wlr_output *output);

} // namespace wlprime
