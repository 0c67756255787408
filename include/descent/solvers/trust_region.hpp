// Trust-region Newton methods (Nocedal & Wright, Algorithm 4.1): each step
// minimizes the quadratic model m(p) = f + g.p + 0.5 p.B p inside
// |p| <= delta, and the ratio rho = (f(x) - f(x + p)) / (m(0) - m(p)) of
// actual to predicted reduction decides whether to accept the step and how
// to resize delta (shrink to |p| / 4 when rho < 1/4, double when rho > 3/4
// and the step reached the boundary).
// Subproblem solvers:
//  - Steihaug–Toint truncated CG (Steihaug, SIAM J. Numer. Anal. 20, 1983;
//    N&W Algorithm 7.2): Hessian-vector products only, stops at the boundary,
//    at negative curvature, or when |r| <= min(0.5, sqrt|g|) |g|; B = H.
//  - Dogleg (Powell 1970; N&W section 4.1): the path from the Cauchy point to
//    the Newton point -B^{-1} g, with B the Hessian made positive definite by
//    the modified Cholesky of newton.hpp. Dense, O(n^3) per Hessian.
// Scaling (Moré, "Recent developments in algorithms and software for trust
// region methods", 1983; MINPACK's `diag`): the region is |D p| <= delta
// with D diagonal, D_i the largest sqrt|H_ii| met so far, so that a variable
// of size 1e-3 beside one of size 1e3 (meyer) gets a step of its own size.
// Both subproblems are solved in the scaled variables p^ = D p, where the
// gradient is D^-1 g and the model's matrix D^-1 B D^-1: for Steihaug that
// is CG with Jacobi preconditioning.
// Glossary: z the CG iterate, r = B z + g its residual, q the CG direction,
// all in the scaled variables; `scale` holds D.
#pragma once

#include <algorithm>
#include <cmath>
#include <type_traits>

#include <Eigen/Cholesky>

#include "descent/core/memory.hpp"
#include "descent/solvers/bfgs.hpp"
#include "descent/solvers/newton.hpp"
#include "descent/solvers/trust_region_scaling.hpp"
#include "descent/solvers/detail/evaluator.hpp"
#include "descent/solvers/detail/monitor.hpp"
#include "descent/solvers/detail/negative_curvature.hpp"

namespace descent {

enum class TrustRegionSubproblem { steihaug_cg, dogleg };

// Scaling (trust_region_scaling.hpp): measured on the MGH set, scaling from
// the start solves meyer but loses more problems from far starts than it
// gains (the diagonal at a far start is huge, and D never shrinks), so the
// default scales only where a ball has stalled. The diagonal is free only
// where the objective has a dense Hessian (dogleg forms it anyway;
// Steihaug's products come from it); with Hessian-vector products alone the
// region stays a ball.

struct TrustRegionOptions {
  TrustRegionSubproblem subproblem = TrustRegionSubproblem::steihaug_cg;
  // delta_0. Range: > 0.
  double initial_radius = 1.0;
  // Largest delta. Range: >= initial_radius.
  double max_radius = 1e10;
  // Accept the step when rho > acceptance (eta of N&W). Range: [0, 0.25).
  double acceptance = 0.1;
  // Inner CG iterations per step (Steihaug). Range: >= 0 (0 means n).
  Index max_inner_iterations = 0;
  TrustRegionScaling scaling = TrustRegionScaling::when_stalled;
  // At a stationary point with negative curvature: a step of length delta
  // along its eigenvector, through the same ratio test (newton.hpp).
  SaddleEscape saddle;
  StopOptions stop;
};

namespace detail {

// The tau >= 0 with |z + tau q| = delta.
template <class T>
T to_boundary(const Vector<T>& z, const Vector<T>& q, T delta) {
  const T a = q.squaredNorm(), b = T(2) * z.dot(q), c = z.squaredNorm() - delta * delta;
  const T disc = std::sqrt(std::max(T(0), b * b - T(4) * a * c));
  // Stable form of the positive root.
  return b >= T(0) ? (T(2) * c) / (-b - disc) : (-b + disc) / (T(2) * a);
}

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> trust_region(F& f, X&& x_in, const TrustRegionOptions& o = {}, Callback<T>* callback = nullptr) {
  VectorRef<T> x_io(x_in);
  const Index n = x_io.size();
  require(n > 0, "the starting point must have at least one variable");
  DESCENT_REQUIRE(o.initial_radius > 0, fmt::format("TrustRegionOptions::initial_radius must be > 0; got {}", o.initial_radius));
  DESCENT_REQUIRE(o.max_radius >= o.initial_radius,
          fmt::format("TrustRegionOptions::max_radius must be >= initial_radius; got {}", o.max_radius));
  DESCENT_REQUIRE(o.acceptance >= 0 && o.acceptance < 0.25,
          fmt::format("TrustRegionOptions::acceptance must be in [0, 0.25); got {}", o.acceptance));
  DESCENT_REQUIRE(o.max_inner_iterations >= 0,
          fmt::format("TrustRegionOptions::max_inner_iterations must be >= 0; got {}", o.max_inner_iterations));
  o.saddle.validate();
  const bool dogleg = o.subproblem == TrustRegionSubproblem::dogleg;
  if (dogleg) detail::require_dense_fits<T>(n, "dogleg");

  detail::Monitor<T> monitor(dogleg ? "dogleg" : "trust-region", o.stop, callback, n);
  detail::Evaluator<T, F> eval(f);
  auto counts = [&] {
    return detail::Counts{eval.value_evaluations, eval.gradient_evaluations, eval.hessian_evaluations};
  };

  // Evaluate at the start.
  auto workspace = [n] { return detail::workspace_vector<T>(n); };
  Vector<T> x = workspace(), g = workspace(), x_trial = workspace(), g_trial = workspace(), p = workspace(),
            bp = workspace();
  Vector<T> z = workspace(), r = workspace(), q = workspace(), bq = workspace();  // Steihaug
  Vector<T> newton_step, cauchy_step;                                              // dogleg
  Vector<T> scale, diagonal, scaled_g, unscaled;                                   // scaling
  Matrix<T> h, shifted;
  Eigen::LLT<Matrix<T>> llt;
  if (dogleg) {
    newton_step = workspace();
    cauchy_step = workspace();
    h = detail::workspace_matrix<T>(n, n);
    shifted = detail::workspace_matrix<T>(n, n);
  }
  const bool can_scale = o.scaling != TrustRegionScaling::none && (dogleg || eval.has_exact_hessian());
  bool scaled = false;
  auto start_scaling = [&] {
    scale = Vector<T>::Zero(n);
    diagonal = workspace();
    scaled_g = workspace();
    unscaled = workspace();
    scaled = true;
  };
  if (can_scale && o.scaling == TrustRegionScaling::hessian_diagonal) start_scaling();
  x = x_io;
  T fx = eval.value_and_gradient(x, g);
  T gnorm = g.norm();
  auto finish = [&](Status s, Index k) {
    x_io = x;
    return monitor.finish(s, x, fx, gnorm, k, counts());
  };
  std::optional<detail::NegativeCurvature<T>> escape;
  if (o.saddle.enabled)
    monitor.set_stationary_check(
        [&] {
          escape = detail::negative_curvature<T>(eval, x, g, o.saddle.tolerance, o.saddle.lanczos_steps);
          return escape.has_value();
        },
        "left {} saddle point(s) along negative curvature");
  if (auto s = monitor.start(x, fx, gnorm, counts())) return finish(*s, 0);

  T delta = T(o.initial_radius), max_delta = T(o.max_radius);
  bool radius_scaled = !scaled;  // with scaling, delta_0 waits for D at x0
  // At each new point: D_i = max(D_i, sqrt|H_ii|) where the diagonal is
  // available and finite, 1 while H_ii has been 0; and, once D is known,
  // delta_0 relative to the start's size in the scaled variables (Dennis &
  // Schnabel's default step bound: max(|D x0|, |D|)).
  auto update_scale = [&](const auto& hessian_diagonal, bool available) {
    if (available && hessian_diagonal.allFinite())
      for (Index i = 0; i < n; ++i) scale[i] = std::max(scale[i], std::sqrt(std::abs(hessian_diagonal[i])));
    for (Index i = 0; i < n; ++i) if (!(scale[i] > T(0)) || !std::isfinite(scale[i])) scale[i] = T(1);
    if (radius_scaled) return;
    const T size = std::max(x.cwiseProduct(scale).norm(), scale.norm());
    if (std::isfinite(size)) {
      delta *= size;
      max_delta *= size;
    }
    radius_scaled = true;
  };
  // The model's matrix in the scaled variables: out = D^-1 B D^-1 v.
  auto scaled_product = [&](const Vector<T>& v, Vector<T>& out) {
    if (!scaled) return eval.hessian_vector(x, g, v, out);
    unscaled = v.cwiseQuotient(scale);
    eval.hessian_vector(x, g, unscaled, out);
    out.array() /= scale.array();
  };

  const Index max_inner = o.max_inner_iterations > 0 ? o.max_inner_iterations : n;
  bool model_current = false;  // the scaling (and dogleg's Newton and Cauchy steps) are for this x
  Index k = 0;
  while (true) {
    // Solve the subproblem for p, its scaled length |D p| and the predicted
    // reduction m(0) - m(p).
    T predicted, step_norm;
    if (escape) {
      // A saddle: to the region's boundary along the negative curvature,
      // where the model falls by -(g.p + theta |p|^2 / 2).
      const T length = scaled ? escape->v.cwiseProduct(scale).norm() : T(1);
      p = (delta / length) * escape->v;
      step_norm = delta;
      predicted = -(g.dot(p) + T(0.5) * escape->curvature * p.squaredNorm());
    } else if (!dogleg) {
      if (scaled && !model_current) {
        const bool available = eval.hessian_diagonal(x, diagonal);
        update_scale(diagonal, available);
      }
      model_current = true;
      const Vector<T>& gs = scaled ? (scaled_g = g.cwiseQuotient(scale)) : g;
      const T gs_norm = scaled ? gs.norm() : gnorm;
      const T tolerance = std::min(T(0.5), std::sqrt(gs_norm)) * gs_norm;
      z.setZero();
      r = gs;
      q = -gs;
      T rr = gs_norm * gs_norm;
      for (Index j = 0; j < max_inner; ++j) {
        scaled_product(q, bq);
        const T curvature = q.dot(bq);
        // Negative curvature, or a step past the boundary: stop on it.
        const T alpha = curvature > T(0) ? rr / curvature : T(0);
        if (!(curvature > T(0)) || (z + alpha * q).norm() >= delta) {
          const T tau = detail::to_boundary(z, q, delta);
          z += tau * q;
          r += tau * bq;
          break;
        }
        z += alpha * q;
        r += alpha * bq;
        const T rr_new = r.squaredNorm();
        if (std::sqrt(rr_new) <= tolerance) break;
        q = -r + (rr_new / rr) * q;
        rr = rr_new;
      }
      if (scaled) p = z.cwiseQuotient(scale);
      else p = z;
      step_norm = z.norm();
      // m(z) - m(0) = g.z + 0.5 z.Bz = 0.5 (z.r + g.z), since r = Bz + g.
      predicted = T(-0.5) * (z.dot(r) + gs.dot(z));
    } else {
      if (!model_current) {
        // B = H + tau I positive definite, its Newton step and, in the
        // scaled variables, its Cauchy step.
        eval.hessian(x, g, h);
        if (scaled) update_scale(h.diagonal(), true);
        detail::modified_cholesky<T>(h, NewtonOptions{}.shift_scale, shifted, llt, [] { return true; });
        newton_step = -g;
        llt.solveInPlace(newton_step);
        if (scaled) {
          scaled_g = g.cwiseQuotient(scale);
          unscaled = scaled_g.cwiseQuotient(scale);
          bq.noalias() = shifted * unscaled;
          const T gbg = unscaled.dot(bq);  // (D^-1 g).(D^-1 B D^-1)(D^-1 g)
          cauchy_step = -(scaled_g.squaredNorm() / gbg) * scaled_g;
          newton_step.array() *= scale.array();
        } else {
          bq.noalias() = shifted * g;
          cauchy_step = -(gnorm * gnorm / g.dot(bq)) * g;
        }
        model_current = true;
      }
      // The dogleg path in the scaled variables, then p = D^-1 p^.
      const Vector<T>& gs = scaled ? scaled_g : g;
      if (newton_step.norm() <= delta) {
        p = newton_step;
      } else if (cauchy_step.norm() >= delta) {
        p = -(delta / gs.norm()) * gs;
      } else {
        q = newton_step - cauchy_step;
        p = cauchy_step + detail::to_boundary(cauchy_step, q, delta) * q;
      }
      step_norm = p.norm();
      if (scaled) p.array() /= scale.array();
      bp.noalias() = shifted * p;
      predicted = -(g.dot(p) + T(0.5) * p.dot(bp));
    }

    // Evaluate the trial point and compare actual with predicted reduction.
    x_trial = x + p;
    const T f_trial = eval.value_and_gradient(x_trial, g_trial);
    const bool finite = std::isfinite(f_trial) && g_trial.allFinite();
    const T rho = finite && predicted > T(0) ? (fx - f_trial) / predicted : T(-1);

    // Resize the region.
    if (rho < T(0.25)) {
      delta = T(0.25) * step_norm;
    } else if (rho > T(0.75) && step_norm >= T(0.99) * delta) {
      delta = std::min(T(2) * delta, max_delta);
    }

    if (rho > T(o.acceptance)) {
      // Accept the step.
      ++k;
      const T f_prev = fx;
      fx = f_trial;
      x.swap(x_trial);
      g.swap(g_trial);
      gnorm = g.norm();
      model_current = false;
      escape.reset();
      if (auto s = monitor.iterate(k, x, f_prev, fx, gnorm, delta, step_norm, counts())) return finish(*s, k);
    } else {
      // Rejected: the region shrank. Give up once it is below rounding.
      const T size = scaled ? x.cwiseProduct(scale).norm() : x.norm();
      if (!(delta > std::numeric_limits<T>::epsilon() * std::max(T(1), size))) {
        if (can_scale && !scaled) {
          // The ball has stalled: go on from here in the scaled region.
          start_scaling();
          delta = T(o.initial_radius);
          max_delta = T(o.max_radius);
          radius_scaled = false;
          model_current = false;
          continue;
        }
        monitor.set_reason(fmt::format("trust radius {:.3g} fell below rounding at iteration {} (|g| = {:.3g})",
                                       double(delta), k, double(gnorm)));
        return finish(Status::line_search_failed, k);
      }
      if (auto s = monitor.budget(counts())) return finish(*s, k);
    }
  }
}

}  // namespace descent
