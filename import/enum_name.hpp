// SPDX-License-Identifier: MIT
// enum_name.hpp: the one way to name the values of an enum.
//
// An enum whose values run 0, 1, 2, ... names them with a table in the same
// order: `return enum_name(kind, names);`. A value past the table (a cast
// from a bad number) gets `unknown`.
#pragma once

#include <cstddef>

namespace wlprime {

template <typename Enum, size_t N>
constexpr const char *enum_name(Enum value, const char *const (&names)[N],
                                const char *unknown = "?") {
	const auto index = static_cast<size_t>(value);
	return index < N && names[index] != nullptr ? names[index] : unknown;
}

} // namespace wlprime
