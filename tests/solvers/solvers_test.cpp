#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "descent/descent.hpp"
#include "support/objectives.hpp"

namespace descent {
namespace {

using testing::DiagonalQuadratic;
using testing::Rosenbrock;
using testing::RosenbrockGradientOnly;

// Runs `method` through the by-name entry point on a type-erased objective.
template <class T, class F>
Result<T> run(F& f, Vector<T>& x, Method method, MinimizeOptions o = {}) {
  auto any = AnyObjective<T>::reference(f);
  return minimize<T>(any, x, method, o);
}

// Every method by name reaches Rosenbrock's minimum from the standard start.
class EveryMethod : public ::testing::TestWithParam<Method> {};

TEST_P(EveryMethod, SolvesRosenbrockFromTheStandardStart) {
  const Method m = GetParam();
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  MinimizeOptions o;
  o.stop.gradient_tolerance = 1e-6;
  o.stop.max_iterations = 100000;
  o.step_size = 1e-3;
  if (m == Method::gd) x << 0.9, 0.8;  // a fixed step this small needs a nearby start
  auto r = run(f, x, m, o);
  EXPECT_TRUE(r.converged()) << to_string(m) << ": " << r.full_report();
  EXPECT_NEAR(r.x[0], 1.0, 1e-4) << to_string(m);
  EXPECT_NEAR(r.x[1], 1.0, 1e-4) << to_string(m);
  EXPECT_LT(r.value, 1e-9) << to_string(m);
  EXPECT_EQ(r.x, x) << "the caller's x holds the result";
  EXPECT_EQ(r.gradient_evaluations, f.evaluations - (needs_dense_matrix(m) ? 0 : 0));
}

INSTANTIATE_TEST_SUITE_P(ByName, EveryMethod, ::testing::ValuesIn(all_methods().begin(), all_methods().end()),
                         [](const auto& info) {
                           std::string s(to_string(info.param));
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

TEST(Methods, ParseAndPrintTheCliNames) {
  for (Method m : all_methods()) EXPECT_EQ(parse_method(to_string(m)), m);
  EXPECT_FALSE(parse_method("adam-but-wrong").has_value());
  EXPECT_NE(method_names().find("trust-region"), std::string::npos);
  EXPECT_EQ(all_methods().size(), 17u);
}

// The same claims in float and double, with a tolerance per type.
template <class T>
struct Tolerance;
template <>
struct Tolerance<float> {
  static constexpr double gradient = 1e-3, x = 2e-3;
};
template <>
struct Tolerance<double> {
  static constexpr double gradient = 1e-8, x = 1e-6;
};

template <class T>
class TypedSolvers : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(TypedSolvers, Scalars);

template <class T>
StopOptions stop_for() {
  StopOptions s;
  s.gradient_tolerance = Tolerance<T>::gradient;
  s.max_iterations = 2000;
  return s;
}

template <class T>
void expect_at_ones(const Result<T>& r, const char* what) {
  for (Index i = 0; i < r.x.size(); ++i) EXPECT_NEAR(double(r.x[i]), 1.0, 10 * Tolerance<T>::x) << what;
}

TYPED_TEST(TypedSolvers, LbfgsSolvesExtendedRosenbrock) {
  using T = TypeParam;
  Rosenbrock<T> f;
  Vector<T> x = Rosenbrock<T>::start(100);
  auto r = lbfgs(f, x, LbfgsOptions{.memory = 7, .stop = stop_for<T>()});
  EXPECT_TRUE(r.converged()) << r.full_report();
  expect_at_ones(r, "lbfgs");
  EXPECT_LT(r.iterations, 200);
}

TYPED_TEST(TypedSolvers, BfgsSolvesExtendedRosenbrock) {
  using T = TypeParam;
  Rosenbrock<T> f;
  Vector<T> x = Rosenbrock<T>::start(20);
  auto r = bfgs(f, x, BfgsOptions{.stop = stop_for<T>()});
  EXPECT_TRUE(r.converged()) << r.full_report();
  expect_at_ones(r, "bfgs");
}

TYPED_TEST(TypedSolvers, EveryConjugateGradientUpdateSolvesRosenbrock) {
  using T = TypeParam;
  for (CgUpdate u : {CgUpdate::fletcher_reeves, CgUpdate::polak_ribiere_plus, CgUpdate::hestenes_stiefel,
                     CgUpdate::dai_yuan, CgUpdate::hager_zhang}) {
    Rosenbrock<T> f;
    Vector<T> x = Rosenbrock<T>::start(2);
    ConjugateGradientOptions o;
    o.update = u;
    o.stop = stop_for<T>();
    o.stop.max_iterations = 20000;
    auto r = conjugate_gradient(f, x, o);
    EXPECT_TRUE(r.converged()) << method_name(u) << ": " << r.full_report();
    expect_at_ones(r, method_name(u));
  }
}

TYPED_TEST(TypedSolvers, NewtonConvergesQuadraticallyOnRosenbrock) {
  using T = TypeParam;
  Rosenbrock<T> f;
  Vector<T> x = Rosenbrock<T>::start(2);
  auto r = newton(f, x, NewtonOptions{.stop = stop_for<T>()});
  EXPECT_TRUE(r.converged()) << r.full_report();
  expect_at_ones(r, "newton");
  EXPECT_LE(r.iterations, 30);
  // One Hessian per iteration, and one for the saddle test at the end.
  EXPECT_EQ(r.hessian_evaluations, r.iterations + 1);
}

TYPED_TEST(TypedSolvers, TrustRegionSubproblemsBothSolveRosenbrock) {
  using T = TypeParam;
  for (auto sub : {TrustRegionSubproblem::steihaug_cg, TrustRegionSubproblem::dogleg}) {
    Rosenbrock<T> f;
    Vector<T> x = Rosenbrock<T>::start(2);
    TrustRegionOptions o;
    o.subproblem = sub;
    o.stop = stop_for<T>();
    auto r = trust_region(f, x, o);
    EXPECT_TRUE(r.converged()) << r.full_report();
    expect_at_ones(r, sub == TrustRegionSubproblem::dogleg ? "dogleg" : "steihaug");
  }
}

TYPED_TEST(TypedSolvers, GradientDescentVariantsSolveAQuadratic) {
  using T = TypeParam;
  for (auto step : {GradientStep::fixed, GradientStep::armijo, GradientStep::barzilai_borwein}) {
    DiagonalQuadratic<T> f;
    Vector<T> x = Vector<T>::Ones(10);
    GradientDescentOptions o;
    o.step = step;
    o.step_size = 0.1;  // below 2 / L = 0.2
    o.stop = stop_for<T>();
    o.stop.gradient_tolerance = 100 * Tolerance<T>::gradient;
    auto r = gradient_descent(f, x, o);
    EXPECT_TRUE(r.converged()) << r.full_report();
    EXPECT_LT(double(x.norm()), 1e3 * Tolerance<T>::gradient);
  }
}

TEST(Newton, SolvesAStrictlyConvexQuadraticInOneStep) {
  DiagonalQuadratic<double> f;
  Vector<double> x = Vector<double>::Ones(50);
  auto r = newton(f, x);
  EXPECT_TRUE(r.converged());
  EXPECT_EQ(r.iterations, 1);
  EXPECT_LT(x.norm(), 1e-12);
}

TEST(Newton, UsesFiniteDifferenceHessiansWithoutAnAnalyticOne) {
  RosenbrockGradientOnly<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  auto r = newton(f, x, NewtonOptions{.stop = {.gradient_tolerance = 1e-7}});
  EXPECT_TRUE(r.converged()) << r.full_report();
  EXPECT_EQ(r.hessian_evaluations, 0);
  EXPECT_GT(r.gradient_evaluations, 2 * r.iterations);  // n = 2 extra gradients per Hessian
  EXPECT_NEAR(x[0], 1.0, 1e-5);
}

TEST(NewtonCg, UsesExactHessianVectorProductsWhenOffered) {
  DiagonalQuadratic<double> f;
  Vector<double> x = Vector<double>::Ones(100);
  auto r = newton_cg(f, x, NewtonCgOptions{.stop = {.gradient_tolerance = 1e-10}});
  EXPECT_TRUE(r.converged()) << r.full_report();
  EXPECT_GT(r.hessian_evaluations, 0);
  EXPECT_LT(x.norm(), 1e-9);
}

TEST(NewtonCg, FallsBackToGradientDifferences) {
  RosenbrockGradientOnly<double> f;
  Vector<double> x = Rosenbrock<double>::start(10);
  auto r = newton_cg(f, x, NewtonCgOptions{.stop = {.gradient_tolerance = 1e-6}});
  EXPECT_TRUE(r.converged()) << r.full_report();
  EXPECT_EQ(r.hessian_evaluations, 0);
  EXPECT_NEAR(x[0], 1.0, 1e-5);
}

TEST(TrustRegion, SteihaugCgHandlesNegativeCurvatureAtTheStart) {
  // Start at a saddle-like point of Rosenbrock where H is indefinite.
  Rosenbrock<double> f;
  Vector<double> x(2);
  x << 0.0, 1.0;  // H(0,0) = 2 - 400 < 0
  auto r = trust_region(f, x, TrustRegionOptions{.stop = {.gradient_tolerance = 1e-8}});
  EXPECT_TRUE(r.converged()) << r.full_report();
  EXPECT_NEAR(x[0], 1.0, 1e-6);
}

TEST(Bfgs, RefusesADenseMatrixThatCannotFit) {
  Rosenbrock<double> f;
  Vector<double> x = Vector<double>::Ones(2'000'000);
  try {
    bfgs(f, x);
    FAIL() << "expected invalid_argument";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("GiB"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lbfgs"), std::string::npos) << e.what();
  }
}

// Stopping rules, statuses and messages.

TEST(Stopping, ReportsTheIterationLimit) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  auto r = lbfgs(f, x, LbfgsOptions{.stop = {.max_iterations = 3}});
  EXPECT_EQ(r.status, Status::max_iterations);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_NE(r.message.find("iteration limit of 3"), std::string::npos) << r.message;
}

TEST(Stopping, ReportsTheEvaluationLimit) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  auto r = lbfgs(f, x, LbfgsOptions{.stop = {.max_evaluations = 10}});
  EXPECT_EQ(r.status, Status::max_evaluations);
  EXPECT_GE(r.gradient_evaluations, 10);
  EXPECT_LT(r.gradient_evaluations, 10 + 25);  // at most one line search past the limit
}

TEST(Stopping, ConvergesOnValueChangeAndOnStepSize) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  auto by_value = lbfgs(f, x, LbfgsOptions{.stop = {.gradient_tolerance = 0, .value_tolerance = 1e-6}});
  EXPECT_EQ(by_value.status, Status::converged_value) << by_value.full_report();
  x = Rosenbrock<double>::start(2);
  auto by_step = lbfgs(f, x, LbfgsOptions{.stop = {.gradient_tolerance = 0, .step_tolerance = 1e-4}});
  EXPECT_EQ(by_step.status, Status::converged_step) << by_step.full_report();
}

TEST(Stopping, ConvergesOnRelativeGradient) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  auto r = lbfgs(f, x, LbfgsOptions{.stop = {.gradient_tolerance = 0, .relative_gradient_tolerance = 1e-3}});
  EXPECT_EQ(r.status, Status::converged_gradient);
  EXPECT_NE(r.message.find("initial gradient norm"), std::string::npos) << r.message;
}

TEST(Stopping, StopsAtAPointThatAlreadySatisfiesTheTolerance) {
  Rosenbrock<double> f;
  Vector<double> x = Vector<double>::Ones(2);
  auto r = bfgs(f, x);
  EXPECT_EQ(r.status, Status::converged_gradient);
  EXPECT_EQ(r.iterations, 0);
  EXPECT_EQ(r.gradient_evaluations, 1);
}

TEST(Stopping, TimeLimit) {
  struct Slow {
    double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
      volatile double sink = 0;
      for (int i = 0; i < 200000; ++i) sink = sink + 1e-9 * i;
      g = 2 * x;
      return x.squaredNorm() + 0 * sink;
    }
  } f;
  Vector<double> x = Vector<double>::Ones(3);
  GradientDescentOptions o;
  o.step = GradientStep::fixed;
  o.step_size = 1e-6;
  o.stop.time_limit = 0.02;
  o.stop.max_iterations = 1000000000;
  auto r = gradient_descent(f, x, o);
  EXPECT_EQ(r.status, Status::time_limit) << r.full_report();
}

TEST(Stopping, InvalidOptionsThrowNamingTheField) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  try {
    lbfgs(f, x, LbfgsOptions{.memory = 0});
    FAIL();
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("memory"), std::string::npos);
  }
  EXPECT_THROW(lbfgs(f, x, LbfgsOptions{.stop = {.gradient_tolerance = -1}}), invalid_argument);
  Vector<double> empty;
  EXPECT_THROW(lbfgs(f, empty), invalid_argument);
}

// Divergence: a non-finite value or gradient ends the run with Status::diverged.

TEST(Divergence, NonFiniteStartIsDivergedAtIterationZero) {
  testing::AlwaysNan<double> f;
  Vector<double> x = Vector<double>::Ones(3);
  for (Method m : all_methods()) {
    auto r = run(f, x, m);
    EXPECT_EQ(r.status, Status::diverged) << to_string(m);
    EXPECT_EQ(r.diverged_at, 0) << to_string(m);
  }
}

TEST(Divergence, FixedStepTooLargeDivergesAndSaysWhere) {
  DiagonalQuadratic<double> f;
  Vector<double> x = Vector<double>::Ones(10);
  GradientDescentOptions o;
  o.step = GradientStep::fixed;
  o.step_size = 1.0;  // above 2 / L: each step multiplies x_10 by -9
  o.stop.max_iterations = 100000;
  auto r = gradient_descent(f, x, o);
  EXPECT_EQ(r.status, Status::diverged) << r.full_report();
  EXPECT_GT(r.diverged_at, 100);
  EXPECT_NE(r.message.find("non-finite"), std::string::npos) << r.message;
}

TEST(Divergence, UnboundedBelowEndsWithoutAGarbageConvergence) {
  testing::Unbounded<double> f;
  Vector<double> x = Vector<double>::Ones(2);
  auto r = lbfgs(f, x, LbfgsOptions{.stop = {.max_iterations = 200}});
  EXPECT_FALSE(r.converged()) << r.full_report();
}

// Callbacks see every iteration and can stop the run.

struct Recorder : Callback<double> {
  std::vector<double> values;
  std::vector<Index> iterations;
  int begins = 0, ends = 0;
  Index stop_at = -1;
  void on_begin(const RunInfo& info) override {
    ++begins;
    EXPECT_EQ(info.method, "lbfgs");
  }
  Control on_iteration(const IterationReport<double>& r) override {
    values.push_back(r.value);
    iterations.push_back(r.iteration);
    EXPECT_NE(r.x, nullptr);
    return r.iteration == stop_at ? Control::stop_converged : Control::proceed;
  }
  void on_end(const Result<double>&) override { ++ends; }
};

TEST(Callbacks, SeeEveryIterationInOrderWithDecreasingValues) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  Recorder rec;
  auto r = lbfgs(f, x, LbfgsOptions{}, &rec);
  ASSERT_EQ(Index(rec.iterations.size()), r.iterations + 1);
  for (std::size_t i = 0; i < rec.iterations.size(); ++i) EXPECT_EQ(rec.iterations[i], Index(i));
  for (std::size_t i = 1; i < rec.values.size(); ++i) EXPECT_LE(rec.values[i], rec.values[i - 1]);
  EXPECT_EQ(rec.begins, 1);
  EXPECT_EQ(rec.ends, 1);
}

TEST(Callbacks, CanStopTheRunAsConverged) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  Recorder rec;
  rec.stop_at = 4;
  auto r = lbfgs(f, x, LbfgsOptions{}, &rec);
  EXPECT_EQ(r.status, Status::stopped_by_callback);
  EXPECT_EQ(r.iterations, 4);
  EXPECT_TRUE(r.converged());
}

TEST(Callbacks, ListForwardsToAllAndTheFirstStopWins) {
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  Recorder a, b;
  b.stop_at = 2;
  CallbackList<double> list;
  list.add(a);
  list.add(b);
  auto r = lbfgs(f, x, LbfgsOptions{}, &list);
  EXPECT_EQ(r.iterations, 2);
  EXPECT_EQ(a.iterations.size(), 3u);
  EXPECT_EQ(b.iterations.size(), 3u);
}

TEST(Counts, EvaluationCountsMatchTheObjectivesOwnCount) {
  for (Method m : all_methods()) {
    Rosenbrock<double> f;
    Vector<double> x = Rosenbrock<double>::start(2);
    MinimizeOptions o;
    o.stop.max_iterations = 50;
    auto r = run(f, x, m, o);
    EXPECT_EQ(r.gradient_evaluations, f.evaluations) << to_string(m);
    EXPECT_EQ(r.value_evaluations, f.evaluations) << to_string(m);
  }
}

TEST(Lbfgs, SolvesAQuadraticInAtMostNIterations) {
  DiagonalQuadratic<double> f;
  Vector<double> x = Vector<double>::Ones(30);
  auto r = lbfgs(f, x, LbfgsOptions{.memory = 30, .stop = {.gradient_tolerance = 1e-9}});
  EXPECT_TRUE(r.converged());
  EXPECT_LE(r.iterations, 40);
}

TEST(Lbfgs, WorksOnASliceOfALargerBuffer) {
  Rosenbrock<double> f;
  Vector<double> buffer = Vector<double>::Zero(10);
  buffer.segment(4, 2) = Rosenbrock<double>::start(2);
  auto r = lbfgs(f, buffer.segment(4, 2));
  EXPECT_TRUE(r.converged());
  EXPECT_NEAR(buffer[4], 1.0, 1e-5);
  EXPECT_EQ(buffer[0], 0.0);
  EXPECT_EQ(buffer[9], 0.0);
}

TEST(TrustRegion, FormsADenseOnlyHessianOncePerPointForItsProducts) {
  // Rosenbrock here offers a dense Hessian and no Hessian-vector product:
  // Steihaug's inner CG multiplies by the Hessian of one x many times.
  Rosenbrock<double> f;
  Vector<double> x = Rosenbrock<double>::start(2);
  auto r = trust_region(f, x, TrustRegionOptions{.stop = {.gradient_tolerance = 1e-10}});
  EXPECT_TRUE(r.converged()) << r.full_report();
  EXPECT_GT(r.hessian_evaluations, 0);
  EXPECT_LE(r.hessian_evaluations, r.iterations + 1);
}

}  // namespace
}  // namespace descent
