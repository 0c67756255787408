// The bound-constrained problems: each defines the function of its source
// (f at the start equals an independent formulation's, stored by
// make_bounded_reference.py), its derivatives agree with differences, and
// L-BFGS-B and SPG reach the minima scipy's L-BFGS-B finds over the bounds.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "descent/core/projection.hpp"
#include "descent/problems/problem.hpp"
#include "descent/solvers/lbfgsb.hpp"
#include "descent/solvers/projected.hpp"

namespace descent::problems {
namespace {

struct Reference {
  std::string problem;
  Index n;
  double f_start;
  double f_min;
  bool local;  // the descent from the start ends at a local minimum, not the book's
  Index active;
};

std::vector<Reference> references() {
  std::ifstream in(DESCENT_BOUNDED_REFERENCE);
  if (!in) throw std::runtime_error("cannot read " DESCENT_BOUNDED_REFERENCE);
  const auto j = nlohmann::json::parse(in);
  std::vector<Reference> out;
  for (const auto& c : j.at("cases"))
    out.push_back({c.at("problem").get<std::string>(), c.at("n").get<Index>(), c.at("f_start").get<double>(),
                   c.at("f_min").get<double>(), c.value("local_minimum", false), c.at("active").get<Index>()});
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Reference>& info) {
  return info.param.problem + "_" + std::to_string(info.param.n);
}

// A point inside the bounds near the start: the projected start pulled a
// little towards the middle of each finite interval, so that differences
// around it stay inside (some functions are not defined outside).
Vector<double> inner_point(const Problem& p) {
  const Bounds b = *p.bounds();
  Vector<double> x = p.start();
  b.project<double>(x);
  for (Index i = 0; i < x.size(); ++i) {
    const double lo = b.lower[i], hi = b.upper[i];
    const double width = std::isfinite(lo) && std::isfinite(hi) ? hi - lo : 1.0;
    const double step = 0.01 * width + 1e-3 * double(i % 7);
    if (std::isfinite(lo) && x[i] - lo < step) x[i] = std::min(lo + step, std::isfinite(hi) ? (lo + hi) / 2 : lo + step);
    if (std::isfinite(hi) && hi - x[i] < step) x[i] = std::max(hi - step, std::isfinite(lo) ? (lo + hi) / 2 : hi - step);
  }
  return x;
}

class BoundedProblem : public ::testing::TestWithParam<Reference> {
 protected:
  std::unique_ptr<Problem> p = make_problem(GetParam().problem, {.dimension = GetParam().n});
};

TEST_P(BoundedProblem, IsInTheCatalogueWithValidBounds) {
  const auto& names = bounded_problem_names();
  EXPECT_NE(std::find(names.begin(), names.end(), GetParam().problem), names.end());
  ASSERT_TRUE(p->bounds().has_value());
  EXPECT_NO_THROW(p->bounds()->validate(p->dimension()));
  EXPECT_EQ(p->start().size(), GetParam().n);
}

TEST_P(BoundedProblem, ValueAtTheStartEqualsTheIndependentFormulation) {
  const double f = p->value(p->start());
  EXPECT_NEAR(f, GetParam().f_start, 1e-12 * std::max(1.0, std::abs(GetParam().f_start)));
  Vector<double> g(p->dimension());
  EXPECT_DOUBLE_EQ(p->value_and_gradient(p->start(), g), f);
}

TEST_P(BoundedProblem, GradientMatchesCentralDifferences) {
  const Vector<double> x = inner_point(*p);
  Vector<double> g(x.size());
  p->value_and_gradient(x, g);
  const Index n = x.size();
  // Every coordinate of the small problems; a spread of them on the grids.
  for (Index i = 0; i < n; i += std::max<Index>(1, n / 37)) {
    const double h = 1e-6 * std::max(1.0, std::abs(x[i]));
    Vector<double> a = x, b = x;
    a[i] += h;
    b[i] -= h;
    const double fd = (p->value(a) - p->value(b)) / (2 * h);
    EXPECT_NEAR(g[i], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "coordinate " << i;
  }
}

TEST_P(BoundedProblem, HessianMatchesTheGradientAndItsProductMatchesTheHessian) {
  if (!p->has_hessian()) GTEST_SKIP() << "n too large for a dense Hessian";
  const Vector<double> x = inner_point(*p);
  const Index n = x.size();
  Matrix<double> h(n, n);
  p->hessian(x, h);
  EXPECT_LE((h - h.transpose()).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, h.cwiseAbs().maxCoeff()));
  Vector<double> ga(n), gb(n);
  for (Index j = 0; j < n; j += std::max<Index>(1, n / 11)) {
    const double step = 1e-6 * std::max(1.0, std::abs(x[j]));
    Vector<double> a = x, b = x;
    a[j] += step;
    b[j] -= step;
    p->value_and_gradient(a, ga);
    p->value_and_gradient(b, gb);
    const Vector<double> column = (ga - gb) / (2 * step);
    EXPECT_LE((h.col(j) - column).cwiseAbs().maxCoeff(), 1e-5 * std::max(1.0, column.cwiseAbs().maxCoeff()))
        << "column " << j;
  }
  Vector<double> v = Vector<double>::LinSpaced(n, -1.0, 2.0), hv(n);
  p->hessian_vector(x, v, hv);
  EXPECT_LE((hv - h * v).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, (h * v).cwiseAbs().maxCoeff()));
}

double tolerance(double f) { return 1e-8 * std::max(1.0, std::abs(f)); }

TEST_P(BoundedProblem, LbfgsbReachesTheReferenceMinimumAndItsActiveSet) {
  const Reference& r = GetParam();
  Vector<double> x = p->start();
  LbfgsbOptions o;
  o.stop.gradient_tolerance = 1e-9;
  o.stop.value_tolerance = 1e-15;
  o.stop.max_iterations = 20000;
  const Result<double> result = lbfgsb(*p, x, *p->bounds(), o);
  EXPECT_LE(result.value, r.f_min + tolerance(r.f_min)) << result.message;
  EXPECT_GE(result.value, r.f_min - tolerance(r.f_min)) << "below scipy's minimum: the reference is stale";
  // The same bounds hold at the end, give or take the few that are
  // degenerate (zero multiplier) on the grids.
  const auto active = Index(result.active_lower.size() + result.active_upper.size());
  EXPECT_NEAR(double(active), double(r.active), std::max(1.0, 0.02 * double(r.active)));
  // Where the book's f* is the one reached, it is the catalogue's too.
  if (auto fstar = p->known_minimum(); fstar && !r.local) {
    EXPECT_NEAR(result.value, *fstar, 1e-7 * std::max(1.0, std::abs(*fstar)));
  }
}

TEST_P(BoundedProblem, SpgReachesTheReferenceMinimum) {
  const Reference& r = GetParam();
  Vector<double> x = p->start();
  SpgOptions o;
  o.stop.gradient_tolerance = 1e-9;
  o.stop.max_iterations = 200000;
  o.stop.max_evaluations = 400000;
  const Result<double> result = spg(*p, x, Projection::bounds(*p->bounds()), o);
  EXPECT_LE(result.value, r.f_min + 1e-7 * std::max(1.0, std::abs(r.f_min))) << result.message;
}

INSTANTIATE_TEST_SUITE_P(Bounded, BoundedProblem, ::testing::ValuesIn(references()), case_name);

TEST(BoundedCatalogue, EveryBoundedProblemHasAReference) {
  const auto refs = references();
  for (const auto& name : bounded_problem_names())
    EXPECT_TRUE(std::any_of(refs.begin(), refs.end(), [&](const Reference& r) { return r.problem == name; })) << name;
}

TEST(BoundedCatalogue, TheUnconstrainedProblemsHaveNoBounds) {
  for (const auto& name : mgh_problem_names()) EXPECT_FALSE(make_problem(name)->bounds().has_value()) << name;
}

TEST(BoundedCatalogue, GridsRefuseSizesThatAreNotSquaresNamingTheNearest) {
  for (const char* name : {"torsion", "journal_bearing", "minimal_surface_obstacle"}) {
    try {
      make_problem(name, {.dimension = 1000});
      ADD_FAILURE() << name << " accepted n = 1000";
    } catch (const invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("961"), std::string::npos) << what;
      EXPECT_NE(what.find("1024"), std::string::npos) << what;
    }
    EXPECT_EQ(make_problem(name, {.dimension = 1024})->dimension(), 1024);
  }
}

// The grids scale: one evaluation at n = 10^6 takes a pass over the grid,
// and the gradient agrees with a directional difference there.
TEST(BoundedCatalogue, GridsEvaluateAtAMillionVariables) {
  for (const char* name : {"torsion", "journal_bearing", "minimal_surface_obstacle"}) {
    auto p = make_problem(name, {.dimension = 1000 * 1000});
    Vector<double> x = p->start();
    p->bounds()->project<double>(x);
    x *= 0.5;
    Vector<double> g(x.size());
    const double f = p->value_and_gradient(x, g);
    ASSERT_TRUE(std::isfinite(f));
    const Vector<double> d = Vector<double>::Ones(x.size()) * 1e-3;
    const double fd = (p->value(x + d) - p->value(x - d)) / 2;
    EXPECT_NEAR(g.dot(d), fd, 1e-6 * std::max(1e-3, std::abs(fd))) << name;
  }
}

}  // namespace
}  // namespace descent::problems
