// A user-written objective minimized with L-BFGS: fit y = a * exp(-b t) + c
// to noisy samples by least squares. The objective is a plain struct with a
// value_and_gradient member; no base class, no registration.
#include <cmath>
#include <cstdio>
#include <random>

#include <descent/descent.hpp>

struct ExponentialFit {
  descent::Vector<double> t, y;

  // f(a, b, c) = 0.5 * sum_i (a exp(-b t_i) + c - y_i)^2
  double value_and_gradient(descent::ConstVectorRef<double> p, descent::VectorRef<double> g) const {
    const double a = p[0], b = p[1], c = p[2];
    double f = 0;
    g.setZero();
    for (descent::Index i = 0; i < t.size(); ++i) {
      const double e = std::exp(-b * t[i]);
      const double r = a * e + c - y[i];
      f += 0.5 * r * r;
      g[0] += r * e;
      g[1] += -r * a * t[i] * e;
      g[2] += r;
    }
    return f;
  }
};

int main() {
  // Samples of 3 exp(-0.7 t) + 0.5 with a little noise.
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0.0, 0.01);
  ExponentialFit fit;
  fit.t = descent::Vector<double>::LinSpaced(50, 0.0, 8.0);
  fit.y.resize(50);
  for (int i = 0; i < 50; ++i) fit.y[i] = 3.0 * std::exp(-0.7 * fit.t[i]) + 0.5 + noise(rng);

  descent::Vector<double> p(3);
  p << 1.0, 1.0, 0.0;
  const auto result = descent::lbfgs(fit, p, {.memory = 5, .stop = {.gradient_tolerance = 1e-7}});

  std::printf("%s\n", result.brief_report().c_str());
  std::printf("a = %.4f, b = %.4f, c = %.4f\n", p[0], p[1], p[2]);
  const bool ok = result.converged() && std::abs(p[0] - 3.0) < 0.05 && std::abs(p[1] - 0.7) < 0.05 &&
                  std::abs(p[2] - 0.5) < 0.05;
  return ok ? 0 : 1;
}
