// The multimodal test functions: gradients against central differences of
// the value, the stored global minima at the published minimizers, and a
// local solve from beside each minimizer that ends there (so the stored
// value is a minimum, to the suite's 1e-6).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "descent/core/any_objective.hpp"
#include "descent/core/random.hpp"
#include "descent/problems/problem.hpp"
#include "descent/solvers/minimize.hpp"

namespace descent::problems {
namespace {

struct Minimizer {
  const char* name;
  std::vector<double> x;  // a published global minimizer
};

void PrintTo(const Minimizer& m, std::ostream* os) { *os << m.name << " (n = " << m.x.size() << ")"; }

std::unique_ptr<Problem> make(const Minimizer& m) {
  return make_problem(m.name, {.dimension = Index(m.x.size())});
}

Vector<double> point(const std::vector<double>& v) { return Eigen::Map<const Vector<double>>(v.data(), Index(v.size())); }

class MultimodalFunction : public ::testing::TestWithParam<Minimizer> {};

TEST_P(MultimodalFunction, GradientMatchesCentralDifferences) {
  auto p = make(GetParam());
  const auto domain = p->domain();
  ASSERT_TRUE(domain.has_value());
  EXPECT_FALSE(p->bounds().has_value()) << "the domain is not a constraint";
  Rng rng(5);
  const Index n = p->dimension();
  for (int trial = 0; trial < 5; ++trial) {
    Vector<double> x(n), g(n);
    for (Index i = 0; i < n; ++i) x[i] = rng.uniform(domain->lower[i], domain->upper[i]);
    p->value_and_gradient(x, g);
    for (Index i = 0; i < n; ++i) {
      const double h = 1e-6 * std::max(1.0, std::abs(x[i]));
      Vector<double> up = x, down = x;
      up[i] += h;
      down[i] -= h;
      const double fd = (p->value(up) - p->value(down)) / (2 * h);
      EXPECT_NEAR(g[i], fd, 1e-5 * (1 + std::abs(fd))) << p->name() << " coordinate " << i << " at trial " << trial;
    }
  }
}

TEST_P(MultimodalFunction, TheStoredMinimumIsAtThePublishedMinimizerAndIsAMinimum) {
  const auto& c = GetParam();
  auto p = make(c);
  ASSERT_TRUE(p->known_minimum().has_value()) << c.name;
  const double fstar = *p->known_minimum();
  const double tolerance = std::max(1e-6 * std::abs(fstar), 1e-9);
  // The published minimizers are printed to 4-7 digits: polish them.
  Vector<double> x = point(c.x);
  auto any = AnyObjective<double>::reference(*p);
  MinimizeOptions o;
  o.stop.gradient_tolerance = 1e-10;
  o.bounds = p->domain();  // eggholder's minimum is on the domain's edge
  const auto r = minimize<double>(any, x, Method::lbfgsb, o);
  EXPECT_NEAR(r.value, fstar, tolerance) << c.name << ": " << r.message;
  // From beside it (a step of 1% of the domain) the local solve returns.
  Vector<double> beside = point(c.x);
  for (Index i = 0; i < beside.size(); ++i)
    beside[i] = std::clamp(beside[i] + 0.01 * (o.bounds->upper[i] - o.bounds->lower[i]) * (i % 2 ? -0.3 : 0.2),
                           o.bounds->lower[i], o.bounds->upper[i]);
  const auto back = minimize<double>(any, beside, Method::lbfgsb, o);
  EXPECT_GE(back.value, fstar - tolerance) << c.name << " went below the stored minimum";
}

INSTANTIATE_TEST_SUITE_P(
    Catalogue, MultimodalFunction,
    ::testing::Values(Minimizer{"ackley", {0, 0}}, Minimizer{"ackley", {0, 0, 0, 0, 0}},
                      Minimizer{"rastrigin", {0, 0}}, Minimizer{"rastrigin", {0, 0, 0, 0, 0}},
                      Minimizer{"schwefel", {420.9687, 420.9687}}, Minimizer{"schwefel", std::vector<double>(5, 420.9687)},
                      Minimizer{"griewank", {0, 0}}, Minimizer{"griewank", {0, 0, 0, 0, 0}},
                      Minimizer{"levy", {1, 1}}, Minimizer{"levy", {1, 1, 1, 1, 1}},
                      Minimizer{"eggholder", {512, 404.2319}}, Minimizer{"holder_table", {8.05502, 9.66459}},
                      Minimizer{"styblinski_tang", {-2.903534, -2.903534}},
                      Minimizer{"styblinski_tang", std::vector<double>(5, -2.903534)},
                      Minimizer{"six_hump_camel", {0.0898, -0.7126}}, Minimizer{"shubert", {-7.0835, 4.8580}},
                      Minimizer{"michalewicz", {2.20, 1.57}},
                      Minimizer{"michalewicz", {2.202906, 1.570796, 1.284992, 1.923058, 1.720470}},
                      Minimizer{"michalewicz", {2.202906, 1.570796, 1.284992, 1.923058, 1.720470, 1.570796, 1.454414,
                                                1.756087, 1.655717, 1.570796}}),
    [](const auto& info) { return std::string(info.param.name) + "_" + std::to_string(info.param.x.size()); });

TEST(Multimodal, EveryFunctionHasADomainHoldingItsStartAndRefusesWrongSizes) {
  for (const auto& name : multimodal_problem_names()) {
    auto p = make_problem(name);
    const auto d = p->domain();
    ASSERT_TRUE(d.has_value()) << name;
    const Vector<double> x0 = p->start();
    EXPECT_TRUE((x0.array() >= d->lower.array()).all() && (x0.array() <= d->upper.array()).all()) << name;
    Vector<double> g(x0.size());
    EXPECT_TRUE(std::isfinite(p->value_and_gradient(x0, g))) << name;
    EXPECT_TRUE(g.allFinite()) << name;
  }
  EXPECT_THROW(make_problem("eggholder", {.dimension = 3}), invalid_argument);
  EXPECT_FALSE(make_problem("michalewicz", {.dimension = 3})->known_minimum().has_value());
  EXPECT_DOUBLE_EQ(*make_problem("styblinski_tang", {.dimension = 4})->known_minimum(), -4 * 39.16616570377142);
}

}  // namespace
}  // namespace descent::problems
