#include "compositor/render_device.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <system_error>

#include <sys/stat.h>

namespace wlprime {
namespace {

// The number N of "<prefix>N", or -1 if name is not of that form.
long node_number(std::string_view name, std::string_view prefix) {
	if (!name.starts_with(prefix) || name.size() == prefix.size()) {
		return -1;
	}
	std::string_view digits = name.substr(prefix.size());
	long n = -1;
	auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
	if (ec != std::errc{} || end != digits.data() + digits.size() || n < 0) {
		return -1;
	}
	return n;
}

} // namespace

std::optional<std::string> find_main_drm_device(const std::filesystem::path &dri_dir) {
	long best_render = -1;
	long best_card = -1;
	std::error_code ec;
	std::filesystem::directory_iterator it(dri_dir, ec);
	if (ec) {
		return std::nullopt;
	}
	for (const std::filesystem::directory_entry &entry : it) {
		std::string name = entry.path().filename().string();
		if (long n = node_number(name, "renderD"); n >= 0) {
			if (best_render < 0 || n < best_render) {
				best_render = n;
			}
		} else if (long n = node_number(name, "card"); n >= 0) {
			if (best_card < 0 || n < best_card) {
				best_card = n;
			}
		}
	}
	if (best_render >= 0) {
		return (dri_dir / ("renderD" + std::to_string(best_render))).string();
	}
	if (best_card >= 0) {
		return (dri_dir / ("card" + std::to_string(best_card))).string();
	}
	return std::nullopt;
}

status check_drm_device_path(const std::string &path) {
	struct stat st {};
	if (stat(path.c_str(), &st) != 0) {
		return error{path + ": " + std::strerror(errno)};
	}
	if (!S_ISCHR(st.st_mode)) {
		return error{path + ": not a character device"};
	}
	return done{};
}

} // namespace wlprime
