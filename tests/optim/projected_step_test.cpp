// Steppers kept in a convex set (Stepper::set_projection): the projection
// after every step, the box fused into the pass, the constrained minima
// reached, and the slices a data-parallel rank steps.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "descent/core/error.hpp"
#include "descent/optim/factory.hpp"

namespace descent::optim {
namespace {

// A matrix segment and two vector segments: boxes that cross their ends.
Layout three_segments() {
  Layout layout;
  layout.add("w", 3, 5);
  layout.add("b", 5);
  layout.add("c", 6);
  return layout;
}

Vector<double> start(Index n) {
  Vector<double> x(n);
  for (Index i = 0; i < n; ++i) x[i] = 0.4 * std::sin(0.9 * double(i) + 0.3);
  return x;
}

Vector<double> gradient(Index n, int k) {
  Vector<double> g(n);
  for (Index i = 0; i < n; ++i) g[i] = std::cos(0.4 * double(i) + 1.7 * k) * (1 + 0.1 * double(i));
  return g;
}

bool schedule_free(const std::string& name) { return name.rfind("schedule-free", 0) == 0; }

class EveryProjectedStepper : public testing::TestWithParam<std::string> {};

// Clamping inside the pass is the same as stepping freely and clamping
// after: every method's state sees the same x, so the paths are equal.
TEST_P(EveryProjectedStepper, BoxesAreClampedAfterEveryStepAcrossSegments) {
  if (schedule_free(GetParam())) GTEST_SKIP() << "projects z, not y (see ScheduleFreeStaysInTheBox)";
  const Layout layout = three_segments();
  const Index n = layout.size();
  Vector<double> a = start(n), b = start(n);
  // [3, 17) cuts w and b; [18, 22) lies inside b and c; the rest is free.
  const Projection p = Projection::box(-0.2, 0.3).on(3, 14).also(Projection::box(0.1, 0.5).on(18, 4));
  p.apply(a);
  p.apply(b);
  auto projected = make_stepper<double>(GetParam(), layout, a, {}, {.clip_value = 0.8, .l1 = 1e-3});
  auto free = make_stepper<double>(GetParam(), layout, b, {}, {.clip_value = 0.8, .l1 = 1e-3});
  projected->set_projection(p);
  for (int k = 1; k <= 5; ++k) {
    const Vector<double> g = gradient(n, k);
    projected->step(a, g, 0.05);
    free->step(b, g, 0.05);
    p.apply(b);
    ASSERT_EQ((a - b).cwiseAbs().maxCoeff(), 0.0) << "step " << k;
  }
  for (Index i = 3; i < 17; ++i) EXPECT_TRUE(a[i] >= -0.2 && a[i] <= 0.3) << i;
  for (Index i = 18; i < 22; ++i) EXPECT_TRUE(a[i] >= 0.1 && a[i] <= 0.5) << i;
}

TEST_P(EveryProjectedStepper, SimplexPiecesHoldAfterEveryStep) {
  const Layout layout = three_segments();
  const Index n = layout.size();
  Vector<double> x = start(n);
  const Projection p = Projection::simplex().on(15, 5).also(Projection::nonnegative().on(0, 15));
  p.apply(x);
  auto stepper = make_stepper<double>(GetParam(), layout, x);
  stepper->set_projection(p);
  for (int k = 1; k <= 6; ++k) {
    stepper->step(x, gradient(n, k), 0.05);
    EXPECT_NEAR(x.segment(15, 5).sum(), 1.0, 1e-12) << "step " << k;
    EXPECT_GE(x.head(20).minCoeff(), 0.0) << "step " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Optim, EveryProjectedStepper, testing::ValuesIn(stepper_names()), [](const auto& info) {
  std::string name = info.param;
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
});

// f(x) = 0.5 ||x - c||^2: over a convex set C the minimum is P_C(c).
struct Case {
  const char* method;
  double lr;
  int steps;
};

class ConstrainedMinimum : public testing::TestWithParam<Case> {};

TEST_P(ConstrainedMinimum, BoxMinimumIsTheClampedCenter) {
  const Case c = GetParam();
  const Index n = 12;
  Vector<double> center(n), x = Vector<double>::Constant(n, 0.5);
  for (Index i = 0; i < n; ++i) center[i] = 2.0 * std::sin(1.3 * double(i) + 0.2);
  const Projection box = Projection::box(-0.5, 1.0);
  auto stepper = make_stepper<double>(c.method, Layout::single(n), x);
  stepper->set_projection(box);
  Vector<double> expected = center;
  box.apply(expected);
  for (int k = 0; k < c.steps; ++k) {
    stepper->step(x, x - center, c.lr);
    ASSERT_TRUE(x.minCoeff() >= -0.5 && x.maxCoeff() <= 1.0) << "step " << k;
  }
  Vector<double> at(n);
  stepper->evaluation_point(x, at);
  EXPECT_LE((at - expected).cwiseAbs().maxCoeff(), 2e-3) << c.method;
}

INSTANTIATE_TEST_SUITE_P(Optim, ConstrainedMinimum,
                         testing::Values(Case{"sgd", 0.2, 200}, Case{"momentum", 0.1, 400}, Case{"adam", 0.02, 2000},
                                         Case{"adagrad", 0.5, 2000}, Case{"rmsprop", 0.005, 3000},
                                         Case{"schedule-free-sgd", 0.2, 2000}, Case{"schedule-free-adamw", 0.02, 3000}),
                         [](const auto& info) {
                           std::string name = info.param.method;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

TEST(ProjectedSgd, ReachesTheProjectionOfTheCenterOnASimplexAndABall) {
  const Index n = 10;
  Vector<double> center(n);
  for (Index i = 0; i < n; ++i) center[i] = std::cos(0.7 * double(i)) + 0.1 * double(i);
  for (const Projection& set : {Projection::simplex(2.0), Projection::l2_ball(0.5), Projection::l1_ball(1.0)}) {
    Vector<double> x = Vector<double>::Zero(n), expected = center;
    set.apply(expected);
    auto sgd = make_stepper<double>("sgd", Layout::single(n), x);
    sgd->set_projection(set);
    for (int k = 0; k < 300; ++k) sgd->step(x, x - center, 0.3);
    EXPECT_LE((x - expected).cwiseAbs().maxCoeff(), 1e-10) << set.describe();
  }
}

TEST(ProjectedStepper, ScheduleFreeKeepsYZAndTheAverageInTheBox) {
  const Layout layout = three_segments();
  const Index n = layout.size();
  for (const char* method : {"schedule-free-sgd", "schedule-free-adamw"}) {
    Vector<double> x = start(n);
    const Projection box = Projection::box(-0.1, 0.2);
    box.apply(x);
    auto stepper = make_stepper<double>(method, layout, x);
    stepper->set_projection(box);
    Vector<double> average(n);
    for (int k = 1; k <= 20; ++k) {
      stepper->step(x, gradient(n, k), 0.1);
      stepper->evaluation_point(x, average);
      const double slack = 1e-12;
      ASSERT_TRUE(x.minCoeff() >= -0.1 - slack && x.maxCoeff() <= 0.2 + slack) << method << " y, step " << k;
      ASSERT_TRUE(average.minCoeff() >= -0.1 - slack && average.maxCoeff() <= 0.2 + slack)
          << method << " average, step " << k;
    }
  }
}

TEST(ProjectedStepper, LookaheadProjectsItsInnerStepsAndItsSyncs) {
  const Index n = 8;
  Vector<double> x = Vector<double>::Zero(n);
  auto stepper = make_stepper<double>("adam", Layout::single(n), x, {{"lookahead_k", 3}, {"lookahead_alpha", 0.5}});
  stepper->set_projection(Projection::box(-0.05, 0.05));
  for (int k = 1; k <= 10; ++k) {
    stepper->step(x, gradient(n, k), 0.1);
    ASSERT_TRUE(x.minCoeff() >= -0.05 && x.maxCoeff() <= 0.05) << "step " << k;
  }
}

TEST(ProjectedStepper, AShardStepsItsSliceAsTheWholeDoes) {
  const Layout layout = three_segments();
  const Index n = layout.size();
  const Projection p = Projection::box(-0.2, 0.3).on(3, 14).also(Projection::box(0.1, 0.5).on(18, 4));
  Vector<double> whole = start(n);
  p.apply(whole);
  auto full = make_stepper<double>("adam", layout, whole);
  full->set_projection(p);
  const Index first = 10, last = 20;
  auto shard = full->shard(layout.slice(first, last));
  ASSERT_NE(shard, nullptr);
  shard->set_projection(p.slice(n, first, last));
  Vector<double> part = whole.segment(first, last - first);
  for (int k = 1; k <= 4; ++k) {
    const Vector<double> g = gradient(n, k);
    full->step(whole, g, 0.05);
    shard->step(part, g.segment(first, last - first), 0.05);
  }
  EXPECT_EQ((whole.segment(first, last - first) - part).cwiseAbs().maxCoeff(), 0.0);
}

TEST(ProjectedStepper, RefusesASetOutsideTheParameters) {
  Vector<double> x = Vector<double>::Zero(6);
  auto adam = make_stepper<double>("adam", Layout::single(6), x);
  EXPECT_THROW(adam->set_projection(Projection::simplex().on(4, 5)), invalid_argument);
  adam->set_projection(Projection::box(0, 1));
  adam->set_projection(Projection());  // removes it
  adam->step(x, Vector<double>::Constant(6, 1.0), 0.1);
  EXPECT_LT(x.maxCoeff(), 0.0);
}

TEST(ProjectionSlice, CutsBoxesAndRefusesToCutACoupledSet) {
  const Projection p = Projection::box(0, 1).on(0, 6).also(Projection::simplex().on(6, 4));
  const Projection head = p.slice(10, 2, 5);
  ASSERT_EQ(head.pieces().size(), 1u);
  EXPECT_EQ(head.pieces()[0].first(), 0);
  EXPECT_EQ(head.pieces()[0].last(3), 3);
  const Projection tail = p.slice(10, 6, 10);  // the whole simplex
  ASSERT_EQ(tail.pieces().size(), 1u);
  EXPECT_EQ(tail.pieces()[0].kind, Projection::Kind::simplex);
  EXPECT_THROW((void)p.slice(10, 4, 8), invalid_argument);
}

TEST(ProjectionSegments, MatchesNamesAndPatterns) {
  Layout layout;
  layout.add("0.weight", 2, 3);
  layout.add("0.bias", 2);
  layout.add("2.weight", 1, 2);
  layout.add("2.bias", 1);
  const Projection weights = Projection::nonnegative().on_segments(layout, "*.weight");
  ASSERT_EQ(weights.pieces().size(), 2u);
  EXPECT_EQ(weights.pieces()[0].first(), 0);
  EXPECT_EQ(weights.pieces()[1].first(), 8);
  EXPECT_EQ(Projection::simplex().on_segments(layout, "0.bias").pieces()[0].first(), 6);
  EXPECT_THROW((void)Projection::nonnegative().on_segments(layout, "*.gamma"), invalid_argument);
  const auto bounds = weights.as_bounds(layout.size());
  ASSERT_TRUE(bounds.has_value());
  EXPECT_EQ(bounds->lower[0], 0.0);
  EXPECT_EQ(bounds->lower[6], -Bounds::inf);
  EXPECT_FALSE(Projection::simplex().as_bounds(4).has_value());
}

}  // namespace
}  // namespace descent::optim
