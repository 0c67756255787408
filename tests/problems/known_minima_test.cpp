// The stored minima round to the paper's six digits, and the solvers reach
// them: the claim behind `descent minimize --suite mgh`.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "descent/problems/problem.hpp"
#include "descent/solvers/lbfgs.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/solvers/trust_region.hpp"

namespace descent::problems {
namespace {

struct Published {
  const char* name;
  Index n;
  double paper;  // as printed in Moré, Garbow, Hillstrom (1981)
};

class KnownMinimum : public ::testing::TestWithParam<Published> {};

TEST_P(KnownMinimum, RoundsToThePublishedValueAndIsReachedByNewton) {
  const auto& c = GetParam();
  auto p = make_problem(c.name, {.dimension = c.n});
  ASSERT_TRUE(p->known_minimum().has_value());
  const double fstar = *p->known_minimum();
  EXPECT_NEAR(fstar, c.paper, 0.5e-5 * c.paper) << "does not round to the paper's figure";
  // A Newton method from the standard start reaches it to 1e-9 relative.
  auto any = AnyObjective<double>::reference(*p);
  double best = INFINITY;
  for (Method m : {Method::newton, Method::trust_region, Method::dogleg}) {
    Vector<double> x = p->start();
    MinimizeOptions o;
    o.stop.gradient_tolerance = 1e-13;
    o.stop.max_iterations = 2000;
    best = std::min(best, minimize<double>(any, x, m, o).value);
    if (std::abs(best - fstar) <= 1e-9 * fstar) break;
  }
  EXPECT_NEAR(best, fstar, 1e-9 * fstar);
}

INSTANTIATE_TEST_SUITE_P(
    Mgh, KnownMinimum,
    ::testing::Values(Published{"jennrich_sampson", 2, 124.362}, Published{"bard", 3, 8.21487e-3},
                      Published{"gaussian", 3, 1.12793e-8}, Published{"meyer", 3, 87.9458},
                      Published{"kowalik_osborne", 4, 3.07505e-4}, Published{"brown_dennis", 4, 85822.2},
                      Published{"osborne1", 5, 5.46489e-5}, Published{"osborne2", 11, 4.01377e-2},
                      Published{"watson", 6, 2.28767e-3}, Published{"watson", 9, 1.39976e-6},
                      Published{"watson", 12, 4.72238e-10}, Published{"penalty1", 4, 2.24997e-5},
                      Published{"penalty1", 10, 7.08765e-5}, Published{"penalty2", 4, 9.37629e-6},
                      Published{"penalty2", 10, 2.93660e-4}, Published{"chebyquad", 8, 3.51687e-3},
                      Published{"chebyquad", 10, 6.50395e-3}),
    [](const auto& info) { return std::string(info.param.name) + "_" + std::to_string(info.param.n); });

TEST(Catalogue, HasTheThirtyFiveMghProblemsTheQuadraticsTheMultimodalAndTheBoundedSet) {
  EXPECT_EQ(mgh_problem_names().size(), 35u);
  EXPECT_EQ(bounded_problem_names().size(), 12u);
  EXPECT_EQ(multimodal_problem_names().size(), 11u);
  EXPECT_EQ(problem_catalog().size(), 37u + 2u + 11u + 12u);  // MGH and quadratics, saddles, multimodal, bounded
  for (const auto& info : problem_catalog()) {
    auto p = make_problem(info.name);
    EXPECT_EQ(p->name(), info.name);
    EXPECT_EQ(p->dimension(), info.default_dimension) << info.name;
    EXPECT_EQ(p->start().size(), p->dimension()) << info.name;
    if (info.in_mgh_set) {
      EXPECT_TRUE(p->known_minimum().has_value()) << info.name;
    }
    EXPECT_EQ(p->bounds().has_value(), info.bounded) << info.name;
  }
}

TEST(Catalogue, RefusesUnknownNamesAndBadDimensionsWithClearMessages) {
  try {
    make_problem("rosenbrok");
    FAIL();
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("known problems"), std::string::npos);
  }
  EXPECT_THROW(make_problem("rosenbrock", {.dimension = 3}), invalid_argument);
  EXPECT_THROW(make_problem("quadratic", {.dimension = 0}), invalid_argument);
  EXPECT_THROW(make_problem("quadratic", {.dimension = Index(1) << 40}), invalid_argument);
  EXPECT_THROW(make_problem("ill_conditioned_quadratic", {.condition = 0.5}), invalid_argument);
}

// Robustness on the whole set, from the standard starts and from 10 and 100
// times them (the paper's three starts), at the levels measured when trust
// region gained its scaling and the strong Wolfe search stopped lengthening
// tiny first steps. scipy 1.10's best method on the same starts solves
// 32, 30 and 26 (bench/scipy_solvers.py mgh --x0-scale S). From 100 x0
// osborne1 is solved by L-BFGS in the release build (26) and missed in the
// check build (25): the far starts are chaotic enough for the rounding of
// -march=native to decide.
struct SuiteLevel {
  Method method;
  double x0_scale;
  int solved;
};

void PrintTo(const SuiteLevel& c, std::ostream* os) {
  *os << to_string(c.method) << " from " << c.x0_scale << " x0, at least " << c.solved << " solved";
}

class MghSuite : public ::testing::TestWithParam<SuiteLevel> {};

TEST_P(MghSuite, SolvesAtLeastTheMeasuredCount) {
  const auto& c = GetParam();
  int solved = 0;
  std::string missed;
  for (const auto& name : mgh_problem_names()) {
    auto p = make_problem(name);
    auto any = AnyObjective<double>::reference(*p);
    Vector<double> x = c.x0_scale * p->start();
    MinimizeOptions o;
    o.stop.gradient_tolerance = 1e-10;
    o.stop.max_iterations = 10000;
    auto r = minimize<double>(any, x, c.method, o);
    const double fstar = *p->known_minimum();
    if (r.value - fstar <= std::max(1e-6 * std::abs(fstar), 1e-10)) {
      ++solved;
    } else {
      missed += name + " ";
    }
  }
  EXPECT_GE(solved, c.solved) << to_string(c.method) << " from " << c.x0_scale << " x0 missed: " << missed;
}

INSTANTIATE_TEST_SUITE_P(Starts, MghSuite,
                         ::testing::Values(SuiteLevel{Method::lbfgs, 1, 32}, SuiteLevel{Method::lbfgs, 10, 28},
                                           SuiteLevel{Method::lbfgs, 100, 25},
                                           SuiteLevel{Method::trust_region, 1, 33},
                                           SuiteLevel{Method::trust_region, 10, 30},
                                           SuiteLevel{Method::trust_region, 100, 27}),
                         [](const auto& info) {
                           return std::string(to_string(info.param.method) == "lbfgs" ? "lbfgs" : "trust_region") +
                                  "_x" + std::to_string(int(info.param.x0_scale));
                         });

// meyer's variables differ in size by 10^6: the ball stalls at
// f = 87.9468 with its radius below rounding, and the scaled region
// (MINPACK's diag) goes on to the minimum.
TEST(TrustRegionScaling, SolvesMeyerWhereTheBallStalls) {
  auto p = make_problem("meyer");
  const double fstar = *p->known_minimum();
  auto any = AnyObjective<double>::reference(*p);
  auto solve = [&](TrustRegionScaling scaling) {
    Vector<double> x = p->start();
    TrustRegionOptions o;
    o.scaling = scaling;
    o.stop.gradient_tolerance = 1e-10;
    o.stop.max_iterations = 10000;
    return trust_region(any, x, o);
  };
  const auto ball = solve(TrustRegionScaling::none);
  EXPECT_EQ(ball.status, Status::line_search_failed) << ball.message;
  EXPECT_GT(ball.value - fstar, 1e-6 * fstar);
  for (auto scaling : {TrustRegionScaling::when_stalled, TrustRegionScaling::hessian_diagonal}) {
    const auto r = solve(scaling);
    EXPECT_LE(r.value - fstar, 1e-6 * fstar) << r.message;
  }
}

// 10 x0 gives gradients of 1e22 (chebyquad) and 1e36 (jennrich_sampson):
// the first step 1 / |g| lies below the search's min_step, and lengthening it
// to min_step threw L-BFGS 1e16 away from the start.
TEST(LineSearch, TriesATinyFirstStepAsGiven) {
  for (const char* name : {"chebyquad", "jennrich_sampson"}) {
    auto p = make_problem(name);
    auto any = AnyObjective<double>::reference(*p);
    Vector<double> x = 10.0 * p->start();
    LbfgsOptions o;
    o.stop.gradient_tolerance = 1e-10;
    o.stop.max_iterations = 10000;
    const auto r = lbfgs(any, x, o);
    const double fstar = *p->known_minimum();
    EXPECT_LE(r.value - fstar, 1e-6 * fstar) << name << ": " << r.message;
  }
}

}  // namespace
}  // namespace descent::problems
