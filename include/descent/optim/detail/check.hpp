// Internal: range checks for options structs, with messages that name the
// field, its value and the range.
#pragma once

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "descent/core/error.hpp"

namespace descent::optim::detail {

// lo <= v < hi (closed_hi: v <= hi).
inline void check_range(double v, double lo, double hi, std::string_view field, bool closed_hi = false) {
  const bool ok = std::isfinite(v) && v >= lo && (closed_hi ? v <= hi : v < hi);
  DESCENT_REQUIRE(ok, fmt::format("{} must be in [{}, {}{}; got {}", field, lo, hi, closed_hi ? "]" : ")", v));
}

inline void check_positive(double v, std::string_view field) {
  DESCENT_REQUIRE(std::isfinite(v) && v > 0, fmt::format("{} must be finite and > 0; got {}", field, v));
}

inline void check_non_negative(double v, std::string_view field) {
  DESCENT_REQUIRE(std::isfinite(v) && v >= 0, fmt::format("{} must be finite and >= 0; got {}", field, v));
}

}  // namespace descent::optim::detail
