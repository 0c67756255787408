// The contract every stepper shares: clipping, regularization, segments,
// state, errors, and no heap allocation inside step.
#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <set>

#include <Eigen/SVD>
#include <gtest/gtest.h>

#include "descent/core/error.hpp"
#include "descent/optim/factory.hpp"

// Counts heap allocations while `counting` is set (this test binary only).
namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// GCC cannot see that these replace the global pair and warns of a mismatch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace descent::optim {
namespace {

// A matrix segment and a vector segment, so shape-aware methods do both.
Layout two_segments() {
  Layout layout;
  layout.add("w", 3, 5);
  layout.add("b", 5);
  return layout;
}

Vector<double> start(Index n) {
  Vector<double> x(n);
  for (Index i = 0; i < n; ++i) x[i] = std::sin(0.9 * double(i) + 0.3);
  return x;
}

Vector<double> gradient(Index n, int k) {
  Vector<double> g(n);
  for (Index i = 0; i < n; ++i) g[i] = std::cos(0.4 * double(i) + 1.7 * k) * (1 + 0.1 * double(i));
  return g;
}

class EveryStepper : public testing::TestWithParam<std::string> {};

TEST_P(EveryStepper, MakesNoHeapAllocationInsideStep) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  Vector<double> x = start(n);
  const Vector<double> g = gradient(n, 1);
  auto stepper = make_stepper<double>(GetParam(), layout, x, {}, {.clip_norm = 0.5, .l1 = 1e-3});
  stepper->step(x, g, 0.01);  // warm-up
  allocations = 0;
  counting = true;
  for (int k = 0; k < 5; ++k) stepper->step(x, g, 0.01);
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
}

TEST_P(EveryStepper, MakesNoHeapAllocationInsideAProjectedStep) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  Vector<double> x = start(n);
  const Vector<double> g = gradient(n, 1);
  auto stepper = make_stepper<double>(GetParam(), layout, x);
  stepper->set_projection(Projection::box(-0.3, 0.3).on(2, 10).also(Projection::simplex().on(12, 8)));
  stepper->step(x, g, 0.01);  // warm-up: the simplex's sort scratch
  allocations = 0;
  counting = true;
  for (int k = 0; k < 5; ++k) stepper->step(x, g, 0.01);
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
}

TEST_P(EveryStepper, ClippingByNormEqualsSteppingOnTheClippedGradient) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  Vector<double> a = start(n), b = start(n);
  auto clipped = make_stepper<double>(GetParam(), layout, a, {}, {.clip_norm = 0.3});
  auto plain = make_stepper<double>(GetParam(), layout, b);
  for (int k = 1; k <= 4; ++k) {
    const Vector<double> g = gradient(n, k);
    clipped->step(a, g, 0.01);
    plain->step(b, g * (0.3 / g.norm()), 0.01);
  }
  EXPECT_LE((a - b).cwiseAbs().maxCoeff(), 1e-12);
}

TEST_P(EveryStepper, ClippingByValueEqualsSteppingOnTheClampedGradient) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  Vector<double> a = start(n), b = start(n);
  auto clipped = make_stepper<double>(GetParam(), layout, a, {}, {.clip_value = 0.4});
  auto plain = make_stepper<double>(GetParam(), layout, b);
  for (int k = 1; k <= 4; ++k) {
    const Vector<double> g = gradient(n, k);
    clipped->step(a, g, 0.01);
    plain->step(b, g.cwiseMax(-0.4).cwiseMin(0.4), 0.01);
  }
  EXPECT_LE((a - b).cwiseAbs().maxCoeff(), 1e-12);
}

TEST_P(EveryStepper, L2EqualsAddingTheDecayToTheGradient) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  Vector<double> a = start(n), b = start(n);
  auto decayed = make_stepper<double>(GetParam(), layout, a, {}, {.l2 = 0.05});
  auto plain = make_stepper<double>(GetParam(), layout, b);
  for (int k = 1; k <= 4; ++k) {
    const Vector<double> g = gradient(n, k);
    decayed->step(a, g, 0.01);
    plain->step(b, g + 0.05 * b, 0.01);
  }
  EXPECT_LE((a - b).cwiseAbs().maxCoeff(), 1e-12);
}

TEST_P(EveryStepper, ASegmentWithZeroLearningRateStaysPut) {
  Layout layout = two_segments();
  layout.find("b").lr_scale = 0;
  const Index n = layout.size();
  Vector<double> x = start(n);
  const Vector<double> x0 = x;
  auto stepper = make_stepper<double>(GetParam(), layout, x, {}, {.decoupled_weight_decay = 0.1});
  for (int k = 1; k <= 3; ++k) stepper->step(x, gradient(n, k), 0.05);
  EXPECT_EQ(x.tail(5), x0.tail(5));
  EXPECT_NE(x.head(15), x0.head(15));
}

TEST_P(EveryStepper, L1SoftThresholdingMakesSmallWeightsExactlyZero) {
  const Layout layout = Layout::single(4);
  Vector<double> x(4);
  x << 1e-4, -1e-4, 2.0, -2.0;
  // Threshold lr * l1 = 3e-3: larger than the small weights plus any
  // method's first step at lr 1e-4 (adaptive methods step up to 10 lr).
  auto stepper = make_stepper<double>(GetParam(), layout, x, {}, {.l1 = 30.0});
  stepper->step(x, Vector<double>::Constant(4, 1e-6), 1e-4);
  EXPECT_EQ(x[0], 0.0);
  EXPECT_EQ(x[1], 0.0);
  EXPECT_GT(x[2], 1.9);
  EXPECT_LT(x[3], -1.9);
}

// Saves every piece of state into a map and loads it back.
class MapState final : public StateVisitor<double> {
 public:
  bool saving = true;
  void vector(std::string_view name, Vector<double>& v) override {
    if (saving) {
      vectors[std::string(name)] = v;
    } else {
      v = vectors.at(std::string(name));
    }
  }
  void scalar(std::string_view name, double& s) override {
    if (saving) scalars[std::string(name)] = s; else s = scalars.at(std::string(name));
  }
  void counter(std::string_view name, std::int64_t& c) override {
    if (saving) counters[std::string(name)] = c; else c = counters.at(std::string(name));
  }
  std::map<std::string, Vector<double>> vectors;
  std::map<std::string, double> scalars;
  std::map<std::string, std::int64_t> counters;
};

TEST_P(EveryStepper, ARunResumedFromItsStateIsBitForBitTheUninterruptedRun) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  const Hyperparameters hp{{"lookahead_k", 3}};
  Vector<double> straight = start(n);
  auto a = make_stepper<double>(GetParam(), layout, straight, hp);
  for (int k = 1; k <= 8; ++k) a->step(straight, gradient(n, k), 0.01);

  Vector<double> resumed = start(n);
  auto b = make_stepper<double>(GetParam(), layout, resumed, hp);
  for (int k = 1; k <= 4; ++k) b->step(resumed, gradient(n, k), 0.01);
  MapState state;
  b->visit_state(state);
  Vector<double> other_start = Vector<double>::Constant(n, 7.0);
  auto c = make_stepper<double>(GetParam(), layout, other_start, hp);
  state.saving = false;
  c->visit_state(state);
  EXPECT_EQ(c->steps(), 4);
  for (int k = 5; k <= 8; ++k) c->step(resumed, gradient(n, k), 0.01);
  EXPECT_EQ(resumed, straight);
}

TEST_P(EveryStepper, RefusesMismatchedSizesAndBadLearningRates) {
  const Layout layout = two_segments();
  Vector<double> x = start(layout.size());
  auto stepper = make_stepper<double>(GetParam(), layout, x);
  Vector<double> short_g = Vector<double>::Zero(3);
  EXPECT_THROW(stepper->step(x, short_g, 0.01), invalid_argument);
  EXPECT_THROW(stepper->step(x, gradient(layout.size(), 1), -1.0), invalid_argument);
  EXPECT_THROW(stepper->step(x, gradient(layout.size(), 1), std::nan("")), invalid_argument);
  EXPECT_EQ(stepper->steps(), 0);
}

TEST_P(EveryStepper, ANonFiniteGradientGivesANonFiniteStepNotACrash) {
  const Layout layout = two_segments();
  Vector<double> x = start(layout.size());
  auto stepper = make_stepper<double>(GetParam(), layout, x, {}, {.clip_norm = 1.0});
  Vector<double> g = gradient(layout.size(), 1);
  g[2] = std::numeric_limits<double>::quiet_NaN();
  stepper->step(x, g, 0.01);
  EXPECT_FALSE(x.allFinite());
}

// Steps the whole x, and x cut into three shards (one cut inside the
// matrix, one inside the vector) each with its own stepper from shard().
TEST_P(EveryStepper, AShardStepsItsSliceBitwiseAsTheWholeStepperDoes) {
  Layout layout = two_segments();
  layout.find("w").lr_scale = 0.5;
  layout.find("b").decay = 0;
  const Index n = layout.size();
  const Regularization regularization{.clip_value = 0.8, .l2 = 0.01, .decoupled_weight_decay = 0.02, .l1 = 1e-3};
  Vector<double> whole_x = start(n), sharded_x = start(n);
  auto whole = make_stepper<double>(GetParam(), layout, whole_x, {}, regularization);
  const std::vector<Index> cuts = {0, 7, 17, n};
  std::vector<std::unique_ptr<Stepper<double>>> shards;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) shards.push_back(whole->shard(layout.slice(cuts[i], cuts[i + 1])));
  const std::set<std::string> coupled = {"adafactor", "schedule-free-sgd", "schedule-free-adamw", "prodigy", "muon"};
  if (coupled.count(GetParam())) {
    for (const auto& shard : shards) EXPECT_EQ(shard, nullptr);
    return;
  }
  for (int k = 1; k <= 6; ++k) {
    const Vector<double> g = gradient(n, k);
    whole->step(whole_x, g, 0.01);
    for (std::size_t i = 0; i < shards.size(); ++i) {
      const Index first = cuts[i], length = cuts[i + 1] - cuts[i];
      ASSERT_NE(shards[i], nullptr);
      shards[i]->step(sharded_x.segment(first, length), g.segment(first, length), 0.01, g.norm());
    }
  }
  EXPECT_EQ(sharded_x, whole_x);
  // The shards' state is the whole state, cut.
  MapState all;
  whole->visit_state(all);
  for (std::size_t i = 0; i < shards.size(); ++i) {
    MapState part;
    shards[i]->visit_state(part);
    EXPECT_EQ(part.counters, all.counters);
    EXPECT_EQ(part.scalars, all.scalars);
    for (const auto& [name, v] : part.vectors)
      EXPECT_EQ(v, all.vectors.at(name).segment(cuts[i], cuts[i + 1] - cuts[i])) << name;
  }
}

TEST_P(EveryStepper, AShardClipsByTheNormOfTheWholeGradient) {
  const Layout layout = two_segments();
  const Index n = layout.size();
  Vector<double> whole_x = start(n), sharded_x = start(n), unclipped_x = start(n);
  auto whole = make_stepper<double>(GetParam(), layout, whole_x, {}, {.clip_norm = 0.3});
  auto unclipped = make_stepper<double>(GetParam(), layout, unclipped_x);
  auto first = whole->shard(layout.slice(0, 9)), second = whole->shard(layout.slice(9, n));
  if (!first) GTEST_SKIP() << GetParam() << " is not element-wise";
  for (int k = 1; k <= 4; ++k) {
    const Vector<double> g = gradient(n, k);
    whole->step(whole_x, g, 0.01);
    unclipped->step(unclipped_x, g, 0.01);
    first->step(sharded_x.head(9), g.head(9), 0.01, g.norm());
    second->step(sharded_x.tail(n - 9), g.tail(n - 9), 0.01, g.norm());
  }
  // The same clipping factor up to the rounding of the norm's sum.
  EXPECT_LT((sharded_x - whole_x).lpNorm<Eigen::Infinity>(), 1e-14);
  // And clipping did change the steps (sign-based Lion's excepted).
  if (GetParam() != "lion") {
    EXPECT_GT((sharded_x - unclipped_x).norm(), 1e-3 * (unclipped_x - start(n)).norm());
  }
}

TEST(Layout, ASliceKeepsTheSettingsOfTheSegmentsItCuts) {
  Layout layout;
  layout.add("w", 4, 5).lr_scale = 0.5;
  layout.add("b", 5).decay = 0;
  layout.add("v", 3);
  const Layout slice = layout.slice(12, 26);
  ASSERT_EQ(slice.segments().size(), 3u);
  EXPECT_EQ(slice.size(), 14);
  EXPECT_EQ(slice.segments()[0].name, "w");
  EXPECT_EQ(slice.segments()[0].length, 8);
  EXPECT_FALSE(slice.segments()[0].is_matrix());  // cut short: no longer a 4 x 5 matrix
  EXPECT_EQ(slice.segments()[0].lr_scale, 0.5);
  EXPECT_EQ(slice.segments()[1].offset, 8);
  EXPECT_EQ(slice.segments()[1].length, 5);
  EXPECT_EQ(slice.segments()[1].decay, 0);
  EXPECT_EQ(slice.segments()[2].length, 1);
  EXPECT_NO_THROW(slice.validate());
  EXPECT_TRUE(layout.slice(0, 20).segments()[0].is_matrix());  // whole: keeps its shape
  EXPECT_EQ(layout.slice(20, 20).size(), 0);
  // Lookahead wraps any method: its slow weights are not the method's state, so it steps whole.
  Vector<double> x = Vector<double>::Zero(layout.size());
  EXPECT_EQ(make_stepper<double>("adam", layout, x, {{"lookahead_k", 3}})->shard(layout.slice(0, 4)), nullptr);
  EXPECT_THROW(layout.slice(5, 4), invalid_argument);
  EXPECT_THROW(layout.slice(0, 29), invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Optim, EveryStepper, testing::ValuesIn(stepper_names()), [](const auto& info) {
  std::string name = info.param;
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
});

TEST(Factory, RefusesUnknownMethodsAndHyperparametersListingTheValidOnes) {
  const Layout layout = Layout::single(3);
  const Vector<double> x = Vector<double>::Zero(3);
  try {
    make_stepper<double>("adamm", layout, x);
    FAIL();
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("adamw"), std::string::npos) << e.what();
  }
  try {
    make_stepper<double>("adam", layout, x, {{"momentum", 0.9}});
    FAIL();
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("beta1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_stepper<double>("adam", layout, x, {{"beta1", 1.0}}), invalid_argument);
  EXPECT_THROW(make_stepper<double>("sgd", layout, x, {{"nesterov", 1}}), invalid_argument);
  EXPECT_THROW(make_stepper<double>("muon", layout, x, {{"ns_steps", 0}}), invalid_argument);
  EXPECT_THROW(make_stepper<double>("adam", layout, x, {{"lookahead_k", 0}}), invalid_argument);
  EXPECT_THROW(make_stepper<double>("adam", layout, x, {}, {.clip_norm = -1}), invalid_argument);
}

TEST(Factory, WeightDecayMeansWhatTorchMeansForEachMethod) {
  const Layout layout = Layout::single(3);
  const Vector<double> x = Vector<double>::Ones(3);
  auto adam = make_stepper<double>("adam", layout, x, {{"weight_decay", 0.1}});
  auto adamw = make_stepper<double>("adamw", layout, x, {{"weight_decay", 0.1}});
  EXPECT_EQ(adam->regularization().l2, 0.1);
  EXPECT_EQ(adam->regularization().decoupled_weight_decay, 0.0);
  EXPECT_EQ(adamw->regularization().decoupled_weight_decay, 0.1);
  EXPECT_EQ(make_stepper<double>("adamw", layout, x)->regularization().decoupled_weight_decay, 0.01);
  EXPECT_EQ(adamw->name(), "adamw");
  EXPECT_EQ(make_stepper<double>("adam", layout, x, {{"lookahead_k", 5}})->name(), "adam+lookahead");
}

TEST(Factory, ReportsEveryHyperparameterWithTheValueItTook) {
  const Layout layout = Layout::single(3);
  const Vector<double> x = Vector<double>::Zero(3);
  Hyperparameters resolved;
  make_stepper<double>("adamw", layout, x, {{"beta2", 0.99}}, {}, &resolved);
  EXPECT_EQ(resolved, (Hyperparameters{{"beta1", 0.9}, {"beta2", 0.99}, {"eps", 1e-8}, {"weight_decay", 0.01}}));
  make_stepper<double>("sgd", layout, x, {}, {}, &resolved);
  EXPECT_EQ(resolved.at("momentum"), 0.0);
  make_stepper<double>("adam", layout, x, {{"lookahead_k", 3}}, {}, &resolved);
  EXPECT_EQ(resolved.at("lookahead_k"), 3.0);
  EXPECT_EQ(resolved.at("lookahead_alpha"), 0.5);
}

TEST(Layout, RefusesSegmentsThatDoNotTileTheVector) {
  Layout layout;
  layout.add("w", 2, 3);
  layout.add("b", 3);
  EXPECT_EQ(layout.size(), 9);
  EXPECT_NO_THROW(layout.validate());
  layout.segments()[1].offset = 5;
  EXPECT_THROW(layout.validate(), invalid_argument);
  Layout bad;
  bad.add("w", 4).lr_scale = -1;
  EXPECT_THROW(bad.validate(), invalid_argument);
  EXPECT_THROW(bad.find("nope"), invalid_argument);
  EXPECT_THROW(Layout().add("m", 0, 3), invalid_argument);
}

TEST(Muon, OrthogonalizesTheMatrixUpdate) {
  // One step from a zero buffer with lr 1: the update of a wide matrix has
  // singular values near 1 (the quintic iteration lands in [0.7, 1.2]).
  Layout layout;
  layout.add("w", 4, 8);
  Vector<double> x = Vector<double>::Zero(32);
  auto muon = make_stepper<double>("muon", layout, x, {{"rms_matching", 0}, {"nesterov", 0}});
  Vector<double> g(32);
  for (Index i = 0; i < 32; ++i) g[i] = std::sin(0.7 * double(i * i) + 1.0);  // well conditioned
  muon->step(x, g, 1.0);
  Eigen::Map<Eigen::Matrix<double, 4, 8, Eigen::RowMajor>> update(x.data());
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(update.eval());
  for (Index i = 0; i < 4; ++i) {
    EXPECT_GT(svd.singularValues()[i], 0.6);
    EXPECT_LT(svd.singularValues()[i], 1.25);
  }
}

TEST(Adafactor, KeepsRowsPlusColumnsOfStateForAMatrix) {
  Layout layout;
  layout.add("w", 100, 200);
  const Vector<double> x = Vector<double>::Zero(layout.size());
  auto adafactor = make_stepper<double>("adafactor", layout, x);
  EXPECT_NEAR(adafactor->state_bytes_per_parameter(), 300.0 / 20000.0 * sizeof(double), 1e-12);
}

TEST(Muon, KeepsMomentumForMatricesAndTwoMomentsOnlyForTheRest) {
  Layout layout;
  layout.add("w", 30, 20);
  layout.add("b", 20);
  const Vector<double> x = Vector<double>::Zero(layout.size());
  auto muon = make_stepper<double>("muon", layout, x);
  EXPECT_NEAR(muon->state_bytes_per_parameter(), (600.0 + 2 * 20.0) / 620.0 * sizeof(double), 1e-12);
}

TEST(ScheduleFree, EvaluatesAtTheAveragedIterate) {
  const Layout layout = Layout::single(3);
  Vector<double> y = Vector<double>::Ones(3);
  auto sf = make_stepper<double>("schedule-free-sgd", layout, y);
  Vector<double> point(3);
  sf->evaluation_point(y, point);
  EXPECT_EQ(point, y);  // before any step, x = y = z
  sf->step(y, Vector<double>::Ones(3), 0.1);  // the first step moves y and z together
  sf->step(y, Vector<double>::Ones(3), 0.1);
  sf->evaluation_point(y, point);
  EXPECT_NE(point, y);
}

}  // namespace
}  // namespace descent::optim
