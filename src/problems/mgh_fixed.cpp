// Problems (1) to (19) of Moré, Garbow, Hillstrom, "Testing unconstrained
// optimization software", ACM TOMS 7(1), 1981: the fixed-dimension set.
//
// Each is a sum of squares f(x) = sum_{i=1..m} r_i(x)^2 with the paper's
// residuals r_i, its standard starting point x0 and its f* (the smallest value
// it reports). Residual derivatives are analytic, so H is exact. Loops run
// over the paper's 1-based i; rows and columns of J and H are 0-based, so the
// paper's x_k is x[k-1].
#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "factories.hpp"
#include "least_squares.hpp"

// Known minima: where f* is not zero, the paper prints 6 significant digits,
// coarser than the 1e-6 relative test of `descent minimize --suite`. The
// values below are those minima to full double precision, found by Newton,
// trust-region and BFGS runs to |g| <= 1e-14; each rounds to the paper's figure
// (tests/problems/known_minima_test.cpp checks both).
namespace descent::problems::detail {
namespace {

// The parts every problem here shares: a name, n from the length of x0,
// m residuals, and f*.
class FixedLeastSquares : public LeastSquaresProblem {
 public:
  FixedLeastSquares(std::string name, Index m, std::initializer_list<double> x0,
                    std::optional<double> f_star)
      : name_(std::move(name)), m_(m), x0_(Index(x0.size())), f_star_(f_star) {
    std::copy(x0.begin(), x0.end(), x0_.data());
  }

  std::string_view name() const final { return name_; }
  Index dimension() const final { return x0_.size(); }
  Vector<double> start() const final { return x0_; }
  std::optional<double> known_minimum() const final { return f_star_; }

 protected:
  Index num_residuals() const final { return m_; }

 private:
  std::string name_;
  Index m_;
  Vector<double> x0_;
  std::optional<double> f_star_;
};

// h(p, q) += value, and h(q, p) too off the diagonal: one entry of a
// symmetric residual Hessian.
inline void add_symmetric(MatrixRef<double> h, Index p, Index q, double value) {
  h(p, q) += value;
  if (p != q) h(q, p) += value;
}

// (1) Rosenbrock, n = 2, m = 2.
//   r1 = 10 (x2 - x1^2),  r2 = 1 - x1.
//   x0 = (-1.2, 1); f* = 0 at (1, 1).
class Rosenbrock final : public FixedLeastSquares {
 public:
  Rosenbrock() : FixedLeastSquares("rosenbrock", 2, {-1.2, 1.0}, 0.0) {}

 protected:
  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r[0] = 10 * (x[1] - x[0] * x[0]);
    r[1] = 1 - x[0];
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    j << -20 * x[0], 10,
         -1, 0;
  }
  void add_residual_hessians(ConstVectorRef<double>, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    h(0, 0) += -20 * w[0];
  }
};

// (2) Freudenstein and Roth, n = 2, m = 2.
//   r1 = -13 + x1 + ((5 - x2) x2 - 2) x2,
//   r2 = -29 + x1 + ((x2 + 1) x2 - 14) x2.
//   x0 = (0.5, -2); f* = 0 at (5, 4), and a local minimum
//   f = 48.9842... at (11.41..., -0.8968...).
class FreudensteinRoth final : public FixedLeastSquares {
 public:
  FreudensteinRoth() : FixedLeastSquares("freudenstein_roth", 2, {0.5, -2.0}, 0.0) {}

 protected:
  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r[0] = -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1];
    r[1] = -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1];
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    const double y = x[1];
    j << 1, (10 - 3 * y) * y - 2,
         1, (3 * y + 2) * y - 14;
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    h(1, 1) += w[0] * (10 - 6 * x[1]) + w[1] * (6 * x[1] + 2);
  }
};

// (3) Powell badly scaled, n = 2, m = 2.
//   r1 = 10^4 x1 x2 - 1,  r2 = exp(-x1) + exp(-x2) - 1.0001.
//   x0 = (0, 1); f* = 0 at (1.098...e-5, 9.106...).
class PowellBadlyScaled final : public FixedLeastSquares {
 public:
  PowellBadlyScaled() : FixedLeastSquares("powell_badly_scaled", 2, {0.0, 1.0}, 0.0) {}

 protected:
  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r[0] = 1e4 * x[0] * x[1] - 1;
    r[1] = std::exp(-x[0]) + std::exp(-x[1]) - 1.0001;
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    j << 1e4 * x[1], 1e4 * x[0],
         -std::exp(-x[0]), -std::exp(-x[1]);
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    add_symmetric(h, 0, 1, 1e4 * w[0]);
    h(0, 0) += w[1] * std::exp(-x[0]);
    h(1, 1) += w[1] * std::exp(-x[1]);
  }
};

// (4) Brown badly scaled, n = 2, m = 3.
//   r1 = x1 - 10^6,  r2 = x2 - 2 10^-6,  r3 = x1 x2 - 2.
//   x0 = (1, 1); f* = 0 at (10^6, 2 10^-6).
class BrownBadlyScaled final : public FixedLeastSquares {
 public:
  BrownBadlyScaled() : FixedLeastSquares("brown_badly_scaled", 3, {1.0, 1.0}, 0.0) {}

 protected:
  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r[0] = x[0] - 1e6;
    r[1] = x[1] - 2e-6;
    r[2] = x[0] * x[1] - 2;
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    j << 1, 0,
         0, 1,
         x[1], x[0];
  }
  void add_residual_hessians(ConstVectorRef<double>, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    add_symmetric(h, 0, 1, w[2]);
  }
};

// (5) Beale, n = 2, m = 3.
//   r_i = y_i - x1 (1 - x2^i),  y = (1.5, 2.25, 2.625).
//   x0 = (1, 1); f* = 0 at (3, 0.5).
class Beale final : public FixedLeastSquares {
 public:
  Beale() : FixedLeastSquares("beale", 3, {1.0, 1.0}, 0.0) {}

 protected:
  static constexpr std::array<double, 3> kY = {1.5, 2.25, 2.625};

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    double power = 1;  // x2^i
    for (int i = 1; i <= 3; ++i) {
      power *= x[1];
      r[i - 1] = kY[i - 1] - x[0] * (1 - power);
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    double below = 1;  // x2^(i-1)
    for (int i = 1; i <= 3; ++i) {
      j(i - 1, 0) = -(1 - below * x[1]);
      j(i - 1, 1) = x[0] * i * below;
      below *= x[1];
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // d2 r_i / dx1 dx2 = i x2^(i-1);  d2 r_i / dx2^2 = x1 i (i-1) x2^(i-2).
    double below2 = 0;  // x2^(i-2), zero for i = 1 where its factor is zero
    double below1 = 1;  // x2^(i-1)
    for (int i = 1; i <= 3; ++i) {
      add_symmetric(h, 0, 1, w[i - 1] * i * below1);
      h(1, 1) += w[i - 1] * x[0] * i * (i - 1) * below2;
      below2 = below1;
      below1 *= x[1];
    }
  }
};

// (6) Jennrich and Sampson, n = 2, m = 10.
//   r_i = 2 + 2i - (exp(i x1) + exp(i x2)).
//   x0 = (0.3, 0.4); f* = 124.362 at x1 = x2 = 0.2578 (for m = 10).
class JennrichSampson final : public FixedLeastSquares {
 public:
  JennrichSampson() : FixedLeastSquares("jennrich_sampson", kM, {0.3, 0.4}, 124.36218235561475) {}

 protected:
  static constexpr int kM = 10;

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) r[i - 1] = 2 + 2 * i - (std::exp(i * x[0]) + std::exp(i * x[1]));
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      j(i - 1, 0) = -i * std::exp(i * x[0]);
      j(i - 1, 1) = -i * std::exp(i * x[1]);
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    for (int i = 1; i <= kM; ++i) {
      h(0, 0) -= w[i - 1] * i * i * std::exp(i * x[0]);
      h(1, 1) -= w[i - 1] * i * i * std::exp(i * x[1]);
    }
  }
};

// (7) Helical valley, n = 3, m = 3.
//   r1 = 10 (x3 - 10 theta(x1, x2)),  r2 = 10 (sqrt(x1^2 + x2^2) - 1),  r3 = x3,
//   theta = atan(x2 / x1) / (2 pi) + (x1 < 0 ? 0.5 : 0); at x1 = 0 we take
//   theta = 0.25 sign(x2), its limit from x1 > 0 (as MINPACK's test code does).
//   x0 = (-1, 0, 0); f* = 0 at (1, 0, 0).
class HelicalValley final : public FixedLeastSquares {
 public:
  HelicalValley() : FixedLeastSquares("helical_valley", 3, {-1.0, 0.0, 0.0}, 0.0) {}

 protected:
  static constexpr double kTwoPi = 2 * std::numbers::pi;

  static double theta(double x1, double x2) {
    if (x1 == 0) return std::copysign(0.25, x2);
    return std::atan(x2 / x1) / kTwoPi + (x1 < 0 ? 0.5 : 0.0);
  }
  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r[0] = 10 * (x[2] - 10 * theta(x[0], x[1]));
    r[1] = 10 * (std::hypot(x[0], x[1]) - 1);
    r[2] = x[2];
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    // d theta / dx1 = -x2 / (2 pi rho^2),  d theta / dx2 = x1 / (2 pi rho^2).
    const double rho2 = x[0] * x[0] + x[1] * x[1];
    const double rho = std::sqrt(rho2);
    j << 100 * x[1] / (kTwoPi * rho2), -100 * x[0] / (kTwoPi * rho2), 10,
         10 * x[0] / rho, 10 * x[1] / rho, 0,
         0, 0, 1;
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // Hess theta = [2 x1 x2, x2^2 - x1^2; ., -2 x1 x2] / (2 pi rho^4);
    // Hess rho = [x2^2, -x1 x2; ., x1^2] / rho^3. r1 = ... - 100 theta, r2 = 10 rho + ...
    const double x1 = x[0], x2 = x[1];
    const double rho2 = x1 * x1 + x2 * x2;
    const double rho = std::sqrt(rho2);
    const double a = -100 * w[0] / (kTwoPi * rho2 * rho2);
    const double b = 10 * w[1] / (rho2 * rho);
    h(0, 0) += a * 2 * x1 * x2 + b * x2 * x2;
    h(1, 1) += -a * 2 * x1 * x2 + b * x1 * x1;
    add_symmetric(h, 0, 1, a * (x2 * x2 - x1 * x1) - b * x1 * x2);
  }
};

// (8) Bard, n = 3, m = 15.
//   r_i = y_i - (x1 + u_i / (v_i x2 + w_i x3)),
//   u_i = i, v_i = 16 - i, w_i = min(u_i, v_i).
//   x0 = (1, 1, 1); f* = 8.21487e-3, and f = 17.4286... at (0.8406..., -inf, -inf).
class Bard final : public FixedLeastSquares {
 public:
  Bard() : FixedLeastSquares("bard", kM, {1.0, 1.0, 1.0}, 8.2148773065789729e-3) {}

 protected:
  static constexpr int kM = 15;
  static constexpr std::array<double, kM> kY = {0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39,
                                                0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39};

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double u = i, v = 16 - i, w = std::min(u, v);
      r[i - 1] = kY[i - 1] - (x[0] + u / (v * x[1] + w * x[2]));
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double u = i, v = 16 - i, w = std::min(u, v);
      const double d = v * x[1] + w * x[2];
      j(i - 1, 0) = -1;
      j(i - 1, 1) = u * v / (d * d);
      j(i - 1, 2) = u * w / (d * d);
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> weights,
                             MatrixRef<double> h) const override {
    // Hess r_i on (x2, x3) = -2 u / d^3 [v^2, v w; v w, w^2].
    for (int i = 1; i <= kM; ++i) {
      const double u = i, v = 16 - i, w = std::min(u, v);
      const double d = v * x[1] + w * x[2];
      const double c = -2 * weights[i - 1] * u / (d * d * d);
      h(1, 1) += c * v * v;
      h(2, 2) += c * w * w;
      add_symmetric(h, 1, 2, c * v * w);
    }
  }
};

// (9) Gaussian, n = 3, m = 15.
//   r_i = x1 exp(-x2 (t_i - x3)^2 / 2) - y_i,  t_i = (8 - i) / 2.
//   x0 = (0.4, 1, 0); f* = 1.12793e-8.
class Gaussian final : public FixedLeastSquares {
 public:
  Gaussian() : FixedLeastSquares("gaussian", kM, {0.4, 1.0, 0.0}, 1.1279327696184361e-8) {}

 protected:
  static constexpr int kM = 15;
  static constexpr std::array<double, kM> kY = {0.0009, 0.0044, 0.0175, 0.0540, 0.1295,
                                                0.2420, 0.3521, 0.3989, 0.3521, 0.2420,
                                                0.1295, 0.0540, 0.0175, 0.0044, 0.0009};

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double d = (8 - i) / 2.0 - x[2];
      r[i - 1] = x[0] * std::exp(-x[1] * d * d / 2) - kY[i - 1];
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double d = (8 - i) / 2.0 - x[2];
      const double e = std::exp(-x[1] * d * d / 2);
      j(i - 1, 0) = e;
      j(i - 1, 1) = -x[0] * e * d * d / 2;
      j(i - 1, 2) = x[0] * e * x[1] * d;
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // r = x1 exp(s), s = -x2 d^2 / 2, d = t - x3:
    //   s_2 = -d^2/2, s_3 = x2 d, s_22 = 0, s_23 = d, s_33 = -x2;
    //   r_12 = e s_2, r_13 = e s_3, r_jk = x1 e (s_j s_k + s_jk) for j, k in {2, 3}.
    for (int i = 1; i <= kM; ++i) {
      const double d = (8 - i) / 2.0 - x[2];
      const double e = w[i - 1] * std::exp(-x[1] * d * d / 2);
      const double s2 = -d * d / 2, s3 = x[1] * d;
      add_symmetric(h, 0, 1, e * s2);
      add_symmetric(h, 0, 2, e * s3);
      h(1, 1) += x[0] * e * s2 * s2;
      add_symmetric(h, 1, 2, x[0] * e * (s2 * s3 + d));
      h(2, 2) += x[0] * e * (s3 * s3 - x[1]);
    }
  }
};

// (10) Meyer, n = 3, m = 16.
//   r_i = x1 exp(x2 / (t_i + x3)) - y_i,  t_i = 45 + 5 i.
//   x0 = (0.02, 4000, 250); f* = 87.9458.
class Meyer final : public FixedLeastSquares {
 public:
  Meyer() : FixedLeastSquares("meyer", kM, {0.02, 4000.0, 250.0}, 87.945855170634502) {}

 protected:
  static constexpr int kM = 16;
  static constexpr std::array<double, kM> kY = {34780, 28610, 23650, 19630, 16370, 13720,
                                                11540, 9744,  8261,  7030,  6005,  5147,
                                                4427,  3820,  3307,  2872};

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) r[i - 1] = x[0] * std::exp(x[1] / (45 + 5 * i + x[2])) - kY[i - 1];
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double q = 45 + 5 * i + x[2];
      const double e = std::exp(x[1] / q);
      j(i - 1, 0) = e;
      j(i - 1, 1) = x[0] * e / q;
      j(i - 1, 2) = -x[0] * e * x[1] / (q * q);
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // r = x1 exp(s), s = x2 / q, q = t + x3:
    //   s_2 = 1/q, s_3 = -x2/q^2, s_22 = 0, s_23 = -1/q^2, s_33 = 2 x2/q^3.
    for (int i = 1; i <= kM; ++i) {
      const double q = 45 + 5 * i + x[2];
      const double e = w[i - 1] * std::exp(x[1] / q);
      const double s2 = 1 / q, s3 = -x[1] / (q * q);
      add_symmetric(h, 0, 1, e * s2);
      add_symmetric(h, 0, 2, e * s3);
      h(1, 1) += x[0] * e * s2 * s2;
      add_symmetric(h, 1, 2, x[0] * e * (s2 * s3 - 1 / (q * q)));
      h(2, 2) += x[0] * e * (s3 * s3 + 2 * x[1] / (q * q * q));
    }
  }
};

// (11) Gulf research and development, n = 3, m = 99 (the paper allows
// n <= m <= 100).
//   r_i = exp(-|y_i - x2|^x3 / x1) - t_i,
//   t_i = i / 100,  y_i = 25 + (-50 ln t_i)^(2/3).
//   x0 = (5, 2.5, 0.15); f* = 0 at (50, 25, 1.5).
class Gulf final : public FixedLeastSquares {
 public:
  Gulf() : FixedLeastSquares("gulf", kM, {5.0, 2.5, 0.15}, 0.0) {
    for (int i = 1; i <= kM; ++i) y_[i - 1] = 25 + std::pow(-50 * std::log(i / 100.0), 2.0 / 3.0);
  }

 protected:
  static constexpr int kM = 99;

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i)
      r[i - 1] = std::exp(-std::pow(std::abs(y_[i - 1] - x[1]), x[2]) / x[0]) - i / 100.0;
  }

  // The pieces of r_i = exp(-u) - t_i, u = p / x1, p = a^x3, a = |y_i - x2|.
  struct Terms {
    double e;          // exp(-u)
    double u1, u2, u3; // du/dx_k
    double u11, u12, u13, u22, u23, u33;
  };
  Terms terms(ConstVectorRef<double> x, int i) const {
    const double d = y_[i - 1] - x[1];
    const double a = std::abs(d), sign = d < 0 ? -1.0 : 1.0;
    const double la = std::log(a);
    const double p = std::pow(a, x[2]);
    const double pa = std::pow(a, x[2] - 1);  // a^(x3-1)
    // Derivatives of p in x2 (da/dx2 = -sign) and x3.
    const double p2 = -sign * x[2] * pa;
    const double p3 = p * la;
    const double p22 = x[2] * (x[2] - 1) * std::pow(a, x[2] - 2);
    const double p23 = -sign * pa * (1 + x[2] * la);
    const double p33 = p * la * la;
    const double x1 = x[0];
    Terms t;
    t.e = std::exp(-p / x1);
    t.u1 = -p / (x1 * x1);
    t.u2 = p2 / x1;
    t.u3 = p3 / x1;
    t.u11 = 2 * p / (x1 * x1 * x1);
    t.u12 = -p2 / (x1 * x1);
    t.u13 = -p3 / (x1 * x1);
    t.u22 = p22 / x1;
    t.u23 = p23 / x1;
    t.u33 = p33 / x1;
    return t;
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    // dr/dx_k = -e u_k.
    for (int i = 1; i <= kM; ++i) {
      const Terms t = terms(x, i);
      j(i - 1, 0) = -t.e * t.u1;
      j(i - 1, 1) = -t.e * t.u2;
      j(i - 1, 2) = -t.e * t.u3;
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // d2r/dx_j dx_k = e (u_j u_k - u_jk).
    for (int i = 1; i <= kM; ++i) {
      const Terms t = terms(x, i);
      const double c = w[i - 1] * t.e;
      h(0, 0) += c * (t.u1 * t.u1 - t.u11);
      h(1, 1) += c * (t.u2 * t.u2 - t.u22);
      h(2, 2) += c * (t.u3 * t.u3 - t.u33);
      add_symmetric(h, 0, 1, c * (t.u1 * t.u2 - t.u12));
      add_symmetric(h, 0, 2, c * (t.u1 * t.u3 - t.u13));
      add_symmetric(h, 1, 2, c * (t.u2 * t.u3 - t.u23));
    }
  }

 private:
  std::array<double, kM> y_{};
};

// (12) Box three-dimensional, n = 3, m = 10 (the paper allows m >= n).
//   r_i = exp(-t_i x1) - exp(-t_i x2) - x3 (exp(-t_i) - exp(-10 t_i)),  t_i = 0.1 i.
//   x0 = (0, 10, 20); f* = 0 at (1, 10, 1), (10, 1, -1) and wherever
//   x1 = x2 and x3 = 0.
class Box3d final : public FixedLeastSquares {
 public:
  Box3d() : FixedLeastSquares("box_3d", kM, {0.0, 10.0, 20.0}, 0.0) {}

 protected:
  static constexpr int kM = 10;

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 0.1 * i;
      r[i - 1] = std::exp(-t * x[0]) - std::exp(-t * x[1]) - x[2] * (std::exp(-t) - std::exp(-10 * t));
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 0.1 * i;
      j(i - 1, 0) = -t * std::exp(-t * x[0]);
      j(i - 1, 1) = t * std::exp(-t * x[1]);
      j(i - 1, 2) = -(std::exp(-t) - std::exp(-10 * t));
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 0.1 * i;
      h(0, 0) += w[i - 1] * t * t * std::exp(-t * x[0]);
      h(1, 1) -= w[i - 1] * t * t * std::exp(-t * x[1]);
    }
  }
};

// (13) Powell singular, n = 4, m = 4.
//   r1 = x1 + 10 x2,  r2 = 5^(1/2) (x3 - x4),
//   r3 = (x2 - 2 x3)^2,  r4 = 10^(1/2) (x1 - x4)^2.
//   x0 = (3, -1, 0, 1); f* = 0 at the origin.
class PowellSingular final : public FixedLeastSquares {
 public:
  PowellSingular() : FixedLeastSquares("powell_singular", 4, {3.0, -1.0, 0.0, 1.0}, 0.0) {}

 protected:
  static inline const double kSqrt5 = std::sqrt(5.0);
  static inline const double kSqrt10 = std::sqrt(10.0);

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    const double a = x[1] - 2 * x[2], b = x[0] - x[3];
    r[0] = x[0] + 10 * x[1];
    r[1] = kSqrt5 * (x[2] - x[3]);
    r[2] = a * a;
    r[3] = kSqrt10 * b * b;
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    const double a = x[1] - 2 * x[2], b = x[0] - x[3];
    j << 1, 10, 0, 0,
         0, 0, kSqrt5, -kSqrt5,
         0, 2 * a, -4 * a, 0,
         2 * kSqrt10 * b, 0, 0, -2 * kSqrt10 * b;
  }
  void add_residual_hessians(ConstVectorRef<double>, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // Hess r3 = 2 c c^T with c = (0, 1, -2, 0); Hess r4 = 2 sqrt(10) e e^T with e = (1, 0, 0, -1).
    h(1, 1) += 2 * w[2];
    h(2, 2) += 8 * w[2];
    add_symmetric(h, 1, 2, -4 * w[2]);
    const double c = 2 * kSqrt10 * w[3];
    h(0, 0) += c;
    h(3, 3) += c;
    add_symmetric(h, 0, 3, -c);
  }
};

// (14) Wood, n = 4, m = 6.
//   r1 = 10 (x2 - x1^2),  r2 = 1 - x1,  r3 = 90^(1/2) (x4 - x3^2),  r4 = 1 - x3,
//   r5 = 10^(1/2) (x2 + x4 - 2),  r6 = 10^(-1/2) (x2 - x4).
//   x0 = (-3, -1, -3, -1); f* = 0 at (1, 1, 1, 1).
class Wood final : public FixedLeastSquares {
 public:
  Wood() : FixedLeastSquares("wood", 6, {-3.0, -1.0, -3.0, -1.0}, 0.0) {}

 protected:
  static inline const double kSqrt90 = std::sqrt(90.0);
  static inline const double kSqrt10 = std::sqrt(10.0);

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r[0] = 10 * (x[1] - x[0] * x[0]);
    r[1] = 1 - x[0];
    r[2] = kSqrt90 * (x[3] - x[2] * x[2]);
    r[3] = 1 - x[2];
    r[4] = kSqrt10 * (x[1] + x[3] - 2);
    r[5] = (x[1] - x[3]) / kSqrt10;
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    j << -20 * x[0], 10, 0, 0,
         -1, 0, 0, 0,
         0, 0, -2 * kSqrt90 * x[2], kSqrt90,
         0, 0, -1, 0,
         0, kSqrt10, 0, kSqrt10,
         0, 1 / kSqrt10, 0, -1 / kSqrt10;
  }
  void add_residual_hessians(ConstVectorRef<double>, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    h(0, 0) += -20 * w[0];
    h(2, 2) += -2 * kSqrt90 * w[2];
  }
};

// (15) Kowalik and Osborne, n = 4, m = 11.
//   r_i = y_i - x1 (u_i^2 + u_i x2) / (u_i^2 + u_i x3 + x4).
//   x0 = (0.25, 0.39, 0.415, 0.39); f* = 3.07505e-4, and
//   f = 1.02734e-3 at (+inf, -14.07..., -inf, -inf).
class KowalikOsborne final : public FixedLeastSquares {
 public:
  KowalikOsborne() : FixedLeastSquares("kowalik_osborne", kM, {0.25, 0.39, 0.415, 0.39}, 3.0750560384923696e-4) {}

 protected:
  static constexpr int kM = 11;
  static constexpr std::array<double, kM> kY = {0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627,
                                                0.0456, 0.0342, 0.0323, 0.0235, 0.0246};
  static constexpr std::array<double, kM> kU = {4,     2,     1,      0.5,    0.25,  0.167,
                                                0.125, 0.1,   0.0833, 0.0714, 0.0625};

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 0; i < kM; ++i) {
      const double u = kU[i];
      r[i] = kY[i] - x[0] * (u * u + u * x[1]) / (u * u + u * x[2] + x[3]);
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    // r = y - x1 N / D, N = u^2 + u x2, D = u^2 + u x3 + x4.
    for (int i = 0; i < kM; ++i) {
      const double u = kU[i];
      const double num = u * u + u * x[1], den = u * u + u * x[2] + x[3];
      j(i, 0) = -num / den;
      j(i, 1) = -x[0] * u / den;
      j(i, 2) = x[0] * num * u / (den * den);
      j(i, 3) = x[0] * num / (den * den);
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    for (int i = 0; i < kM; ++i) {
      const double u = kU[i];
      const double num = u * u + u * x[1], den = u * u + u * x[2] + x[3];
      const double d2 = den * den, d3 = d2 * den;
      const double c = w[i];
      add_symmetric(h, 0, 1, -c * u / den);
      add_symmetric(h, 0, 2, c * num * u / d2);
      add_symmetric(h, 0, 3, c * num / d2);
      add_symmetric(h, 1, 2, c * x[0] * u * u / d2);
      add_symmetric(h, 1, 3, c * x[0] * u / d2);
      h(2, 2) += -2 * c * x[0] * num * u * u / d3;
      add_symmetric(h, 2, 3, -2 * c * x[0] * num * u / d3);
      h(3, 3) += -2 * c * x[0] * num / d3;
    }
  }
};

// (16) Brown and Dennis, n = 4, m = 20 (the paper allows m >= n).
//   r_i = (x1 + t_i x2 - exp(t_i))^2 + (x3 + x4 sin(t_i) - cos(t_i))^2,  t_i = i / 5.
//   x0 = (25, 5, -5, -1); f* = 85822.2 for m = 20.
class BrownDennis final : public FixedLeastSquares {
 public:
  BrownDennis() : FixedLeastSquares("brown_dennis", kM, {25.0, 5.0, -5.0, -1.0}, 85822.201626356255) {}

 protected:
  static constexpr int kM = 20;

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = i / 5.0;
      const double a = x[0] + t * x[1] - std::exp(t);
      const double b = x[2] + x[3] * std::sin(t) - std::cos(t);
      r[i - 1] = a * a + b * b;
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = i / 5.0, s = std::sin(t);
      const double a = x[0] + t * x[1] - std::exp(t);
      const double b = x[2] + x[3] * s - std::cos(t);
      j.row(i - 1) << 2 * a, 2 * a * t, 2 * b, 2 * b * s;
    }
  }
  void add_residual_hessians(ConstVectorRef<double>, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // Hess r_i = 2 (1, t)(1, t)^T on (x1, x2) and 2 (1, sin t)(1, sin t)^T on (x3, x4).
    for (int i = 1; i <= kM; ++i) {
      const double t = i / 5.0, s = std::sin(t);
      const double c = 2 * w[i - 1];
      h(0, 0) += c;
      add_symmetric(h, 0, 1, c * t);
      h(1, 1) += c * t * t;
      h(2, 2) += c;
      add_symmetric(h, 2, 3, c * s);
      h(3, 3) += c * s * s;
    }
  }
};

// (17) Osborne 1, n = 5, m = 33.
//   r_i = y_i - (x1 + x2 exp(-t_i x4) + x3 exp(-t_i x5)),  t_i = 10 (i - 1).
//   x0 = (0.5, 1.5, -1, 0.01, 0.02); f* = 5.46489e-5.
class Osborne1 final : public FixedLeastSquares {
 public:
  Osborne1() : FixedLeastSquares("osborne1", kM, {0.5, 1.5, -1.0, 0.01, 0.02}, 5.464894697482368e-5) {}

 protected:
  static constexpr int kM = 33;
  static constexpr std::array<double, kM> kY = {
      0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751,
      0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490,
      0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406};

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 10.0 * (i - 1);
      r[i - 1] = kY[i - 1] - (x[0] + x[1] * std::exp(-t * x[3]) + x[2] * std::exp(-t * x[4]));
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 10.0 * (i - 1);
      const double e4 = std::exp(-t * x[3]), e5 = std::exp(-t * x[4]);
      j.row(i - 1) << -1, -e4, -e5, x[1] * t * e4, x[2] * t * e5;
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 10.0 * (i - 1);
      const double e4 = w[i - 1] * std::exp(-t * x[3]), e5 = w[i - 1] * std::exp(-t * x[4]);
      add_symmetric(h, 1, 3, t * e4);
      h(3, 3) -= x[1] * t * t * e4;
      add_symmetric(h, 2, 4, t * e5);
      h(4, 4) -= x[2] * t * t * e5;
    }
  }
};

// (18) Biggs EXP6, n = 6, m = 13 (the paper allows m >= n).
//   r_i = x3 exp(-t_i x1) - x4 exp(-t_i x2) + x6 exp(-t_i x5) - y_i,
//   t_i = 0.1 i,  y_i = exp(-t_i) - 5 exp(-10 t_i) + 3 exp(-4 t_i).
//   x0 = (1, 2, 1, 1, 1, 1); f* = 0 at (1, 10, 1, 5, 4, 3), and a local
//   minimum f = 5.65565e-3 for m = 13.
class BiggsExp6 final : public FixedLeastSquares {
 public:
  BiggsExp6() : FixedLeastSquares("biggs_exp6", kM, {1.0, 2.0, 1.0, 1.0, 1.0, 1.0}, 0.0) {}

 protected:
  static constexpr int kM = 13;

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 0.1 * i;
      const double y = std::exp(-t) - 5 * std::exp(-10 * t) + 3 * std::exp(-4 * t);
      r[i - 1] = x[2] * std::exp(-t * x[0]) - x[3] * std::exp(-t * x[1]) + x[5] * std::exp(-t * x[4]) - y;
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 0.1 * i;
      const double e1 = std::exp(-t * x[0]), e2 = std::exp(-t * x[1]), e5 = std::exp(-t * x[4]);
      j.row(i - 1) << -t * x[2] * e1, t * x[3] * e2, e1, -e2, -t * x[5] * e5, e5;
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = 0.1 * i;
      const double e1 = w[i - 1] * std::exp(-t * x[0]);
      const double e2 = w[i - 1] * std::exp(-t * x[1]);
      const double e5 = w[i - 1] * std::exp(-t * x[4]);
      h(0, 0) += t * t * x[2] * e1;
      add_symmetric(h, 0, 2, -t * e1);
      h(1, 1) -= t * t * x[3] * e2;
      add_symmetric(h, 1, 3, t * e2);
      h(4, 4) += t * t * x[5] * e5;
      add_symmetric(h, 4, 5, -t * e5);
    }
  }
};

// (19) Osborne 2, n = 11, m = 65.
//   r_i = y_i - (x1 exp(-t_i x5) + x2 exp(-(t_i - x9)^2 x6)
//                + x3 exp(-(t_i - x10)^2 x7) + x4 exp(-(t_i - x11)^2 x8)),
//   t_i = (i - 1) / 10.
//   x0 = (1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5); f* = 4.01377e-2.
class Osborne2 final : public FixedLeastSquares {
 public:
  Osborne2()
      : FixedLeastSquares("osborne2", kM, {1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5},
                          4.0137736293547714e-2) {}

 protected:
  static constexpr int kM = 65;
  static constexpr std::array<double, kM> kY = {
      1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
      0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
      0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
      0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
      0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054};

  // The model is x[0] exp(-t x[4]) plus three bumps b_k = x[k] exp(-(t - x[k+7])^2 x[k+4]),
  // k = 1, 2, 3 (0-based: amplitude x[k], width x[k+4], centre x[k+7]).
  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 1; i <= kM; ++i) {
      const double t = (i - 1) / 10.0;
      double model = x[0] * std::exp(-t * x[4]);
      for (int k = 1; k <= 3; ++k) {
        const double d = t - x[k + 7];
        model += x[k] * std::exp(-d * d * x[k + 4]);
      }
      r[i - 1] = kY[i - 1] - model;
    }
  }
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> j) const override {
    j.setZero();
    for (int i = 1; i <= kM; ++i) {
      const double t = (i - 1) / 10.0;
      const double e0 = std::exp(-t * x[4]);
      j(i - 1, 0) = -e0;
      j(i - 1, 4) = t * x[0] * e0;
      for (int k = 1; k <= 3; ++k) {
        // b = x_k exp(s), s = -d^2 a, d = t - c: s_a = -d^2, s_c = 2 d a.
        const double d = t - x[k + 7], a = x[k + 4];
        const double e = std::exp(-d * d * a);
        j(i - 1, k) = -e;
        j(i - 1, k + 4) = x[k] * e * d * d;
        j(i - 1, k + 7) = -x[k] * e * 2 * d * a;
      }
    }
  }
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    // Hess r = -Hess model. For a bump, with s_aa = 0, s_ac = 2 d, s_cc = -2 a:
    //   b_{x_k a} = e s_a, b_{x_k c} = e s_c,
    //   b_aa = x_k e s_a^2, b_ac = x_k e (s_a s_c + 2 d), b_cc = x_k e (s_c^2 - 2 a).
    for (int i = 1; i <= kM; ++i) {
      const double t = (i - 1) / 10.0;
      const double c0 = -w[i - 1];
      const double e0 = std::exp(-t * x[4]);
      add_symmetric(h, 0, 4, c0 * -t * e0);
      h(4, 4) += c0 * t * t * x[0] * e0;
      for (int k = 1; k <= 3; ++k) {
        const double d = t - x[k + 7], a = x[k + 4];
        const double e = c0 * std::exp(-d * d * a);
        const double sa = -d * d, sc = 2 * d * a;
        const Index ia = k + 4, ic = k + 7;
        add_symmetric(h, k, ia, e * sa);
        add_symmetric(h, k, ic, e * sc);
        h(ia, ia) += x[k] * e * sa * sa;
        add_symmetric(h, ia, ic, x[k] * e * (sa * sc + 2 * d));
        h(ic, ic) += x[k] * e * (sc * sc - 2 * a);
      }
    }
  }
};

// Builds P and checks that n is its one accepted dimension.
template <class P>
std::unique_ptr<Problem> make_fixed(Index n) {
  auto problem = std::make_unique<P>();
  if (n != problem->dimension())
    throw invalid_argument(fmt::format("problem '{}' has fixed dimension {}; got n = {}",
                                       problem->name(), problem->dimension(), n));
  return problem;
}

}  // namespace

std::unique_ptr<Problem> make_rosenbrock(Index n) { return make_fixed<Rosenbrock>(n); }
std::unique_ptr<Problem> make_freudenstein_roth(Index n) { return make_fixed<FreudensteinRoth>(n); }
std::unique_ptr<Problem> make_powell_badly_scaled(Index n) { return make_fixed<PowellBadlyScaled>(n); }
std::unique_ptr<Problem> make_brown_badly_scaled(Index n) { return make_fixed<BrownBadlyScaled>(n); }
std::unique_ptr<Problem> make_beale(Index n) { return make_fixed<Beale>(n); }
std::unique_ptr<Problem> make_jennrich_sampson(Index n) { return make_fixed<JennrichSampson>(n); }
std::unique_ptr<Problem> make_helical_valley(Index n) { return make_fixed<HelicalValley>(n); }
std::unique_ptr<Problem> make_bard(Index n) { return make_fixed<Bard>(n); }
std::unique_ptr<Problem> make_gaussian(Index n) { return make_fixed<Gaussian>(n); }
std::unique_ptr<Problem> make_meyer(Index n) { return make_fixed<Meyer>(n); }
std::unique_ptr<Problem> make_gulf(Index n) { return make_fixed<Gulf>(n); }
std::unique_ptr<Problem> make_box_3d(Index n) { return make_fixed<Box3d>(n); }
std::unique_ptr<Problem> make_powell_singular(Index n) { return make_fixed<PowellSingular>(n); }
std::unique_ptr<Problem> make_wood(Index n) { return make_fixed<Wood>(n); }
std::unique_ptr<Problem> make_kowalik_osborne(Index n) { return make_fixed<KowalikOsborne>(n); }
std::unique_ptr<Problem> make_brown_dennis(Index n) { return make_fixed<BrownDennis>(n); }
std::unique_ptr<Problem> make_osborne1(Index n) { return make_fixed<Osborne1>(n); }
std::unique_ptr<Problem> make_biggs_exp6(Index n) { return make_fixed<BiggsExp6>(n); }
std::unique_ptr<Problem> make_osborne2(Index n) { return make_fixed<Osborne2>(n); }

}  // namespace descent::problems::detail
