// Internal: the shape shared by most Moré–Garbow–Hillstrom problems,
//   f(x) = sum_{i=1..m} r_i(x)^2,
// with grad f = 2 J^T r and Hess f = 2 (J^T J + sum_i r_i Hess r_i).
// A problem supplies the residuals, their Jacobian and the weighted sum of
// the residuals' Hessians; this class assembles f, g and H from them.
// Dense J (m x n) only: large separable problems implement Problem directly.
#pragma once

#include "descent/problems/problem.hpp"

namespace descent::problems::detail {

class LeastSquaresProblem : public Problem {
 public:
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const final {
    ensure_scratch();
    residuals(x, r_);
    jacobian(x, j_);
    g.noalias() = 2.0 * j_.transpose() * r_;
    return r_.squaredNorm();
  }

  double value(ConstVectorRef<double> x) const final {
    ensure_scratch();
    residuals(x, r_);
    return r_.squaredNorm();
  }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const final {
    ensure_scratch();
    residuals(x, r_);
    jacobian(x, j_);
    h.noalias() = j_.transpose() * j_;
    add_residual_hessians(x, r_, h);
    h *= 2.0;
  }

 protected:
  // m, the number of residuals.
  virtual Index num_residuals() const = 0;
  // r = (r_1(x), ..., r_m(x)).
  virtual void residuals(ConstVectorRef<double> x, VectorRef<double> r) const = 0;
  // J(i, j) = d r_i / d x_j, an m x n matrix.
  virtual void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const = 0;
  // h += sum_i w_i * Hess r_i(x).
  virtual void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                                     MatrixRef<double> h) const = 0;

 private:
  void ensure_scratch() const {
    if (r_.size() != num_residuals()) {
      r_.resize(num_residuals());
      j_.resize(num_residuals(), dimension());
    }
  }
  mutable Vector<double> r_;
  mutable Matrix<double> j_;
};

}  // namespace descent::problems::detail
