// Internal: evaluations of an objective with counts, and the finite-difference
// fallbacks for curvature when the objective offers only gradients.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "descent/core/objective.hpp"
#include "descent/core/types.hpp"

namespace descent::detail {

template <class T, class F>
class Evaluator {
 public:
  explicit Evaluator(F& f)
      : f_(f), has_hessian_(supports_hessian<T>(f)), has_hessian_vector_(supports_hessian_vector<T>(f)) {}

  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    ++value_evaluations;
    ++gradient_evaluations;
    return f_.value_and_gradient(x, g);
  }

  bool has_exact_hessian() const { return has_hessian_; }
  bool has_exact_hessian_vector() const { return has_hessian_vector_ || has_hessian_; }

  // Dense Hessian at x, where g is the gradient at x. Without an analytic
  // Hessian: forward differences of gradients, one per column, symmetrized.
  void hessian(ConstVectorRef<T> x, ConstVectorRef<T> g, MatrixRef<T> h) {
    const Index n = x.size();
    if constexpr (HasHessian<F, T>) {
      if (has_hessian_) {
        ++hessian_evaluations;
        f_.hessian(x, h);
        return;
      }
    }
    xp_ = x;
    gp_.resize(n);
    for (Index j = 0; j < n; ++j) {
      const T step = difference_step(std::abs(x[j]));
      xp_[j] = x[j] + step;
      value_and_gradient(xp_, gp_);
      xp_[j] = x[j];
      h.col(j) = (gp_ - g) / step;
    }
    // Symmetrize in place: H = (H + H^T) / 2.
    for (Index j = 0; j < n; ++j)
      for (Index i = j + 1; i < n; ++i) h(i, j) = h(j, i) = T(0.5) * (h(i, j) + h(j, i));
  }

  // out = H(x) v, where g is the gradient at x. Fallbacks: the dense Hessian
  // (when the objective has one; formed once per x, since an inner CG loop
  // multiplies by it many times at the same x), else a forward difference of
  // gradients along v, (g(x + h v) - g(x)) / h, costing one gradient
  // evaluation.
  void hessian_vector(ConstVectorRef<T> x, ConstVectorRef<T> g, ConstVectorRef<T> v, VectorRef<T> out) {
    if constexpr (HasHessianVector<F, T>) {
      if (has_hessian_vector_) {
        ++hessian_evaluations;
        f_.hessian_vector(x, v, out);
        return;
      }
    }
    if constexpr (HasHessian<F, T>) {
      if (has_hessian_) {
        form_dense(x);
        out.noalias() = dense_ * v;
        return;
      }
    }
    const T vnorm = v.norm();
    if (vnorm == T(0)) {
      out.setZero();
      return;
    }
    const T step = difference_step(x.norm()) / vnorm;
    xp_ = x + step * v;
    gp_.resize(x.size());
    value_and_gradient(xp_, gp_);
    out = (gp_ - g) / step;
  }

  // diag H(x) into out, where g is the gradient at x, when the objective has
  // a dense Hessian (the one hessian_vector forms at x, so no extra
  // evaluation when both are asked for at the same x). Returns false, leaving
  // out alone, when it has none: the diagonal alone would cost n products.
  bool hessian_diagonal(ConstVectorRef<T> x, VectorRef<T> out) {
    if constexpr (HasHessian<F, T>) {
      if (has_hessian_) {
        form_dense(x);
        out = dense_.diagonal();
        return true;
      }
    }
    return false;
  }

  Index value_evaluations = 0;
  Index gradient_evaluations = 0;
  Index hessian_evaluations = 0;

 private:
  // sqrt(machine epsilon) scaled by the size of the coordinate.
  static T difference_step(T scale) {
    return std::sqrt(std::numeric_limits<T>::epsilon()) * std::max(T(1), scale);
  }

  // The dense Hessian at x into dense_, unless it already holds it.
  void form_dense(ConstVectorRef<T> x) {
    if constexpr (HasHessian<F, T>) {
      if (dense_at_.size() != x.size() || dense_at_ != x) {
        ++hessian_evaluations;
        dense_.resize(x.size(), x.size());
        f_.hessian(x, dense_);
        dense_at_ = x;
      }
    }
  }

  F& f_;
  bool has_hessian_;
  bool has_hessian_vector_;
  Vector<T> xp_, gp_;
  Matrix<T> dense_;     // the last dense Hessian formed for hessian_vector,
  Vector<T> dense_at_;  // and the point where it was formed
};

}  // namespace descent::detail
