// Diagonal quadratics, the simplest problems with a known answer:
//   f(x) = 0.5 * sum_i a_i x_i^2,  g = a x,  H = diag(a),
// start x_i = 1, minimum 0 at the origin. cond(H) = max a / min a, so the
// two front doors differ only in a:
//   quadratic:                 a_i = i (cond = n),
//   ill_conditioned_quadratic: a_i = condition^((i-1)/(n-1)), log-spaced from
//                              a_1 = 1 to a_n = condition (a_1 = 1 for n = 1).
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "factories.hpp"

namespace descent::problems::detail {
namespace {

class DiagonalQuadratic final : public Problem {
 public:
  DiagonalQuadratic(std::string_view name, Vector<double> a) : name_(name), a_(std::move(a)) {}

  std::string_view name() const override { return name_; }
  Index dimension() const override { return a_.size(); }
  Vector<double> start() const override { return Vector<double>::Ones(a_.size()); }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    double f = 0;
    for (Index i = 0; i < a_.size(); ++i) {
      g[i] = a_[i] * x[i];
      f += g[i] * x[i];
    }
    return 0.5 * f;
  }
  double value(ConstVectorRef<double> x) const override {
    double f = 0;
    for (Index i = 0; i < a_.size(); ++i) f += a_[i] * x[i] * x[i];
    return 0.5 * f;
  }

  void hessian(ConstVectorRef<double>, MatrixRef<double> h) const override {
    h.setZero();
    h.diagonal() = a_;
  }
  void hessian_vector(ConstVectorRef<double>, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    out = a_.cwiseProduct(v);
  }
  bool has_hessian_vector() const override { return true; }

 private:
  std::string_view name_;  // a string literal
  Vector<double> a_;
};

}  // namespace

std::unique_ptr<Problem> make_quadratic(Index n) {
  DESCENT_REQUIRE(n >= 1, fmt::format("quadratic needs a dimension n >= 1; got {}", n));
  return std::make_unique<DiagonalQuadratic>("quadratic",
                                             Vector<double>::LinSpaced(n, 1.0, double(n)));
}

std::unique_ptr<Problem> make_ill_conditioned_quadratic(Index n, double condition) {
  DESCENT_REQUIRE(n >= 1, fmt::format("ill_conditioned_quadratic needs a dimension n >= 1; got {}", n));
  DESCENT_REQUIRE(
      condition >= 1 && std::isfinite(condition),
      fmt::format("ill_conditioned_quadratic needs a finite condition >= 1; got {}", condition));
  Vector<double> a(n);
  a[0] = 1;
  const double log_condition = std::log(condition);
  for (Index i = 1; i < n; ++i) a[i] = std::exp(log_condition * double(i) / double(n - 1));
  if (n > 1) a[n - 1] = condition;  // exactly, whatever exp(log(.)) rounds to
  return std::make_unique<DiagonalQuadratic>("ill_conditioned_quadratic", std::move(a));
}

}  // namespace descent::problems::detail
