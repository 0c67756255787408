// Central finite differences, the oracle for every analytic derivative.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>

#include "descent/core/types.hpp"

namespace descent::testing {

// Central-difference gradient of f at x, with a step scaled to each x_i.
inline Vector<double> numeric_gradient(const std::function<double(const Vector<double>&)>& f,
                                       const Vector<double>& x, double rel_step = 1e-6) {
  Vector<double> g(x.size());
  Vector<double> xp = x;
  for (Index i = 0; i < x.size(); ++i) {
    const double h = rel_step * std::max(1.0, std::abs(x[i]));
    xp[i] = x[i] + h;
    const double fp = f(xp);
    xp[i] = x[i] - h;
    const double fm = f(xp);
    xp[i] = x[i];
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

// Central-difference Jacobian of a vector function (for Hessians: of the
// gradient), column j holding d out / d x_j.
inline Matrix<double> numeric_jacobian(
    const std::function<void(const Vector<double>&, Vector<double>&)>& fn, const Vector<double>& x,
    Index m, double rel_step = 1e-6) {
  Matrix<double> jac(m, x.size());
  Vector<double> xp = x, op(m), om(m);
  for (Index j = 0; j < x.size(); ++j) {
    const double h = rel_step * std::max(1.0, std::abs(x[j]));
    xp[j] = x[j] + h;
    fn(xp, op);
    xp[j] = x[j] - h;
    fn(xp, om);
    xp[j] = x[j];
    jac.col(j) = (op - om) / (2 * h);
  }
  return jac;
}

// Largest |a_i - b_i| / max(1, |b_i|): the error measure for derivative checks.
template <class A, class B>
double max_relative_error(const A& a, const B& b) {
  double worst = 0;
  for (Index i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]) / std::max(1.0, std::abs(b.data()[i])));
  return worst;
}

}  // namespace descent::testing
