// The learning-rate range test and the plateau report.
#include <gtest/gtest.h>

#include <cmath>

#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/train/lr_find.hpp"
#include "descent/train/trainer.hpp"
#include "support/training.hpp"

namespace descent::train {
namespace {

// Logistic regression on two overlapping Gaussian classes in 5 features
// (a convex problem whose best rate is not at the edge of any sweep).
data::Dataset classes(Index n, std::uint64_t seed) {
  Rng rng(seed);
  data::Dataset d;
  d.rows = n;
  d.features = 5;
  for (Index i = 0; i < n; ++i) {
    const int label = int(i % 2);
    for (int j = 0; j < 5; ++j) d.x.push_back(float((label ? 0.6 : -0.6) * (j + 1) / 3.0 + rng.normal()));
    d.y.push_back(float(label));
  }
  return d;
}

using Setup = testing::TrainingSetup;

Setup setup(const std::string& spec, const std::string& method, std::uint64_t seed) {
  return testing::training_setup(spec, method, seed);
}

TEST(RangeTest, TheSuggestionIsWithinAFactorOfFourOfTheBestRateOfASweep) {
  const auto train_set = classes(2000, 1), validation = classes(1000, 2);
  for (const char* method : {"sgd", "adam"}) {
    auto s = setup("logistic:5-2", method, 3);
    const auto r = lr_range_test(s.model, s.x, train_set, *s.stepper, {.batch_size = 32, .seed = 4});
    ASSERT_FALSE(std::isnan(r.suggestion)) << r.message;
    EXPECT_LT(r.lowest_loss, 0.8 * r.initial_loss) << r.message;
    EXPECT_LT(r.suggestion, r.minimum_lr);
    // The sweep: two epochs from the same start at rates a third of a
    // decade apart, scored on held-out rows.
    double best_lr = 0, best_loss = std::numeric_limits<double>::infinity();
    for (double lr = 1e-4; lr < 30; lr *= std::pow(10.0, 1.0 / 3)) {
      auto t = setup("logistic:5-2", method, 3);
      const auto f = fit(t.model, t.x, train_set, nullptr, *t.stepper,
                         {.epochs = 2, .batch_size = 32, .lr = lr, .seed = 4, .plateau_epochs = 0});
      const double loss = f.status == Status::diverged ? INFINITY : evaluate(t.model, t.x, validation).loss;
      if (loss < best_loss) best_loss = loss, best_lr = lr;
    }
    EXPECT_GT(r.suggestion, best_lr / 4) << method << ": " << r.message << "; best of the sweep " << best_lr;
    EXPECT_LT(r.suggestion, best_lr * 4) << method << ": " << r.message << "; best of the sweep " << best_lr;
  }
}

TEST(RangeTest, TheWeightsAndTheSteppersStateComeBackAsTheyWere) {
  const auto train_set = classes(300, 1);
  auto s = setup("mlp:5-8-2", "adam", 3);
  const Vector<float> before = s.x;
  const auto r = lr_range_test(s.model, s.x, train_set, *s.stepper, {.steps = 50, .batch_size = 16});
  EXPECT_EQ(r.curve.size() <= 50, true);
  EXPECT_EQ(s.x, before);
  EXPECT_EQ(s.stepper->steps(), 0);
  // Training after the test takes the very steps of a run without it.
  auto fresh = setup("mlp:5-8-2", "adam", 3);
  const TrainOptions o{.epochs = 2, .batch_size = 16, .lr = 0.01, .seed = 5};
  fit(s.model, s.x, train_set, nullptr, *s.stepper, o);
  fit(fresh.model, fresh.x, train_set, nullptr, *fresh.stepper, o);
  EXPECT_EQ(s.x, fresh.x);
}

TEST(RangeTest, TheRateGrowsGeometricallyAndTheTestStopsOnDivergence) {
  const auto train_set = classes(500, 1);
  auto s = setup("logistic:5-2", "sgd", 3);
  const auto r = lr_range_test(s.model, s.x, train_set, *s.stepper,
                               {.lr_min = 1e-3, .lr_max = 1e6, .steps = 90, .batch_size = 50});
  ASSERT_GE(r.curve.size(), 3u);
  EXPECT_LT(r.curve.size(), 90u) << r.message;
  EXPECT_TRUE(r.diverged);
  EXPECT_DOUBLE_EQ(r.curve[0].lr, 1e-3);
  EXPECT_NEAR(r.curve[1].lr / r.curve[0].lr, std::pow(1e9, 1.0 / 89), 1e-9);
  EXPECT_NE(r.message.find("stopped as"), std::string::npos) << r.message;
}

TEST(RangeTest, ACurveThatNeverFallsHasNoSuggestion) {
  const auto train_set = classes(200, 1);
  auto s = setup("logistic:5-2", "sgd", 3);
  const auto r = lr_range_test(s.model, s.x, train_set, *s.stepper, {.lr_min = 1e-12, .lr_max = 1e-10, .steps = 20});
  EXPECT_FALSE(r.diverged);
  EXPECT_TRUE(std::isnan(r.suggestion));
  EXPECT_NE(r.message.find("never fell"), std::string::npos) << r.message;
}

TEST(RangeTest, TheSuggestionOfAKnownCurve) {
  // A loss whose minimum over log10(lr) lies at lr = 0.01, steepest at 1e-3.
  RangeTestResult r;
  for (int k = 0; k <= 120; ++k) {
    const double e = -6 + 6.0 * k / 120;  // log10(lr) from -6 to 0
    const double loss = 2 - std::tanh((e + 3) * 1.5) + (e > -2 ? 5 * (e + 2) * (e + 2) : 0);
    r.curve.push_back({std::pow(10.0, e), loss, 0});
  }
  suggest_learning_rate(r);
  EXPECT_NEAR(std::log10(r.steepest_lr), -3, 0.1);
  EXPECT_NEAR(std::log10(r.minimum_lr), -1.9, 0.15);
  EXPECT_DOUBLE_EQ(r.suggestion, r.minimum_lr / 10);
}

TEST(RangeTest, OptionsOutOfRangeAreRefused) {
  const auto train_set = classes(50, 1);
  auto s = setup("logistic:5-2", "sgd", 3);
  for (const RangeTestOptions& o : {RangeTestOptions{.lr_min = 0}, RangeTestOptions{.lr_min = 1, .lr_max = 1},
                                    RangeTestOptions{.steps = 9}, RangeTestOptions{.smoothing = 1},
                                    RangeTestOptions{.divergence = 1}, RangeTestOptions{.batch_size = 0}})
    EXPECT_THROW(lr_range_test(s.model, s.x, train_set, *s.stepper, o), invalid_argument);
}

TEST(Plateau, ALossThatStopsMovingIsReportedAfterTheWindow) {
  const auto train_set = classes(200, 1);
  auto s = setup("logistic:5-2", "sgd", 3);
  // lr = 0: nothing moves; the epochs' mean losses and gradients are equal.
  const auto r = fit(s.model, s.x, train_set, nullptr, *s.stepper,
                     {.epochs = 6, .batch_size = 200, .lr = 0, .seed = 1, .plateau_epochs = 3});
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_EQ(r.history[1].plateau_epochs, 0);
  EXPECT_EQ(r.history[2].plateau_epochs, 3);
  EXPECT_EQ(r.history[5].plateau_epochs, 6);
  EXPECT_EQ(r.plateau_since, 1);
  EXPECT_GT(r.history[5].mean_gradient_norm, 0);
  EXPECT_NE(r.message.find("on a plateau since epoch 1"), std::string::npos) << r.message;
}

TEST(Plateau, ALossThatFallsIsNoPlateauAndTheReportCanBeTurnedOff) {
  const auto train_set = classes(400, 1);
  auto s = setup("logistic:5-2", "sgd", 3);
  auto r = fit(s.model, s.x, train_set, nullptr, *s.stepper, {.epochs = 4, .batch_size = 20, .lr = 0.05, .seed = 1});
  for (const auto& e : r.history) EXPECT_EQ(e.plateau_epochs, 0) << e.epoch;
  EXPECT_EQ(r.plateau_since, 0);
  auto t = setup("logistic:5-2", "sgd", 3);
  r = fit(t.model, t.x, train_set, nullptr, *t.stepper,
          {.epochs = 5, .batch_size = 200, .lr = 0, .seed = 1, .plateau_epochs = 0});
  EXPECT_EQ(r.plateau_since, 0);
  EXPECT_THROW(fit(t.model, t.x, train_set, nullptr, *t.stepper, {.epochs = 2, .plateau_epochs = 1}),
               invalid_argument);
  EXPECT_THROW(fit(t.model, t.x, train_set, nullptr, *t.stepper, {.epochs = 2, .plateau_tolerance = 0}),
               invalid_argument);
}

}  // namespace
}  // namespace descent::train
