// Internal: the loop shared by every line-search method.
//
//   evaluate at the start;
//   repeat: pick a direction d, search along it for a step alpha,
//           x <- x + alpha d, let the direction learn from (s, y), test for stopping.
//
// A Direction provides:
//   template <class E> bool compute(E& eval, const Vector<T>& x, const Vector<T>& g, Vector<T>& d)
//       writes d (it holds the previous direction on entry); returns true when
//       d is steepest descent -g;
//   T initial_step(const StepContext<T>&)
//       the first trial step of the line search;
//   void update(const Vector<T>& x_old, const Vector<T>& x_new,
//               const Vector<T>& g_old, const Vector<T>& g_new, T alpha, const Vector<T>& d)
//       learns from the accepted step;
//   void reset()
//       forgets curvature information (after a failed search).
// and may provide
//   const SaddleEscape& saddle_escape() const
//       where the gradient test passes, look for negative curvature and, if
//       H has some, step along it (curvature_step) instead of stopping.
//
// Glossary: f, g at x; d the direction; gd = g . d (negative for descent);
// x_trial, g_trial the point the line search is evaluating.
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>
#include <string_view>

#include "descent/core/callback.hpp"
#include "descent/core/error.hpp"
#include "descent/core/memory.hpp"
#include "descent/core/parallel.hpp"
#include "descent/core/result.hpp"
#include "descent/core/stopping.hpp"
#include "descent/linesearch/backtracking.hpp"
#include "descent/linesearch/strong_wolfe.hpp"
#include "descent/solvers/detail/evaluator.hpp"
#include "descent/solvers/detail/monitor.hpp"
#include "descent/solvers/detail/negative_curvature.hpp"

namespace descent::detail {

template <class T>
struct StepContext {
  Index iteration;   // k, 0 for the first step
  T gradient_norm;   // ||g_k||
  T gd;              // g_k . d_k
  T previous_step;   // alpha_{k-1}
  T previous_gd;     // g_{k-1} . d_{k-1}
};

// How the step along d is chosen.
struct StepRule {
  enum class Kind { fixed, armijo, nonmonotone_armijo, strong_wolfe };
  Kind kind = Kind::strong_wolfe;
  double fixed_step = 1e-3;           // Kind::fixed: alpha for every step
  BacktrackingOptions backtracking;   // Kind::armijo, Kind::nonmonotone_armijo
  Index nonmonotone_memory = 10;      // Kind::nonmonotone_armijo: values remembered
  StrongWolfeOptions wolfe;           // Kind::strong_wolfe

  // The rule of every quasi-Newton and Newton method: a strong Wolfe search.
  static StepRule strong_wolfe_search(const StrongWolfeOptions& options) {
    StepRule rule;
    rule.kind = Kind::strong_wolfe;
    rule.wolfe = options;
    return rule;
  }
};

template <class T, class F, class Direction>
Result<T> line_search_method(F& f, VectorRef<T> x_io, Direction& direction, const StepRule& rule,
                             const StopOptions& stop, Callback<T>* callback, std::string_view method) {
  const Index n = x_io.size();
  require(n > 0, "the starting point must have at least one variable");
  rule.backtracking.validate();
  rule.wolfe.validate();
  Monitor<T> monitor(method, stop, callback, n);
  Evaluator<T, F> eval(f);
  auto counts = [&] { return Counts{eval.value_evaluations, eval.gradient_evaluations, eval.hessian_evaluations}; };

  // Evaluate at the start.
  Vector<T> x = workspace_vector<T>(n), g = workspace_vector<T>(n), x_trial = workspace_vector<T>(n),
            g_trial = workspace_vector<T>(n), d = workspace_vector<T>(n);
  x = x_io;
  d.setZero();
  T fx = eval.value_and_gradient(x, g);
  T gnorm = g.norm();
  auto finish = [&](Status s, Index k) {
    x_io = x;
    return monitor.finish(s, x, fx, gnorm, k, counts());
  };
  std::optional<NegativeCurvature<T>> escape;
  if constexpr (requires { direction.saddle_escape(); }) {
    const auto& saddle = direction.saddle_escape();
    if (saddle.enabled)
      monitor.set_stationary_check(
          [&] {
            escape = negative_curvature<T>(eval, x, g, saddle.tolerance, saddle.lanczos_steps);
            return escape.has_value();
          },
          "left {} saddle point(s) along negative curvature");
  }
  if (auto s = monitor.start(x, fx, gnorm, counts())) return finish(*s, 0);

  std::deque<T> recent_values{fx};  // for the non-monotone Armijo reference
  T previous_step = T(1), previous_gd = -gnorm * gnorm;
  bool force_steepest = false;
  bool retried_step = false;  // along -g with a forgotten first step, since the last success
  int consecutive_failures = 0;

  for (Index k = 1;; ++k) {
    if (escape) {
      // A saddle: step along its negative curvature.
      const auto f_new = curvature_step(eval, x, fx, g, *escape, x_trial, g_trial);
      const T curvature = escape->curvature;
      escape.reset();
      if (!f_new) {
        monitor.set_reason(fmt::format(
            "no step along the negative curvature {:.3g} of a saddle point decreased f at iteration {} (|g| = {:.3g})",
            double(curvature), k, double(gnorm)));
        return finish(Status::line_search_failed, k - 1);
      }
      direction.reset();
      const T f_prev = fx;
      const T step_norm = (x_trial - x).norm();
      fx = *f_new;
      x.swap(x_trial);
      g.swap(g_trial);
      gnorm = g.norm();
      if (auto s = monitor.iterate(k, x, f_prev, fx, gnorm, step_norm, step_norm, counts())) return finish(*s, k);
      continue;
    }
    // Pick a direction; fall back to steepest descent if it does not descend.
    bool steepest;
    if (force_steepest) {
      d = -g;
      steepest = true;
    } else {
      steepest = direction.compute(eval, x, g, d);
    }
    T gd = dot(g, d);
    if (!(gd < T(0))) {
      direction.reset();
      d = -g;
      gd = -gnorm * gnorm;
      steepest = true;
    }
    force_steepest = false;

    // Search along d. phi evaluates into the trial buffers; on success the
    // accepted step is the last one evaluated.
    auto phi = [&](T alpha) {
      assign_axpy(x_trial, x, alpha, d);
      const T ft = eval.value_and_gradient(x_trial, g_trial);
      return LinePoint<T>{ft, dot(g_trial, d)};
    };
    const StepContext<T> context{k - 1, gnorm, gd, previous_step, previous_gd};
    const T alpha0 = direction.initial_step(context);
    LineSearchResult<T> ls;
    switch (rule.kind) {
      case StepRule::Kind::fixed:
        ls.step = T(rule.fixed_step);
        ls.point = phi(ls.step);
        ls.evaluations = 1;
        ls.status = ls.point.finite() ? LineSearchStatus::ok : LineSearchStatus::non_finite;
        break;
      case StepRule::Kind::armijo:
        ls = backtracking_search(phi, LinePoint<T>{fx, gd}, alpha0, rule.backtracking);
        break;
      case StepRule::Kind::nonmonotone_armijo:
        ls = backtracking_search(phi, LinePoint<T>{fx, gd}, alpha0, rule.backtracking,
                                 *std::max_element(recent_values.begin(), recent_values.end()));
        break;
      case StepRule::Kind::strong_wolfe:
        ls = strong_wolfe_search(phi, LinePoint<T>{fx, gd}, alpha0, rule.wolfe);
        break;
    }

    if (!ls.ok()) {
      // A fixed step that leaves the domain of f has diverged.
      if (rule.kind == StepRule::Kind::fixed) {
        monitor.set_reason(fmt::format("f or its gradient became non-finite at iteration {} with fixed step {:.3g}",
                                       k, rule.fixed_step));
        monitor.set_diverged_at(k);
        return finish(Status::diverged, k - 1);
      }
      // First forget the curvature model and retry along -g: a model that
      // shaped the direction, or only the first trial step (Barzilai-Borwein's).
      if (!steepest) {
        direction.reset();
        force_steepest = true;
        --k;
        continue;
      }
      if (!retried_step) {
        direction.reset();
        if (direction.initial_step(context) != alpha0) {
          retried_step = true;
          force_steepest = true;
          --k;
          continue;
        }
      }
      // Along -g too: keep the best point seen, if any, and give up after
      // two failures in a row.
      ++consecutive_failures;
      const bool improved = ls.best_step > T(0) && ls.best_value < fx;
      if (!improved || consecutive_failures >= 2) {
        if (improved) {
          x_trial = x + ls.best_step * d;
          fx = eval.value_and_gradient(x_trial, g_trial);
          x.swap(x_trial);
          g.swap(g_trial);
          gnorm = g.norm();
        }
        monitor.set_reason(fmt::format("{} at iteration {} (|g| = {:.3g})", ls.describe(), k, double(gnorm)));
        if (ls.status == LineSearchStatus::non_finite) monitor.set_diverged_at(k);
        return finish(ls.status == LineSearchStatus::non_finite ? Status::diverged : Status::line_search_failed,
                      k - 1);
      }
      ls.step = ls.best_step;
      x_trial = x + ls.step * d;
      ls.point.value = eval.value_and_gradient(x_trial, g_trial);
      ls.point.derivative = g_trial.dot(d);
    } else {
      consecutive_failures = 0;
      retried_step = false;
    }

    // Accept the step and let the direction learn from it.
    direction.update(x, x_trial, g, g_trial, ls.step, d);
    const T f_prev = fx;
    fx = ls.point.value;
    x.swap(x_trial);
    g.swap(g_trial);
    gnorm = std::sqrt(dot(g, g));
    previous_step = ls.step;
    previous_gd = gd;
    if (rule.kind == StepRule::Kind::nonmonotone_armijo) {
      recent_values.push_back(fx);
      if (Index(recent_values.size()) > std::max<Index>(rule.nonmonotone_memory, 1)) recent_values.pop_front();
    }

    // Test for stopping.
    const T step_norm = (stop.step_tolerance > 0 || callback) ? ls.step * d.norm() : T(0);
    if (auto s = monitor.iterate(k, x, f_prev, fx, gnorm, ls.step, step_norm, counts())) return finish(*s, k);
  }
}

}  // namespace descent::detail
