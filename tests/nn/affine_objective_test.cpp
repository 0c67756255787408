// The fused one-layer objective against the autograd path (ModelObjective)
// on random data: the same value and gradient to float32 rounding, for each
// loss it serves, for sizes that leave remainders in every tile, with and
// without l2, in float and double, on one thread and on several.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

#include "descent/core/random.hpp"
#include "descent/nn/affine_objective.hpp"
#include "descent/nn/objective.hpp"
#include "descent/nn/spec.hpp"
#include "descent/solvers/lbfgs.hpp"

namespace descent::nn {
namespace {

struct Case {
  std::string spec;  // the model
  Index rows;
  double l2;
  double label_smoothing;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.spec << " on " << c.rows << " rows, l2 " << c.l2 << ", smoothing " << c.label_smoothing;
}

struct Data {
  std::vector<float> x, y;
};

Data random_data(const Model<double>& model, Index rows, std::uint64_t seed) {
  const Index features = model.input_shape().size(), outputs = model.output_shape().size();
  Rng rng(seed);
  Data d;
  d.x.resize(static_cast<std::size_t>(rows * features));
  for (auto& v : d.x) v = float(rng.normal());
  const LossKind kind = model.loss().kind;
  const Index width = model.loss().target_width(outputs);
  d.y.resize(static_cast<std::size_t>(rows * width));
  for (auto& v : d.y) {
    if (kind == LossKind::cross_entropy) v = float(rng.below(std::uint64_t(outputs)));
    else if (kind == LossKind::bce) v = float(rng.below(2));
    else v = float(rng.normal());
  }
  return d;
}

// Compares the two objectives at a random point in precision T.
template <class T>
void expect_same_as_the_autograd_path(const Case& c, int threads) {
  auto model = make_model<T>(c.spec);
  Loss loss = model.loss();
  loss.label_smoothing = c.label_smoothing;
  model.set_loss(loss);
  auto reference_model = make_model<double>(c.spec);
  const Data d = random_data(reference_model, c.rows, 7);
  std::vector<T> x_t(d.x.begin(), d.x.end()), y_t(d.y.begin(), d.y.end());

  ASSERT_TRUE(AffineObjective<T>::supports(model)) << c.spec;
  AffineObjective<T> fused(model, d.x.data(), d.y.data(), c.rows, {.l2 = c.l2});
  ModelObjective<T> reference(model, x_t.data(), y_t.data(), c.rows, {.chunk_rows = 64, .training = false, .l2 = c.l2});

  Vector<T> w(model.num_parameters());
  Rng rng(11);
  for (Index k = 0; k < w.size(); ++k) w[k] = T(0.3 * rng.normal());
  Vector<T> g_fused(w.size()), g_reference(w.size());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  const T f_fused = fused.value_and_gradient(w, g_fused);
  const T f_value = fused.value(w);
  omp_set_num_threads(saved);
  const T f_reference = reference.value_and_gradient(w, g_reference);

  const double tolerance = 2e-5;  // float32 rounding of sums over a few hundred terms
  EXPECT_NEAR(double(f_fused), double(f_reference), tolerance * (1 + std::abs(double(f_reference))));
  EXPECT_EQ(f_value, f_fused);
  const double scale = 1 + double(g_reference.template lpNorm<Eigen::Infinity>());
  for (Index k = 0; k < w.size(); ++k)
    ASSERT_NEAR(double(g_fused[k]), double(g_reference[k]), tolerance * scale) << "parameter " << k;
}

class AffineAgainstAutograd : public ::testing::TestWithParam<Case> {};

TEST_P(AffineAgainstAutograd, SameValueAndGradientInDouble) {
  for (int threads : {1, 2, 3}) expect_same_as_the_autograd_path<double>(GetParam(), threads);
}

TEST_P(AffineAgainstAutograd, SameValueAndGradientInFloat) { expect_same_as_the_autograd_path<float>(GetParam(), 2); }

// Features 37 and 53 leave remainders of the 8- and 16-wide tiles; 7 and 3
// outputs remainders of the 5-wide ones; odd row counts a single-row tile;
// 2100 rows of 37 features several blocks per thread.
INSTANTIATE_TEST_SUITE_P(
    Losses, AffineAgainstAutograd,
    ::testing::Values(Case{"logistic:37-7", 203, 0.0, 0.0}, Case{"logistic:37-7", 203, 1e-2, 0.1},
                      Case{"logistic:53-10", 2100, 1e-3, 0.0}, Case{"logistic:16-2", 1, 0.0, 0.0},
                      Case{"logistic:37", 151, 1e-2, 0.0}, Case{"logistic:64", 2100, 0.0, 0.0},
                      Case{"linear:37", 99, 0.0, 0.0}, Case{"linear:53-3", 2100, 1e-2, 0.0},
                      Case{"linear:5-6", 17, 0.0, 0.0}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(AffineObjective, ServesOneLinearLayerUnderItsLossesOnly) {
  EXPECT_TRUE(AffineObjective<double>::supports(make_model<double>("logistic:4-3")));
  EXPECT_TRUE(AffineObjective<double>::supports(make_model<double>("linear:4")));
  EXPECT_FALSE(AffineObjective<double>::supports(make_model<double>("mlp:4-8-3")));
  auto huber = make_model<double>("linear:4");
  huber.set_loss(Loss{.kind = LossKind::huber});
  EXPECT_FALSE(AffineObjective<double>::supports(huber));
  const std::string kernel = AffineObjective<double>::kernel();
  EXPECT_TRUE(kernel == "avx2" || kernel == "baseline") << kernel;
}

TEST(AffineObjective, RefusesALabelOutsideTheClasses) {
  auto model = make_model<double>("logistic:2-3");
  const std::vector<float> x = {1, 2, 3, 4}, y = {0, 3};
  try {
    AffineObjective<double> f(model, x.data(), y.data(), 2);
    FAIL() << "expected the label 3 to be refused";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 1 is 3"), std::string::npos) << e.what();
  }
}

// L-BFGS on it reaches the autograd path's minimum, to the tolerance float32
// evaluations can resolve (fit_full_batch finishes tighter ones in float64).
TEST(AffineObjective, LbfgsReachesTheSameMinimum) {
  auto model = make_model<double>("logistic:37-7");
  const Data d = random_data(make_model<double>("logistic:37-7"), 500, 3);
  std::vector<double> x_d(d.x.begin(), d.x.end()), y_d(d.y.begin(), d.y.end());
  AffineObjective<double> fused(model, d.x.data(), d.y.data(), 500, {.l2 = 1e-2});
  ModelObjective<double> reference(model, x_d.data(), y_d.data(), 500, {.training = false, .l2 = 1e-2});
  Vector<double> a = Vector<double>::Zero(model.num_parameters()), b = a;
  const LbfgsOptions o{.stop = {.gradient_tolerance = 1e-4, .max_iterations = 500}};
  const auto ra = lbfgs(fused, a, o);
  const auto rb = lbfgs(reference, b, o);
  EXPECT_TRUE(ra.converged()) << ra.message;
  EXPECT_NEAR(ra.value, rb.value, 1e-6 * (1 + std::abs(rb.value)));
  EXPECT_LT((a - b).norm(), 1e-3 * (1 + b.norm()));
}

}  // namespace
}  // namespace descent::nn
