// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace wlprime {

/*
 * Errors are values: an errno (0 when the failure is not a system error)
 * and a message that names the values involved. Logged once, where handled.
 */
struct Error {
	int err = 0;
	std::string message;
};

// A value or an Error. A small std::expected for C++20.
template <typename T>
class [[nodiscard]] Result {
public:
	Result(T value) : v_(std::move(value)) {}
	Result(Error error) : v_(std::move(error)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }

	T &value() { return std::get<0>(v_); }
	const T &value() const { return std::get<0>(v_); }
	T &operator*() { return value(); }
	T *operator->() { return &value(); }
	const Error &error() const { return std::get<1>(v_); }

private:
	std::variant<T, Error> v_;
};

// Status of an operation that returns nothing but can fail.
using Status = Result<std::monostate>;
inline Status ok_status() { return Status(std::monostate{}); }

} // namespace wlprime
