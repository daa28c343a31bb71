// png.hpp: PNG files from and to wlprime images (libpng).

#pragma once

#include <string>

#include "import/result.hpp"
#include "render/image.hpp"

namespace wlprime {

// Writes img as an 8-bit RGB PNG (the X byte is dropped). Overwrites path.
status write_png(const std::string &path, const image &img);

// Reads an 8-bit RGB or RGBA PNG (or anything libpng can expand to it) into
// an image; alpha is dropped, X is set to 0xff. For tests and reference images.
result<image> read_png(const std::string &path);

} // namespace wlprime
