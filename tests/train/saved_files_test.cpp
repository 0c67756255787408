// Files written by an earlier descent: checkpoints resume bit for bit, and
// saved models read back, whatever moved inside the library since.
//
// tests/train/fixtures/ holds files written by the code of 2026-12-05
// (before the training loop was split into its concerns):
//
//   checkpoint_v1.safetensors   a run stopped after step 12 of the recipe
//                               below; its last checkpoint is of step 10,
//                               in the middle of epoch 2
//   checkpoint_v1_end.safetensors
//                               that run resumed to its end: "x", the weights
//   model_v1.safetensors        descent train --save of a standardized
//                               logistic regression on -1/+1 labels
//
// They were written by the disabled test below:
//   bin/test_train --gtest_also_run_disabled_tests
//                  --gtest_filter='SavedFiles.DISABLED_WriteCheckpointFixtures'
// (and the model by tests/train/fixtures/make_model_v1.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "descent/io/safetensors.hpp"
#include "descent/nn/layers.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/train/checkpoint.hpp"
#include "descent/train/model_file.hpp"
#include "descent/train/trainer.hpp"
#include "support/temp_dir.hpp"

namespace descent::train {
namespace {

const std::filesystem::path fixtures = DESCENT_TRAIN_FIXTURES;

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

// Everything a checkpoint can hold: dropout (its generator), early
// stopping (the best weights), a plateau schedule (its state) and the
// divergence guard with a smoothed loss (its state).
nn::Model<float> net() {
  auto seq = std::make_unique<nn::Sequential<float>>();
  seq->add<nn::Linear<float>>(2, 16);
  seq->add<nn::ReLU<float>>();
  seq->add<nn::Dropout<float>>(0.3);
  seq->add<nn::Linear<float>>(16, 2);
  return nn::Model<float>(std::move(seq), nn::Shape{2}, nn::Loss{.kind = nn::LossKind::cross_entropy});
}

TrainOptions recipe() {
  return {.epochs = 4, .batch_size = 7, .lr = 0.01, .schedule = "plateau:1:0.5", .patience = 10, .seed = 3,
          .checkpoint_every = 5, .on_divergence = TrainOptions::OnDivergence::rollback, .divergence_factor = 50,
          .snapshot_every = 3};
}

struct StopAfterStep12 : TrainCallback {
  bool on_step(const StepRecord& s) override { return s.step < 12; }
};

Vector<float> train(const TrainOptions& o, TrainCallback* callback = nullptr) {
  auto model = net();
  Vector<float> x(model.num_parameters());
  model.initialize(x, 5);
  auto adam = optim::make_stepper<float>("adam", model.layout(), x);
  const auto train_set = blobs(50, 1), validation = blobs(20, 2);
  fit(model, x, train_set, &validation, *adam, o, callback);
  return x;
}

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Vector<float> weights_in(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::read(path.string());
  const auto values = file.floats("x");
  return Eigen::Map<const Vector<float>>(values.data(), Index(values.size()));
}

TEST(SavedFiles, DISABLED_WriteCheckpointFixtures) {
  TrainOptions first = recipe();
  first.checkpoint = (fixtures / "checkpoint_v1.safetensors").string();
  StopAfterStep12 stop;
  train(first, &stop);
  TrainOptions rest = recipe();
  rest.resume = first.checkpoint;
  const Vector<float> end = train(rest);
  io::SafetensorsWriter w;
  w.add("x", std::span<const float>(end.data(), std::size_t(end.size())), {end.size()});
  w.write((fixtures / "checkpoint_v1_end.safetensors").string());
}

class OldCheckpoint : public descent::testing::TempDirTest {};

TEST_F(OldCheckpoint, IsReadAsWhatItHolds) {
  const auto info = inspect_checkpoint((fixtures / "checkpoint_v1.safetensors").string());
  EXPECT_EQ(info.optimizer, "adam");
  EXPECT_EQ(info.layout, "0.weight 16x2, 0.bias 16, 3.weight 2x16, 3.bias 2");
  EXPECT_EQ(info.parameters, 82);
  EXPECT_EQ(info.epoch, 2);
  EXPECT_EQ(info.position, 14);  // 8 steps per epoch (7 rows, the last 1): step 10 is the 2nd of epoch 2
  EXPECT_EQ(info.steps, 10);
  EXPECT_EQ(info.rows, 50);
}

TEST_F(OldCheckpoint, ResumesBitForBit) {
  // The bits of a run depend on the machine's arithmetic (its BLAS
  // kernels): the fixture speaks for this machine only if the same run,
  // stopped at the same step, writes the same checkpoint here.
  TrainOptions first = recipe();
  first.checkpoint = (dir_ / "now.safetensors").string();
  StopAfterStep12 stop;
  train(first, &stop);
  if (weights_in(first.checkpoint) != weights_in(fixtures / "checkpoint_v1.safetensors"))
    GTEST_SKIP() << "this machine's arithmetic gives other weights than the one that wrote the fixture";
  // The same run writes the same file, byte for byte: the format is unchanged.
  EXPECT_EQ(bytes_of(first.checkpoint), bytes_of(fixtures / "checkpoint_v1.safetensors"));

  TrainOptions rest = recipe();
  rest.resume = (fixtures / "checkpoint_v1.safetensors").string();
  const Vector<float> resumed = train(rest);
  EXPECT_EQ(resumed, weights_in(fixtures / "checkpoint_v1_end.safetensors"));
  EXPECT_EQ(resumed, train(recipe()));  // and the run that was never stopped
}

TEST_F(OldCheckpoint, AModelSavedBeforeLoadsAndIsWrittenAgainByteForByte) {
  const auto old = fixtures / "model_v1.safetensors";
  EXPECT_FALSE(saved_in_double(old.string()));
  const auto saved = load_model<float>(old.string());
  EXPECT_EQ(saved.about.spec, "logistic:3");
  EXPECT_EQ(saved.about.loss, "bce");
  EXPECT_TRUE(saved.about.signed_labels);
  ASSERT_TRUE(saved.about.scaler.has_value());
  EXPECT_EQ(saved.about.scaler->mean.size(), 3u);
  EXPECT_EQ(saved.x.size(), 4);
  const auto again = dir_ / "again.safetensors";
  save_model(again.string(), saved.model, saved.x, saved.about);
  EXPECT_EQ(bytes_of(again), bytes_of(old));  // no arithmetic: the same on every machine
}

}  // namespace
}  // namespace descent::train
