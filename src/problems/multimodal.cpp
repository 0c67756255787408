// The multimodal test functions of the global-optimization literature, with
// their usual search domains and global minima (as collected by Jamil & Yang,
// "A literature survey of benchmark functions for global optimization
// problems", 2013, and Surjanovic & Bingham's Virtual Library of Simulation
// Experiments). Each has an analytic gradient; its Hessian is formed by
// central differences of that gradient (they serve global search, where
// curvature matters little, and the tests check the gradient, not the
// Hessian, against differences of the value).
//
// The domain is where a global search samples its starts and where the
// global minimum lies; it is not a constraint (bounds() stays empty), so any
// local method runs on them. The standard start is lo + 0.7 (hi - lo) in
// every coordinate: inside the domain, away from the global minimum.
// eggholder's global minimum lies on the domain's edge (x1 = 512) and lower
// values exist outside it: solve it with the domain as bounds.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "factories.hpp"

namespace descent::problems::detail {
namespace {

using std::numbers::pi;

// f(x) with its gradient written into g.
using Evaluate = std::function<double(ConstVectorRef<double>, VectorRef<double>)>;

class Multimodal final : public Problem {
 public:
  Multimodal(std::string name, Index n, double lo, double hi, std::optional<double> f_star, Evaluate f)
      : Multimodal(std::move(name), Vector<double>::Constant(n, lo), Vector<double>::Constant(n, hi), f_star,
                   std::move(f)) {}
  Multimodal(std::string name, Vector<double> lo, Vector<double> hi, std::optional<double> f_star, Evaluate f)
      : name_(std::move(name)), lo_(std::move(lo)), hi_(std::move(hi)), f_star_(f_star), f_(std::move(f)) {}

  std::string_view name() const override { return name_; }
  Index dimension() const override { return lo_.size(); }
  Vector<double> start() const override { return lo_ + 0.7 * (hi_ - lo_); }
  std::optional<double> known_minimum() const override { return f_star_; }
  std::optional<Bounds> domain() const override {
    Bounds b;
    b.lower = lo_;
    b.upper = hi_;
    return b;
  }
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const override { return f_(x, g); }

  // Central differences of the gradient, symmetrized.
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const override {
    const Index n = dimension();
    Vector<double> xp = x, gp(n), gm(n);
    for (Index j = 0; j < n; ++j) {
      const double step = 1e-5 * std::max(1.0, std::abs(x[j]));
      xp[j] = x[j] + step;
      f_(xp, gp);
      xp[j] = x[j] - step;
      f_(xp, gm);
      xp[j] = x[j];
      h.col(j) = (gp - gm) / (2 * step);
    }
    for (Index j = 0; j < n; ++j)
      for (Index i = j + 1; i < n; ++i) h(i, j) = h(j, i) = 0.5 * (h(i, j) + h(j, i));
  }

 private:
  std::string name_;
  Vector<double> lo_, hi_;
  std::optional<double> f_star_;
  Evaluate f_;
};

void require_dimension(const char* name, Index n, Index at_least) {
  DESCENT_REQUIRE(n >= at_least, fmt::format("{} takes n >= {}; got {}", name, at_least, n));
}

void require_two(const char* name, Index n) {
  DESCENT_REQUIRE(n == 2, fmt::format("{} is a function of 2 variables; got n = {}", name, n));
}

double sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }

}  // namespace

// Ackley: -20 exp(-0.2 sqrt(mean x^2)) - exp(mean cos 2 pi x) + 20 + e on
// [-32.768, 32.768]^n; f* = 0 at 0 (a cone point: the gradient there is
// taken as 0).
std::unique_ptr<Problem> make_ackley(Index n) {
  require_dimension("ackley", n, 1);
  return std::make_unique<Multimodal>("ackley", n, -32.768, 32.768, 0.0, [](auto x, auto g) {
    const double nn = double(x.size());
    const double r = std::sqrt(x.squaredNorm() / nn);
    double c = 0;
    for (Index i = 0; i < x.size(); ++i) c += std::cos(2 * pi * x[i]);
    const double e1 = std::exp(-0.2 * r), e2 = std::exp(c / nn);
    for (Index i = 0; i < x.size(); ++i)
      g[i] = (r > 0 ? 4 * e1 * x[i] / (nn * r) : 0.0) + (2 * pi / nn) * e2 * std::sin(2 * pi * x[i]);
    return -20 * e1 - e2 + 20 + std::numbers::e;
  });
}

// Rastrigin: 10 n + sum (x^2 - 10 cos 2 pi x) on [-5.12, 5.12]^n; f* = 0 at 0.
std::unique_ptr<Problem> make_rastrigin(Index n) {
  require_dimension("rastrigin", n, 1);
  return std::make_unique<Multimodal>("rastrigin", n, -5.12, 5.12, 0.0, [](auto x, auto g) {
    double f = 10.0 * double(x.size());
    for (Index i = 0; i < x.size(); ++i) {
      f += x[i] * x[i] - 10 * std::cos(2 * pi * x[i]);
      g[i] = 2 * x[i] + 20 * pi * std::sin(2 * pi * x[i]);
    }
    return f;
  });
}

// Schwefel (2.26): 418.9828872724338 n - sum x sin sqrt|x| on [-500, 500]^n;
// f* = 0 (to rounding) at x_i = 420.9687463.
std::unique_ptr<Problem> make_schwefel(Index n) {
  require_dimension("schwefel", n, 1);
  return std::make_unique<Multimodal>("schwefel", n, -500.0, 500.0, 0.0, [](auto x, auto g) {
    double f = 418.9828872724338 * double(x.size());
    for (Index i = 0; i < x.size(); ++i) {
      const double s = std::sqrt(std::abs(x[i]));
      f -= x[i] * std::sin(s);
      g[i] = -(std::sin(s) + 0.5 * s * std::cos(s));
    }
    return f;
  });
}

// Griewank: 1 + sum x^2 / 4000 - prod cos(x_i / sqrt i) on [-600, 600]^n;
// f* = 0 at 0.
std::unique_ptr<Problem> make_griewank(Index n) {
  require_dimension("griewank", n, 1);
  return std::make_unique<Multimodal>("griewank", n, -600.0, 600.0, 0.0, [](auto x, auto g) {
    const Index m = x.size();
    Vector<double> c(m), before(m + 1), after(m + 1);
    for (Index i = 0; i < m; ++i) c[i] = std::cos(x[i] / std::sqrt(double(i + 1)));
    before[0] = 1;
    for (Index i = 0; i < m; ++i) before[i + 1] = before[i] * c[i];
    after[m] = 1;
    for (Index i = m - 1; i >= 0; --i) after[i] = after[i + 1] * c[i];
    double f = 1 - before[m];
    for (Index i = 0; i < m; ++i) {
      const double root = std::sqrt(double(i + 1));
      f += x[i] * x[i] / 4000;
      g[i] = x[i] / 2000 + before[i] * after[i + 1] * std::sin(x[i] / root) / root;  // the others' product
    }
    return f;
  });
}

// Levy: with w = 1 + (x - 1) / 4, sin^2(pi w_1) + sum_{i<n} (w_i - 1)^2
// (1 + 10 sin^2(pi w_i + 1)) + (w_n - 1)^2 (1 + sin^2(2 pi w_n)) on
// [-10, 10]^n; f* = 0 at x = 1.
std::unique_ptr<Problem> make_levy(Index n) {
  require_dimension("levy", n, 1);
  return std::make_unique<Multimodal>("levy", n, -10.0, 10.0, 0.0, [](auto x, auto g) {
    const Index m = x.size();
    auto w = [&](Index i) { return 1 + (x[i] - 1) / 4; };
    const double w0 = w(0), wn = w(m - 1);
    double f = std::pow(std::sin(pi * w0), 2);
    g.setZero();
    g[0] += pi * std::sin(2 * pi * w0);
    for (Index i = 0; i + 1 < m; ++i) {
      const double wi = w(i), s = std::sin(pi * wi + 1);
      f += (wi - 1) * (wi - 1) * (1 + 10 * s * s);
      g[i] += 2 * (wi - 1) * (1 + 10 * s * s) + (wi - 1) * (wi - 1) * 10 * pi * std::sin(2 * (pi * wi + 1));
    }
    const double sn = std::sin(2 * pi * wn);
    f += (wn - 1) * (wn - 1) * (1 + sn * sn);
    g[m - 1] += 2 * (wn - 1) * (1 + sn * sn) + (wn - 1) * (wn - 1) * 2 * pi * std::sin(4 * pi * wn);
    g /= 4;  // dw/dx
    return f;
  });
}

// Eggholder: -(x2 + 47) sin sqrt|x2 + x1/2 + 47| - x1 sin sqrt|x1 - x2 - 47|
// on [-512, 512]^2; f* = -959.6406627 at (512, 404.2319), on the domain's
// edge. Where a square root's argument is 0 its term's derivative is taken
// as 0.
std::unique_ptr<Problem> make_eggholder(Index n) {
  require_two("eggholder", n);
  return std::make_unique<Multimodal>("eggholder", 2, -512.0, 512.0, -959.6406627208506, [](auto x, auto g) {
    const double a = x[1] + x[0] / 2 + 47, b = x[0] - x[1] - 47;
    const double s1 = std::sqrt(std::abs(a)), s2 = std::sqrt(std::abs(b));
    const double d1 = s1 > 0 ? sign(a) / (2 * s1) : 0.0, d2 = s2 > 0 ? sign(b) / (2 * s2) : 0.0;
    const double p = -(x[1] + 47) * std::cos(s1) * d1;  // d/da of the first term
    const double q = -x[0] * std::cos(s2) * d2;           // d/db of the second
    g[0] = 0.5 * p - std::sin(s2) + q;
    g[1] = -std::sin(s1) + p - q;
    return -(x[1] + 47) * std::sin(s1) - x[0] * std::sin(s2);
  });
}

// Holder table: -|sin x1 cos x2 exp|1 - |x| / pi|| on [-10, 10]^2;
// f* = -19.2085026 at (+-8.05502, +-9.66459).
std::unique_ptr<Problem> make_holder_table(Index n) {
  require_two("holder_table", n);
  return std::make_unique<Multimodal>("holder_table", 2, -10.0, 10.0, -19.208502567886743, [](auto x, auto g) {
    const double u = std::sin(x[0]) * std::cos(x[1]);
    const double r = std::hypot(x[0], x[1]), v = 1 - r / pi, e = std::exp(std::abs(v));
    const double du0 = std::cos(x[0]) * std::cos(x[1]), du1 = -std::sin(x[0]) * std::sin(x[1]);
    const double dv0 = r > 0 ? -x[0] / (pi * r) : 0.0, dv1 = r > 0 ? -x[1] / (pi * r) : 0.0;
    g[0] = -sign(u) * e * du0 - std::abs(u) * e * sign(v) * dv0;
    g[1] = -sign(u) * e * du1 - std::abs(u) * e * sign(v) * dv1;
    return -std::abs(u) * e;
  });
}

// Styblinski–Tang: sum (x^4 - 16 x^2 + 5 x) / 2 on [-5, 5]^n;
// f* = -39.16616570377142 n at x_i = -2.903534.
std::unique_ptr<Problem> make_styblinski_tang(Index n) {
  require_dimension("styblinski_tang", n, 1);
  return std::make_unique<Multimodal>("styblinski_tang", n, -5.0, 5.0, -39.16616570377142 * double(n),
                                      [](auto x, auto g) {
                                        double f = 0;
                                        for (Index i = 0; i < x.size(); ++i) {
                                          const double t = x[i], t2 = t * t;
                                          f += 0.5 * (t2 * t2 - 16 * t2 + 5 * t);
                                          g[i] = 0.5 * (4 * t2 * t - 32 * t + 5);
                                        }
                                        return f;
                                      });
}

// Six-hump camel: (4 - 2.1 x1^2 + x1^4 / 3) x1^2 + x1 x2 + (4 x2^2 - 4) x2^2
// on [-3, 3] x [-2, 2]; f* = -1.0316284535 at (+-0.0898, -+0.7126).
std::unique_ptr<Problem> make_six_hump_camel(Index n) {
  require_two("six_hump_camel", n);
  Vector<double> lo(2), hi(2);
  lo << -3, -2;
  hi << 3, 2;
  return std::make_unique<Multimodal>("six_hump_camel", lo, hi, -1.0316284534898774, [](auto x, auto g) {
    const double a = x[0], b = x[1], a2 = a * a, b2 = b * b;
    g[0] = 8 * a - 8.4 * a2 * a + 2 * a2 * a2 * a + b;
    g[1] = a - 8 * b + 16 * b2 * b;
    return (4 - 2.1 * a2 + a2 * a2 / 3) * a2 + a * b + (4 * b2 - 4) * b2;
  });
}

// Shubert: prod over the two variables of sum_{i=1..5} i cos((i + 1) x + i)
// on [-10, 10]^2; f* = -186.7309088 at 18 points.
std::unique_ptr<Problem> make_shubert(Index n) {
  require_two("shubert", n);
  return std::make_unique<Multimodal>("shubert", 2, -10.0, 10.0, -186.73090883102375, [](auto x, auto g) {
    double s[2] = {0, 0}, ds[2] = {0, 0};
    for (int k = 0; k < 2; ++k)
      for (int i = 1; i <= 5; ++i) {
        s[k] += i * std::cos((i + 1) * x[k] + i);
        ds[k] -= i * (i + 1) * std::sin((i + 1) * x[k] + i);
      }
    g[0] = ds[0] * s[1];
    g[1] = s[0] * ds[1];
    return s[0] * s[1];
  });
}

// Michalewicz (m = 10): -sum sin(x_i) sin^20(i x_i^2 / pi) on [0, pi]^n;
// f* = -1.8013034 (n = 2), -4.6876582 (n = 5), -9.6601517 (n = 10); no
// published value for other n.
std::unique_ptr<Problem> make_michalewicz(Index n) {
  require_dimension("michalewicz", n, 1);
  std::optional<double> f_star;
  if (n == 2) f_star = -1.8013034100985537;
  if (n == 5) f_star = -4.687658179088148;
  if (n == 10) f_star = -9.66015171564134;
  return std::make_unique<Multimodal>("michalewicz", n, 0.0, pi, f_star, [](auto x, auto g) {
    double f = 0;
    for (Index i = 0; i < x.size(); ++i) {
      const double k = double(i + 1), t = x[i], arg = k * t * t / pi;
      const double s = std::sin(arg), s19 = std::pow(s, 19), s20 = s19 * s;
      f -= std::sin(t) * s20;
      g[i] = -(std::cos(t) * s20 + std::sin(t) * 20 * s19 * std::cos(arg) * (2 * k * t / pi));
    }
    return f;
  });
}

}  // namespace descent::problems::detail
