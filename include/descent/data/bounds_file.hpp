// Reading per-variable bounds for `descent minimize --bounds-file`.
//
// One pair per line, "LO HI" or "LO,HI", in variable order; inf, +inf and
// -inf stand for no bound; blank lines and lines starting with '#' are
// skipped. Exactly n pairs are expected.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "descent/core/bounds.hpp"

namespace descent::data {

// One bound as text: a decimal number, inf, +inf or -inf; nullopt otherwise
// (NaN included).
std::optional<double> parse_bound(std::string_view text);

// Throws descent::parse_error naming the file and line for a line that is
// not two numbers, a NaN, LO > HI, or a count of pairs other than n.
Bounds read_bounds_file(const std::string& path, Index n);

}  // namespace descent::data
