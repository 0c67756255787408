// Internal: the Hessian's most negative curvature at a point, for the
// second-order methods' test at a stationary point. A point where |g| is
// below the tolerance but H has a negative eigenvalue is a saddle, and the
// eigenvector is the way out (Nocedal & Wright section 4.3; Conn, Gould and
// Toint, "Trust-Region Methods", chapter 6).
//
// Lanczos with full reorthogonalization on Hessian-vector products (the
// objective's, or differences of gradients) from a seeded random start:
// at most `max_steps` products; exact when n <= max_steps or when the
// Krylov space closes early (a Hessian with few distinct eigenvalues).
// Glossary: q_j the Lanczos vectors, alpha_j and beta_j the tridiagonal's
// diagonal and off-diagonal, theta its smallest eigenvalue (a Ritz value).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <Eigen/Eigenvalues>

#include "descent/core/random.hpp"
#include "descent/core/types.hpp"

namespace descent::detail {

template <class T>
struct NegativeCurvature {
  T curvature;   // theta = v.Hv < 0
  Vector<T> v;   // unit length
};

// The smallest Ritz pair of H(x) when it is negative beyond rounding:
// theta < -tolerance * max(1, max |Ritz value|). nullopt when none is.
template <class T, class E>
std::optional<NegativeCurvature<T>> negative_curvature(E& eval, const Vector<T>& x, const Vector<T>& g,
                                                       double tolerance, Index max_steps = 20) {
  const Index n = x.size();
  const Index m = std::min(n, max_steps);
  Matrix<T> q(n, m + 1);
  Vector<T> w(n), alpha(m), beta(m);
  Rng rng(0x5add1e);
  for (Index i = 0; i < n; ++i) q(i, 0) = T(rng.normal());
  q.col(0).normalize();
  Index k = 0;
  for (; k < m; ++k) {
    eval.hessian_vector(x, g, q.col(k), w);
    if (!w.allFinite()) return std::nullopt;
    alpha[k] = q.col(k).dot(w);
    // Full reorthogonalization, twice (Kahan's "twice is enough").
    for (int pass = 0; pass < 2; ++pass) w -= q.leftCols(k + 1) * (q.leftCols(k + 1).transpose() * w);
    beta[k] = w.norm();
    const T scale = std::max(T(1), std::abs(alpha[k]));
    if (!(beta[k] > T(64) * std::numeric_limits<T>::epsilon() * scale)) {
      ++k;  // the Krylov space closed: its Ritz values are exact
      break;
    }
    q.col(k + 1) = w / beta[k];
  }
  Matrix<T> tridiagonal = Matrix<T>::Zero(k, k);
  for (Index j = 0; j < k; ++j) {
    tridiagonal(j, j) = alpha[j];
    if (j + 1 < k) tridiagonal(j, j + 1) = tridiagonal(j + 1, j) = beta[j];
  }
  Eigen::SelfAdjointEigenSolver<Matrix<T>> eigen(tridiagonal);
  if (eigen.info() != Eigen::Success) return std::nullopt;
  const T theta = eigen.eigenvalues()[0];
  const T largest = eigen.eigenvalues().cwiseAbs().maxCoeff();
  if (!(theta < -T(tolerance) * std::max(T(1), largest))) return std::nullopt;
  NegativeCurvature<T> out{theta, q.leftCols(k) * eigen.eigenvectors().col(0)};
  out.v.normalize();
  // Point downhill, or either way where g is orthogonal to v (the saddle).
  if (out.v.dot(g) > T(0)) out.v = -out.v;
  return out;
}

// A step along a direction of negative curvature d (unit, g.d <= 0) from x:
// the first of alpha = 1, 1/2, 1/4, ... with
//   f(x + alpha d) <= f + alpha g.d + theta alpha^2 / 4
// (half the quadratic model's decrease), then doubled while that holds and
// f still falls. On success x_trial, g_trial hold the accepted point and the
// return is its f; nullopt when no step of 60 halvings decreases enough.
template <class T, class E>
std::optional<T> curvature_step(E& eval, const Vector<T>& x, T fx, const Vector<T>& g, const NegativeCurvature<T>& nc,
                                Vector<T>& x_trial, Vector<T>& g_trial) {
  const T gd = g.dot(nc.v);
  auto enough = [&](T step, T f) { return std::isfinite(f) && f <= fx + step * gd + T(0.25) * nc.curvature * step * step; };
  T step = T(1);
  T f = T(0);
  bool found = false;
  for (int halving = 0; halving < 60; ++halving, step *= T(0.5)) {
    x_trial = x + step * nc.v;
    f = eval.value_and_gradient(x_trial, g_trial);
    if (enough(step, f) && g_trial.allFinite()) {
      found = true;
      break;
    }
  }
  if (!found) return std::nullopt;
  if (step == T(1)) {
    Vector<T> x_more(x.size()), g_more(x.size());
    for (int doubling = 0; doubling < 30; ++doubling) {
      const T longer = T(2) * step;
      x_more = x + longer * nc.v;
      const T f_more = eval.value_and_gradient(x_more, g_more);
      if (!(enough(longer, f_more) && f_more < f && g_more.allFinite())) break;
      step = longer;
      f = f_more;
      x_trial.swap(x_more);
      g_trial.swap(g_more);
    }
  }
  return f;
}

}  // namespace descent::detail
