// fault_kernel.cpp: the rules, and the calls that consult them.

#include "fault_kernel.hpp"

#include <cerrno>
#include <cstdlib>
#include <drm_mode.h>
#include <sys/stat.h>

#include "log.hpp"

namespace wlprime {

namespace {

constexpr const char *calls[] = {
    "PRIME_FD_TO_HANDLE", "PRIME_HANDLE_TO_FD", "GEM_CLOSE",   "ADDFB2",   "RMFB",
    "ATOMIC_COMMIT",      "ATOMIC_TEST_ONLY",   "CREATE_DUMB", "MAP_DUMB", "DESTROY_DUMB",
};

struct errno_name {
	const char *name;
	int value;
};
constexpr errno_name errnos[] = {
    {"EINVAL", EINVAL}, {"ENOMEM", ENOMEM}, {"ENOSPC", ENOSPC},         {"EBUSY", EBUSY},
    {"EINTR", EINTR},   {"EAGAIN", EAGAIN}, {"EACCES", EACCES},         {"EPERM", EPERM},
    {"ENOENT", ENOENT}, {"ENODEV", ENODEV}, {"EOPNOTSUPP", EOPNOTSUPP}, {"ERANGE", ERANGE},
    {"EFAULT", EFAULT}, {"E2BIG", E2BIG},   {"EMFILE", EMFILE},
};

result<int> parse_errno(const std::string &text) {
	for (const errno_name &e : errnos)
		if (text == e.name)
			return e.value;
	char *end = nullptr;
	long n = std::strtol(text.c_str(), &end, 10);
	if (!text.empty() && end != nullptr && *end == '\0' && n > 0 && n < 4096)
		return int(n);
	return error{"unknown errno \"" + text + "\"", EINVAL};
}

uint64_t inode_of(int fd) {
	struct stat st {};
	return fstat(fd, &st) == 0 ? uint64_t(st.st_ino) : 0;
}

} // namespace

result<std::vector<fault_rule>> parse_fault_rules(const std::string &spec) {
	std::vector<fault_rule> rules;
	size_t at = 0;
	while (at <= spec.size()) {
		size_t end = spec.find(',', at);
		std::string text =
		    spec.substr(at, end == std::string::npos ? std::string::npos : end - at);
		at = end == std::string::npos ? spec.size() + 1 : end + 1;
		if (text.empty())
			continue;
		auto bad = [&](const std::string &why) {
			return error{"fault rule \"" + text + "\": " + why, EINVAL};
		};
		fault_rule r;
		r.text = text;
		size_t eq = text.rfind('=');
		if (eq == std::string::npos)
			return bad("no =ERRNO");
		auto err = parse_errno(text.substr(eq + 1));
		if (!err)
			return bad(err.err().message);
		r.errnum = *err;
		std::string what = text.substr(0, eq);
		if (size_t hash = what.find('#'); hash != std::string::npos) {
			char *stop = nullptr;
			r.nth = std::strtoull(what.c_str() + hash + 1, &stop, 10);
			if (r.nth == 0 || stop == nullptr || *stop != '\0')
				return bad("#N needs a number from 1");
			what.resize(hash);
		}
		const std::string foreign = ":foreign";
		if (what.size() > foreign.size() &&
		    what.compare(what.size() - foreign.size(), foreign.size(), foreign) == 0) {
			r.foreign = true;
			what.resize(what.size() - foreign.size());
		}
		if (size_t atsign = what.find('@'); atsign != std::string::npos) {
			r.node = what.substr(atsign + 1);
			what.resize(atsign);
			if (r.node.empty())
				return bad("@ without a node");
		}
		bool known = false;
		for (const char *c : calls)
			known = known || what == c;
		if (!known)
			return bad("unknown call \"" + what + "\"");
		if (r.foreign && what != "PRIME_FD_TO_HANDLE")
			return bad(":foreign is for PRIME_FD_TO_HANDLE only");
		if (r.foreign && r.node.empty())
			return bad(":foreign needs @NODE");
		r.call = what;
		rules.push_back(std::move(r));
	}
	return rules;
}

int fault_kernel::fault(const char *call, int dev_fd, int dmabuf_fd) {
	std::string node; // read once per call, only if a rule asks
	bool node_read = false;
	for (fault_rule &r : rules_) {
		if (r.call != call)
			continue;
		if (!r.node.empty()) {
			if (!node_read) {
				auto path = inner_.node_path(dev_fd);
				node = path ? *path : "";
				node_read = true;
			}
			if (node != r.node)
				continue;
		}
		if (r.foreign) {
			auto it = exported_.find(node);
			if (it != exported_.end() && it->second.count(inode_of(dmabuf_fd)) != 0)
				continue; // its own buffer
		}
		r.matched++;
		if (r.nth != 0 && r.matched != r.nth)
			continue;
		r.injected++;
		import_log(log_level::info, "fault injected: %s on %s: errno %d (rule %s)", call,
		           node.empty() ? "fd" : node.c_str(), r.errnum, r.text.c_str());
		return r.errnum;
	}
	return 0;
}

int fault_kernel::prime_fd_to_handle(int dev_fd, int dmabuf_fd, uint32_t *handle) {
	if (int err = fault("PRIME_FD_TO_HANDLE", dev_fd, dmabuf_fd))
		return err;
	return inner_.prime_fd_to_handle(dev_fd, dmabuf_fd, handle);
}

int fault_kernel::prime_handle_to_fd(int dev_fd, uint32_t handle, uint32_t flags, int *fd) {
	if (int err = fault("PRIME_HANDLE_TO_FD", dev_fd))
		return err;
	int err = inner_.prime_handle_to_fd(dev_fd, handle, flags, fd);
	if (err == 0)
		for (const fault_rule &r : rules_)
			if (r.foreign) { // remember what each node exported, for :foreign
				if (auto path = inner_.node_path(dev_fd))
					exported_[*path].insert(inode_of(*fd));
				break;
			}
	return err;
}

int fault_kernel::gem_close(int dev_fd, uint32_t handle) {
	if (int err = fault("GEM_CLOSE", dev_fd))
		return err;
	return inner_.gem_close(dev_fd, handle);
}

int fault_kernel::add_fb2(int dev_fd, const fb_request &request, uint32_t *fb_id) {
	if (int err = fault("ADDFB2", dev_fd))
		return err;
	return inner_.add_fb2(dev_fd, request, fb_id);
}

int fault_kernel::remove_fb(int dev_fd, uint32_t fb_id) {
	if (int err = fault("RMFB", dev_fd))
		return err;
	return inner_.remove_fb(dev_fd, fb_id);
}

int fault_kernel::atomic_commit(int dev_fd, const atomic_request &request, uint32_t flags,
                                void *user_data) {
	const bool test = (flags & DRM_MODE_ATOMIC_TEST_ONLY) != 0;
	if (int err = fault(test ? "ATOMIC_TEST_ONLY" : "ATOMIC_COMMIT", dev_fd))
		return err;
	return inner_.atomic_commit(dev_fd, request, flags, user_data);
}

int fault_kernel::create_dumb(int dev_fd, uint32_t width, uint32_t height, uint32_t bpp,
                              dumb_buffer *out) {
	if (int err = fault("CREATE_DUMB", dev_fd))
		return err;
	return inner_.create_dumb(dev_fd, width, height, bpp, out);
}

int fault_kernel::map_dumb(int dev_fd, uint32_t handle, uint64_t size, int prot, void **data) {
	if (int err = fault("MAP_DUMB", dev_fd))
		return err;
	return inner_.map_dumb(dev_fd, handle, size, prot, data);
}

int fault_kernel::destroy_dumb(int dev_fd, uint32_t handle) {
	if (int err = fault("DESTROY_DUMB", dev_fd))
		return err;
	return inner_.destroy_dumb(dev_fd, handle);
}

} // namespace wlprime
