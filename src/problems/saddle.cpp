// Functions with a strict saddle point at the origin, the standard start of
// the saddle-point literature's escape tests: the gradient there is exactly
// zero, so a method that only follows the gradient never leaves, and only
// noise (perturbed gradient descent) or the Hessian's negative curvature
// (Newton, trust region) finds the minima.
//   saddle:          f = x^2 - y^2 + y^4 / 4 (n = 2); H(0) = diag(2, -2);
//                    minima f* = -1 at (0, +-sqrt 2).
//   strict_saddle:   f = 0.5 sum_{i<n} x_i^2 + x_n^4 / 4 - x_n^2 / 2; H(0) =
//                    diag(1, ..., 1, -1), one escape direction among n;
//                    minima f* = -1/4 at x_n = +-1, the rest 0.
#include <cmath>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "factories.hpp"

namespace descent::problems::detail {
namespace {

// 0.5 sum_{i<n} a_i x_i^2 + x_n^4 / 4 - c x_n^2 / 2 over the last variable:
// the saddle's descent direction is e_n, its curvature -c.
class QuarticSaddle final : public Problem {
 public:
  QuarticSaddle(std::string_view name, Index n, double a, double c, double minimum)
      : name_(name), n_(n), a_(a), c_(c), minimum_(minimum) {}

  std::string_view name() const override { return name_; }
  Index dimension() const override { return n_; }
  Vector<double> start() const override { return Vector<double>::Zero(n_); }
  std::optional<double> known_minimum() const override { return minimum_; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    double f = 0;
    for (Index i = 0; i + 1 < n_; ++i) {
      g[i] = a_ * x[i];
      f += 0.5 * a_ * x[i] * x[i];
    }
    const double y = x[n_ - 1];
    g[n_ - 1] = y * y * y - c_ * y;
    return f + 0.25 * y * y * y * y - 0.5 * c_ * y * y;
  }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    h.setZero();
    for (Index i = 0; i + 1 < n_; ++i) h(i, i) = a_;
    const double y = x[n_ - 1];
    h(n_ - 1, n_ - 1) = 3 * y * y - c_;
  }
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v, VectorRef<double> out) const override {
    for (Index i = 0; i + 1 < n_; ++i) out[i] = a_ * v[i];
    const double y = x[n_ - 1];
    out[n_ - 1] = (3 * y * y - c_) * v[n_ - 1];
  }
  bool has_hessian_vector() const override { return true; }

 private:
  std::string_view name_;  // a string literal
  Index n_;
  double a_, c_, minimum_;
};

}  // namespace

std::unique_ptr<Problem> make_saddle(Index n) {
  DESCENT_REQUIRE(n == 2, fmt::format("saddle has n = 2 variables; got {}", n));
  // x^2 - y^2 + y^4/4 = 0.5 (2) x^2 + y^4/4 - 0.5 (2) y^2; minimum -1 at y^2 = 2.
  return std::make_unique<QuarticSaddle>("saddle", 2, 2.0, 2.0, -1.0);
}

std::unique_ptr<Problem> make_strict_saddle(Index n) {
  DESCENT_REQUIRE(n >= 1, fmt::format("strict_saddle needs a dimension n >= 1; got {}", n));
  return std::make_unique<QuarticSaddle>("strict_saddle", n, 1.0, 1.0, -0.25);
}

}  // namespace descent::problems::detail
