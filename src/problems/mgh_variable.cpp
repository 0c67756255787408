// Problems (20)-(35) of Moré, Garbow, Hillstrom, "Testing unconstrained
// optimization software", ACM TOMS 7(1), 1981: the variably dimensioned set.
//
// Each is f(x) = sum_{i=1..m} r_i(x)^2. Watson and Chebyquad are small and
// dense and use LeastSquaresProblem. The rest implement Problem directly, so
// that they scale to n = 10^6: value and gradient in a few O(n) passes with no
// allocation per call (scratch vectors are members, sized once), an O(n)
// Hessian-vector product, and a dense Hessian for n <= kMaxDenseDimension.
//
// Glossary: n variables, m residuals, r_i the residuals, J = dr/dx (m x n),
// f = |r|^2, g = 2 J^T r, H = 2 (J^T J + sum_i r_i Hess r_i). Formulas are
// written 1-based as in the paper; code is 0-based.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

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

// The plumbing shared by the problems implemented directly on Problem: every
// one of them offers an O(n) Hessian-vector product at any n.
class SizedProblem : public Problem {
 public:
  SizedProblem(std::string_view name, Index n) : name_(name), n_(n) {}
  std::string_view name() const override { return name_; }
  Index dimension() const override { return n_; }
  bool has_hessian_vector() const override { return true; }

 protected:
  std::string_view name_;  // a string literal
  Index n_;
};

// h(k, l) += w * row_k * row_l over the nonzeros of one sparse Jacobian row
// (indices idx, values val): the J^T J part of a banded Hessian in O(nnz^2).
void add_row_outer(MatrixRef<double> h, const Index* idx, const double* val, int count, double w) {
  for (int a = 0; a < count; ++a)
    for (int b = 0; b < count; ++b) h(idx[a], idx[b]) += w * val[a] * val[b];
}

// ---------------------------------------------------------------------------
// (20) Watson, 2 <= n <= 31, m = 31:
//   r_i = sum_{j=2..n} (j-1) x_j t_i^(j-2) - (sum_{j=1..n} x_j t_i^(j-1))^2 - 1,
//         t_i = i/29, 1 <= i <= 29,
//   r_30 = x_1,  r_31 = x_2 - x_1^2 - 1.
// x0 = 0 (f = 30). f* = 2.28767e-3 (n = 6), 1.39976e-6 (n = 9),
// 4.72238e-10 (n = 12).
class Watson final : public LeastSquaresProblem {
 public:
  explicit Watson(Index n) : n_(n) {}
  std::string_view name() const override { return "watson"; }
  Index dimension() const override { return n_; }
  Vector<double> start() const override { return Vector<double>::Zero(n_); }
  std::optional<double> known_minimum() const override {
    if (n_ == 6) return 2.2876700535523547e-3;
    if (n_ == 9) return 1.3997601380909753e-6;
    if (n_ == 12) return 4.7223811007375708e-10;
    return std::nullopt;
  }

 protected:
  Index num_residuals() const override { return 31; }

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    for (int i = 0; i < 29; ++i) {
      const double t = (i + 1) / 29.0;
      double linear = 0, sigma = 0, power = 1;  // power = t^j
      for (Index j = 0; j < n_; ++j) {
        if (j + 1 < n_) linear += double(j + 1) * x[j + 1] * power;
        sigma += x[j] * power;
        power *= t;
      }
      r[i] = linear - sigma * sigma - 1;
    }
    r[29] = x[0];
    r[30] = x[1] - x[0] * x[0] - 1;
  }

  void jacobian(ConstVectorRef<double> x, MatrixRef<double> jac) const override {
    jac.setZero();
    for (int i = 0; i < 29; ++i) {
      const double t = (i + 1) / 29.0;
      const double sigma = sum_powers(x, t);
      double power = 1;  // t^j
      double below = 0;  // t^(j-1)
      for (Index j = 0; j < n_; ++j) {
        jac(i, j) = double(j) * below - 2 * sigma * power;
        below = power;
        power *= t;
      }
    }
    jac(29, 0) = 1;
    jac(30, 0) = -2 * x[0];
    jac(30, 1) = 1;
  }

  // Hess r_i = -2 p p^T with p_j = t_i^(j-1); Hess r_31 = -2 e_1 e_1^T.
  void add_residual_hessians(ConstVectorRef<double>, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    Vector<double> p(n_);
    for (int i = 0; i < 29; ++i) {
      const double t = (i + 1) / 29.0;
      double power = 1;
      for (Index j = 0; j < n_; ++j, power *= t) p[j] = power;
      h.noalias() -= 2 * w[i] * p * p.transpose();
    }
    h(0, 0) -= 2 * w[30];
  }

 private:
  double sum_powers(ConstVectorRef<double> x, double t) const {
    double sigma = 0, power = 1;
    for (Index j = 0; j < n_; ++j, power *= t) sigma += x[j] * power;
    return sigma;
  }
  Index n_;
};

// ---------------------------------------------------------------------------
// (21) Extended Rosenbrock, n even, m = n:
//   r_{2i-1} = 10 (x_{2i} - x_{2i-1}^2),  r_{2i} = 1 - x_{2i-1},
//   f = sum_{i=1..n/2} 100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2.
// x0 = (-1.2, 1, -1.2, 1, ...) (f = 12.1 n); f* = 0 at (1, ..., 1).
class ExtendedRosenbrock final : public SizedProblem {
 public:
  explicit ExtendedRosenbrock(Index n) : SizedProblem("extended_rosenbrock", n) {}

  Vector<double> start() const override {
    Vector<double> x0(n_);
    for (Index i = 0; i < n_; i += 2) {
      x0[i] = -1.2;
      x0[i + 1] = 1.0;
    }
    return x0;
  }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    return evaluate<true>(x.data(), g.data());
  }
  double value(ConstVectorRef<double> x) const override {
    return evaluate<false>(x.data(), nullptr);
  }

  // Per pair (a, b) = (x_{2i-1}, x_{2i}):
  //   H = [1200 a^2 - 400 b + 2, -400 a; -400 a, 200].
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    h.setZero();
    for (Index i = 0; i < n_; i += 2) {
      const double a = x[i], b = x[i + 1];
      h(i, i) = 1200 * a * a - 400 * b + 2;
      h(i, i + 1) = h(i + 1, i) = -400 * a;
      h(i + 1, i + 1) = 200;
    }
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    for (Index i = 0; i < n_; i += 2) {
      const double a = x[i], b = x[i + 1];
      out[i] = (1200 * a * a - 400 * b + 2) * v[i] - 400 * a * v[i + 1];
      out[i + 1] = -400 * a * v[i] + 200 * v[i + 1];
    }
  }

 private:
  // One pass over the pairs. Two partial sums let the compiler interleave
  // independent additions; the order of summation is fixed, so results are
  // reproducible.
  template <bool kGradient>
  double evaluate(const double* x, double* g) const {
    double f0 = 0, f1 = 0;
    Index i = 0;
    for (; i + 4 <= n_; i += 4) {
      const double a0 = x[i], b0 = x[i + 1], a1 = x[i + 2], b1 = x[i + 3];
      const double t0 = b0 - a0 * a0, s0 = 1 - a0;
      const double t1 = b1 - a1 * a1, s1 = 1 - a1;
      f0 += 100 * t0 * t0 + s0 * s0;
      f1 += 100 * t1 * t1 + s1 * s1;
      if constexpr (kGradient) {
        g[i] = -400 * a0 * t0 - 2 * s0;
        g[i + 1] = 200 * t0;
        g[i + 2] = -400 * a1 * t1 - 2 * s1;
        g[i + 3] = 200 * t1;
      }
    }
    for (; i < n_; i += 2) {
      const double a = x[i], b = x[i + 1];
      const double t = b - a * a, s = 1 - a;
      f0 += 100 * t * t + s * s;
      if constexpr (kGradient) {
        g[i] = -400 * a * t - 2 * s;
        g[i + 1] = 200 * t;
      }
    }
    return f0 + f1;
  }
};

// ---------------------------------------------------------------------------
// (22) Extended Powell singular, n a multiple of 4, m = n:
//   r_{4i-3} = x_{4i-3} + 10 x_{4i-2},
//   r_{4i-2} = 5^(1/2) (x_{4i-1} - x_{4i}),
//   r_{4i-1} = (x_{4i-2} - 2 x_{4i-1})^2,
//   r_{4i}   = 10^(1/2) (x_{4i-3} - x_{4i})^2.
// x0 = (3, -1, 0, 1, ...) (f = 215 n/4); f* = 0 at the origin.
class ExtendedPowell final : public SizedProblem {
 public:
  explicit ExtendedPowell(Index n) : SizedProblem("extended_powell", n) {}

  Vector<double> start() const override {
    Vector<double> x0(n_);
    for (Index i = 0; i < n_; i += 4) {
      x0[i] = 3;
      x0[i + 1] = -1;
      x0[i + 2] = 0;
      x0[i + 3] = 1;
    }
    return x0;
  }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    return evaluate<true>(x.data(), g.data());
  }
  double value(ConstVectorRef<double> x) const override {
    return evaluate<false>(x.data(), nullptr);
  }

  // Per block (a, b, c, d), p = b - 2c, q = a - d:
  //   (a + 10b)^2 -> 2 [1 10]^T [1 10] on (a, b),
  //   5 (c - d)^2 -> 10 [1 -1]^T [1 -1] on (c, d),
  //   p^4         -> 12 p^2 [1 -2]^T [1 -2] on (b, c),
  //   10 q^4      -> 120 q^2 [1 -1]^T [1 -1] on (a, d).
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    h.setZero();
    for (Index i = 0; i < n_; i += 4) {
      const Index a = i, b = i + 1, c = i + 2, d = i + 3;
      const double p = x[b] - 2 * x[c], q = x[a] - x[d];
      const double p2 = 12 * p * p, q2 = 120 * q * q;
      h(a, a) = 2 + q2;
      h(a, b) = h(b, a) = 20;
      h(a, d) = h(d, a) = -q2;
      h(b, b) = 200 + p2;
      h(b, c) = h(c, b) = -2 * p2;
      h(c, c) = 10 + 4 * p2;
      h(c, d) = h(d, c) = -10;
      h(d, d) = 10 + q2;
    }
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    for (Index i = 0; i < n_; i += 4) {
      const double p = x[i + 1] - 2 * x[i + 2], q = x[i] - x[i + 3];
      const double p2 = 12 * p * p, q2 = 120 * q * q;
      const double va = v[i], vb = v[i + 1], vc = v[i + 2], vd = v[i + 3];
      out[i] = (2 + q2) * va + 20 * vb - q2 * vd;
      out[i + 1] = 20 * va + (200 + p2) * vb - 2 * p2 * vc;
      out[i + 2] = -2 * p2 * vb + (10 + 4 * p2) * vc - 10 * vd;
      out[i + 3] = -q2 * va - 10 * vc + (10 + q2) * vd;
    }
  }

 private:
  template <bool kGradient>
  double evaluate(const double* x, double* g) const {
    double f = 0;
    for (Index i = 0; i < n_; i += 4) {
      const double a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
      const double r1 = a + 10 * b, cd = c - d, p = b - 2 * c, q = a - d;
      const double p2 = p * p, q2 = q * q;
      f += r1 * r1 + 5 * cd * cd + p2 * p2 + 10 * q2 * q2;
      if constexpr (kGradient) {
        g[i] = 2 * r1 + 40 * q2 * q;
        g[i + 1] = 20 * r1 + 4 * p2 * p;
        g[i + 2] = 10 * cd - 8 * p2 * p;
        g[i + 3] = -10 * cd - 40 * q2 * q;
      }
    }
    return f;
  }
};

// ---------------------------------------------------------------------------
// (23) Penalty I, m = n + 1, a = 1e-5:
//   r_i = a^(1/2) (x_i - 1), 1 <= i <= n,   r_{n+1} = (sum_j x_j^2) - 1/4,
//   f = a sum_i (x_i - 1)^2 + (S - 1/4)^2,  S = sum_j x_j^2,
//   g = 2a (x - 1) + 4 (S - 1/4) x,  H = (2a + 4 (S - 1/4)) I + 8 x x^T.
// x0 = (1, 2, ..., n). f* = 2.24997e-5 (n = 4), 7.08765e-5 (n = 10).
class Penalty1 final : public SizedProblem {
 public:
  explicit Penalty1(Index n) : SizedProblem("penalty1", n) {}

  Vector<double> start() const override { return Vector<double>::LinSpaced(n_, 1.0, double(n_)); }
  std::optional<double> known_minimum() const override {
    if (n_ == 4) return 2.2499775008999369e-5;
    if (n_ == 10) return 7.0876514670903677e-5;
    return std::nullopt;
  }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    double s = 0, d = 0;
    sums(x, s, d);
    const double c = 4 * (s - 0.25);
    for (Index i = 0; i < n_; ++i) g[i] = 2 * kA * (x[i] - 1) + c * x[i];
    return kA * d + (s - 0.25) * (s - 0.25);
  }
  double value(ConstVectorRef<double> x) const override {
    double s = 0, d = 0;
    sums(x, s, d);
    return kA * d + (s - 0.25) * (s - 0.25);
  }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    const double s = x.squaredNorm();
    h.noalias() = 8 * x * x.transpose();
    h.diagonal().array() += 2 * kA + 4 * (s - 0.25);
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    double s = 0, xv = 0;
    for (Index i = 0; i < n_; ++i) {
      s += x[i] * x[i];
      xv += x[i] * v[i];
    }
    const double diag = 2 * kA + 4 * (s - 0.25);
    for (Index i = 0; i < n_; ++i) out[i] = diag * v[i] + 8 * xv * x[i];
  }

 private:
  static constexpr double kA = 1e-5;
  // s = sum x_i^2, d = sum (x_i - 1)^2.
  void sums(ConstVectorRef<double> x, double& s, double& d) const {
    for (Index i = 0; i < n_; ++i) {
      s += x[i] * x[i];
      d += (x[i] - 1) * (x[i] - 1);
    }
  }
};

// ---------------------------------------------------------------------------
// (24) Penalty II, m = 2n, a = 1e-5, y_i = exp(i/10) + exp((i-1)/10):
//   r_1 = x_1 - 0.2,
//   r_i = a^(1/2) (exp(x_i/10) + exp(x_{i-1}/10) - y_i),   2 <= i <= n,
//   r_i = a^(1/2) (exp(x_{i-n+1}/10) - exp(-1/10)),          n < i < 2n,
//   r_2n = (sum_{j=1..n} (n-j+1) x_j^2) - 1.
// x0 = (1/2, ..., 1/2). f* = 9.37629e-6 (n = 4), 2.93660e-4 (n = 10).
// Accepts n <= kMaxN: beyond, y_i ~ exp(n/10) makes f overflow a double.
class Penalty2 final : public SizedProblem {
 public:
  static constexpr Index kMaxN = 3000;

  explicit Penalty2(Index n) : SizedProblem("penalty2", n), y_(n), exp_(n), d_(n) {
    for (Index i = 0; i < n; ++i) y_[i] = std::exp((i + 1) / 10.0) + std::exp(i / 10.0);
  }

  Vector<double> start() const override { return Vector<double>::Constant(n_, 0.5); }
  std::optional<double> known_minimum() const override {
    if (n_ == 4) return 9.3762930073554388e-6;
    if (n_ == 10) return 2.9366053745674589e-4;
    return std::nullopt;
  }

  // With E_j = exp(x_j/10), d_j = E_j + E_{j-1} - y_j, e_j = E_j - exp(-1/10)
  // (2 <= j <= n), w_j = n - j + 1, T = sum w_j x_j^2:
  //   g_j = 2 (x_1 - 0.2) [j = 1] + (a/5) E_j (d_j + d_{j+1} + e_j)
  //         + 4 (T - 1) w_j x_j,
  // terms out of range omitted.
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double f = evaluate(x);
    const double c = 4 * (t_ - 1);
    for (Index j = 0; j < n_; ++j) {
      double sum = 0;
      if (j >= 1) sum += d_[j] + exp_[j] - kExpMinusTenth;
      if (j + 1 < n_) sum += d_[j + 1];
      g[j] = kA / 5 * exp_[j] * sum + c * double(n_ - j) * x[j];
    }
    g[0] += 2 * (x[0] - 0.2);
    return f;
  }
  double value(ConstVectorRef<double> x) const override { return evaluate(x); }

  // H = 2 e_1 e_1^T + 2a sum_i (grad d_i grad d_i^T + d_i Hess d_i) (same for
  // e_j) + 8 (w x)(w x)^T + 4 (T - 1) diag(w), with dE_j/dx_j = E_j/10 and
  // d2E_j/dx_j^2 = E_j/100: tridiagonal plus rank one.
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    evaluate(x);
    Vector<double> wx(n_);
    for (Index j = 0; j < n_; ++j) wx[j] = double(n_ - j) * x[j];
    h.noalias() = 8 * wx * wx.transpose();
    for (Index j = 0; j < n_; ++j) {
      h(j, j) += tridiagonal_diag(j) + 4 * (t_ - 1) * double(n_ - j);
      if (j >= 1) {
        const double off = 2 * kA * (exp_[j] / 10) * (exp_[j - 1] / 10);
        h(j, j - 1) += off;
        h(j - 1, j) += off;
      }
    }
    h(0, 0) += 2;
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    evaluate(x);
    double wxv = 0;
    for (Index j = 0; j < n_; ++j) wxv += double(n_ - j) * x[j] * v[j];
    for (Index j = 0; j < n_; ++j) {
      double o = (tridiagonal_diag(j) + 4 * (t_ - 1) * double(n_ - j)) * v[j] +
                 8 * wxv * double(n_ - j) * x[j];
      if (j >= 1) o += 2 * kA * (exp_[j] / 10) * (exp_[j - 1] / 10) * v[j - 1];
      if (j + 1 < n_) o += 2 * kA * (exp_[j] / 10) * (exp_[j + 1] / 10) * v[j + 1];
      out[j] = o;
    }
    out[0] += 2 * v[0];
  }

 private:
  static constexpr double kA = 1e-5;
  static inline const double kExpMinusTenth = std::exp(-0.1);

  // f(x); leaves E_j in exp_, d_j in d_ (d_0 unused) and T in t_.
  double evaluate(ConstVectorRef<double> x) const {
    double f = (x[0] - 0.2) * (x[0] - 0.2);
    double t = 0, sum = 0;
    for (Index j = 0; j < n_; ++j) {
      exp_[j] = std::exp(x[j] / 10);
      t += double(n_ - j) * x[j] * x[j];
      if (j >= 1) {
        d_[j] = exp_[j] + exp_[j - 1] - y_[j];
        const double ej = exp_[j] - kExpMinusTenth;
        sum += d_[j] * d_[j] + ej * ej;
      }
    }
    t_ = t;
    return f + kA * sum + (t - 1) * (t - 1);
  }

  // The diagonal of the exponential residuals' part of H at j:
  // 2a [(E_j/10)^2 + d E_j/100] summed over the residuals d_j, d_{j+1}, e_j
  // that contain x_j.
  double tridiagonal_diag(Index j) const {
    const double de = exp_[j] / 10, dde = exp_[j] / 100;
    double h = 0;
    if (j >= 1) h += (de * de + d_[j] * dde) + (de * de + (exp_[j] - kExpMinusTenth) * dde);
    if (j + 1 < n_) h += de * de + d_[j + 1] * dde;
    return 2 * kA * h;
  }

  Vector<double> y_;
  mutable Vector<double> exp_, d_;  // E_j = exp(x_j/10), d_j
  mutable double t_ = 0;
};

// ---------------------------------------------------------------------------
// (25) Variably dimensioned, m = n + 2:
//   r_i = x_i - 1, 1 <= i <= n,  r_{n+1} = s,  r_{n+2} = s^2,
//   s = sum_j j (x_j - 1),  f = sum_i (x_i - 1)^2 + s^2 + s^4,
//   g = 2 (x - 1) + (2 s + 4 s^3) w,  H = 2 I + (2 + 12 s^2) w w^T,  w_j = j.
// x0 = (1 - j/n); f* = 0 at (1, ..., 1).
class VariablyDimensioned final : public SizedProblem {
 public:
  explicit VariablyDimensioned(Index n) : SizedProblem("variably_dimensioned", n) {}

  Vector<double> start() const override {
    Vector<double> x0(n_);
    for (Index j = 0; j < n_; ++j) x0[j] = 1 - double(j + 1) / double(n_);
    return x0;
  }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    double d = 0, s = 0;
    sums(x, d, s);
    const double c = 2 * s + 4 * s * s * s;
    for (Index j = 0; j < n_; ++j) g[j] = 2 * (x[j] - 1) + c * double(j + 1);
    return d + s * s + s * s * s * s;
  }
  double value(ConstVectorRef<double> x) const override {
    double d = 0, s = 0;
    sums(x, d, s);
    return d + s * s + s * s * s * s;
  }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    double d = 0, s = 0;
    sums(x, d, s);
    const Vector<double> w = Vector<double>::LinSpaced(n_, 1.0, double(n_));
    h.noalias() = (2 + 12 * s * s) * w * w.transpose();
    h.diagonal().array() += 2;
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    double s = 0, wv = 0;
    for (Index j = 0; j < n_; ++j) {
      s += double(j + 1) * (x[j] - 1);
      wv += double(j + 1) * v[j];
    }
    const double c = (2 + 12 * s * s) * wv;
    for (Index j = 0; j < n_; ++j) out[j] = 2 * v[j] + c * double(j + 1);
  }

 private:
  // d = sum (x_j - 1)^2, s = sum j (x_j - 1).
  void sums(ConstVectorRef<double> x, double& d, double& s) const {
    for (Index j = 0; j < n_; ++j) {
      d += (x[j] - 1) * (x[j] - 1);
      s += double(j + 1) * (x[j] - 1);
    }
  }
};

// ---------------------------------------------------------------------------
// (26) Trigonometric, m = n:
//   r_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i.
// With s_k = sin x_k, q_k = k sin x_k - cos x_k, F = sum_i r_i:
//   J = 1 s^T + diag(q),  g_k = 2 (s_k F + r_k q_k),
//   H = 2 (n s s^T + s q^T + q s^T + diag(q^2)
//          + diag(F cos x_k + r_k (k cos x_k + sin x_k))).
// x0 = (1/n, ..., 1/n); f* = 0 (at the origin, among other points).
class Trigonometric final : public SizedProblem {
 public:
  explicit Trigonometric(Index n) : SizedProblem("trigonometric", n), sin_(n), cos_(n), r_(n) {}

  Vector<double> start() const override { return Vector<double>::Constant(n_, 1.0 / double(n_)); }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    double big_f = 0;
    const double f = evaluate(x, big_f);
    for (Index k = 0; k < n_; ++k)
      g[k] = 2 * (sin_[k] * big_f + r_[k] * (double(k + 1) * sin_[k] - cos_[k]));
    return f;
  }
  double value(ConstVectorRef<double> x) const override {
    double big_f = 0;
    return evaluate(x, big_f);
  }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    double big_f = 0;
    evaluate(x, big_f);
    Vector<double> q(n_);
    for (Index k = 0; k < n_; ++k) q[k] = double(k + 1) * sin_[k] - cos_[k];
    h.noalias() = double(n_) * sin_ * sin_.transpose();
    h.noalias() += sin_ * q.transpose();
    h.noalias() += q * sin_.transpose();
    for (Index k = 0; k < n_; ++k)
      h(k, k) += q[k] * q[k] + big_f * cos_[k] + r_[k] * (double(k + 1) * cos_[k] + sin_[k]);
    h *= 2;
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    double big_f = 0;
    evaluate(x, big_f);
    double sv = 0, qv = 0;
    for (Index k = 0; k < n_; ++k) {
      sv += sin_[k] * v[k];
      qv += (double(k + 1) * sin_[k] - cos_[k]) * v[k];
    }
    for (Index k = 0; k < n_; ++k) {
      const double q = double(k + 1) * sin_[k] - cos_[k];
      const double diag = q * q + big_f * cos_[k] + r_[k] * (double(k + 1) * cos_[k] + sin_[k]);
      out[k] = 2 * (double(n_) * sin_[k] * sv + sin_[k] * qv + q * sv + diag * v[k]);
    }
  }

 private:
  // f(x); leaves sin x, cos x and r in sin_, cos_, r_, and sum_i r_i in big_f.
  double evaluate(ConstVectorRef<double> x, double& big_f) const {
    double sum_cos = 0;
    for (Index k = 0; k < n_; ++k) {
      sin_[k] = std::sin(x[k]);
      cos_[k] = std::cos(x[k]);
      sum_cos += cos_[k];
    }
    const double base = double(n_) - sum_cos;
    double f = 0;
    big_f = 0;
    for (Index i = 0; i < n_; ++i) {
      r_[i] = base + double(i + 1) * (1 - cos_[i]) - sin_[i];
      big_f += r_[i];
      f += r_[i] * r_[i];
    }
    return f;
  }

  mutable Vector<double> sin_, cos_, r_;
};

// ---------------------------------------------------------------------------
// (27) Brown almost-linear, m = n:
//   r_i = x_i + sum_j x_j - (n + 1), 1 <= i < n,   r_n = (prod_j x_j) - 1.
// With S = sum x_j, P = prod x_j, P_k = prod_{j != k} x_j, u_k = [k < n],
// R = sum_{i<n} r_i = (S - x_n) + (n - 1)(S - n - 1):
//   g_k = 2 (u_k r_k + R) + 2 (P - 1) P_k,
//   H_kl = 2 (u_k [k = l] + u_k + u_l + n - 1 + P_k P_l + (P - 1) P_kl [k != l]),
//   P_kl = prod_{j != k, l} x_j.
// Products "all but one" use prefix and suffix products, never division.
// x0 = (1/2, ..., 1/2); f* = 0 at (1, ..., 1) (and at (a, ..., a, a^(1-n))
// for the roots a of n a^n - (n+1) a^(n-1) + 1 = 0).
class BrownAlmostLinear final : public SizedProblem {
 public:
  explicit BrownAlmostLinear(Index n) : SizedProblem("brown_almost_linear", n), a_(n), ap_(n) {}

  Vector<double> start() const override { return Vector<double>::Constant(n_, 0.5); }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    // Forward: S and the prefix products prod_{j<k} x_j (kept in g).
    double s = 0, prefix = 1;
    for (Index k = 0; k < n_; ++k) {
      s += x[k];
      g[k] = prefix;
      prefix *= x[k];
    }
    const double p = prefix, nn = double(n_);
    const double big_r = (s - x[n_ - 1]) + (nn - 1) * (s - nn - 1);
    // Backward: residuals, f, and g with the suffix products.
    double f = (p - 1) * (p - 1), suffix = 1;
    for (Index k = n_ - 1; k >= 0; --k) {
      const double pk = g[k] * suffix;
      suffix *= x[k];
      double rk = 0;
      if (k < n_ - 1) {
        rk = x[k] + s - nn - 1;
        f += rk * rk;
      }
      g[k] = 2 * (rk + big_r) + 2 * (p - 1) * pk;
    }
    return f;
  }
  double value(ConstVectorRef<double> x) const override {
    double s = 0, p = 1;
    for (Index k = 0; k < n_; ++k) {
      s += x[k];
      p *= x[k];
    }
    double f = (p - 1) * (p - 1);
    const double c = s - double(n_) - 1;
    for (Index k = 0; k + 1 < n_; ++k) f += (x[k] + c) * (x[k] + c);
    return f;
  }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    Vector<double> pk(n_), pkl(n_), y = x;
    const double p = products_but_one(y, pk);
    const double nn = double(n_);
    for (Index l = 0; l < n_; ++l) {
      // Column l of Hess P: P_kl is prod_{j != k} y_j with y_l = 1.
      y[l] = 1;
      products_but_one(y, pkl);
      y[l] = x[l];
      const double ul = l < n_ - 1 ? 1 : 0;
      for (Index k = 0; k < n_; ++k) {
        const double uk = k < n_ - 1 ? 1 : 0;
        double hkl = uk + ul + nn - 1 + pk[k] * pk[l];
        if (k == l)
          hkl += uk;
        else
          hkl += (p - 1) * pkl[k];
        h(k, l) = 2 * hkl;
      }
    }
  }

  // Along v, x_j + eps v_j as dual numbers: prod_{j != k} (x_j + eps v_j)
  // = P_k + eps (Hess P v)_k, from prefix and suffix products of duals.
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    double a = 1, ap = 0, sv = 0, uv = 0;
    for (Index k = 0; k < n_; ++k) {
      a_[k] = a;
      ap_[k] = ap;
      ap = ap * x[k] + a * v[k];
      a *= x[k];
      sv += v[k];
      if (k < n_ - 1) uv += v[k];
    }
    const double p = a;
    double b = 1, bp = 0, gpv = 0;
    for (Index k = n_ - 1; k >= 0; --k) {
      const double grad_pk = a_[k] * b;
      ap_[k] = ap_[k] * b + a_[k] * bp;  // (Hess P v)_k
      a_[k] = grad_pk;
      gpv += grad_pk * v[k];
      bp = bp * x[k] + b * v[k];
      b *= x[k];
    }
    const double nn = double(n_);
    for (Index k = 0; k < n_; ++k) {
      const double uk = k < n_ - 1 ? 1 : 0;
      out[k] = 2 * (uk * v[k] + uk * sv + uv + (nn - 1) * sv + a_[k] * gpv + (p - 1) * ap_[k]);
    }
  }

 private:
  // pk_k = prod_{j != k} y_j; returns prod_j y_j.
  double products_but_one(const Vector<double>& y, Vector<double>& pk) const {
    double prefix = 1;
    for (Index k = 0; k < n_; ++k) {
      pk[k] = prefix;
      prefix *= y[k];
    }
    double suffix = 1;
    for (Index k = n_ - 1; k >= 0; --k) {
      pk[k] *= suffix;
      suffix *= y[k];
    }
    return prefix;
  }

  mutable Vector<double> a_, ap_;  // prefix duals, then grad P and Hess P v
};

// ---------------------------------------------------------------------------
// (28) Discrete boundary value, m = n, h = 1/(n+1), t_i = i h, x_0 = x_{n+1} = 0:
//   r_i = 2 x_i - x_{i-1} - x_{i+1} + h^2 (x_i + t_i + 1)^3 / 2.
// J is tridiagonal: J_ii = 2 + 3 h^2 u_i^2 / 2 (u_i = x_i + t_i + 1), -1 off the
// diagonal; Hess r_i = 3 h^2 u_i e_i e_i^T.
// x0 = (t_j (t_j - 1)); f* = 0.
class DiscreteBoundaryValue final : public SizedProblem {
 public:
  explicit DiscreteBoundaryValue(Index n)
      : SizedProblem("discrete_boundary_value", n), h_(1.0 / double(n + 1)), r_(n), w_(n) {}

  Vector<double> start() const override {
    Vector<double> x0(n_);
    for (Index j = 0; j < n_; ++j) x0[j] = t(j) * (t(j) - 1);
    return x0;
  }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double f = residuals(x);
    for (Index k = 0; k < n_; ++k) {
      const double left = k > 0 ? r_[k - 1] : 0, right = k + 1 < n_ ? r_[k + 1] : 0;
      g[k] = 2 * (diag(x, k) * r_[k] - left - right);
    }
    return f;
  }
  double value(ConstVectorRef<double> x) const override { return residuals(x); }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    residuals(x);
    h.setZero();
    for (Index i = 0; i < n_; ++i) {
      Index idx[3];
      double val[3];
      int count = 0;
      if (i > 0) idx[count] = i - 1, val[count++] = -1;
      idx[count] = i, val[count++] = diag(x, i);
      if (i + 1 < n_) idx[count] = i + 1, val[count++] = -1;
      add_row_outer(h, idx, val, count, 1.0);
      h(i, i) += 3 * h_ * h_ * u(x, i) * r_[i];
    }
    h *= 2;
  }

  // out = 2 (J^T (J v) + diag(3 h^2 u_k r_k) v).
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    residuals(x);
    for (Index i = 0; i < n_; ++i)
      w_[i] = diag(x, i) * v[i] - (i > 0 ? v[i - 1] : 0) - (i + 1 < n_ ? v[i + 1] : 0);
    for (Index k = 0; k < n_; ++k) {
      const double jtw =
          diag(x, k) * w_[k] - (k > 0 ? w_[k - 1] : 0) - (k + 1 < n_ ? w_[k + 1] : 0);
      out[k] = 2 * (jtw + 3 * h_ * h_ * u(x, k) * r_[k] * v[k]);
    }
  }

 private:
  double t(Index i) const { return double(i + 1) * h_; }
  double u(ConstVectorRef<double> x, Index i) const { return x[i] + t(i) + 1; }
  double diag(ConstVectorRef<double> x, Index i) const {
    const double ui = u(x, i);
    return 2 + 1.5 * h_ * h_ * ui * ui;
  }
  // Fills r_ and returns f.
  double residuals(ConstVectorRef<double> x) const {
    double f = 0;
    for (Index i = 0; i < n_; ++i) {
      const double ui = u(x, i);
      const double left = i > 0 ? x[i - 1] : 0, right = i + 1 < n_ ? x[i + 1] : 0;
      r_[i] = 2 * x[i] - left - right + 0.5 * h_ * h_ * ui * ui * ui;
      f += r_[i] * r_[i];
    }
    return f;
  }

  double h_;
  mutable Vector<double> r_, w_;
};

// ---------------------------------------------------------------------------
// (29) Discrete integral equation, m = n, h = 1/(n+1), t_i = i h:
//   r_i = x_i + h [(1 - t_i) sum_{j=1..i} t_j c_j + t_i sum_{j=i+1..n} (1 - t_j) c_j] / 2,
//   c_j = (x_j + t_j + 1)^3.
// The kernel K_ij = (1 - t_i) t_j [j <= i] + t_i (1 - t_j) [j > i] is
// symmetric, and K y costs O(n) with a prefix and a suffix sum. So
//   r = x + (h/2) K c,  J = I + (h/2) K diag(c'),  g = 2 (r + (h/2) c' (K r)),
//   H = 2 (J^T J + diag((h/2) c'' (K r))),  c' = 3 u^2, c'' = 6 u, u = x + t + 1,
// and f, g and H v are O(n) although J is dense.
// x0 = (t_j (t_j - 1)); f* = 0.
class DiscreteIntegralEquation final : public SizedProblem {
 public:
  explicit DiscreteIntegralEquation(Index n)
      : SizedProblem("discrete_integral_equation", n),
        h_(1.0 / double(n + 1)),
        r_(n),
        q_(n),
        w_(n) {}

  Vector<double> start() const override {
    Vector<double> x0(n_);
    for (Index j = 0; j < n_; ++j) x0[j] = t(j) * (t(j) - 1);
    return x0;
  }
  std::optional<double> known_minimum() const override { return 0.0; }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double f = residuals(x);
    apply_kernel(r_.data(), q_.data());
    for (Index k = 0; k < n_; ++k) {
      const double uk = u(x, k);
      g[k] = 2 * (r_[k] + 0.5 * h_ * 3 * uk * uk * q_[k]);
    }
    return f;
  }
  double value(ConstVectorRef<double> x) const override { return residuals(x); }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    residuals(x);
    apply_kernel(r_.data(), q_.data());
    Matrix<double> jac(n_, n_);
    for (Index j = 0; j < n_; ++j) {
      const double uj = u(x, j);
      for (Index i = 0; i < n_; ++i) jac(i, j) = 0.5 * h_ * kernel(i, j) * 3 * uj * uj;
      jac(j, j) += 1;
    }
    h.noalias() = jac.transpose() * jac;
    for (Index k = 0; k < n_; ++k) h(k, k) += 0.5 * h_ * 6 * u(x, k) * q_[k];
    h *= 2;
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    residuals(x);
    apply_kernel(r_.data(), q_.data());  // q = K r
    // w = J v = v + (h/2) K (c' v).
    for (Index k = 0; k < n_; ++k) {
      const double uk = u(x, k);
      w_[k] = 3 * uk * uk * v[k];
    }
    apply_kernel(w_.data(), out.data());
    for (Index k = 0; k < n_; ++k) w_[k] = v[k] + 0.5 * h_ * out[k];
    // out = 2 (J^T w + (h/2) c'' (K r) v), J^T w = w + (h/2) c' (K w).
    apply_kernel(w_.data(), out.data());
    for (Index k = 0; k < n_; ++k) {
      const double uk = u(x, k);
      out[k] = 2 * (w_[k] + 0.5 * h_ * (3 * uk * uk * out[k] + 6 * uk * q_[k] * v[k]));
    }
  }

 private:
  double t(Index i) const { return double(i + 1) * h_; }
  double u(ConstVectorRef<double> x, Index i) const { return x[i] + t(i) + 1; }
  double kernel(Index i, Index j) const { return j <= i ? (1 - t(i)) * t(j) : t(i) * (1 - t(j)); }

  // out = K y (y and out distinct): a suffix pass, then a prefix pass.
  void apply_kernel(const double* y, double* out) const {
    double suffix = 0;  // sum_{j > i} (1 - t_j) y_j
    for (Index i = n_ - 1; i >= 0; --i) {
      out[i] = suffix;
      suffix += (1 - t(i)) * y[i];
    }
    double prefix = 0;  // sum_{j <= i} t_j y_j
    for (Index i = 0; i < n_; ++i) {
      prefix += t(i) * y[i];
      out[i] = (1 - t(i)) * prefix + t(i) * out[i];
    }
  }

  // Fills r_ (using q_ for c) and returns f.
  double residuals(ConstVectorRef<double> x) const {
    for (Index j = 0; j < n_; ++j) {
      const double uj = u(x, j);
      q_[j] = uj * uj * uj;
    }
    apply_kernel(q_.data(), r_.data());
    double f = 0;
    for (Index i = 0; i < n_; ++i) {
      r_[i] = x[i] + 0.5 * h_ * r_[i];
      f += r_[i] * r_[i];
    }
    return f;
  }

  double h_;
  mutable Vector<double> r_, q_, w_;
};

// ---------------------------------------------------------------------------
// (30) Broyden tridiagonal, m = n, x_0 = x_{n+1} = 0:
//   r_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1.
// J_ii = 3 - 4 x_i, J_{i,i-1} = -1, J_{i,i+1} = -2; Hess r_i = -4 e_i e_i^T.
// x0 = (-1, ..., -1); f* = 0.
class BroydenTridiagonal final : public SizedProblem {
 public:
  explicit BroydenTridiagonal(Index n) : SizedProblem("broyden_tridiagonal", n), r_(n), w_(n) {}

  Vector<double> start() const override { return Vector<double>::Constant(n_, -1.0); }
  std::optional<double> known_minimum() const override { return 0.0; }

  // g_k = 2 ((3 - 4 x_k) r_k - 2 r_{k-1} - r_{k+1}).
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double f = residuals(x);
    for (Index k = 0; k < n_; ++k) {
      const double left = k > 0 ? r_[k - 1] : 0, right = k + 1 < n_ ? r_[k + 1] : 0;
      g[k] = 2 * ((3 - 4 * x[k]) * r_[k] - 2 * left - right);
    }
    return f;
  }
  double value(ConstVectorRef<double> x) const override { return residuals(x); }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    residuals(x);
    h.setZero();
    for (Index i = 0; i < n_; ++i) {
      Index idx[3];
      double val[3];
      int count = 0;
      if (i > 0) idx[count] = i - 1, val[count++] = -1;
      idx[count] = i, val[count++] = 3 - 4 * x[i];
      if (i + 1 < n_) idx[count] = i + 1, val[count++] = -2;
      add_row_outer(h, idx, val, count, 1.0);
      h(i, i) -= 4 * r_[i];
    }
    h *= 2;
  }

  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    residuals(x);
    for (Index i = 0; i < n_; ++i)
      w_[i] = (3 - 4 * x[i]) * v[i] - (i > 0 ? v[i - 1] : 0) - 2 * (i + 1 < n_ ? v[i + 1] : 0);
    for (Index k = 0; k < n_; ++k) {
      const double jtw =
          (3 - 4 * x[k]) * w_[k] - 2 * (k > 0 ? w_[k - 1] : 0) - (k + 1 < n_ ? w_[k + 1] : 0);
      out[k] = 2 * (jtw - 4 * r_[k] * v[k]);
    }
  }

 private:
  double residuals(ConstVectorRef<double> x) const {
    double f = 0;
    for (Index i = 0; i < n_; ++i) {
      const double left = i > 0 ? x[i - 1] : 0, right = i + 1 < n_ ? x[i + 1] : 0;
      r_[i] = (3 - 2 * x[i]) * x[i] - left - 2 * right + 1;
      f += r_[i] * r_[i];
    }
    return f;
  }

  mutable Vector<double> r_, w_;
};

// ---------------------------------------------------------------------------
// (31) Broyden banded, m = n, m_l = 5, m_u = 1:
//   r_i = x_i (2 + 5 x_i^2) + 1 - sum_{j in J_i} x_j (1 + x_j),
//   J_i = {j != i : max(1, i - m_l) <= j <= min(n, i + m_u)}.
// J_ii = 2 + 15 x_i^2, J_ij = -(1 + 2 x_j) for j in J_i; Hess r_i is diagonal
// with 30 x_i at i and -2 at each j in J_i. Column k of J is nonzero in the
// rows I_k = {i != k : k - m_u <= i <= k + m_l}.
// x0 = (-1, ..., -1); f* = 0.
class BroydenBanded final : public SizedProblem {
 public:
  explicit BroydenBanded(Index n) : SizedProblem("broyden_banded", n), r_(n), w_(n) {}

  Vector<double> start() const override { return Vector<double>::Constant(n_, -1.0); }
  std::optional<double> known_minimum() const override { return 0.0; }

  // g_k = 2 ((2 + 15 x_k^2) r_k - (1 + 2 x_k) sum_{i in I_k} r_i).
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double f = residuals(x);
    for (Index k = 0; k < n_; ++k)
      g[k] = 2 * ((2 + 15 * x[k] * x[k]) * r_[k] - (1 + 2 * x[k]) * column_sum(r_, k));
    return f;
  }
  double value(ConstVectorRef<double> x) const override { return residuals(x); }

  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    residuals(x);
    h.setZero();
    for (Index i = 0; i < n_; ++i) {
      Index idx[kLower + kUpper + 1];
      double val[kLower + kUpper + 1];
      int count = 0;
      for (Index j = std::max<Index>(0, i - kLower); j <= std::min(n_ - 1, i + kUpper); ++j) {
        idx[count] = j;
        val[count++] = j == i ? 2 + 15 * x[i] * x[i] : -(1 + 2 * x[j]);
      }
      add_row_outer(h, idx, val, count, 1.0);
    }
    for (Index k = 0; k < n_; ++k) h(k, k) += 30 * x[k] * r_[k] - 2 * column_sum(r_, k);
    h *= 2;
  }

  // out = 2 (J^T (J v) + diag(30 x_k r_k - 2 sum_{i in I_k} r_i) v).
  void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    residuals(x);
    for (Index i = 0; i < n_; ++i) {
      double wi = (2 + 15 * x[i] * x[i]) * v[i];
      for (Index j = std::max<Index>(0, i - kLower); j <= std::min(n_ - 1, i + kUpper); ++j)
        if (j != i) wi -= (1 + 2 * x[j]) * v[j];
      w_[i] = wi;
    }
    for (Index k = 0; k < n_; ++k) {
      const double jtw = (2 + 15 * x[k] * x[k]) * w_[k] - (1 + 2 * x[k]) * column_sum(w_, k);
      out[k] = 2 * (jtw + (30 * x[k] * r_[k] - 2 * column_sum(r_, k)) * v[k]);
    }
  }

 private:
  static constexpr Index kLower = 5, kUpper = 1;

  // sum_{i in I_k} y_i.
  double column_sum(const Vector<double>& y, Index k) const {
    double s = 0;
    for (Index i = std::max<Index>(0, k - kUpper); i <= std::min(n_ - 1, k + kLower); ++i)
      if (i != k) s += y[i];
    return s;
  }

  double residuals(ConstVectorRef<double> x) const {
    double f = 0;
    for (Index i = 0; i < n_; ++i) {
      double ri = x[i] * (2 + 5 * x[i] * x[i]) + 1;
      for (Index j = std::max<Index>(0, i - kLower); j <= std::min(n_ - 1, i + kUpper); ++j)
        if (j != i) ri -= x[j] * (1 + x[j]);
      r_[i] = ri;
      f += ri * ri;
    }
    return f;
  }

  mutable Vector<double> r_, w_;
};

// ---------------------------------------------------------------------------
// (32) Linear function, full rank, m = 2n:
//   r_i = x_i - (2/m) sum_j x_j - 1, 1 <= i <= n,
//   r_i = -(2/m) sum_j x_j - 1,       n < i <= m.
// With S = sum x_j, c = 2 S / m + 1:
//   f = sum_{i<=n} (x_i - c)^2 + (m - n) c^2,  g = 2 (x - c) + (4/m)(S + m),
//   H = 2 J^T J = 2 I (J^T J = I for every m >= n).
// x0 = (1, ..., 1) (f = 5n); f* = m - n at (-1, ..., -1).
class LinearFullRank final : public SizedProblem {
 public:
  explicit LinearFullRank(Index n) : SizedProblem("linear_full_rank", n), m_(2 * double(n)) {}

  Vector<double> start() const override { return Vector<double>::Ones(n_); }
  std::optional<double> known_minimum() const override { return m_ - double(n_); }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double s = x.sum(), c = 2 * s / m_ + 1;
    const double shift = 4 / m_ * (s + m_);
    double f = 0;
    for (Index i = 0; i < n_; ++i) {
      f += (x[i] - c) * (x[i] - c);
      g[i] = 2 * (x[i] - c) + shift;
    }
    return f + (m_ - double(n_)) * c * c;
  }
  double value(ConstVectorRef<double> x) const override {
    const double s = x.sum(), c = 2 * s / m_ + 1;
    double f = 0;
    for (Index i = 0; i < n_; ++i) f += (x[i] - c) * (x[i] - c);
    return f + (m_ - double(n_)) * c * c;
  }

  void hessian(ConstVectorRef<double>, MatrixRef<double> h) const override {
    h.setZero();
    h.diagonal().setConstant(2);
  }
  void hessian_vector(ConstVectorRef<double>, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    out = 2 * v;
  }

 private:
  double m_;
};

// ---------------------------------------------------------------------------
// (33) Linear function, rank 1, m = 2n:
//   r_i = i (sum_{j=1..n} j x_j) - 1, 1 <= i <= m.
// (34) Linear function, rank 1 with zero columns and rows, m = 2n:
//   r_1 = r_m = -1,  r_i = (i - 1)(sum_{j=2..n-1} j x_j) - 1, 2 <= i <= m-1.
// Both are f = sum_{k=1..M} (k s - 1)^2 + m - M = A s^2 - 2 B s + m with
// s = sum_j w_j x_j, A = sum_{k<=M} k^2, B = sum_{k<=M} k: M = m and w_j = j
// for (33); M = m - 2 and w_j = j on 2 <= j <= n-1, else 0, for (34). So
//   g = 2 (A s - B) w,  H = 2 A w w^T.
// x0 = (1, ..., 1). f* = m (m-1) / (2 (2m+1)) for (33), at s = 3/(2m+1);
// f* = (m^2 + 3m - 6) / (2 (2m-3)) for (34), at s = 3/(2m-3), when n >= 3
// (for n <= 2, s = 0 and f = m everywhere).
class LinearRank1 final : public SizedProblem {
 public:
  LinearRank1(Index n, bool zero_columns)
      : SizedProblem(zero_columns ? "linear_rank1_zero" : "linear_rank1", n),
        zero_columns_(zero_columns),
        m_(2 * double(n)) {
    const double big_m = zero_columns ? m_ - 2 : m_;
    a_ = big_m * (big_m + 1) * (2 * big_m + 1) / 6;
    b_ = big_m * (big_m + 1) / 2;
  }

  Vector<double> start() const override { return Vector<double>::Ones(n_); }
  std::optional<double> known_minimum() const override {
    if (!zero_columns_) return m_ * (m_ - 1) / (2 * (2 * m_ + 1));
    if (n_ <= 2) return m_;
    return (m_ * m_ + 3 * m_ - 6) / (2 * (2 * m_ - 3));
  }

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override {
    const double s = weighted_sum(x);
    const double c = 2 * (a_ * s - b_);
    for (Index j = 0; j < n_; ++j) g[j] = c * weight(j);
    return (a_ * s - 2 * b_) * s + m_;
  }
  double value(ConstVectorRef<double> x) const override {
    const double s = weighted_sum(x);
    return (a_ * s - 2 * b_) * s + m_;
  }

  void hessian(ConstVectorRef<double>, MatrixRef<double> h) const override {
    for (Index l = 0; l < n_; ++l)
      for (Index k = 0; k < n_; ++k) h(k, l) = 2 * a_ * weight(k) * weight(l);
  }
  void hessian_vector(ConstVectorRef<double>, ConstVectorRef<double> v,
                      VectorRef<double> out) const override {
    const double c = 2 * a_ * weighted_sum(v);
    for (Index j = 0; j < n_; ++j) out[j] = c * weight(j);
  }

 private:
  // w_j for the 0-based index j.
  double weight(Index j) const {
    if (zero_columns_ && (j == 0 || j == n_ - 1)) return 0;
    return double(j + 1);
  }
  double weighted_sum(ConstVectorRef<double> y) const {
    double s = 0;
    for (Index j = 0; j < n_; ++j) s += weight(j) * y[j];
    return s;
  }

  bool zero_columns_;
  double m_, a_ = 0, b_ = 0;
};

// ---------------------------------------------------------------------------
// (35) Chebyquad, m = n (the paper allows m >= n):
//   r_i = (1/n) sum_{j=1..n} T_i(x_j) - integral_0^1 T_i(x) dx,
// T_i the Chebyshev polynomial of degree i shifted to [0, 1] (T_i(2x - 1));
// the integral is -1/(i^2 - 1) for even i and 0 for odd i.
// x0 = (j/(n+1)). f* = 0 for 1 <= n <= 7 and n = 9; 3.51687e-3 (n = 8);
// 6.50395e-3 (n = 10).
class Chebyquad final : public LeastSquaresProblem {
 public:
  explicit Chebyquad(Index n) : n_(n) {}
  std::string_view name() const override { return "chebyquad"; }
  Index dimension() const override { return n_; }
  Vector<double> start() const override {
    Vector<double> x0(n_);
    for (Index j = 0; j < n_; ++j) x0[j] = double(j + 1) / double(n_ + 1);
    return x0;
  }
  std::optional<double> known_minimum() const override {
    if ((n_ >= 1 && n_ <= 7) || n_ == 9) return 0.0;
    if (n_ == 8) return 3.516873725677919e-3;
    if (n_ == 10) return 6.5039548008822955e-3;
    return std::nullopt;
  }

 protected:
  Index num_residuals() const override { return n_; }

  void residuals(ConstVectorRef<double> x, VectorRef<double> r) const override {
    r.setZero();
    for (Index j = 0; j < n_; ++j)
      for_each_degree(x[j], [&](Index i, double ti, double, double) { r[i - 1] += ti; });
    for (Index i = 1; i <= n_; ++i) {
      r[i - 1] /= double(n_);
      if (i % 2 == 0) r[i - 1] += 1.0 / (double(i) * double(i) - 1);
    }
  }

  // d r_i / d x_j = (2/n) T_i'(2 x_j - 1).
  void jacobian(ConstVectorRef<double> x, MatrixRef<double> jac) const override {
    for (Index j = 0; j < n_; ++j)
      for_each_degree(
          x[j], [&](Index i, double, double dti, double) { jac(i - 1, j) = 2 * dti / double(n_); });
  }

  // Hess r_i = diag((4/n) T_i''(2 x_j - 1)).
  void add_residual_hessians(ConstVectorRef<double> x, ConstVectorRef<double> w,
                             MatrixRef<double> h) const override {
    for (Index j = 0; j < n_; ++j)
      for_each_degree(x[j], [&](Index i, double, double, double d2ti) {
        h(j, j) += w[i - 1] * 4 * d2ti / double(n_);
      });
  }

 private:
  // Calls fn(i, T_i(y), T_i'(y), T_i''(y)) for i = 1..n at y = 2 x - 1, by
  // T_{i+1} = 2 y T_i - T_{i-1} and its derivatives.
  template <class Fn>
  void for_each_degree(double x, Fn&& fn) const {
    const double y = 2 * x - 1;
    double t0 = 1, t1 = y, d0 = 0, d1 = 1, s0 = 0, s1 = 0;
    for (Index i = 1; i <= n_; ++i) {
      fn(i, t1, d1, s1);
      const double t2 = 2 * y * t1 - t0;
      const double d2 = 2 * t1 + 2 * y * d1 - d0;
      const double s2 = 4 * d1 + 2 * y * s1 - s0;
      t0 = t1, t1 = t2, d0 = d1, d1 = d2, s0 = s1, s1 = s2;
    }
  }

  Index n_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Factories: validate n, then build.

namespace {

// The problems defined for every n >= 1.
template <class P, class... Extra>
std::unique_ptr<Problem> make_any_size(std::string_view name, Index n, Extra... extra) {
  DESCENT_REQUIRE(n >= 1, fmt::format("{} needs a dimension n >= 1; got {}", name, n));
  return std::make_unique<P>(n, extra...);
}

}  // namespace

std::unique_ptr<Problem> make_watson(Index n) {
  DESCENT_REQUIRE(n >= 2 && n <= 31, fmt::format("watson accepts 2 <= n <= 31; got {}", n));
  return std::make_unique<Watson>(n);
}

std::unique_ptr<Problem> make_extended_rosenbrock(Index n) {
  DESCENT_REQUIRE(n >= 2 && n % 2 == 0,
          fmt::format("extended_rosenbrock needs an even dimension n >= 2; got {}", n));
  return std::make_unique<ExtendedRosenbrock>(n);
}

std::unique_ptr<Problem> make_extended_powell(Index n) {
  DESCENT_REQUIRE(
      n >= 4 && n % 4 == 0,
      fmt::format("extended_powell needs a dimension that is a positive multiple of 4; got {}", n));
  return std::make_unique<ExtendedPowell>(n);
}

std::unique_ptr<Problem> make_penalty1(Index n) {
  return make_any_size<Penalty1>("penalty1", n);
}

std::unique_ptr<Problem> make_penalty2(Index n) {
  DESCENT_REQUIRE(n >= 1 && n <= Penalty2::kMaxN,
          fmt::format("penalty2 accepts 1 <= n <= {} (beyond, its constants exp(i/10) make f "
                      "overflow a double); got {}",
                      Penalty2::kMaxN, n));
  return std::make_unique<Penalty2>(n);
}

std::unique_ptr<Problem> make_variably_dimensioned(Index n) {
  return make_any_size<VariablyDimensioned>("variably_dimensioned", n);
}

std::unique_ptr<Problem> make_trigonometric(Index n) {
  return make_any_size<Trigonometric>("trigonometric", n);
}

std::unique_ptr<Problem> make_brown_almost_linear(Index n) {
  return make_any_size<BrownAlmostLinear>("brown_almost_linear", n);
}

std::unique_ptr<Problem> make_discrete_boundary_value(Index n) {
  return make_any_size<DiscreteBoundaryValue>("discrete_boundary_value", n);
}

std::unique_ptr<Problem> make_discrete_integral_equation(Index n) {
  return make_any_size<DiscreteIntegralEquation>("discrete_integral_equation", n);
}

std::unique_ptr<Problem> make_broyden_tridiagonal(Index n) {
  return make_any_size<BroydenTridiagonal>("broyden_tridiagonal", n);
}

std::unique_ptr<Problem> make_broyden_banded(Index n) {
  return make_any_size<BroydenBanded>("broyden_banded", n);
}

std::unique_ptr<Problem> make_linear_full_rank(Index n) {
  return make_any_size<LinearFullRank>("linear_full_rank", n);
}

std::unique_ptr<Problem> make_linear_rank1(Index n) {
  return make_any_size<LinearRank1>("linear_rank1", n, false);
}

std::unique_ptr<Problem> make_linear_rank1_zero(Index n) {
  return make_any_size<LinearRank1>("linear_rank1_zero", n, true);
}

std::unique_ptr<Problem> make_chebyquad(Index n) {
  DESCENT_REQUIRE(n >= 1 && n <= Problem::kMaxDenseDimension,
          fmt::format("chebyquad is dense (n residuals, each of every variable) and accepts "
                      "1 <= n <= {}; got {}",
                      Problem::kMaxDenseDimension, n));
  return std::make_unique<Chebyquad>(n);
}

}  // namespace descent::problems::detail
