// The trainer: models that learn, stopping rules, divergence, reproducibility.
#include <gtest/gtest.h>

#include <cmath>

#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/optim/schedule.hpp"
#include "descent/train/trainer.hpp"
#include "support/training.hpp"

namespace descent::train {
namespace {

// Two Gaussian blobs, labels 0 and 1 (separable).
data::Dataset blobs(Index n, std::uint64_t seed) {
  Rng rng(seed);
  data::Dataset d;
  d.rows = n;
  d.features = 2;
  for (Index i = 0; i < n; ++i) {
    const int label = int(i % 2);
    d.x.push_back(float((label ? 3 : -3) + rng.normal()));
    d.x.push_back(float((label ? -2 : 2) + rng.normal()));
    d.y.push_back(float(label));
  }
  return d;
}

// y = 2 a - b + 0.5, exactly.
data::Dataset line(Index n, std::uint64_t seed) {
  Rng rng(seed);
  data::Dataset d;
  d.rows = n;
  d.features = 2;
  for (Index i = 0; i < n; ++i) {
    const double a = rng.normal(), b = rng.normal();
    d.x.push_back(float(a));
    d.x.push_back(float(b));
    d.y.push_back(float(2 * a - b + 0.5));
  }
  return d;
}

using Setup = testing::TrainingSetup;

Setup setup(const std::string& spec, const std::string& method, std::uint64_t seed) {
  return testing::training_setup(spec, method, seed);
}

TEST(Fit, AdamTrainsAnMlpToSeparateBlobs) {
  const auto train_set = blobs(200, 1), validation = blobs(100, 2);
  auto s = setup("mlp:2-8-2", "adam", 3);
  const auto r = fit(s.model, s.x, train_set, &validation, *s.stepper,
                     {.epochs = 15, .batch_size = 16, .lr = 0.01, .seed = 4});
  EXPECT_EQ(r.status, Status::max_iterations) << r.message;
  EXPECT_EQ(r.epochs, 15);
  EXPECT_EQ(r.steps, 15 * 13);  // ceil(200 / 16) steps per epoch
  ASSERT_EQ(r.history.size(), 15u);
  EXPECT_LT(r.history.back().train_loss, 0.2 * r.history.front().train_loss);
  EXPECT_EQ(r.history.back().validation_accuracy, 1.0);
  const auto e = evaluate(s.model, s.x, validation);
  EXPECT_EQ(e.accuracy, 1.0);
  EXPECT_EQ(e.classes, 2);
  EXPECT_EQ(e.confusion[0] + e.confusion[3], 100);  // all on the diagonal
}

TEST(Fit, TheSameSeedGivesBitIdenticalWeights) {
  const auto train_set = blobs(64, 1);
  auto a = setup("mlp:2-6-2:tanh", "adamw", 1), b = setup("mlp:2-6-2:tanh", "adamw", 1);
  const TrainOptions o{.epochs = 3, .batch_size = 5, .lr = 0.01, .seed = 9};
  fit(a.model, a.x, train_set, nullptr, *a.stepper, o);
  fit(b.model, b.x, train_set, nullptr, *b.stepper, o);
  EXPECT_EQ(a.x, b.x);  // exactly
  auto c = setup("mlp:2-6-2:tanh", "adamw", 1);
  TrainOptions other = o;
  other.seed = 10;  // another shuffle
  fit(c.model, c.x, train_set, nullptr, *c.stepper, other);
  EXPECT_NE(a.x, c.x);
}

TEST(Fit, EarlyStoppingRestoresTheBestWeights) {
  const auto train_set = blobs(40, 1), validation = blobs(20, 2);
  auto s = setup("logistic:2", "sgd", 0);
  // A learning rate of 0: the validation loss never improves on epoch 1.
  const auto r = fit(s.model, s.x, train_set, &validation, *s.stepper,
                     {.epochs = 50, .batch_size = 8, .lr = 0, .patience = 3});
  EXPECT_EQ(r.status, Status::converged_value) << r.message;
  EXPECT_EQ(r.epochs, 4);
  EXPECT_EQ(r.best_epoch, 1);
  EXPECT_NE(r.message.find("did not improve for 3 epochs"), std::string::npos) << r.message;
  EXPECT_THROW(fit(s.model, s.x, train_set, nullptr, *s.stepper, {.patience = 2}), invalid_argument);
}

TEST(Fit, APlateauScheduleCutsTheRateWhenTheValidationLossStalls) {
  const auto train_set = blobs(40, 1), validation = blobs(20, 2);
  auto s = setup("logistic:2", "sgd", 0);
  // Plain SGD at a rate too large for this problem: the validation loss
  // bounces, and each epoch without a new best (patience 0) halves the rate.
  const auto r = fit(s.model, s.x, train_set, &validation, *s.stepper,
                     {.epochs = 12, .batch_size = 8, .lr = 20, .schedule = "plateau:0:0.5"});
  ASSERT_EQ(r.history.size(), 12u) << r.message;
  // The rates are those a ReduceOnPlateau fed the same losses gives.
  optim::ReduceOnPlateau expected(20, {.factor = 0.5, .patience = 0});
  int cuts = 0;
  for (const EpochRecord& e : r.history) {
    EXPECT_EQ(e.lr, expected.lr()) << "epoch " << e.epoch;
    cuts += expected.report(e.validation_loss);
  }
  EXPECT_GE(cuts, 1);
  EXPECT_LT(r.history.back().lr, 20.0);
  EXPECT_THROW(fit(s.model, s.x, train_set, nullptr, *s.stepper, {.schedule = "plateau:x"}), invalid_argument);
}

TEST(Fit, ANonFiniteLossStopsAsDivergedKeepingTheLastGoodWeights) {
  const auto train_set = line(64, 1);
  auto s = setup("linear:2", "sgd", 0);
  const auto r = fit(s.model, s.x, train_set, nullptr, *s.stepper, {.epochs = 100, .batch_size = 8, .lr = 1e18});
  EXPECT_EQ(r.status, Status::diverged) << r.message;
  EXPECT_GT(r.diverged_at_step, 1);
  EXPECT_TRUE(s.x.allFinite());
  EXPECT_NE(r.message.find("step " + std::to_string(r.diverged_at_step)), std::string::npos) << r.message;
}

TEST(Fit, ACallbackCanStopTheRun) {
  struct StopAfterTwo : TrainCallback {
    bool on_epoch(const EpochRecord& e) override { return e.epoch < 2; }
  } stop;
  const auto train_set = blobs(32, 1);
  auto s = setup("logistic:2", "adam", 0);
  const auto r = fit(s.model, s.x, train_set, nullptr, *s.stepper, {.epochs = 10, .batch_size = 8}, &stop);
  EXPECT_EQ(r.status, Status::stopped_by_callback);
  EXPECT_EQ(r.epochs, 2);
}

TEST(FitFullBatch, LbfgsFitsALinearRegressionExactly) {
  const auto train_set = line(100, 3);
  auto model = nn::make_model<double>("linear:2");
  Vector<double> x(model.num_parameters());
  model.initialize(x, 0);
  const auto r = fit_full_batch(model, x, train_set, Method::lbfgs, {.stop = {.gradient_tolerance = 1e-9}});
  EXPECT_TRUE(r.converged()) << r.message;
  EXPECT_NEAR(x[0], 2, 1e-5);
  EXPECT_NEAR(x[1], -1, 1e-5);
  EXPECT_NEAR(x[2], 0.5, 1e-5);
  const auto e = evaluate(model, x, train_set);
  EXPECT_LT(e.mse, 1e-10);
  EXPECT_NEAR(e.r2, 1.0, 1e-9);
  EXPECT_EQ(e.classes, 0);
}

TEST(FitFullBatch, L2ShrinksTheWeightsOfALogisticRegression) {
  const auto train_set = blobs(100, 5);
  auto model = nn::make_model<double>("logistic:2-2");
  Vector<double> free(model.num_parameters()), shrunk(model.num_parameters());
  model.initialize(free, 0);
  model.initialize(shrunk, 0);
  fit_full_batch(model, free, train_set, Method::lbfgs, {.stop = {.max_iterations = 50}});
  const auto r = fit_full_batch(model, shrunk, train_set, Method::lbfgs, {}, 0.1);
  EXPECT_TRUE(r.converged()) << r.message;
  EXPECT_LT(shrunk.head(4).norm(), free.head(4).norm());
  EXPECT_EQ(evaluate(model, shrunk, train_set).accuracy, 1.0);
}

TEST(Fit, RejectsDataThatDoesNotFitTheModel) {
  auto s = setup("mlp:3-4-2", "sgd", 0);
  const auto two_features = blobs(10, 1);
  EXPECT_THROW(fit(s.model, s.x, two_features, nullptr, *s.stepper, {}), invalid_argument);
  EXPECT_THROW(evaluate(s.model, s.x, two_features), invalid_argument);
  auto t = setup("logistic:2-2", "sgd", 0);
  auto bad_labels = blobs(10, 1);
  bad_labels.y[3] = 2;  // only classes 0 and 1 exist
  EXPECT_THROW(fit(t.model, t.x, bad_labels, nullptr, *t.stepper, {}), invalid_argument);
  EXPECT_THROW(fit(t.model, t.x, blobs(10, 1), nullptr, *t.stepper, {.epochs = 0}), invalid_argument);
}

}  // namespace
}  // namespace descent::train

#include <filesystem>
#include <fstream>

#include "descent/train/checkpoint.hpp"
#include "support/temp_dir.hpp"

namespace descent::train {
namespace {

// A network with dropout, so that the dropout stream must resume too.
nn::Model<float> dropout_net() {
  auto net = std::make_unique<nn::Sequential<float>>();
  net->add<nn::Linear<float>>(2, 16);
  net->add<nn::ReLU<float>>();
  net->add<nn::Dropout<float>>(0.3);
  net->add<nn::Linear<float>>(16, 2);
  return nn::Model<float>(std::move(net), nn::Shape{2}, nn::Loss{.kind = nn::LossKind::cross_entropy});
}

class Checkpoints : public descent::testing::TempDirTest {
 protected:
  // Trains from scratch (or from `resume`) with Adam; returns the weights.
  Vector<float> run(const TrainOptions& o, TrainCallback* callback = nullptr) {
    auto model = dropout_net();
    Vector<float> x(model.num_parameters());
    model.initialize(x, 5);
    auto adam = optim::make_stepper<float>("adam", model.layout(), x);
    fit(model, x, data_, &validation_, *adam, o, callback);
    return x;
  }
  TrainOptions options(Index epochs) const {
    return {.epochs = epochs, .batch_size = 7, .lr = 0.01, .patience = 10, .seed = 3};
  }
  data::Dataset data_ = blobs(50, 1), validation_ = blobs(20, 2);
};

TEST_F(Checkpoints, StoppingAfterAnEpochAndResumingGivesBitIdenticalWeights) {
  const Vector<float> straight = run(options(4));
  TrainOptions first = options(2);
  first.checkpoint = (dir_ / "ckpt.safetensors").string();
  run(first);
  TrainOptions rest = options(4);
  rest.resume = first.checkpoint;
  EXPECT_EQ(run(rest), straight);
}

TEST_F(Checkpoints, ResumingFromTheMiddleOfAnEpochGivesBitIdenticalWeights) {
  const Vector<float> straight = run(options(4));
  struct KillAtStep : TrainCallback {
    bool on_step(const StepRecord& s) override { return s.step < 12; }  // "killed" after step 12
  } kill;
  TrainOptions interrupted = options(4);
  interrupted.checkpoint = (dir_ / "ckpt.safetensors").string();
  interrupted.checkpoint_every = 5;  // the last checkpoint is after step 10, in epoch 2
  run(interrupted, &kill);
  TrainOptions rest = options(4);
  rest.resume = interrupted.checkpoint;
  EXPECT_EQ(run(rest), straight);
}

TEST_F(Checkpoints, APlateauScheduleResumesWithItsState) {
  TrainOptions o = options(5);
  o.lr = 0.5;  // large enough to stall now and then
  o.schedule = "plateau:0:0.5";
  const Vector<float> straight = run(o);
  TrainOptions first = o;
  first.epochs = 3;
  first.checkpoint = (dir_ / "ckpt.safetensors").string();
  run(first);
  TrainOptions rest = o;
  rest.resume = first.checkpoint;
  EXPECT_EQ(run(rest), straight);
  // A checkpoint with plateau state does not resume a run without one.
  TrainOptions constant = options(5);
  constant.resume = first.checkpoint;
  EXPECT_THROW(run(constant), parse_error);
}

TEST_F(Checkpoints, ADamagedCheckpointIsRefused) {
  TrainOptions o = options(1);
  o.checkpoint = (dir_ / "ckpt.safetensors").string();
  run(o);
  std::string bytes;
  {
    std::ifstream in(o.checkpoint, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  bytes[bytes.size() - 3] ^= 0x40;  // a bit of the last tensor
  std::ofstream(o.checkpoint, std::ios::binary) << bytes;
  TrainOptions rest = options(2);
  rest.resume = o.checkpoint;
  try {
    run(rest);
    ADD_FAILURE() << "a damaged checkpoint was accepted";
  } catch (const parse_error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  rest.resume = (dir_ / "missing.safetensors").string();
  EXPECT_THROW(run(rest), std::runtime_error);  // the OS's reason, naming the file
}

}  // namespace
}  // namespace descent::train
