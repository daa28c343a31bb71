// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace wlprime {

/*
 * Errors are values: a message that names the values involved (for the log
 * or the user) and, when the failure came from the system, its errno. Logged
 * once, by whoever handles it.
 */
struct error {
	std::string message;
	int errnum = 0; // errno, 0 if the failure is not a system error
};

// A T or an error: the C++20 stand-in for std::expected<T, error>.
template <typename T>
class [[nodiscard]] result {
public:
	result(T value) : v_(std::move(value)) {}
	result(error e) : v_(std::move(e)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }

	// Only when ok().
	T &value() { return std::get<0>(v_); }
	const T &value() const { return std::get<0>(v_); }
	T &operator*() { return value(); }
	const T &operator*() const { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }

	// Only when !ok().
	const error &err() const { return std::get<1>(v_); }

private:
	std::variant<T, error> v_;
};

// The value of a result that carries nothing but success.
struct done {};
using status = result<done>;

} // namespace wlprime
