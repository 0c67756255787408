// Bound-constrained problems from Hock and Schittkowski, "Test Examples for
// Nonlinear Programming Codes", Lecture Notes in Economics and Mathematical
// Systems 187, Springer, 1981: every problem of that collection whose only
// constraints are simple bounds, with the book's numbers, starts, bounds and
// solutions. Four of them bound MGH problems:
//   hs1, hs2  Rosenbrock (MGH 1) with x2 >= -1.5 and with x2 >= 1.5,
//   hs25      Gulf research and development (MGH 11) in a box,
//   hs38      Wood (MGH 14) in [-10, 10]^4;
// the others (hs3, hs4, hs5, hs45, hs110) are the book's own.
#include <cmath>
#include <numbers>
#include <utility>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "factories.hpp"

namespace descent::problems::detail {
namespace {

constexpr double inf = Bounds::inf;

Vector<double> vec(std::initializer_list<double> v) {
  Vector<double> out(Index(v.size()));
  Index i = 0;
  for (double x : v) out[i++] = x;
  return out;
}

// What every problem here has besides its function.
class Bounded : public Problem {
 public:
  Bounded(std::string_view name, Vector<double> start, Bounds bounds, double minimum)
      : name_(name), start_(std::move(start)), bounds_(std::move(bounds)), minimum_(minimum) {}

  std::string_view name() const override { return name_; }
  Index dimension() const override { return start_.size(); }
  Vector<double> start() const override { return start_; }
  std::optional<double> known_minimum() const override { return minimum_; }
  std::optional<Bounds> bounds() const override { return bounds_; }

 private:
  std::string_view name_;  // a string literal
  Vector<double> start_;
  Bounds bounds_;
  double minimum_;
};

// An MGH problem of this library with the book's bounds and start.
class BoundedMgh final : public Bounded {
 public:
  BoundedMgh(std::string_view name, std::unique_ptr<Problem> f, Vector<double> start, Bounds bounds, double minimum)
      : Bounded(name, std::move(start), std::move(bounds), minimum), f_(std::move(f)) {}

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    return f_->value_and_gradient(x, g);
  }
  double value(ConstVectorRef<double> x) const override { return f_->value(x); }
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override { f_->hessian(x, h); }
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v, VectorRef<double> out) const override {
    f_->hessian_vector(x, v, out);
  }

 private:
  std::unique_ptr<Problem> f_;
};

// (3) f = x2 + 1e-5 (x2 - x1)^2, x2 >= 0; f* = 0 at (0, 0).
class Hs3 final : public Bounded {
 public:
  Hs3() : Bounded("hs3", vec({10, 1}), Bounds{vec({-inf, 0}), vec({inf, inf})}, 0.0) {}
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double d = x[1] - x[0];
    g[0] = -2e-5 * d;
    g[1] = 1 + 2e-5 * d;
    return x[1] + 1e-5 * d * d;
  }
  void hessian(ConstVectorRef<double>, MatrixRef<double> h) const override { h << 2e-5, -2e-5, -2e-5, 2e-5; }
};

// (4) f = (x1 + 1)^3 / 3 + x2, x1 >= 1, x2 >= 0; f* = 8/3 at (1, 0).
class Hs4 final : public Bounded {
 public:
  Hs4() : Bounded("hs4", vec({1.125, 0.125}), Bounds{vec({1, 0}), vec({inf, inf})}, 8.0 / 3.0) {}
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double a = x[0] + 1;
    g[0] = a * a;
    g[1] = 1;
    return a * a * a / 3 + x[1];
  }
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override { h << 2 * (x[0] + 1), 0, 0, 0; }
};

// (5) f = sin(x1 + x2) + (x1 - x2)^2 - 1.5 x1 + 2.5 x2 + 1 on
// [-1.5, 4] x [-3, 3]; f* = -sqrt(3)/2 - pi/3 at (1/2 - pi/3, -1/2 - pi/3),
// inside the box.
class Hs5 final : public Bounded {
 public:
  Hs5()
      : Bounded("hs5", vec({0, 0}), Bounds{vec({-1.5, -3}), vec({4, 3})},
                -std::sqrt(3.0) / 2 - std::numbers::pi / 3) {}
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double s = x[0] + x[1], d = x[0] - x[1], c = std::cos(s);
    g[0] = c + 2 * d - 1.5;
    g[1] = c - 2 * d + 2.5;
    return std::sin(s) + d * d - 1.5 * x[0] + 2.5 * x[1] + 1;
  }
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    const double s = -std::sin(x[0] + x[1]);
    h << s + 2, s - 2, s - 2, s + 2;
  }
};

// (45) f = 2 - x1 x2 x3 x4 x5 / 120, 0 <= x_i <= i; f* = 1 at (1, 2, 3, 4, 5),
// every variable at its upper bound. The start, 2 everywhere, is outside the
// box in x1.
class Hs45 final : public Bounded {
 public:
  Hs45() : Bounded("hs45", Vector<double>::Constant(5, 2.0), Bounds{Vector<double>::Zero(5), vec({1, 2, 3, 4, 5})}, 1.0) {}
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    for (Index i = 0; i < 5; ++i) g[i] = -product_without(x, i, i) / 120;
    return 2 - product_without(x, -1, -1) / 120;
  }
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    for (Index i = 0; i < 5; ++i)
      for (Index j = 0; j < 5; ++j) h(i, j) = i == j ? 0.0 : -product_without(x, i, j) / 120;
  }

 private:
  // The product of the x_k with k not i and not j, by multiplication: x may
  // hold zeros (at the lower bounds), which rules out dividing.
  static double product_without(ConstVectorRef<double> x, Index i, Index j) {
    double p = 1;
    for (Index k = 0; k < 5; ++k)
      if (k != i && k != j) p *= x[k];
    return p;
  }
};

// (110) f = sum_i [ln(x_i - 2)^2 + ln(10 - x_i)^2] - (prod_i x_i)^0.2,
// 2.001 <= x_i <= 9.999, n = 10, start 9; f* = -45.77846971 at
// x_i = 9.35025655 (the book's values, to the digits it prints).
class Hs110 final : public Bounded {
 public:
  Hs110()
      : Bounded("hs110", Vector<double>::Constant(10, 9.0),
                Bounds::uniform(10, 2.001, 9.999), -45.77846971) {}
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double p = root_of_product(x);
    double f = -p;
    for (Index i = 0; i < 10; ++i) {
      const double a = std::log(x[i] - 2), b = std::log(10 - x[i]);
      f += a * a + b * b;
      g[i] = 2 * a / (x[i] - 2) - 2 * b / (10 - x[i]) - 0.2 * p / x[i];
    }
    return f;
  }
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    const double p = root_of_product(x);
    for (Index i = 0; i < 10; ++i) {
      for (Index j = 0; j < 10; ++j) h(i, j) = -0.04 * p / (x[i] * x[j]);
      const double u = x[i] - 2, w = 10 - x[i];
      h(i, i) = (2 - 2 * std::log(u)) / (u * u) + (2 - 2 * std::log(w)) / (w * w) + 0.16 * p / (x[i] * x[i]);
    }
  }

 private:
  static double root_of_product(ConstVectorRef<double> x) {
    double p = 1;
    for (Index i = 0; i < 10; ++i) p *= x[i];
    return std::pow(p, 0.2);
  }
};

}  // namespace

std::unique_ptr<Problem> make_hs1(Index) {
  return std::make_unique<BoundedMgh>("hs1", make_rosenbrock(2), vec({-2, 1}), Bounds{vec({-inf, -1.5}), vec({inf, inf})},
                                      0.0);
}

// The minimum of 100 (1.5 - x1^2)^2 + (1 - x1)^2 over x1, on the bound
// x2 = 1.5: the real root of 400 x^3 - 598 x - 2 = 0 near 1.2247, by Newton's
// method from sqrt(1.5): x1 = 1.224370749, f* = 0.0504261879, as the book
// gives them.
double hs2_minimum() {
  double x = std::sqrt(1.5);
  for (int k = 0; k < 50; ++k) x -= (400 * x * x * x - 598 * x - 2) / (1200 * x * x - 598);
  const double r = 1.5 - x * x;
  return 100 * r * r + (1 - x) * (1 - x);
}

std::unique_ptr<Problem> make_hs2(Index) {
  return std::make_unique<BoundedMgh>("hs2", make_rosenbrock(2), vec({-2, 1}), Bounds{vec({-inf, 1.5}), vec({inf, inf})},
                                      hs2_minimum());
}

std::unique_ptr<Problem> make_hs3(Index) { return std::make_unique<Hs3>(); }
std::unique_ptr<Problem> make_hs4(Index) { return std::make_unique<Hs4>(); }
std::unique_ptr<Problem> make_hs5(Index) { return std::make_unique<Hs5>(); }

std::unique_ptr<Problem> make_hs25(Index) {
  return std::make_unique<BoundedMgh>("hs25", make_gulf(3), vec({100, 12.5, 3}),
                                      Bounds{vec({0.1, 0, 0}), vec({100, 25.6, 5})}, 0.0);
}

std::unique_ptr<Problem> make_hs38(Index) {
  return std::make_unique<BoundedMgh>("hs38", make_wood(4), vec({-3, -1, -3, -1}), Bounds::uniform(4, -10, 10), 0.0);
}

std::unique_ptr<Problem> make_hs45(Index) { return std::make_unique<Hs45>(); }
std::unique_ptr<Problem> make_hs110(Index) { return std::make_unique<Hs110>(); }

}  // namespace descent::problems::detail
