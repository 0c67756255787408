#include <cmath>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "descent/linesearch/backtracking.hpp"
#include "descent/linesearch/strong_wolfe.hpp"

namespace descent {
namespace {

using Phi = std::function<LinePoint<double>(double)>;

// The test functions of Moré & Thuente (1994), section 6, as phi(a), phi'(a).
Phi more_thuente_1() {  // phi = -a / (a^2 + 2)
  return [](double a) {
    const double b = 2.0;
    return LinePoint<double>{-a / (a * a + b), (a * a - b) / ((a * a + b) * (a * a + b))};
  };
}
Phi more_thuente_2() {  // phi = (a + 0.004)^5 - 2 (a + 0.004)^4
  return [](double a) {
    const double t = a + 0.004;
    return LinePoint<double>{std::pow(t, 5) - 2 * std::pow(t, 4), 5 * std::pow(t, 4) - 8 * std::pow(t, 3)};
  };
}
Phi more_thuente_3() {  // phi = phi0(a) + 2 (1 - beta) / (l pi) sin(l pi a / 2), l = 39, beta = 0.01
  return [](double a) {
    const double beta = 0.01, l = 39, pi = std::acos(-1.0);
    double v, d;
    if (a <= 1 - beta) {
      v = 1 - a;
      d = -1;
    } else if (a >= 1 + beta) {
      v = a - 1;
      d = 1;
    } else {
      v = (a - 1) * (a - 1) / (2 * beta) + beta / 2;
      d = (a - 1) / beta;
    }
    v += 2 * (1 - beta) / (l * pi) * std::sin(l * pi * a / 2);
    d += (1 - beta) * std::cos(l * pi * a / 2);
    return LinePoint<double>{v, d};
  };
}

void expect_strong_wolfe(const LineSearchResult<double>& r, LinePoint<double> at0, double c1, double c2) {
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_LE(r.point.value, at0.value + c1 * r.step * at0.derivative);
  EXPECT_LE(std::abs(r.point.derivative), c2 * std::abs(at0.derivative));
}

struct WolfeCase {
  const char* name;
  Phi (*make)();
  double c1, c2;
};

class StrongWolfePaperFunctions : public ::testing::TestWithParam<WolfeCase> {};

TEST_P(StrongWolfePaperFunctions, SatisfiesBothConditionsFromEveryInitialStep) {
  const auto& c = GetParam();
  Phi phi = c.make();
  const LinePoint<double> at0 = phi(0.0);
  for (double initial : {1e-3, 1e-1, 1e1, 1e3}) {
    StrongWolfeOptions o{.sufficient_decrease = c.c1, .curvature = c.c2};
    auto r = strong_wolfe_search(phi, at0, initial, o);
    SCOPED_TRACE(::testing::Message() << c.name << " from " << initial);
    expect_strong_wolfe(r, at0, c.c1, c.c2);
    EXPECT_LE(r.evaluations, 16);
  }
}

INSTANTIATE_TEST_SUITE_P(MoreThuente, StrongWolfePaperFunctions,
                         ::testing::Values(WolfeCase{"table1", &more_thuente_1, 1e-3, 0.1},
                                           WolfeCase{"table2", &more_thuente_2, 0.1, 0.1},
                                           WolfeCase{"table3", &more_thuente_3, 0.1, 0.1}));

TEST(StrongWolfe, AcceptsTheInitialStepWhenItSatisfiesTheConditions) {
  Phi phi = [](double a) { return LinePoint<double>{(a - 1) * (a - 1), 2 * (a - 1)}; };
  auto r = strong_wolfe_search(phi, phi(0), 1.0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.evaluations, 1);
  EXPECT_DOUBLE_EQ(r.step, 1.0);
}

TEST(StrongWolfe, ExtrapolatesFromATinyInitialStep) {
  Phi phi = [](double a) { return LinePoint<double>{(a - 100) * (a - 100), 2 * (a - 100)}; };
  auto r = strong_wolfe_search(phi, phi(0), 1e-6);
  expect_strong_wolfe(r, phi(0), 1e-4, 0.9);
  EXPECT_GT(r.step, 1.0);
}

TEST(StrongWolfe, RefusesAnAscentDirection) {
  Phi phi = [](double a) { return LinePoint<double>{a, 1.0}; };
  auto r = strong_wolfe_search(phi, phi(0), 1.0);
  EXPECT_EQ(r.status, LineSearchStatus::not_descent_direction);
  EXPECT_EQ(r.evaluations, 0);
}

TEST(StrongWolfe, StepsBackFromWhereTheFunctionIsUndefined) {
  // Defined only for a < 1; minimum at a = 0.5.
  Phi phi = [](double a) {
    if (a >= 1) return LinePoint<double>{std::numeric_limits<double>::quiet_NaN(), 0.0};
    return LinePoint<double>{(a - 0.5) * (a - 0.5), 2 * (a - 0.5)};
  };
  auto r = strong_wolfe_search(phi, phi(0), 10.0);
  expect_strong_wolfe(r, phi(0), 1e-4, 0.9);
  EXPECT_LT(r.step, 1.0);
}

TEST(StrongWolfe, ReportsNonFiniteWhenNoStepCanBeEvaluated) {
  Phi phi = [](double a) {
    if (a > 0) return LinePoint<double>{std::numeric_limits<double>::infinity(), 0.0};
    return LinePoint<double>{0.0, -1.0};
  };
  auto r = strong_wolfe_search(phi, phi(0), 1.0);
  EXPECT_EQ(r.status, LineSearchStatus::non_finite);
  EXPECT_NE(r.describe().find("non-finite"), std::string::npos);
}

TEST(StrongWolfe, ReportsTheStepBoundOnAnUnboundedFunction) {
  Phi phi = [](double a) { return LinePoint<double>{-a, -1.0}; };
  StrongWolfeOptions o;
  o.max_step = 1e3;
  o.max_evaluations = 50;
  auto r = strong_wolfe_search(phi, phi(0), 1.0, o);
  EXPECT_EQ(r.status, LineSearchStatus::step_at_maximum);
  EXPECT_DOUBLE_EQ(r.step, 1e3);
}

TEST(StrongWolfe, StopsAtItsEvaluationLimitAndKeepsTheBestPoint) {
  Phi phi = more_thuente_3();
  StrongWolfeOptions o{.sufficient_decrease = 0.1, .curvature = 0.1, .max_evaluations = 2};
  auto r = strong_wolfe_search(phi, phi(0), 1e-3, o);
  EXPECT_EQ(r.status, LineSearchStatus::max_evaluations);
  EXPECT_EQ(r.evaluations, 2);
  EXPECT_LT(r.best_value, phi(0).value);
}

TEST(StrongWolfe, ValidatesItsOptions) {
  EXPECT_THROW((StrongWolfeOptions{.sufficient_decrease = 0.5, .curvature = 0.4}.validate()), invalid_argument);
  EXPECT_THROW((StrongWolfeOptions{.max_evaluations = 0}.validate()), invalid_argument);
  EXPECT_NO_THROW(StrongWolfeOptions{}.validate());
}

TEST(StrongWolfe, WorksInSinglePrecision) {
  auto phi = [](float a) { return LinePoint<float>{(a - 3) * (a - 3), 2 * (a - 3)}; };
  auto r = strong_wolfe_search(phi, phi(0.0f), 0.1f);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_LE(std::abs(r.point.derivative), 0.9f * 6.0f);
}

TEST(Backtracking, AcceptsTheFirstStepSatisfyingArmijo) {
  Phi phi = [](double a) { return LinePoint<double>{(a - 1) * (a - 1), 2 * (a - 1)}; };
  auto r = backtracking_search(phi, phi(0), 1.0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.evaluations, 1);
}

TEST(Backtracking, ShrinksByInterpolationUntilArmijoHolds) {
  Phi phi = [](double a) { return LinePoint<double>{(a - 0.01) * (a - 0.01), 2 * (a - 0.01)}; };
  const auto at0 = phi(0);
  auto r = backtracking_search(phi, at0, 100.0);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_LE(r.point.value, at0.value + 1e-4 * r.step * at0.derivative);
  // Interpolation lands near the minimizer instead of halving 14 times.
  EXPECT_LE(r.evaluations, 6);
}

TEST(Backtracking, NonMonotoneReferenceAcceptsAnIncrease) {
  Phi phi = [](double a) { return LinePoint<double>{1.0 + a, -1.0}; };  // inconsistent slope on purpose
  BacktrackingOptions o;
  o.max_evaluations = 5;
  auto monotone = backtracking_search(phi, LinePoint<double>{1.0, -1.0}, 1.0, o);
  EXPECT_EQ(monotone.status, LineSearchStatus::max_evaluations);
  auto relaxed = backtracking_search(phi, LinePoint<double>{1.0, -1.0}, 1.0, o, 5.0);
  EXPECT_TRUE(relaxed.ok());
}

TEST(Backtracking, ReportsFailureWhenNoStepDecreases) {
  Phi phi = [](double a) { return LinePoint<double>{a, 1.0}; };
  auto r = backtracking_search(phi, LinePoint<double>{0.0, -1.0}, 1.0);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status == LineSearchStatus::step_at_minimum || r.status == LineSearchStatus::max_evaluations)
      << r.describe();
}

TEST(Backtracking, StepsBackFromNonFiniteValues) {
  Phi phi = [](double a) {
    if (a > 0.05) return LinePoint<double>{std::numeric_limits<double>::infinity(), 0.0};
    return LinePoint<double>{-a, -1.0};
  };
  auto r = backtracking_search(phi, phi(0), 1.0);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_LE(r.step, 0.05);
}

TEST(Interpolation, CubicMinimizerIsExactForACubic) {
  // phi(a) = a^3 - 3a, minimizer at 1; sample at 0 and 2.
  auto f = [](double a) { return a * a * a - 3 * a; };
  auto d = [](double a) { return 3 * a * a - 3; };
  EXPECT_NEAR(detail::cubic_minimizer(0.0, f(0), d(0), 2.0, f(2), d(2)), 1.0, 1e-12);
  EXPECT_NEAR(detail::quadratic_minimizer(0.0, 1.0, -2.0, 3.0, 4.0), 1.0, 1e-12);  // (a-1)^2
}

}  // namespace
}  // namespace descent
