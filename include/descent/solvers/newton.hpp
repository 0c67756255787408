// Newton's method with a modified Cholesky factorization: d solves
// (H + tau I) d = -g, where tau >= 0 is the smallest of beta, 2 beta, 4 beta,
// ... that makes the matrix positive definite (0 when H already is), with
// beta = 1e-3 times the largest |H_ij| (Nocedal & Wright, Algorithm 3.3,
// "Cholesky with added multiple of the identity"). A strong Wolfe search
// from the unit step keeps the method global; near a nondegenerate minimizer
// it takes unit steps and converges quadratically.
//
// The Hessian is the objective's own (core/objective.hpp), else forward
// differences of gradients, n gradient evaluations each.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>

#include <Eigen/Cholesky>

#include "descent/solvers/bfgs.hpp"
#include "descent/solvers/detail/line_search_method.hpp"

namespace descent {

// Second-order stationarity: where the gradient test passes, Newton and the
// trust-region methods estimate the Hessian's smallest eigenvalue (Lanczos
// on Hessian-vector products, solvers/detail/negative_curvature.hpp) and,
// where it is negative, step along its eigenvector instead of stopping, so
// that a start at a saddle (|g| = 0) goes on to a minimum. Costs at most
// lanczos_steps Hessian-vector products at the final point.
struct SaddleEscape {
  bool enabled = true;
  // Negative means below -tolerance * max(1, |largest Ritz value|). Range: > 0.
  double tolerance = 1e-6;
  // Range: >= 1.
  Index lanczos_steps = 20;
  void validate() const {
    DESCENT_REQUIRE(tolerance > 0 && std::isfinite(tolerance),
                    fmt::format("SaddleEscape::tolerance must be finite and > 0; got {}", tolerance));
    DESCENT_REQUIRE(lanczos_steps >= 1, fmt::format("SaddleEscape::lanczos_steps must be >= 1; got {}", lanczos_steps));
  }
};

struct NewtonOptions {
  StrongWolfeOptions line_search;
  // beta of Algorithm 3.3, relative to the largest |H_ij|. Range: > 0.
  double shift_scale = 1e-3;
  SaddleEscape saddle;
  StopOptions stop;
};

namespace detail {

// Algorithm 3.3's search for the shift: factors H + tau I into `llt` for
// tau = 0 (when H's diagonal is positive), else -min(diag H) + beta, then
// doubling (at least beta), until the factorization succeeds and
// `accept()` agrees; beta = shift_scale max|H_ij|. Returns the shift, or
// nothing after 200 attempts.
template <class T, class Accept>
std::optional<T> modified_cholesky(const Matrix<T>& h, double shift_scale, Matrix<T>& shifted,
                                   Eigen::LLT<Matrix<T>>& llt, Accept&& accept) {
  const T largest = h.allFinite() ? h.cwiseAbs().maxCoeff() : T(0);
  const T beta = T(shift_scale) * (largest > T(0) ? largest : T(1));
  const T min_diagonal = h.diagonal().minCoeff();
  T tau = min_diagonal > T(0) ? T(0) : -min_diagonal + beta;
  for (int attempt = 0; attempt < 200; ++attempt) {
    shifted = h;
    shifted.diagonal().array() += tau;
    llt.compute(shifted);
    if (llt.info() == Eigen::Success && accept()) return tau;
    tau = std::max(T(2) * tau, beta);
  }
  return std::nullopt;
}

template <class T>
class NewtonDirection {
 public:
  NewtonDirection(Index n, double shift_scale, const SaddleEscape& saddle = {})
      : h_(n, n), shifted_(n, n), llt_(n), shift_scale_(shift_scale), saddle_(saddle) {}
  const SaddleEscape& saddle_escape() const { return saddle_; }

  template <class E>
  bool compute(E& eval, const Vector<T>& x, const Vector<T>& g, Vector<T>& d) {
    eval.hessian(x, g, h_);
    if (h_.allFinite()) {
      const bool factored = modified_cholesky<T>(h_, shift_scale_, shifted_, llt_, [&] {
                              d = -g;
                              llt_.solveInPlace(d);
                              return d.allFinite();
                            }).has_value();
      if (factored) return false;
    }
    d = -g;
    return true;
  }

  T initial_step(const StepContext<T>&) const { return T(1); }
  void update(const Vector<T>&, const Vector<T>&, const Vector<T>&, const Vector<T>&, T, const Vector<T>&) {}
  void reset() {}

 private:
  Matrix<T> h_, shifted_;
  Eigen::LLT<Matrix<T>> llt_;
  double shift_scale_;
  SaddleEscape saddle_;
};

}  // namespace detail

template <class F, class X, class T = typename std::decay_t<X>::Scalar>
Result<T> newton(F& f, X&& x, const NewtonOptions& o = {}, Callback<T>* callback = nullptr) {
  DESCENT_REQUIRE(o.shift_scale > 0, fmt::format("NewtonOptions::shift_scale must be > 0; got {}", o.shift_scale));
  o.saddle.validate();
  detail::require_dense_fits<T>(Index(x.size()), "newton");
  const auto rule = detail::StepRule::strong_wolfe_search(o.line_search);
  detail::NewtonDirection<T> direction(Index(x.size()), o.shift_scale, o.saddle);
  return detail::line_search_method<T>(f, VectorRef<T>(x), direction, rule, o.stop, callback, "newton");
}

}  // namespace descent
