// Strict saddles started exactly at the saddle (|g| = 0 there): plain
// gradient descent stays; Newton, the trust regions and perturbed steppers
// leave along the negative curvature and reach a minimum.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "descent/core/any_objective.hpp"
#include "descent/optim/factory.hpp"
#include "descent/optim/run.hpp"
#include "descent/problems/problem.hpp"
#include "descent/solvers/minimize.hpp"

namespace descent {
namespace {

struct Case {
  const char* problem;
  Index n;
};

Result<double> solve(const Case& c, Method m, bool escape = true) {
  auto p = problems::make_problem(c.problem, {.dimension = c.n});
  auto f = AnyObjective<double>::reference(*p);
  Vector<double> x = p->start();
  MinimizeOptions o;
  o.escape_saddles = escape;
  return minimize(f, VectorRef<double>(x), m, o);
}

class Saddle : public ::testing::TestWithParam<Case> {};

TEST_P(Saddle, TheStartIsAStationaryPoint) {
  auto p = problems::make_problem(GetParam().problem, {.dimension = GetParam().n});
  Vector<double> g(p->dimension());
  EXPECT_EQ(p->value_and_gradient(p->start(), g), 0.0);
  EXPECT_EQ(g.norm(), 0.0);
}

TEST_P(Saddle, PlainGradientDescentStaysThere) {
  for (Method m : {Method::gd, Method::lbfgs, Method::bfgs}) {
    const auto r = solve(GetParam(), m);
    EXPECT_EQ(r.value, 0.0) << to_string(m);
    EXPECT_EQ(r.iterations, 0) << to_string(m);
  }
  // And so do the second-order methods when told not to look.
  EXPECT_EQ(solve(GetParam(), Method::newton, false).value, 0.0);
  EXPECT_EQ(solve(GetParam(), Method::trust_region, false).value, 0.0);
}

TEST_P(Saddle, NewtonAndTheTrustRegionsLeaveAlongNegativeCurvature) {
  auto p = problems::make_problem(GetParam().problem, {.dimension = GetParam().n});
  for (Method m : {Method::newton, Method::trust_region, Method::dogleg}) {
    const auto r = solve(GetParam(), m);
    EXPECT_EQ(r.status, Status::converged_gradient) << to_string(m) << ": " << r.message;
    EXPECT_NEAR(r.value, *p->known_minimum(), 1e-9) << to_string(m) << ": " << r.message;
    EXPECT_NE(r.message.find("left 1 saddle point"), std::string::npos) << r.message;
  }
}

TEST_P(Saddle, PerturbedSteppersEscapeAndStopAtTheMinimum) {
  auto p = problems::make_problem(GetParam().problem, {.dimension = GetParam().n});
  for (const char* method : {"sgd", "adam"}) {
    for (std::uint64_t seed : {0u, 1u, 2u}) {
      auto f = AnyObjective<double>::reference(*p);
      Vector<double> x = p->start();
      optim::Hyperparameters hp{{"perturb_radius", 0.01}, {"perturb_threshold", 1e-5}, {"perturb_seed", double(seed)}};
      auto stepper = optim::make_stepper<double>(method, Layout::single(x.size()), x, hp);
      optim::StepperRunOptions o;
      o.lr = std::string(method) == "sgd" ? 0.1 : 0.02;
      o.stop.max_iterations = 20000;
      const auto r = optim::minimize_with_stepper(f, VectorRef<double>(x), *stepper, o);
      EXPECT_NEAR(r.value, *p->known_minimum(), 1e-6) << method << " seed " << seed << ": " << r.message;
      EXPECT_TRUE(r.converged()) << r.message;
      EXPECT_NE(r.message.find("perturbed"), std::string::npos) << r.message;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Functions, Saddle,
                         ::testing::Values(Case{"saddle", 2}, Case{"strict_saddle", 10}, Case{"strict_saddle", 50}),
                         [](const auto& info) {
                           return std::string(info.param.problem) + "_" + std::to_string(info.param.n);
                         });

TEST(Perturbed, PerturbsOnlyWhenTheGradientIsSmallAndNotTooOften) {
  const Index n = 4;
  Vector<double> x = Vector<double>::Zero(n), g = Vector<double>::Zero(n);
  optim::Hyperparameters hp{{"perturb_radius", 0.5}, {"perturb_threshold", 1e-3}, {"perturb_interval", 3}};
  auto s = optim::make_stepper<double>("sgd", Layout::single(n), x, hp);
  auto& p = dynamic_cast<optim::Perturbed<double>&>(*s);
  s->step(x, g, 0.1);  // |g| = 0 <= 1e-3, none yet: perturb
  EXPECT_EQ(p.perturbations(), 1);
  EXPECT_GT(x.norm(), 0.0);
  EXPECT_LE(x.norm(), 0.5);
  const Vector<double> after = x;
  s->step(x, g, 0.1);  // within the interval: an SGD step with g = 0
  s->step(x, g, 0.1);
  EXPECT_EQ(p.perturbations(), 1);
  EXPECT_EQ(x, after);
  s->step(x, g, 0.1);  // 3 steps on: perturb again
  EXPECT_EQ(p.perturbations(), 2);
  g.setConstant(1.0);  // a large gradient never perturbs
  for (int k = 0; k < 10; ++k) s->step(x, g, 0.1);
  EXPECT_EQ(p.perturbations(), 2);
  EXPECT_EQ(s->name(), "sgd+perturb");
}

TEST(Perturbed, TheSameSeedGivesTheSameNoiseAndBadOptionsThrow) {
  const Index n = 3;
  auto draw = [&](double seed) {
    Vector<double> x = Vector<double>::Zero(n), g = Vector<double>::Zero(n);
    auto s = optim::make_stepper<double>("adam", Layout::single(n), x, {{"perturb_radius", 1.0}, {"perturb_seed", seed}});
    s->step(x, g, 0.1);
    return x;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
  const Vector<double> x = Vector<double>::Zero(n);
  EXPECT_THROW(optim::make_stepper<double>("sgd", Layout::single(n), x, {{"perturb_radius", 0.0}}), invalid_argument);
  EXPECT_THROW(optim::make_stepper<double>("sgd", Layout::single(n), x, {{"perturb_radius", 1.0}, {"perturb_interval", 0}}),
               invalid_argument);
}

}  // namespace
}  // namespace descent
