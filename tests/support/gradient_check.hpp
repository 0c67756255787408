// Gradient checks for autograd operations: every backward function against
// central finite differences of its own forward pass, in double.
//
//   GradientCase c;
//   c.shapes = {{3, 4}, {4}};
//   EXPECT_TRUE(check_gradients(c, [](const Inputs<double>& in) { return mul(in[0], in[1]); }));
//
// The forward function receives one tensor per shape (tape.variable, filled
// with seeded random values, or the case's own values) and returns the
// operation's output y. The checker reduces y to the scalar
// L = sum(y * R) with a random constant R of y's shape, so that the upstream
// gradient differs from element to element, runs backward, and compares each
// input's gradient with central differences of L.
//
// For inputs too large for a difference per element (the threaded paths),
// check_directional_derivatives() compares, along one random direction per
// input, the gradient's projection with a central difference of L.
//
// A forward written as a generic lambda (const auto& in) also runs in float:
// compare_float_with_double() checks that both precisions agree.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "descent/autograd/ops.hpp"
#include "descent/core/random.hpp"
#include "support/finite_difference.hpp"

namespace descent::testing {

template <class T>
using Inputs = std::vector<autograd::Tensor<T>>;

// The element type of an Inputs<T> argument, for generic forward lambdas:
//   [](const auto& in) { using T = scalar_of<decltype(in)>; return pow(in[0], T(1.5)); }
template <class V>
struct ScalarOf;
template <class T>
struct ScalarOf<std::vector<autograd::Tensor<T>>> {
  using type = T;
};
template <class V>
using scalar_of = typename ScalarOf<std::remove_cvref_t<V>>::type;

// Maps a draw u from U(-1, 1) for input k to the value used.
using Transform = std::function<double(int input, double u)>;

// Inputs in [0.5, 1.5): for log, sqrt, pow and divisors.
inline Transform positive() {
  return [](int, double u) { return 1.0 + 0.5 * u; };
}
// |value| >= 0.2: away from the kink of abs, relu, leaky_relu at 0.
inline Transform away_from_zero() {
  return [](int, double u) { return u < 0 ? u - 0.2 : u + 0.2; };
}
// Scales the draws: inputs in (-s, s).
inline Transform scaled(double s) {
  return [s](int, double u) { return s * u; };
}

struct GradientCase {
  std::vector<autograd::Shape> shapes;  // one per input
  Transform transform;                  // default: the draws themselves
  std::vector<Vector<double>> values;   // where given (non-empty), input k's values instead of draws
  std::uint64_t seed = 1;
  double step = 1e-6;                   // relative central-difference step
  double tolerance = 1e-6;              // on |analytic - numeric| / max(1, |numeric|)
};

// The values of every input of a case: given ones, or seeded draws.
inline std::vector<Vector<double>> case_values(const GradientCase& c, Rng& rng) {
  std::vector<Vector<double>> v;
  for (std::size_t k = 0; k < c.shapes.size(); ++k) {
    if (k < c.values.size() && c.values[k].size() > 0) {
      EXPECT_EQ(c.values[k].size(), c.shapes[k].size()) << "values of input " << k;
      v.push_back(c.values[k]);
      continue;
    }
    Vector<double> x(c.shapes[k].size());
    for (Index i = 0; i < x.size(); ++i) {
      const double u = rng.uniform(-1, 1);
      x[i] = c.transform ? c.transform(int(k), u) : u;
    }
    v.push_back(x);
  }
  return v;
}

// One forward and backward pass in T: the output, and each input's gradient
// of sum(y * weights) (weights drawn after the inputs when empty).
template <class T>
struct Pass {
  Vector<double> output;
  autograd::Shape output_shape;
  std::vector<Vector<double>> gradients;
  std::vector<bool> has_gradient;
};

template <class T, class F>
Pass<T> run_pass(const GradientCase& c, const std::vector<Vector<double>>& values, Vector<double>& weights,
                 Rng& rng, F&& forward) {
  autograd::Tape<T> tape;
  Inputs<T> in;
  for (std::size_t k = 0; k < c.shapes.size(); ++k) {
    auto t = tape.variable(c.shapes[k]);
    for (Index i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(values[k][i]);
    in.push_back(t);
  }
  const autograd::Tensor<T> y = forward(in);
  Pass<T> p;
  p.output_shape = y.shape();
  p.output = y.values().template cast<double>();
  if (weights.size() == 0) {
    weights.resize(y.size());
    for (Index i = 0; i < y.size(); ++i) weights[i] = rng.uniform(-1, 1);
  }
  const Vector<T> w = weights.cast<T>();
  const auto r = tape.constant(w.data(), y.shape());
  tape.backward(autograd::sum(autograd::mul(y, r)));
  for (const auto& t : in) {
    p.has_gradient.push_back(t.grad() != nullptr);
    p.gradients.push_back(t.grad() ? Vector<double>(t.gradient().template cast<double>()) : Vector<double>());
  }
  return p;
}

// L(x) = sum(forward(x) * weights) with the inputs as constants, all of them
// flattened into one vector x, reduced in plain double arithmetic.
template <class F>
class ConstantLoss {
 public:
  ConstantLoss(const GradientCase& c, const Vector<double>& weights, F& forward)
      : c_(c), weights_(weights), forward_(forward) {
    offsets_.push_back(0);
    for (const auto& s : c.shapes) offsets_.push_back(offsets_.back() + s.size());
  }
  Index offset(std::size_t input) const { return offsets_[input]; }
  Vector<double> flatten(const std::vector<Vector<double>>& values) const {
    Vector<double> flat(offsets_.back());
    for (std::size_t k = 0; k < values.size(); ++k) flat.segment(offsets_[k], values[k].size()) = values[k];
    return flat;
  }
  double operator()(const Vector<double>& x) {
    tape_.reset();
    Inputs<double> in;
    for (std::size_t k = 0; k < c_.shapes.size(); ++k)
      in.push_back(tape_.constant(x.data() + offsets_[k], c_.shapes[k]));
    const auto y = forward_(in);
    return y.values().dot(weights_);
  }

 private:
  const GradientCase& c_;
  const Vector<double>& weights_;
  F& forward_;
  std::vector<Index> offsets_;
  autograd::Tape<double> tape_;
};

// Checks every input's gradient of sum(forward(inputs) * R) against central
// differences, in double.
template <class F>
::testing::AssertionResult check_gradients(const GradientCase& c, F&& forward) {
  Rng rng(c.seed);
  const std::vector<Vector<double>> values = case_values(c, rng);
  Vector<double> weights;
  const Pass<double> analytic = run_pass<double>(c, values, weights, rng, forward);

  ConstantLoss<std::remove_reference_t<F>> loss(c, weights, forward);
  const Vector<double> numeric =
      numeric_gradient([&](const Vector<double>& x) { return loss(x); }, loss.flatten(values), c.step);

  std::ostringstream failures;
  bool ok = true;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!analytic.has_gradient[k]) {
      ok = false;
      failures << "\n  input " << k << " " << c.shapes[k].str() << ": no gradient";
      continue;
    }
    const Vector<double> want = numeric.segment(loss.offset(k), values[k].size());
    const Vector<double>& got = analytic.gradients[k];
    const double error = max_relative_error(got, want);
    if (!(error <= c.tolerance)) {
      ok = false;
      Index worst = 0;
      for (Index i = 0; i < got.size(); ++i)
        if (!(std::abs(got[i] - want[i]) <= std::abs(got[worst] - want[worst]))) worst = i;
      failures << "\n  input " << k << " " << c.shapes[k].str() << ": error " << error << " > " << c.tolerance
               << ", worst at element " << worst << ": analytic " << got[worst] << ", numeric " << want[worst];
    }
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "gradients differ from central differences:" << failures.str();
}

// Checks, for one random direction d_k in [-1, 1) per input, that the
// gradient's projection <g_k, d_k> matches the central difference of L
// along d_k (step c.step), to c.tolerance relative to max(1, |difference|).
template <class F>
::testing::AssertionResult check_directional_derivatives(const GradientCase& c, F&& forward) {
  Rng rng(c.seed);
  const std::vector<Vector<double>> values = case_values(c, rng);
  Vector<double> weights;
  const Pass<double> analytic = run_pass<double>(c, values, weights, rng, forward);

  ConstantLoss<std::remove_reference_t<F>> loss(c, weights, forward);
  const Vector<double> flat = loss.flatten(values);
  std::ostringstream failures;
  bool ok = true;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!analytic.has_gradient[k]) {
      ok = false;
      failures << "\n  input " << k << " " << c.shapes[k].str() << ": no gradient";
      continue;
    }
    Vector<double> direction(values[k].size());
    for (Index i = 0; i < direction.size(); ++i) direction[i] = rng.uniform(-1, 1);
    Vector<double> x = flat;
    x.segment(loss.offset(k), direction.size()) += c.step * direction;
    const double up = loss(x);
    x.segment(loss.offset(k), direction.size()) -= 2 * c.step * direction;
    const double down = loss(x);
    const double numeric = (up - down) / (2 * c.step);
    const double projected = analytic.gradients[k].dot(direction);
    const double error = std::abs(projected - numeric) / std::max(1.0, std::abs(numeric));
    if (!(error <= c.tolerance)) {
      ok = false;
      failures << "\n  input " << k << " " << c.shapes[k].str() << ": error " << error << " > " << c.tolerance
               << ": analytic " << projected << ", numeric " << numeric;
    }
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "directional derivatives differ from central differences:"
                                       << failures.str();
}

// Runs the same case in float and in double and checks that outputs and
// gradients agree to `tolerance`, relative to max(1, |double value|).
template <class F>
::testing::AssertionResult compare_float_with_double(const GradientCase& c, F&& forward, double tolerance = 1e-4) {
  Rng rng(c.seed);
  const std::vector<Vector<double>> values = case_values(c, rng);
  Vector<double> weights;
  const Pass<double> d = run_pass<double>(c, values, weights, rng, forward);
  const Pass<float> f = run_pass<float>(c, values, weights, rng, forward);
  if (!(f.output_shape == d.output_shape))
    return ::testing::AssertionFailure() << "output shapes " << f.output_shape.str() << " (float) and "
                                         << d.output_shape.str() << " (double) differ";
  std::ostringstream failures;
  bool ok = true;
  const double out_error = max_relative_error(f.output, d.output);
  if (!(out_error <= tolerance)) {
    ok = false;
    failures << "\n  output: error " << out_error;
  }
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (f.has_gradient[k] != d.has_gradient[k]) {
      ok = false;
      failures << "\n  input " << k << ": a gradient in one precision only";
      continue;
    }
    const double error = max_relative_error(f.gradients[k], d.gradients[k]);
    if (!(error <= tolerance)) {
      ok = false;
      failures << "\n  input " << k << " " << c.shapes[k].str() << ": gradient error " << error;
    }
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "float and double differ by more than " << tolerance << ":"
                                       << failures.str();
}

}  // namespace descent::testing
