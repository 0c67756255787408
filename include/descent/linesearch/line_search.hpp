// What every line search shares.
//
// A line search sees only the one-dimensional function
//   phi(alpha) = f(x + alpha d),   phi'(alpha) = grad f(x + alpha d) . d
// through a callable `LinePoint<T> phi(T alpha)`, so it can be tested on
// scalar functions. On success the accepted step is always the last one
// evaluated, so a solver finds f and g of the new point in its trial buffers.
#pragma once

#include <cmath>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "descent/core/types.hpp"

namespace descent {

template <class T>
struct LinePoint {
  T value;       // phi(alpha)
  T derivative;  // phi'(alpha)
  bool finite() const { return std::isfinite(value) && std::isfinite(derivative); }
};

enum class LineSearchStatus {
  ok,                     // the conditions hold at `step`
  not_descent_direction,  // phi'(0) >= 0: nothing to search
  max_evaluations,        // evaluation limit reached
  interval_too_small,     // the bracket shrank below rounding: no progress possible
  step_at_maximum,        // the step hit its upper bound with f still decreasing
  step_at_minimum,        // the step fell below its lower bound
  non_finite,             // f stayed non-finite however small the step
};

constexpr std::string_view to_string(LineSearchStatus s) {
  switch (s) {
    case LineSearchStatus::ok: return "ok";
    case LineSearchStatus::not_descent_direction: return "not a descent direction";
    case LineSearchStatus::max_evaluations: return "evaluation limit reached";
    case LineSearchStatus::interval_too_small: return "interval of uncertainty below rounding";
    case LineSearchStatus::step_at_maximum: return "step reached its maximum";
    case LineSearchStatus::step_at_minimum: return "step fell below its minimum";
    case LineSearchStatus::non_finite: return "f is non-finite along the direction";
  }
  return "unknown";
}

template <class T>
struct LineSearchResult {
  LineSearchStatus status = LineSearchStatus::ok;
  T step = T(0);            // the accepted (on success) or last evaluated step
  LinePoint<T> point{};     // phi and phi' at `step`
  Index evaluations = 0;    // calls of phi
  T best_step = T(0);       // the step with the lowest finite phi seen (0 if none beat phi(0))
  T best_value = T(0);      // phi(best_step)

  bool ok() const { return status == LineSearchStatus::ok; }

  // Why the search ended, in numbers.
  std::string describe() const {
    return fmt::format("line search: {} after {} evaluations (last step {:.3g}, phi {:.9g}, phi' {:.3g})",
                       to_string(status), evaluations, double(step), double(point.value),
                       double(point.derivative));
  }
};

namespace detail {

// Minimizer of the cubic that interpolates phi and phi' at a and b
// (Nocedal & Wright eq. 3.59). Returns NaN when the cubic has no minimizer.
template <class T>
T cubic_minimizer(T a, T fa, T da, T b, T fb, T db) {
  const T d1 = da + db - T(3) * (fa - fb) / (a - b);
  const T disc = d1 * d1 - da * db;
  if (!(disc >= T(0))) return std::numeric_limits<T>::quiet_NaN();
  const T d2 = std::copysign(std::sqrt(disc), b - a);
  const T denom = db - da + T(2) * d2;
  if (denom == T(0)) return std::numeric_limits<T>::quiet_NaN();
  return b - (b - a) * (db + d2 - d1) / denom;
}

// Minimizer of the quadratic through phi(a), phi'(a) and phi(b).
template <class T>
T quadratic_minimizer(T a, T fa, T da, T b, T fb) {
  const T h = b - a;
  const T curvature = fb - fa - da * h;
  if (!(curvature > T(0))) return std::numeric_limits<T>::quiet_NaN();
  return a - da * h * h / (T(2) * curvature);
}

}  // namespace detail
}  // namespace descent
