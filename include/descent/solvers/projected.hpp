// Projected methods for min f(x) over a closed convex set C with a cheap
// projection P (a box, the simplex, a ball, or a product of them; see
// core/projection.hpp).
//
// projected_gradient: x_{k+1} = P(x_k - alpha g_k), alpha from an Armijo
// search along the projection arc, f(P(x - alpha g)) <= f(x) + c1 g.(P(x - alpha g) - x)
// (Bertsekas, Nonlinear Programming, 2nd ed., section 2.3.1). The first
// trial of each search is twice the last accepted step.
//
// spg: the spectral projected gradient method SPG2 of Birgin, Martínez &
// Raydan, SIAM J. Optim. 10(4), 2000: d = P(x - lambda g) - x with the
// Barzilai–Borwein step lambda = s.s / s.y, and a non-monotone search over
// the last M values with safeguarded quadratic backtracking.
//
// Both stop on the projected gradient ||P(x - g) - x||_inf <=
// stop.gradient_tolerance (reported as Result::gradient_norm), as L-BFGS-B
// does, or on the other StopOptions tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>

#include <fmt/format.h>

#include "descent/core/callback.hpp"
#include "descent/core/error.hpp"
#include "descent/core/memory.hpp"
#include "descent/core/projection.hpp"
#include "descent/core/result.hpp"
#include "descent/core/stopping.hpp"
#include "descent/solvers/detail/evaluator.hpp"
#include "descent/solvers/detail/monitor.hpp"

namespace descent {

struct ProjectedGradientOptions {
  // c1 of the Armijo condition along the arc. Range: (0, 1).
  double sufficient_decrease = 1e-4;
  // Backtracking factor. Range: (0, 1).
  double shrink = 0.5;
  // Trials per search before giving up. Range: >= 1.
  Index max_backtracks = 60;
  StopOptions stop;
};

struct SpgOptions {
  // M, the values the non-monotone search compares with (1 = monotone).
  // Range: >= 1.
  Index memory = 10;
  // gamma of the sufficient-decrease test. Range: (0, 1).
  double sufficient_decrease = 1e-4;
  // Safeguards on the spectral step lambda. Range: 0 < min < max.
  double min_spectral_step = 1e-30;
  double max_spectral_step = 1e30;
  // Trials per search before giving up. Range: >= 1.
  Index max_backtracks = 100;
  StopOptions stop;
};

namespace detail {

// ||P(x - g) - x||_inf, with `work` as scratch.
template <class T>
T projected_gradient_norm(const Projection& p, const Vector<T>& x, const Vector<T>& g, Vector<T>& work) {
  work = x - g;
  p.apply(work);
  return (work - x).template lpNorm<Eigen::Infinity>();
}

template <class T>
void check_projection_start(const Projection& p, Index n) {
  require(n > 0, "the starting point must have at least one variable");
  p.validate(n);
}

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> projected_gradient(F& f, X&& x_io, const Projection& projection, const ProjectedGradientOptions& o = {},
                             Callback<T>* callback = nullptr) {
  const Index n = Index(x_io.size());
  detail::check_projection_start<T>(projection, n);
  DESCENT_REQUIRE(o.sufficient_decrease > 0 && o.sufficient_decrease < 1,
          fmt::format("ProjectedGradientOptions::sufficient_decrease must be in (0, 1); got {}", o.sufficient_decrease));
  DESCENT_REQUIRE(o.shrink > 0 && o.shrink < 1,
          fmt::format("ProjectedGradientOptions::shrink must be in (0, 1); got {}", o.shrink));
  require(o.max_backtracks >= 1, "ProjectedGradientOptions::max_backtracks must be >= 1");
  detail::Monitor<T> monitor("projected-gd", o.stop, callback, n);
  monitor.set_gradient_label("projected gradient");
  detail::Evaluator<T, F> eval(f);
  auto counts = [&] { return detail::Counts{eval.value_evaluations, eval.gradient_evaluations, 0}; };

  Vector<T> x = detail::workspace_vector<T>(n), g = detail::workspace_vector<T>(n),
            x_trial = detail::workspace_vector<T>(n), g_trial = detail::workspace_vector<T>(n),
            work = detail::workspace_vector<T>(n);
  x = x_io;
  projection.apply(x);
  T fx = eval.value_and_gradient(x, g);
  T pg = detail::projected_gradient_norm(projection, x, g, work);
  auto finish = [&](Status s, Index k) {
    x_io = x;
    return monitor.finish(s, x, fx, pg, k, counts());
  };
  if (auto s = monitor.start(x, fx, pg, counts())) return finish(*s, 0);

  T alpha = T(1) / std::max(pg, T(1e-30));
  for (Index k = 1;; ++k) {
    alpha = std::min(alpha / T(o.shrink), T(1e30));
    T ft = 0, decrease = 0;
    bool accepted = false;
    for (Index trial = 0; trial < o.max_backtracks; ++trial, alpha *= T(o.shrink)) {
      x_trial = x - alpha * g;
      projection.apply(x_trial);
      ft = eval.value_and_gradient(x_trial, g_trial);
      decrease = g.dot(x_trial - x);  // <= 0 by the projection's optimality
      if (std::isfinite(ft) && ft <= fx + T(o.sufficient_decrease) * decrease) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      monitor.set_reason(fmt::format("no step along the projection arc gave sufficient decrease at iteration {} "
                                     "({} trials, last step {:.3g}, projected gradient {:.3g})",
                                     k, o.max_backtracks, double(alpha), double(pg)));
      return finish(std::isfinite(ft) ? Status::line_search_failed : Status::diverged, k - 1);
    }
    const T step_norm = (o.stop.step_tolerance > 0 || callback) ? (x_trial - x).norm() : T(0);
    const T f_prev = fx;
    fx = ft;
    x.swap(x_trial);
    g.swap(g_trial);
    pg = detail::projected_gradient_norm(projection, x, g, work);
    if (auto s = monitor.iterate(k, x, f_prev, fx, pg, alpha, step_norm, counts())) return finish(*s, k);
  }
}

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> spg(F& f, X&& x_io, const Projection& projection, const SpgOptions& o = {},
              Callback<T>* callback = nullptr) {
  const Index n = Index(x_io.size());
  detail::check_projection_start<T>(projection, n);
  DESCENT_REQUIRE(o.memory >= 1, fmt::format("SpgOptions::memory must be >= 1; got {}", o.memory));
  DESCENT_REQUIRE(o.sufficient_decrease > 0 && o.sufficient_decrease < 1,
          fmt::format("SpgOptions::sufficient_decrease must be in (0, 1); got {}", o.sufficient_decrease));
  require(o.min_spectral_step > 0 && o.min_spectral_step < o.max_spectral_step,
          "SpgOptions needs 0 < min_spectral_step < max_spectral_step");
  require(o.max_backtracks >= 1, "SpgOptions::max_backtracks must be >= 1");
  detail::Monitor<T> monitor("spg", o.stop, callback, n);
  monitor.set_gradient_label("projected gradient");
  detail::Evaluator<T, F> eval(f);
  auto counts = [&] { return detail::Counts{eval.value_evaluations, eval.gradient_evaluations, 0}; };

  Vector<T> x = detail::workspace_vector<T>(n), g = detail::workspace_vector<T>(n),
            x_trial = detail::workspace_vector<T>(n), g_trial = detail::workspace_vector<T>(n),
            d = detail::workspace_vector<T>(n), work = detail::workspace_vector<T>(n);
  x = x_io;
  projection.apply(x);
  T fx = eval.value_and_gradient(x, g);
  T pg = detail::projected_gradient_norm(projection, x, g, work);
  auto finish = [&](Status s, Index k) {
    x_io = x;
    return monitor.finish(s, x, fx, pg, k, counts());
  };
  if (auto s = monitor.start(x, fx, pg, counts())) return finish(*s, 0);

  const T lambda_min = T(o.min_spectral_step), lambda_max = T(o.max_spectral_step);
  T lambda = std::clamp(T(1) / std::max(pg, T(1e-30)), lambda_min, lambda_max);
  std::deque<T> recent{fx};
  for (Index k = 1;; ++k) {
    // d = P(x - lambda g) - x, a descent direction unless x is stationary.
    d = x - lambda * g;
    projection.apply(d);
    d -= x;
    const T gd = g.dot(d);
    const T f_max = *std::max_element(recent.begin(), recent.end());
    T alpha = 1, ft = 0;
    bool accepted = false;
    for (Index trial = 0; trial < o.max_backtracks; ++trial) {
      x_trial = x + alpha * d;
      ft = eval.value_and_gradient(x_trial, g_trial);
      if (std::isfinite(ft) && ft <= f_max + T(o.sufficient_decrease) * alpha * gd) {
        accepted = true;
        break;
      }
      // Safeguarded quadratic interpolation, kept inside [0.1, 0.9] alpha
      // (SPG2's sigma1, sigma2, taken relative to alpha so that a wild
      // spectral step shrinks tenfold per trial); halving when f is non-finite.
      const T q = std::isfinite(ft) ? -T(0.5) * alpha * alpha * gd / (ft - fx - alpha * gd) : alpha / T(2);
      alpha = std::isfinite(q) ? std::clamp(q, T(0.1) * alpha, T(0.9) * alpha) : alpha / T(2);
    }
    if (!accepted) {
      monitor.set_reason(fmt::format("the non-monotone search failed at iteration {} ({} trials, projected "
                                     "gradient {:.3g})",
                                     k, o.max_backtracks, double(pg)));
      return finish(std::isfinite(ft) ? Status::line_search_failed : Status::diverged, k - 1);
    }
    // The spectral step from s = alpha d and y = g_trial - g.
    const T ss = alpha * alpha * d.squaredNorm();
    const T sy = alpha * d.dot(g_trial - g);
    lambda = sy > T(0) ? std::clamp(ss / sy, lambda_min, lambda_max) : lambda_max;
    const T step_norm = std::sqrt(ss);
    const T f_prev = fx;
    fx = ft;
    x.swap(x_trial);
    g.swap(g_trial);
    recent.push_back(fx);
    if (Index(recent.size()) > o.memory) recent.pop_front();
    pg = detail::projected_gradient_norm(projection, x, g, work);
    if (auto s = monitor.iterate(k, x, f_prev, fx, pg, alpha, step_norm, counts())) return finish(*s, k);
  }
}

}  // namespace descent
