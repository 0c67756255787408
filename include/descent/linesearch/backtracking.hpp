// Backtracking line search for the Armijo (sufficient decrease) condition
//   phi(alpha) <= phi_ref + c1 * alpha * phi'(0),
// with safeguarded cubic (or quadratic) interpolation for each shorter step
// (Nocedal & Wright, "Numerical Optimization", 2nd ed., section 3.5).
// phi_ref is phi(0) for the classic monotone search, or the largest of the
// last few values for the non-monotone search of Grippo, Lampariello and
// Lucidi (SIAM J. Numer. Anal. 23, 1986) used with Barzilai–Borwein steps.
#pragma once

#include <algorithm>
#include <cmath>

#include "descent/core/error.hpp"
#include "descent/linesearch/line_search.hpp"

namespace descent {

struct BacktrackingOptions {
  // c1 of the Armijo condition. Range: (0, 0.5).
  double sufficient_decrease = 1e-4;
  // Each new step lies in [min_shrink, max_shrink] times the last one.
  // Range: 0 < min_shrink <= max_shrink < 1.
  double min_shrink = 0.1;
  double max_shrink = 0.5;
  // Calls of phi per search. Range: >= 1.
  Index max_evaluations = 50;
  // Smallest step tried before giving up. Range: > 0.
  double min_step = 1e-20;

  void validate() const {
    DESCENT_REQUIRE(sufficient_decrease > 0 && sufficient_decrease < 0.5,
            fmt::format("BacktrackingOptions::sufficient_decrease must be in (0, 0.5); got {}", sufficient_decrease));
    DESCENT_REQUIRE(min_shrink > 0 && min_shrink <= max_shrink && max_shrink < 1,
            fmt::format("BacktrackingOptions needs 0 < min_shrink <= max_shrink < 1; got {} and {}", min_shrink, max_shrink));
    DESCENT_REQUIRE(max_evaluations >= 1,
            fmt::format("BacktrackingOptions::max_evaluations must be >= 1; got {}", max_evaluations));
    DESCENT_REQUIRE(min_step > 0, fmt::format("BacktrackingOptions::min_step must be > 0; got {}", min_step));
  }
};

// phi: callable T -> LinePoint<T>. at_zero: phi(0) and phi'(0).
// reference: the value the Armijo test compares against (phi(0) normally).
template <class T, class Phi>
LineSearchResult<T> backtracking_search(Phi&& phi, LinePoint<T> at_zero, T initial_step,
                                        const BacktrackingOptions& o, T reference) {
  LineSearchResult<T> r;
  r.best_value = at_zero.value;
  if (!(at_zero.derivative < T(0))) {
    r.status = LineSearchStatus::not_descent_direction;
    r.point = at_zero;
    return r;
  }
  const T c1 = T(o.sufficient_decrease);
  T alpha = initial_step;
  bool seen_finite = false;
  while (true) {
    // Evaluate and test the Armijo condition.
    const LinePoint<T> p = phi(alpha);
    ++r.evaluations;
    r.step = alpha;
    r.point = p;
    T next;
    if (std::isfinite(p.value)) {
      seen_finite = true;
      if (p.value < r.best_value) {
        r.best_value = p.value;
        r.best_step = alpha;
      }
      if (p.value <= reference + c1 * alpha * at_zero.derivative) {
        r.status = LineSearchStatus::ok;
        return r;
      }
      // Shorter step: minimizer of the cubic (or quadratic) model on [0, alpha].
      next = std::isfinite(p.derivative)
                 ? detail::cubic_minimizer(T(0), at_zero.value, at_zero.derivative, alpha, p.value, p.derivative)
                 : detail::quadratic_minimizer(T(0), at_zero.value, at_zero.derivative, alpha, p.value);
      if (!std::isfinite(next)) next = T(o.max_shrink) * alpha;
      next = std::clamp(next, T(o.min_shrink) * alpha, T(o.max_shrink) * alpha);
    } else {
      // f cannot be evaluated here: step back hard.
      next = T(o.min_shrink) * alpha;
    }
    if (r.evaluations >= o.max_evaluations) {
      r.status = seen_finite ? LineSearchStatus::max_evaluations : LineSearchStatus::non_finite;
      return r;
    }
    if (next < T(o.min_step)) {
      r.status = seen_finite ? LineSearchStatus::step_at_minimum : LineSearchStatus::non_finite;
      return r;
    }
    alpha = next;
  }
}

template <class T, class Phi>
LineSearchResult<T> backtracking_search(Phi&& phi, LinePoint<T> at_zero, T initial_step,
                                        const BacktrackingOptions& o = {}) {
  return backtracking_search(std::forward<Phi>(phi), at_zero, initial_step, o, at_zero.value);
}

}  // namespace descent
