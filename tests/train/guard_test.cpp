// What a long run survives: divergence (stop or roll back), interruption
// between steps, checkpoints that cannot be written, and checkpoints from
// another model or optimizer.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "descent/train/checkpoint.hpp"
#include "descent/train/trainer.hpp"
#include "support/temp_dir.hpp"

namespace descent::train {
namespace {

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

struct Run {
  nn::Model<float> model;
  Vector<float> x;
  std::unique_ptr<optim::Stepper<float>> stepper;
  TrainResult result;
};

Run train(const std::string& spec, const std::string& method, const data::Dataset& d, const TrainOptions& o,
          TrainCallback* callback = nullptr) {
  Run r{nn::make_model<float>(spec), {}, nullptr, {}};
  r.x.resize(r.model.num_parameters());
  r.model.initialize(r.x, 7);
  r.stepper = optim::make_stepper<float>(method, r.model.layout(), r.x);
  r.result = fit(r.model, r.x, d, nullptr, *r.stepper, o, callback);
  return r;
}

struct Rollbacks : TrainCallback {
  void on_rollback(const RollbackRecord& r) override { records.push_back(r); }
  std::vector<RollbackRecord> records;
};

// Plain SGD on a linear regression diverges above lr = 2 / lambda_max of
// the features' second moment (about 1 here); at 16 it overflows within a
// few dozen steps; a few halvings bring it to where it converges.
TEST(DivergenceGuard, StopEndsTheRunAtTheFirstDivergence) {
  const auto d = line(256, 1);
  const auto r = train("linear:2", "sgd", d, {.epochs = 20, .batch_size = 16, .lr = 16});
  EXPECT_EQ(r.result.status, Status::diverged) << r.result.message;
  EXPECT_EQ(r.result.rollbacks, 0);
  EXPECT_TRUE(r.x.allFinite());
}

TEST(DivergenceGuard, RollbackHalvesTheRateUntilTheRunConverges) {
  const auto d = line(256, 1);
  Rollbacks log;
  const auto r = train("linear:2", "sgd", d,
                       {.epochs = 20, .batch_size = 16, .lr = 16, .on_divergence = TrainOptions::OnDivergence::rollback,
                        .max_rollbacks = 10, .snapshot_every = 4},
                       &log);
  EXPECT_EQ(r.result.status, Status::max_iterations) << r.result.message;
  EXPECT_GE(r.result.rollbacks, 3);
  ASSERT_EQ(log.records.size(), std::size_t(r.result.rollbacks));
  for (std::size_t k = 0; k < log.records.size(); ++k) {
    EXPECT_EQ(log.records[k].rollback, Index(k) + 1);
    EXPECT_DOUBLE_EQ(log.records[k].lr_scale, std::ldexp(1.0, -int(k) - 1));
    EXPECT_LT(log.records[k].restored_step, log.records[k].step);
    EXPECT_FALSE(log.records[k].reason.empty());
  }
  EXPECT_NE(r.result.message.find("rollback"), std::string::npos) << r.result.message;
  EXPECT_LT(r.result.train_loss, 1e-6);  // it fits the line
  EXPECT_NEAR(r.x[0], 2.0, 1e-3);
  EXPECT_NEAR(r.x[1], -1.0, 1e-3);
}

TEST(DivergenceGuard, RollbackGivesUpAfterMaxRollbacksWithTheLastGoodWeights) {
  const auto d = line(256, 1);
  const auto r = train("linear:2", "sgd", d,
                       {.epochs = 20, .batch_size = 16, .lr = 1e6, .on_divergence = TrainOptions::OnDivergence::rollback,
                        .max_rollbacks = 2});
  EXPECT_EQ(r.result.status, Status::diverged) << r.result.message;
  EXPECT_EQ(r.result.rollbacks, 2);
  EXPECT_NE(r.result.message.find("after 2 rollbacks"), std::string::npos) << r.result.message;
  EXPECT_TRUE(r.x.allFinite());
}

TEST(DivergenceGuard, RollbackRestoresTheOptimizerStateToo) {
  // Adam's moments after a rollback are the snapshot's, not the diverged
  // ones: its step counter goes back with them.
  const auto d = line(256, 1);
  struct StepsAtRollback : TrainCallback {
    explicit StepsAtRollback(optim::Stepper<float>*& s) : stepper(s) {}
    void on_rollback(const RollbackRecord& r) override {
      counters.push_back(stepper->steps());
      restored.push_back(r.restored_step);
    }
    optim::Stepper<float>*& stepper;
    std::vector<std::int64_t> counters;
    std::vector<Index> restored;
  };
  auto model = nn::make_model<float>("linear:2");
  Vector<float> x(model.num_parameters());
  model.initialize(x, 7);
  auto adam = optim::make_stepper<float>("adam", model.layout(), x);
  optim::Stepper<float>* raw = adam.get();
  StepsAtRollback seen(raw);
  const auto r = fit(model, x, d, nullptr, *adam,
                     {.epochs = 5, .batch_size = 16, .lr = 1e3, .on_divergence = TrainOptions::OnDivergence::rollback,
                      .divergence_factor = 10, .max_rollbacks = 20, .snapshot_every = 1},
                     &seen);
  ASSERT_GT(r.rollbacks, 0) << r.message;
  for (std::size_t k = 0; k < seen.counters.size(); ++k) EXPECT_EQ(seen.counters[k], seen.restored[k]);
}

TEST(DivergenceGuard, AnExplodingFiniteLossCountsWithADivergenceFactor) {
  // lr = 2.5 oscillates with a growing amplitude: finite for a long while,
  // far above its best.
  const auto d = line(256, 1);
  const TrainOptions grow{.epochs = 3, .batch_size = 256, .lr = 2.5};
  const auto unguarded = train("linear:2", "sgd", d, grow);
  EXPECT_EQ(unguarded.result.status, Status::max_iterations);
  TrainOptions guarded = grow;
  guarded.divergence_factor = 10;
  const auto stopped = train("linear:2", "sgd", d, guarded);
  EXPECT_EQ(stopped.result.status, Status::diverged);
  EXPECT_NE(stopped.result.message.find("exploding"), std::string::npos) << stopped.result.message;
  guarded.on_divergence = TrainOptions::OnDivergence::rollback;
  guarded.epochs = 60;
  const auto recovered = train("linear:2", "sgd", d, guarded);
  EXPECT_EQ(recovered.result.status, Status::max_iterations) << recovered.result.message;
  EXPECT_GE(recovered.result.rollbacks, 1);
  EXPECT_LT(recovered.result.train_loss, 1e-4) << recovered.result.message;
}

TEST(DivergenceGuard, RejectsOutOfRangeSettings) {
  const auto d = line(16, 1);
  EXPECT_THROW(train("linear:2", "sgd", d, {.divergence_factor = 0.5}), invalid_argument);
  EXPECT_THROW(train("linear:2", "sgd", d, {.divergence_factor = INFINITY}), invalid_argument);
  EXPECT_THROW(train("linear:2", "sgd", d, {.max_rollbacks = -1}), invalid_argument);
  EXPECT_THROW(train("linear:2", "sgd", d, {.snapshot_every = 0}), invalid_argument);
}

class Interruption : public descent::testing::TempDirTest {};

// Sets the flag, as the CLI's signal handler does, during step `at`.
struct SignalAtStep : TrainCallback {
  SignalAtStep(std::atomic<bool>& f, Index s) : flag(f), at(s) {}
  bool on_step(const StepRecord& s) override {
    if (s.step == at) flag = true;
    return true;
  }
  std::atomic<bool>& flag;
  Index at;
};

TEST_F(Interruption, StopsAtAStepBoundaryWritesACheckpointAndResumesBitForBit) {
  const auto d = line(200, 3);
  const TrainOptions o{.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 2};
  const auto straight = train("mlp:2-8-1", "adam", d, o);
  ASSERT_EQ(straight.result.status, Status::max_iterations);
  for (Index at : {Index(30), Index(25)}) {  // mid-epoch 2; the last step of epoch 1 (25 steps an epoch)
    std::atomic<bool> flag{false};
    SignalAtStep signal(flag, at);
    TrainOptions first = o;
    first.interrupt = &flag;
    first.interrupt_checkpoint = (dir_ / "interrupted.ckpt").string();
    const auto stopped = train("mlp:2-8-1", "adam", d, first, &signal);
    EXPECT_EQ(stopped.result.status, Status::interrupted) << stopped.result.message;
    EXPECT_EQ(stopped.result.steps, at);
    EXPECT_EQ(stopped.result.checkpoint_written, first.interrupt_checkpoint);
    const auto info = inspect_checkpoint(first.interrupt_checkpoint);
    EXPECT_EQ(info.steps, at);
    EXPECT_EQ(info.optimizer, "adam");
    EXPECT_EQ(info.rows, 200);
    TrainOptions rest = o;
    rest.resume = first.interrupt_checkpoint;
    const auto resumed = train("mlp:2-8-1", "adam", d, rest);
    EXPECT_EQ(resumed.x, straight.x) << "interrupted at step " << at;
  }
}

TEST_F(Interruption, WithACheckpointPathTheCheckpointGoesThere) {
  const auto d = line(64, 3);
  std::atomic<bool> flag{true};  // already set: stops after the first step
  TrainOptions o{.epochs = 2, .batch_size = 8, .lr = 0.01};
  o.checkpoint = (dir_ / "run.ckpt").string();
  o.interrupt = &flag;
  o.interrupt_checkpoint = (dir_ / "elsewhere.ckpt").string();
  const auto r = train("linear:2", "adam", d, o);
  EXPECT_EQ(r.result.status, Status::interrupted);
  EXPECT_EQ(r.result.steps, 1);
  EXPECT_EQ(r.result.checkpoint_written, o.checkpoint);
  EXPECT_FALSE(std::filesystem::exists(o.interrupt_checkpoint));
}

class CheckpointFaults : public descent::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved_), 0);
  }
  void TearDown() override {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    TempDirTest::TearDown();
  }
  static void limit_file_size(rlim_t bytes) {
    rlimit l{};
    ::getrlimit(RLIMIT_FSIZE, &l);
    l.rlim_cur = bytes;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &l), 0);
  }
  rlimit saved_{};
};

TEST_F(CheckpointFaults, AFailingWriteIsReportedAndThePreviousCheckpointSurvives) {
  const auto d = line(200, 3);
  // The disk "fills up" after epoch 1's checkpoint: the one after epoch 2
  // cannot be written.
  struct FillTheDisk : TrainCallback {
    bool on_epoch(const EpochRecord& e) override {
      if (e.epoch == 2) limit_file_size(512);
      return true;
    }
  } fill;
  TrainOptions o{.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 2};
  o.checkpoint = (dir_ / "run.ckpt").string();
  try {
    train("mlp:2-8-1", "adam", d, o, &fill);
    ADD_FAILURE() << "a checkpoint that could not be written went unreported";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(o.checkpoint), std::string::npos) << what;
    EXPECT_NE(what.find("File too large"), std::string::npos) << what;
  }
  limit_file_size(RLIM_INFINITY);
  // The checkpoint of epoch 1 is whole, and no temporary is left beside it.
  const auto info = inspect_checkpoint(o.checkpoint);
  EXPECT_EQ(info.epoch, 2);
  EXPECT_EQ(info.position, 0);
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  // And it resumes to the run that never failed.
  const auto straight = train("mlp:2-8-1", "adam", d, {.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 2});
  TrainOptions rest{.epochs = 4, .batch_size = 8, .lr = 0.01, .seed = 2};
  rest.resume = o.checkpoint;
  EXPECT_EQ(train("mlp:2-8-1", "adam", d, rest).x, straight.x);
}

class ForeignCheckpoints : public descent::testing::TempDirTest {
 protected:
  std::string checkpoint_of(const std::string& spec, const std::string& method) {
    TrainOptions o{.epochs = 1, .batch_size = 8, .lr = 0.01};
    o.checkpoint = (dir_ / (spec + "-" + method + ".ckpt")).string();
    std::replace(o.checkpoint.begin() + Index(dir_.string().size()), o.checkpoint.end(), ':', '_');
    train(spec, method, d_, o);
    return o.checkpoint;
  }
  std::string refusal(const std::string& spec, const std::string& method, const std::string& resume) {
    TrainOptions o{.epochs = 2, .batch_size = 8, .lr = 0.01};
    o.resume = resume;
    try {
      train(spec, method, d_, o);
    } catch (const parse_error& e) {
      return e.what();
    }
    return "accepted";
  }
  data::Dataset d_ = line(64, 3);
};

TEST_F(ForeignCheckpoints, AnotherModelIsRefusedNamingBothShapes) {
  const auto path = checkpoint_of("mlp:2-8-1", "adam");
  const auto why = refusal("mlp:2-4-1", "adam", path);
  EXPECT_NE(why.find("another model"), std::string::npos) << why;
  EXPECT_NE(why.find("0.weight 8x2"), std::string::npos) << why;  // the checkpoint's
  EXPECT_NE(why.find("0.weight 4x2"), std::string::npos) << why;  // this run's
  EXPECT_NE(why.find(path), std::string::npos) << why;
}

TEST_F(ForeignCheckpoints, AnotherOptimizerIsRefusedNamingBoth) {
  const auto path = checkpoint_of("mlp:2-8-1", "adam");
  const auto why = refusal("mlp:2-8-1", "sgd", path);
  EXPECT_NE(why.find("adam"), std::string::npos) << why;
  EXPECT_NE(why.find("sgd"), std::string::npos) << why;
}

TEST_F(ForeignCheckpoints, TruncatedAndBitFlippedCheckpointsAreRefused) {
  const auto path = checkpoint_of("mlp:2-8-1", "adam");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto damaged = (dir_ / "damaged.ckpt").string();
  // Every truncation point of the header and a spread of them in the data,
  // and a bit flipped at a spread of offsets: each refused, none crashing.
  for (std::size_t cut = 0; cut < bytes.size(); cut += cut < 1200 ? 1 : 97) {
    std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
    EXPECT_NE(refusal("mlp:2-8-1", "adam", damaged), "accepted") << "cut at " << cut;
  }
  for (std::size_t at = 0; at < bytes.size(); at += 13) {
    std::string flipped = bytes;
    flipped[at] = char(flipped[at] ^ 0x10);
    std::ofstream(damaged, std::ios::binary | std::ios::trunc) << flipped;
    const auto why = refusal("mlp:2-8-1", "adam", damaged);
    // A flip inside a JSON string of the header can leave it valid (an
    // unused metadata value): then the run may go on, from intact tensors.
    if (why == "accepted") {
      const auto header_end = 8 + std::size_t(static_cast<unsigned char>(bytes[0])) +
                              (std::size_t(static_cast<unsigned char>(bytes[1])) << 8);
      EXPECT_LT(at, header_end) << "a flipped tensor byte at " << at << " was accepted";
    }
  }
}

}  // namespace
}  // namespace descent::train
