// The worked example of docs/autograd.md: a user-defined loss (log-cosh)
// built from primitives, fitted with L-BFGS.
#include <gtest/gtest.h>

#include <cmath>

#include "descent/autograd/ops.hpp"
#include "descent/solvers/lbfgs.hpp"

namespace descent {
namespace {

using autograd::Tape;
using autograd::Tensor;

template <class T>
Tensor<T> log_cosh_loss(const Tensor<T>& prediction, const Tensor<T>& target) {
  const Tensor<T> r = prediction - target;
  return autograd::mean(autograd::softplus(r * T(2)) - r - T(std::log(2.0)));
}

struct RobustLine {
  const std::vector<double>& x;
  const std::vector<double>& y;
  bool robust = true;
  Tape<double> tape;

  double value_and_gradient(ConstVectorRef<double> w, VectorRef<double> g) {
    tape.reset();
    g.setZero();
    const Index n = static_cast<Index>(x.size());
    auto weight = tape.parameter(w.data(), g.data(), {1, 1});
    auto bias = tape.parameter(w.data() + 1, g.data() + 1, {1});
    auto inputs = tape.constant(x.data(), {n, 1});
    auto targets = tape.constant(y.data(), {n, 1});
    auto prediction = autograd::linear(inputs, weight, bias);
    auto loss = robust ? log_cosh_loss(prediction, targets) : autograd::mse_loss(prediction, targets);
    tape.backward(loss);
    return loss.item();
  }
};

TEST(CustomLoss, LogCoshEqualsItsDefinitionAndStaysFiniteFarOut) {
  Tape<double> tape;
  const std::vector<double> p{0.3, -2.0, 800.0}, t{0.0, 0.5, 0.0};
  const auto loss = log_cosh_loss(tape.constant(p.data(), {3}), tape.constant(t.data(), {3}));
  const double expected = (std::log(std::cosh(0.3)) + std::log(std::cosh(-2.5)) + (800.0 - std::log(2.0))) / 3;
  EXPECT_NEAR(loss.item(), expected, 1e-12);
}

TEST(CustomLoss, LogCoshFitIgnoresOutliersThatPullLeastSquaresAway) {
  Rng rng(3);
  std::vector<double> x, y;
  for (int i = 0; i < 200; ++i) {
    const double xi = rng.uniform(-3, 3);
    x.push_back(xi);
    y.push_back(2 * xi + 1 + 0.1 * rng.normal() + (i % 10 == 0 ? 40.0 : 0.0));  // 20 gross outliers
  }
  RobustLine robust{x, y};
  Vector<double> w = Vector<double>::Zero(2);
  const auto result = lbfgs(robust, w, LbfgsOptions{.stop = {.gradient_tolerance = 1e-7}});
  EXPECT_TRUE(result.converged()) << result.message;
  // Each outlier pulls with a force of at most 1 (tanh of its residual):
  // 20 of them against 180 points move the intercept by about 0.1.
  EXPECT_NEAR(w[0], 2.0, 0.05);
  EXPECT_NEAR(w[1], 1.0, 0.15);

  RobustLine squares{x, y, false};
  Vector<double> v = Vector<double>::Zero(2);
  lbfgs(squares, v, LbfgsOptions{.stop = {.gradient_tolerance = 1e-7}});
  EXPECT_GT(std::abs(v[1] - 1.0), 3.0) << v[1];  // least squares' intercept is dragged up by the outliers
}

}  // namespace
}  // namespace descent
