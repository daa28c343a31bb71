// SPDX-License-Identifier: MIT
// The unit tests' main: --kernel=model (default) runs every case against the
// kernel model; --kernel=real against this machine's DRM devices (in the
// QEMU guest: tests/vm/run).
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <gtest/gtest.h>

#include "log.hpp"
#include "test_kernel.hpp"

namespace wlprime::test {

static test_kernel_api *current;

test_kernel_api &current_kernel() {
	return *current;
}

int open_fd_count() {
	int n = 0;
	DIR *dir = opendir("/proc/self/fd");
	while (dirent *e = readdir(dir))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1; // the DIR's own fd
}

int shared_mapping_count() {
	std::ifstream maps("/proc/self/maps");
	std::string line;
	int n = 0;
	while (std::getline(maps, line)) {
		// "start-end perms ...": perms is rwxs or rwxp.
		size_t space = line.find(' ');
		if (space != std::string::npos && space + 4 < line.size() && line[space + 4] == 's')
			n++;
	}
	return n;
}

} // namespace wlprime::test

int main(int argc, char **argv) {
	testing::InitGoogleTest(&argc, argv);
	std::string kernel = "model";
	bool verbose = false;
	for (int i = 1; i < argc; i++) {
		if (std::strncmp(argv[i], "--kernel=", 9) == 0)
			kernel = argv[i] + 9;
		else if (std::strcmp(argv[i], "--verbose") == 0)
			verbose = true;
		else {
			std::fprintf(stderr,
			             "usage: %s [gtest flags] [--kernel=model|real] [--verbose]\n",
			             argv[0]);
			return 2;
		}
	}
	wlprime::set_log_handler(nullptr,
	                         verbose ? wlprime::log_level::debug : wlprime::log_level::error);
	std::unique_ptr<wlprime::test::test_kernel_api> tk;
	if (kernel == "model")
		tk = wlprime::test::make_model_kernel();
	else if (kernel == "real")
		tk = wlprime::test::make_real_kernel();
	else {
		std::fprintf(stderr, "--kernel must be model or real, not %s\n", kernel.c_str());
		return 2;
	}
	wlprime::test::current = tk.get();
	std::printf("wlprime import tests against the %s kernel\n", tk->name());
	return RUN_ALL_TESTS();
}
