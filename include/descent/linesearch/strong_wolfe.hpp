// Line search for the strong Wolfe conditions
//   phi(alpha) <= phi(0) + c1 * alpha * phi'(0)     (sufficient decrease)
//   |phi'(alpha)| <= c2 * |phi'(0)|                 (curvature)
// by the algorithm of Moré and Thuente, "Line search algorithms with
// guaranteed sufficient decrease", ACM TOMS 20(3), 1994: an interval of
// uncertainty [stx, sty] is kept and each trial step comes from safeguarded
// cubic or quadratic interpolation of the two end points (`choose_step`,
// the paper's section 4). While the interval has not bracketed a minimizer the
// step is extrapolated by factors in [1.1, 4].
//
// Glossary: stp is the trial step; stx the best step so far (lowest value of
// the auxiliary function psi(a) = phi(a) - phi(0) - c1 a phi'(0) until a step
// with psi <= 0 and phi' >= 0 appears, then of phi itself); sty the other end.
// fx, gx (fy, gy) are value and derivative at stx (sty).
//
// A trial where f is non-finite is halved back towards stx without moving the
// interval, and the upper bound on the step drops below it.
#pragma once

#include <algorithm>
#include <cmath>

#include "descent/core/error.hpp"
#include "descent/linesearch/line_search.hpp"

namespace descent {

struct StrongWolfeOptions {
  // c1 of the sufficient-decrease condition. Range: (0, curvature).
  double sufficient_decrease = 1e-4;
  // c2 of the curvature condition: 0.9 for (quasi-)Newton methods, 0.1 for
  // nonlinear conjugate gradient, which needs near-exact searches.
  // Range: (sufficient_decrease, 1).
  double curvature = 0.9;
  // Calls of phi per search. Range: >= 1.
  Index max_evaluations = 25;
  // Bounds on the step. Range: 0 < min_step < max_step. An initial step
  // below 1 scales min_step down with it, so that a first step of 1 / |g|
  // on a huge gradient is tried as given rather than lengthened.
  double min_step = 1e-20;
  double max_step = 1e20;
  // Stop when the interval of uncertainty is narrower than this relative
  // width. Range: >= 0.
  double interval_tolerance = 1e-14;

  void validate() const {
    DESCENT_REQUIRE(sufficient_decrease > 0 && sufficient_decrease < curvature && curvature < 1,
            fmt::format("StrongWolfeOptions needs 0 < sufficient_decrease < curvature < 1; got {} and {}",
                        sufficient_decrease, curvature));
    DESCENT_REQUIRE(max_evaluations >= 1,
            fmt::format("StrongWolfeOptions::max_evaluations must be >= 1; got {}", max_evaluations));
    DESCENT_REQUIRE(min_step > 0 && min_step < max_step,
            fmt::format("StrongWolfeOptions needs 0 < min_step < max_step; got {} and {}", min_step, max_step));
    DESCENT_REQUIRE(interval_tolerance >= 0,
            fmt::format("StrongWolfeOptions::interval_tolerance must be >= 0; got {}", interval_tolerance));
  }
};

namespace detail {

// One update of the interval of uncertainty and the next trial step
// (Moré & Thuente, section 4, cases 1-4). Modifies stx/sty (with values and
// derivatives), `bracketed`, and returns the new trial step.
template <class T>
T choose_step(T& stx, T& fx, T& dx, T& sty, T& fy, T& dy, T stp, T fp, T dp, bool& bracketed,
              T stpmin, T stpmax) {
  const T sgnd = dp * (dx / std::abs(dx));
  T stpf;
  if (fp > fx) {
    // Case 1: higher value. The minimizer is bracketed; take the cubic step
    // if it is closer to stx than the quadratic one, else their average.
    const T theta = T(3) * (fx - fp) / (stp - stx) + dx + dp;
    const T s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
    T gamma = s * std::sqrt(std::max(T(0), (theta / s) * (theta / s) - (dx / s) * (dp / s)));
    if (stp < stx) gamma = -gamma;
    const T p = (gamma - dx) + theta;
    const T q = ((gamma - dx) + gamma) + dp;
    const T stpc = stx + (p / q) * (stp - stx);
    const T stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / T(2)) * (stp - stx);
    stpf = std::abs(stpc - stx) < std::abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / T(2);
    bracketed = true;
  } else if (sgnd < T(0)) {
    // Case 2: lower value, derivatives of opposite sign. Bracketed; take the
    // step farther from stp of the cubic and the secant steps.
    const T theta = T(3) * (fx - fp) / (stp - stx) + dx + dp;
    const T s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
    T gamma = s * std::sqrt(std::max(T(0), (theta / s) * (theta / s) - (dx / s) * (dp / s)));
    if (stp > stx) gamma = -gamma;
    const T p = (gamma - dp) + theta;
    const T q = ((gamma - dp) + gamma) + dx;
    const T stpc = stp + (p / q) * (stx - stp);
    const T stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
    bracketed = true;
  } else if (std::abs(dp) < std::abs(dx)) {
    // Case 3: lower value, same sign, derivative decreasing in magnitude. The
    // cubic step is used only if it goes the right way; safeguarded.
    const T theta = T(3) * (fx - fp) / (stp - stx) + dx + dp;
    const T s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
    T gamma = s * std::sqrt(std::max(T(0), (theta / s) * (theta / s) - (dx / s) * (dp / s)));
    if (stp > stx) gamma = -gamma;
    const T p = (gamma - dp) + theta;
    const T q = (gamma + (dx - dp)) + gamma;
    const T r = p / q;
    T stpc;
    if (r < T(0) && gamma != T(0)) stpc = stp + r * (stx - stp);
    else stpc = stp > stx ? stpmax : stpmin;
    const T stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (bracketed) {
      stpf = std::abs(stpc - stp) < std::abs(stpq - stp) ? stpc : stpq;
      stpf = stp > stx ? std::min(stp + T(0.66) * (sty - stp), stpf)
                       : std::max(stp + T(0.66) * (sty - stp), stpf);
    } else {
      stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
      stpf = std::clamp(stpf, stpmin, stpmax);
    }
  } else {
    // Case 4: lower value, same sign, derivative not decreasing. Cubic step
    // inside the bracket, or the bound when not bracketed.
    if (bracketed) {
      const T theta = T(3) * (fp - fy) / (sty - stp) + dy + dp;
      const T s = std::max({std::abs(theta), std::abs(dy), std::abs(dp)});
      T gamma = s * std::sqrt(std::max(T(0), (theta / s) * (theta / s) - (dy / s) * (dp / s)));
      if (stp > sty) gamma = -gamma;
      const T p = (gamma - dp) + theta;
      const T q = ((gamma - dp) + gamma) + dy;
      stpf = stp + (p / q) * (sty - stp);
    } else {
      stpf = stp > stx ? stpmax : stpmin;
    }
  }

  // Update the interval of uncertainty.
  if (fp > fx) {
    sty = stp; fy = fp; dy = dp;
  } else {
    if (sgnd < T(0)) {
      sty = stx; fy = fx; dy = dx;
    }
    stx = stp; fx = fp; dx = dp;
  }
  return stpf;
}

}  // namespace detail

// phi: callable T -> LinePoint<T>. at_zero: phi(0) and phi'(0) (< 0).
template <class T, class Phi>
LineSearchResult<T> strong_wolfe_search(Phi&& phi, LinePoint<T> at_zero, T initial_step,
                                        const StrongWolfeOptions& o = {}) {
  constexpr T kExtrapolateLower = T(1.1);
  constexpr T kExtrapolateUpper = T(4);
  LineSearchResult<T> r;
  r.best_value = at_zero.value;
  if (!(at_zero.derivative < T(0))) {
    r.status = LineSearchStatus::not_descent_direction;
    r.point = at_zero;
    return r;
  }
  const T finit = at_zero.value, ginit = at_zero.derivative;
  const T gtest = T(o.sufficient_decrease) * ginit;
  const T ctest = T(o.curvature) * -ginit;
  T stpmin = T(o.min_step) * std::min(T(1), initial_step), stpmax = T(o.max_step);
  T width = stpmax - stpmin, width1 = T(2) * width;
  T stx = 0, fx = finit, gx = ginit;
  T sty = 0, fy = finit, gy = ginit;
  T stmin = 0;
  T stp = std::clamp(initial_step, stpmin, stpmax);
  T stmax = stp + kExtrapolateUpper * stp;
  bool bracketed = false;
  bool first_stage = true;

  while (true) {
    // Evaluate; a non-finite value pulls the step back towards stx.
    LinePoint<T> p = phi(stp);
    ++r.evaluations;
    r.step = stp;
    r.point = p;
    if (!p.finite()) {
      if (r.evaluations >= o.max_evaluations) {
        r.status = LineSearchStatus::non_finite;
        return r;
      }
      stpmax = stp;
      stp = stx + T(0.5) * (stp - stx);
      stmax = std::min(stmax, stpmax);
      if (stp <= stpmin || stp == stx) {
        r.status = LineSearchStatus::non_finite;
        return r;
      }
      continue;
    }
    if (p.value < r.best_value) {
      r.best_value = p.value;
      r.best_step = stp;
    }

    // Tests for convergence and for the warnings of the paper.
    const T ftest = finit + stp * gtest;
    if (first_stage && p.value <= ftest && p.derivative >= T(0)) first_stage = false;
    if (p.value <= ftest && std::abs(p.derivative) <= ctest) {
      r.status = LineSearchStatus::ok;
      return r;
    }
    if (bracketed && (stp <= stmin || stp >= stmax)) {
      r.status = LineSearchStatus::interval_too_small;
      return r;
    }
    if (bracketed && stmax - stmin <= T(o.interval_tolerance) * stmax) {
      r.status = LineSearchStatus::interval_too_small;
      return r;
    }
    if (stp == stpmax && p.value <= ftest && p.derivative <= gtest) {
      r.status = LineSearchStatus::step_at_maximum;
      return r;
    }
    if (stp == stpmin && (p.value > ftest || p.derivative >= gtest)) {
      r.status = LineSearchStatus::step_at_minimum;
      return r;
    }
    if (r.evaluations >= o.max_evaluations) {
      r.status = LineSearchStatus::max_evaluations;
      return r;
    }

    // Next trial step. In the first stage, with a point of lower value that
    // still fails sufficient decrease, work on the auxiliary function psi.
    if (first_stage && p.value <= fx && p.value > ftest) {
      T fm = p.value - stp * gtest, gm = p.derivative - gtest;
      T fxm = fx - stx * gtest, gxm = gx - gtest;
      T fym = fy - sty * gtest, gym = gy - gtest;
      stp = detail::choose_step(stx, fxm, gxm, sty, fym, gym, stp, fm, gm, bracketed, stmin, stmax);
      fx = fxm + stx * gtest; fy = fym + sty * gtest;
      gx = gxm + gtest; gy = gym + gtest;
    } else {
      stp = detail::choose_step(stx, fx, gx, sty, fy, gy, stp, p.value, p.derivative, bracketed, stmin, stmax);
    }

    // Force a sufficient shrink of the bracket; then set the bounds for the
    // next step.
    if (bracketed) {
      if (std::abs(sty - stx) >= T(0.66) * width1) stp = stx + T(0.5) * (sty - stx);
      width1 = width;
      width = std::abs(sty - stx);
      stmin = std::min(stx, sty);
      stmax = std::max(stx, sty);
    } else {
      stmin = stp + kExtrapolateLower * (stp - stx);
      stmax = stp + kExtrapolateUpper * (stp - stx);
    }
    stp = std::clamp(stp, stpmin, stpmax);
    if ((bracketed && (stp <= stmin || stp >= stmax)) ||
        (bracketed && stmax - stmin <= T(o.interval_tolerance) * stmax))
      stp = stx;
  }
}

}  // namespace descent
