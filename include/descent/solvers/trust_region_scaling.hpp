// The shape of a trust region: a ball (none), Moré's scaling by the
// Hessian's diagonal from the start (diagonal), or a ball until it stalls,
// that is until its radius falls below rounding while |g| is still above the
// tolerance, and the scaled region from that point on (when-stalled, the
// default). trust_region.hpp describes the scaling and why it is not on from
// the start.
#pragma once

#include <optional>
#include <string_view>

namespace descent {

enum class TrustRegionScaling { none, hessian_diagonal, when_stalled };

// "none", "diagonal", "when-stalled": the names of the CLI and Python.
constexpr std::string_view to_string(TrustRegionScaling s) {
  switch (s) {
    case TrustRegionScaling::none: return "none";
    case TrustRegionScaling::hessian_diagonal: return "diagonal";
    case TrustRegionScaling::when_stalled: return "when-stalled";
  }
  return "?";
}

constexpr std::optional<TrustRegionScaling> parse_trust_region_scaling(std::string_view name) {
  for (auto s : {TrustRegionScaling::none, TrustRegionScaling::hessian_diagonal, TrustRegionScaling::when_stalled})
    if (name == to_string(s)) return s;
  return std::nullopt;
}

}  // namespace descent
