// Simple bounds lower_i <= x_i <= upper_i, the constraints L-BFGS-B handles
// natively. Either side may be infinite; lower_i == upper_i fixes x_i.
//
//   auto b = Bounds::uniform(n, 0.0, 1.0);                 // every x_i in [0, 1]
//   Bounds b{lower, upper};                                // per variable
//   b.validate(n);   // sizes, NaN and empty intervals, naming the first bad index
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "descent/core/types.hpp"

namespace descent {

struct Bounds {
  Vector<double> lower;
  Vector<double> upper;

  static constexpr double inf = std::numeric_limits<double>::infinity();

  // Every variable in [lo, hi].
  static Bounds uniform(Index n, double lo, double hi) {
    return Bounds{Vector<double>::Constant(n, lo), Vector<double>::Constant(n, hi)};
  }
  // No bound at all: (-inf, inf) for every variable.
  static Bounds none(Index n) { return uniform(n, -inf, inf); }

  Index size() const { return lower.size(); }

  // True when no variable has a finite bound.
  bool unbounded() const {
    for (Index i = 0; i < lower.size(); ++i)
      if (std::isfinite(lower[i]) || std::isfinite(upper[i])) return false;
    return true;
  }

  // Throws descent::invalid_argument for bounds of the wrong size, a NaN
  // bound, lower > upper, or lower = +inf / upper = -inf (an empty set),
  // naming the first bad index.
  void validate(Index n) const {
    DESCENT_REQUIRE(lower.size() == n && upper.size() == n,
            fmt::format("bounds have {} lower and {} upper values for {} variables", lower.size(), upper.size(), n));
    for (Index i = 0; i < n; ++i) {
      const double lo = lower[i], hi = upper[i];
      DESCENT_REQUIRE(!std::isnan(lo) && !std::isnan(hi),
              fmt::format("bound {} is NaN (lower {}, upper {}); use -inf or inf for no bound", i, lo, hi));
      DESCENT_REQUIRE(lo <= hi, fmt::format("bound {} is empty: lower {} > upper {}", i, lo, hi));
      DESCENT_REQUIRE(lo < inf && hi > -inf, fmt::format("bound {} is empty: [{}, {}] holds no finite value", i, lo, hi));
    }
  }

  // Moves x into the box, coordinate by coordinate.
  template <class T>
  void project(VectorRef<T> x) const {
    for (Index i = 0; i < x.size(); ++i) x[i] = std::clamp(x[i], T(lower[i]), T(upper[i]));
  }
};

// Which bounds hold with equality at x (|x_i - bound| <= tolerance * max(1, |bound|)).
struct ActiveBounds {
  std::vector<Index> lower;  // indices i with x_i at lower_i
  std::vector<Index> upper;  // indices i with x_i at upper_i (and not at lower_i)
};

// Counted first and then filled, so that each list is one allocation.
template <class T>
ActiveBounds active_bounds(const Bounds& b, const Vector<T>& x, double tolerance = 0.0) {
  // -1 at the lower bound, +1 at the upper, 0 elsewhere.
  auto side = [&](Index i) {
    const double xi = double(x[i]);
    auto at = [&](double bound) {
      return std::isfinite(bound) && std::abs(xi - bound) <= tolerance * std::max(1.0, std::abs(bound));
    };
    return at(b.lower[i]) ? -1 : (at(b.upper[i]) ? 1 : 0);
  };
  std::size_t lower = 0, upper = 0;
  for (Index i = 0; i < x.size(); ++i) {
    const int s = side(i);
    lower += s < 0;
    upper += s > 0;
  }
  ActiveBounds a;
  a.lower.reserve(lower);
  a.upper.reserve(upper);
  for (Index i = 0; i < x.size(); ++i) {
    const int s = side(i);
    if (s < 0) a.lower.push_back(i);
    else if (s > 0) a.upper.push_back(i);
  }
  return a;
}

}  // namespace descent
