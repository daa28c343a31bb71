// SPDX-License-Identifier: MIT
#include "drm_nodes.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <xf86drm.h>

#include "unique_fd.hpp"

namespace wlprime {
namespace {

// The N of "<prefix>N", or -1 if name is not of that form.
int node_number(std::string_view name, std::string_view prefix) {
	if (!name.starts_with(prefix) || name.size() == prefix.size()) {
		return -1;
	}
	std::string_view digits = name.substr(prefix.size());
	int n = -1;
	auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
	if (ec != std::errc{} || end != digits.data() + digits.size() || n < 0) {
		return -1;
	}
	return n;
}

// The card* and renderD* names of dri_dir as nodes (not asked yet), sorted.
result<std::vector<drm_node>> scan(const std::string &dri_dir) {
	std::vector<drm_node> nodes;
	std::error_code ec;
	std::filesystem::directory_iterator it(dri_dir, ec);
	if (ec) {
		return error{dri_dir + ": " + ec.message(), ec.value()};
	}
	for (const std::filesystem::directory_entry &entry : it) {
		const std::string name = entry.path().filename().string();
		drm_node node;
		if (int n = node_number(name, "card"); n >= 0) {
			node.type = node_type::primary;
			node.number = n;
		} else if (int n = node_number(name, "renderD"); n >= 0) {
			node.type = node_type::render;
			node.number = n;
		} else {
			continue;
		}
		node.path = (std::filesystem::path(dri_dir) / name).string();
		nodes.push_back(std::move(node));
	}
	std::sort(nodes.begin(), nodes.end(), [](const drm_node &a, const drm_node &b) {
		return a.type != b.type ? a.type == node_type::primary : a.number < b.number;
	});
	return nodes;
}

} // namespace

std::string drm_node::describe() const {
	if (open_errno != 0) {
		return path + " (" + std::strerror(open_errno) + ")";
	}
	return path + " (" + driver + ")";
}

result<std::string> drm_driver_name(int fd) {
	drmVersionPtr version = drmGetVersion(fd);
	if (version == nullptr) {
		int err = errno != 0 ? errno : ENOTTY;
		return error{"drmGetVersion(fd " + std::to_string(fd) + "): " + std::strerror(err),
		             err};
	}
	std::string name(version->name, static_cast<size_t>(version->name_len));
	drmFreeVersion(version);
	return name;
}

result<std::vector<drm_node>> list_drm_nodes(const std::string &dri_dir) {
	auto nodes = scan(dri_dir);
	if (!nodes) {
		return nodes;
	}
	for (drm_node &node : *nodes) {
		unique_fd fd(open(node.path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
		if (!fd) {
			node.open_errno = errno;
			continue;
		}
		struct stat st {};
		if (fstat(fd.get(), &st) == 0) {
			node.rdev = st.st_rdev;
		}
		auto driver = drm_driver_name(fd.get());
		if (!driver) {
			node.open_errno = driver.err().errnum;
			continue;
		}
		node.driver = std::move(*driver);
	}
	return nodes;
}

result<std::string> find_drm_node(std::string_view driver, node_type type,
                                  const std::string &dri_dir) {
	auto nodes = list_drm_nodes(dri_dir);
	if (!nodes) {
		return nodes.err();
	}
	std::string seen;
	for (const drm_node &node : *nodes) {
		if (node.type != type) {
			continue;
		}
		if (node.open_errno == 0 && node.driver == driver) {
			return node.path;
		}
		seen += " " + node.describe();
	}
	return error{std::string("no ") + (type == node_type::render ? "renderD" : "card") +
	                 " node of DRM driver " + std::string(driver) + " in " + dri_dir + ":" +
	                 (seen.empty() ? " none at all" : seen),
	             ENODEV};
}

std::optional<std::string> find_main_drm_node(const std::string &dri_dir) {
	auto nodes = scan(dri_dir);
	if (!nodes) {
		return std::nullopt;
	}
	const drm_node *best = nullptr;
	for (const drm_node &node : *nodes) {
		// Sorted: primary nodes first, each kind by number.
		if (node.type == node_type::render) {
			return node.path;
		}
		if (best == nullptr) {
			best = &node;
		}
	}
	if (best != nullptr) {
		return best->path;
	}
	return std::nullopt;
}

} // namespace wlprime
