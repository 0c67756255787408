// Hyper-parameter search: the space's syntax, ASHA's promotions on a tiny
// space with a runner whose losses are known, budgets and failures.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <stdexcept>

#include "descent/core/error.hpp"
#include "descent/train/tune.hpp"

namespace descent::train {
namespace {

TEST(SearchSpace, ParsesEachKindAndSamplesWithinItsRange) {
  const std::vector<std::string> texts = {"lr=log:1e-4..1e-1", "momentum=uniform:0.8..0.99", "hidden=int:16..18",
                                          "optimizer=choice:adam,sgd,lion"};
  const auto space = SearchSpace::parse(texts);
  ASSERT_EQ(space.dimensions.size(), 4u);
  EXPECT_EQ(space.dimensions[3].choices, (std::vector<std::string>{"adam", "sgd", "lion"}));
  Rng rng(1);
  std::set<std::string> hidden, optimizers;
  double lo = 1, hi = 0;
  int below_1e3 = 0;
  for (int i = 0; i < 400; ++i) {
    auto c = space.sample(rng);
    const double lr = std::stod(c["lr"]);
    lo = std::min(lo, lr), hi = std::max(hi, lr);
    below_1e3 += lr < 1e-3;
    const double m = std::stod(c["momentum"]);
    EXPECT_TRUE(m >= 0.8 && m <= 0.99) << m;
    hidden.insert(c["hidden"]);
    optimizers.insert(c["optimizer"]);
  }
  EXPECT_GE(lo, 1e-4);
  EXPECT_LE(hi, 1e-1);
  EXPECT_NEAR(below_1e3 / 400.0, 1.0 / 3, 0.08);  // log-uniform: a third of the decades lie below 1e-3
  EXPECT_EQ(hidden, (std::set<std::string>{"16", "17", "18"}));
  EXPECT_EQ(optimizers.size(), 3u);
  for (const auto& d : space.dimensions) EXPECT_EQ(Dimension::parse(d.describe()).describe(), d.describe());
}

TEST(SearchSpace, MalformedEntriesAreRefusedSayingWhatWasExpected) {
  for (const char* bad : {"lr", "lr=log", "lr=log:0..1", "lr=log:1..0.5", "lr=cubic:1..2", "n=int:1.5..3",
                          "x=uniform:a..b", "x=choice:a,,b", "=uniform:0..1", "x=uniform:0..inf"}) {
    const std::vector<std::string> one = {bad};
    EXPECT_THROW(SearchSpace::parse(one), invalid_argument) << bad;
  }
  const std::vector<std::string> twice = {"lr=log:1e-3..1", "lr=uniform:0..1"};
  EXPECT_THROW(SearchSpace::parse(twice), invalid_argument);
}

TEST(Rungs, GrowByEtaUpToTheLastEpochs) {
  EXPECT_EQ(rung_epochs({.max_epochs = 9, .min_epochs = 1, .eta = 3}), (std::vector<Index>{1, 3, 9}));
  EXPECT_EQ(rung_epochs({.max_epochs = 10, .min_epochs = 2, .eta = 2}), (std::vector<Index>{2, 4, 8, 10}));
  EXPECT_EQ(rung_epochs({.max_epochs = 1}), (std::vector<Index>{1}));
  EXPECT_EQ(rung_epochs({.scheduler = TuneOptions::Scheduler::random, .max_epochs = 9}), (std::vector<Index>{9}));
}

// Losses known from the configuration: x / epoch, so that a trial's rank
// is the same at every rung. Records every call.
class KnownLosses final : public TrialRunner {
 public:
  struct Call {
    Index id, from, to;
  };
  std::vector<double> advance(Index id, const Configuration& c, Index from, Index to) override {
    std::lock_guard lock(mutex_);
    calls.push_back({id, from, to});
    const double x = std::stod(c.at("x"));
    std::vector<double> out;
    for (Index e = from + 1; e <= to; ++e) {
      if (x > fail_above) break;  // "diverged": fewer losses than asked
      out.push_back(x / double(e));
    }
    return out;
  }
  void release(Index id) override {
    std::lock_guard lock(mutex_);
    released.push_back(id);
  }
  std::vector<Call> calls;
  std::vector<Index> released;
  double fail_above = INFINITY;
  std::mutex mutex_;
};

const std::vector<std::string> unit_space = {"x=uniform:0..1"};

TEST(Asha, PromotesTheBestThirdOfEachRungAsSoonAsItHasOne) {
  const auto space = SearchSpace::parse(unit_space);
  KnownLosses runner;
  const auto r = tune(space, runner,
                      {.sampler = TuneOptions::Sampler::random, .trials = 9, .max_epochs = 9, .min_epochs = 1, .eta = 3,
                       .seed = 2});
  ASSERT_EQ(r.trials.size(), 9u);
  auto x = [&](Index id) { return std::stod(r.trials[std::size_t(id)].config.at("x")); };
  // Jobs 0, 1, 2 start trials; rung 0 then has three, and the best of them
  // is promoted at once, before a fourth trial starts.
  ASSERT_GE(runner.calls.size(), 4u);
  for (Index i = 0; i < 3; ++i) EXPECT_EQ(runner.calls[std::size_t(i)].from, 0);
  Index best = 0;
  for (Index i = 1; i < 3; ++i)
    if (x(i) < x(best)) best = i;
  EXPECT_EQ(runner.calls[3].id, best);
  EXPECT_EQ(runner.calls[3].from, 1);
  EXPECT_EQ(runner.calls[3].to, 3);
  // Every promotion out of rung 0 was in the best third of the trials
  // rung 0 held at the time; over 9 trials, 3 reach rung 1 and 1 rung 2.
  EXPECT_EQ(r.rung_sizes, (std::vector<Index>{9, 3, 1}));
  EXPECT_EQ(r.promotions, 4);
  EXPECT_EQ(r.epochs, 9 * 1 + 3 * 2 + 1 * 6);
  // The trial trained to the end is the best of all nine, and it is the best.
  Index best_of_all = 0;
  for (Index i = 1; i < 9; ++i)
    if (x(i) < x(best_of_all)) best_of_all = i;
  EXPECT_EQ(r.best, best_of_all);
  EXPECT_TRUE(r.trials[std::size_t(best_of_all)].completed);
  EXPECT_EQ(r.trials[std::size_t(best_of_all)].losses.size(), 9u);
  EXPECT_DOUBLE_EQ(r.trials[std::size_t(best_of_all)].loss, x(best_of_all) / 9);
  EXPECT_EQ(runner.released.size(), 9u);  // every trial's state goes by the end
}

TEST(Asha, TheSameSeedGivesTheSameSearchAndWorkersTrainTheSameTrials) {
  const auto space = SearchSpace::parse(unit_space);
  KnownLosses a, b, c;
  const TuneOptions o{.sampler = TuneOptions::Sampler::random, .trials = 12, .max_epochs = 9, .seed = 5};
  const auto ra = tune(space, a, o), rb = tune(space, b, o);
  ASSERT_EQ(a.calls.size(), b.calls.size());
  for (std::size_t i = 0; i < a.calls.size(); ++i) EXPECT_EQ(a.calls[i].id, b.calls[i].id);
  EXPECT_EQ(ra.best, rb.best);
  TuneOptions parallel = o;
  parallel.workers = 3;
  const auto rc = tune(space, c, parallel);
  ASSERT_EQ(rc.trials.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(rc.trials[i].config, ra.trials[i].config);
}

TEST(Asha, TheParzenSamplerDrawsItsLaterTrialsNearTheBest) {
  // Loss |x - 0.3| + |log10(lr) + 2|, the same at every epoch.
  const std::vector<std::string> texts = {"x=uniform:0..1", "lr=log:1e-4..1", "kind=choice:a,b,c"};
  const auto space = SearchSpace::parse(texts);
  class Bowl final : public TrialRunner {
    std::vector<double> advance(Index, const Configuration& c, Index from, Index to) override {
      const double loss = std::abs(std::stod(c.at("x")) - 0.3) + std::abs(std::log10(std::stod(c.at("lr"))) + 2) +
                          (c.at("kind") == "b" ? 0 : 0.5);
      return std::vector<double>(std::size_t(to - from), loss);
    }
  };
  for (std::uint64_t seed : {1, 2, 3}) {
    Bowl bowl, plain;
    const TuneOptions tpe{.scheduler = TuneOptions::Scheduler::random, .sampler = TuneOptions::Sampler::tpe,
                          .trials = 60, .max_epochs = 1, .seed = seed};
    TuneOptions random = tpe;
    random.sampler = TuneOptions::Sampler::random;
    const auto a = tune(space, bowl, tpe), b = tune(space, plain, random);
    auto mean_of_last = [](const TuneResult& r) {
      double sum = 0;
      for (std::size_t i = 30; i < 60; ++i) sum += r.trials[i].loss;
      return sum / 30;
    };
    EXPECT_LT(mean_of_last(a), 0.6 * mean_of_last(b)) << seed;
    for (const auto& t : a.trials) {  // every draw inside the space
      const double x = std::stod(t.config.at("x")), lr = std::stod(t.config.at("lr"));
      EXPECT_TRUE(x >= 0 && x <= 1 && lr >= 1e-4 && lr <= 1) << x << " " << lr;
    }
  }
}

TEST(Asha, ABudgetOfEpochsIsNeverPassedAndRandomSearchTrainsEveryTrialToTheEnd) {
  const auto space = SearchSpace::parse(unit_space);
  KnownLosses runner;
  const auto r = tune(space, runner, {.trials = 100, .max_epochs = 9, .budget_epochs = 20, .seed = 1});
  EXPECT_LE(r.epochs, 20);
  EXPECT_GE(r.epochs, 18);
  KnownLosses plain;
  const auto random = tune(space, plain, {.scheduler = TuneOptions::Scheduler::random, .trials = 4, .max_epochs = 5});
  EXPECT_EQ(random.epochs, 20);
  for (const auto& t : random.trials) EXPECT_TRUE(t.completed);
  EXPECT_EQ(random.promotions, 0);
}

TEST(Asha, AFailedTrialIsNeverPromotedAndARunnersErrorEndsTheSearch) {
  const auto space = SearchSpace::parse(unit_space);
  KnownLosses runner;
  runner.fail_above = 0.5;
  const auto r = tune(space, runner, {.trials = 9, .max_epochs = 9, .seed = 3});
  for (const auto& t : r.trials) {
    if (std::stod(t.config.at("x")) > 0.5) {
      EXPECT_TRUE(t.failed);
      EXPECT_TRUE(std::isinf(t.loss));
      EXPECT_EQ(t.epochs, 0);
    }
  }
  class Throws final : public TrialRunner {
    std::vector<double> advance(Index, const Configuration&, Index, Index) override {
      throw std::runtime_error("out of disk");
    }
  } throws;
  EXPECT_THROW(tune(space, throws, {.trials = 5, .workers = 2}), std::runtime_error);
  EXPECT_THROW(tune(space, runner, {.eta = 1}), invalid_argument);
  EXPECT_THROW(tune(space, runner, {.max_epochs = 3, .min_epochs = 4}), invalid_argument);
}

}  // namespace
}  // namespace descent::train
