// dump_node.hpp: a tiny writer of nested values, as indented text or as JSON
// (wlprime-debug's dump, the --report file), so that the two formats cannot
// drift apart.

#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace wlprime {

class dump_node {
public:
	enum class kind { scalar, string, object, array };

	static dump_node str(std::string s) { return dump_node(kind::string, std::move(s)); }
	static dump_node num(uint64_t n) { return dump_node(kind::scalar, std::to_string(n)); }
	// A real number with `decimals` digits after the point.
	static dump_node real(double d, int decimals = 3) {
		char buf[64];
		std::snprintf(buf, sizeof(buf), "%.*f", decimals, d);
		return dump_node(kind::scalar, buf);
	}
	static dump_node boolean(bool b) { return dump_node(kind::scalar, b ? "true" : "false"); }
	static dump_node object() { return dump_node(kind::object, ""); }
	static dump_node array() { return dump_node(kind::array, ""); }

	dump_node &set(const std::string &key, dump_node value) {
		members_.emplace_back(key, std::move(value));
		return *this;
	}
	dump_node &push(dump_node value) {
		members_.emplace_back("", std::move(value));
		return *this;
	}

	void json(std::string &out) const {
		switch (kind_) {
		case kind::scalar:
			out += value_;
			return;
		case kind::string:
			quote(out, value_);
			return;
		case kind::object:
		case kind::array: {
			bool obj = kind_ == kind::object;
			out += obj ? '{' : '[';
			for (size_t i = 0; i < members_.size(); i++) {
				if (i)
					out += ',';
				if (obj) {
					quote(out, members_[i].first);
					out += ':';
				}
				members_[i].second.json(out);
			}
			out += obj ? '}' : ']';
			return;
		}
		}
	}

	void text(std::string &out, int depth) const {
		std::string pad(size_t(depth) * 2, ' ');
		for (const auto &[key, value] : members_) {
			std::string label = key.empty() ? "-" : key + ":";
			if (value.kind_ == kind::object || value.kind_ == kind::array) {
				out +=
				    pad + label + (value.members_.empty() ? " (none)" : "") + "\n";
				value.text(out, depth + 1);
			} else {
				out += pad + label + " " + value.value_ + "\n";
			}
		}
	}

private:
	dump_node(kind k, std::string v) : kind_(k), value_(std::move(v)) {}
	static void quote(std::string &out, const std::string &s) {
		out += '"';
		for (char c : s) {
			if (c == '"' || c == '\\') {
				out += '\\';
				out += c;
			} else if (static_cast<unsigned char>(c) < 0x20) {
				char buf[8];
				std::snprintf(buf, sizeof(buf), "\\u%04x", c);
				out += buf;
			} else {
				out += c;
			}
		}
		out += '"';
	}

	kind kind_;
	std::string value_;
	std::vector<std::pair<std::string, dump_node>> members_;
};

} // namespace wlprime
