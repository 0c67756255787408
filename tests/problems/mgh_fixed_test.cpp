// Problems (1) to (19) of Moré, Garbow, Hillstrom (1981): derivatives against
// central differences, the starting values, and the published minima.
//
// The factories are called directly (not through make_problem) so that these
// tests depend on mgh_fixed.cpp alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "descent/core/error.hpp"
#include "problems/factories.hpp"
#include "support/finite_difference.hpp"

namespace descent::problems {
namespace {

using testing::numeric_gradient;
using testing::numeric_jacobian;

using Factory = std::unique_ptr<Problem> (*)(Index);

struct Case {
  std::string name;
  Factory make;
  Index n;
  // f(x0) to the digits given, compared to a relative tolerance of 5e-6 (half
  // a unit in the sixth significant digit). The paper states x0 and f*, not
  // f(x0): these are its formulas evaluated at its x0 (exactly, by hand, for
  // the polynomial problems); the data tables behind the others are checked
  // against the paper's f* by MghFixedWithPositiveMinimum.
  std::optional<double> f_start = std::nullopt;
  // A minimizer the paper states, and how close f there is to f*.
  std::vector<double> minimizer = {};
  double minimizer_tolerance = 1e-12;
  // A point a few digits from the minimizer with f* > 0: damped Newton from
  // here must reach f* to its six published digits. This checks the data.
  std::vector<double> near_minimizer = {};
  // Largest error of the analytic gradient and Hessian against central
  // differences, as measured by scaled_error.
  double gradient_tolerance = 1e-6;
  double hessian_tolerance = 1e-6;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  using namespace detail;
  return {
      {.name = "rosenbrock", .make = make_rosenbrock, .n = 2, .f_start = 24.2,
       .minimizer = {1, 1}},
      {.name = "freudenstein_roth", .make = make_freudenstein_roth, .n = 2, .f_start = 400.5,
       .minimizer = {5, 4}},
      {.name = "powell_badly_scaled", .make = make_powell_badly_scaled, .n = 2, .f_start = 1.13526,
       // The paper gives (1.098...e-5, 9.106...); more digits from solving r = 0.
       .minimizer = {1.0981593296998534e-5, 9.106146739866226}, .minimizer_tolerance = 1e-20},
      {.name = "brown_badly_scaled", .make = make_brown_badly_scaled, .n = 2,
       .f_start = 999998000003.0, .minimizer = {1e6, 2e-6}, .minimizer_tolerance = 1e-20,
       // f(x0) ~ 1e12: differences of f carry noise ~ eps f / h ~ 0.2, and
       // differences of g (~ 2e6) noise ~ 1e-3, against components near 1.
       .gradient_tolerance = 1e-4, .hessian_tolerance = 1e-3},
      {.name = "beale", .make = make_beale, .n = 2, .f_start = 14.203125, .minimizer = {3, 0.5}},
      {.name = "jennrich_sampson", .make = make_jennrich_sampson, .n = 2, .f_start = 4171.31,
       .near_minimizer = {0.26, 0.26}},
      {.name = "helical_valley", .make = make_helical_valley, .n = 3, .f_start = 2500,
       .minimizer = {1, 0, 0}},
      {.name = "bard", .make = make_bard, .n = 3, .f_start = 41.6817,
       .near_minimizer = {0.08, 1.1, 2.3}},
      {.name = "gaussian", .make = make_gaussian, .n = 3, .f_start = 3.88811e-6,
       .near_minimizer = {0.4, 1.0, 0.0}},
      {.name = "meyer", .make = make_meyer, .n = 3, .f_start = 1.69361e9,
       .near_minimizer = {0.0056, 6181, 345}},
      {.name = "gulf", .make = make_gulf, .n = 3, .f_start = 12.1107, .minimizer = {50, 25, 1.5},
       .minimizer_tolerance = 1e-25},
      {.name = "box_3d", .make = make_box_3d, .n = 3, .f_start = 1031.15,
       .minimizer = {1, 10, 1}, .minimizer_tolerance = 1e-25},
      {.name = "powell_singular", .make = make_powell_singular, .n = 4, .f_start = 215,
       .minimizer = {0, 0, 0, 0}},
      {.name = "wood", .make = make_wood, .n = 4, .f_start = 19192, .minimizer = {1, 1, 1, 1}},
      {.name = "kowalik_osborne", .make = make_kowalik_osborne, .n = 4, .f_start = 5.31317e-3,
       .near_minimizer = {0.19, 0.19, 0.12, 0.14}},
      {.name = "brown_dennis", .make = make_brown_dennis, .n = 4, .f_start = 7.92669e6,
       .near_minimizer = {-11.6, 13.2, -0.4, 0.24}},
      {.name = "osborne1", .make = make_osborne1, .n = 5, .f_start = 0.879026,
       .near_minimizer = {0.375, 1.94, -1.46, 0.0129, 0.0221}},
      {.name = "biggs_exp6", .make = make_biggs_exp6, .n = 6, .f_start = 0.779070,
       .minimizer = {1, 10, 1, 5, 4, 3}, .minimizer_tolerance = 1e-25},
      {.name = "osborne2", .make = make_osborne2, .n = 11, .f_start = 2.09342,
       .near_minimizer = {1.31, 0.43, 0.63, 0.60, 0.75, 0.91, 1.37, 4.82, 2.40, 4.57, 5.68}},
  };
}

// max_i |a_i - b_i| / max(|b_i|, 0.01 max_j |b_j|): relative per component,
// with components far below the largest measured against 1% of it. Unlike an
// absolute floor of 1 this is blind to scale, so it is as strict for the
// Gaussian problem (f ~ 1e-6) as for Meyer's (f ~ 1e9).
template <class A, class B>
double scaled_error(const A& a, const B& b) {
  const double floor = 0.01 * b.cwiseAbs().maxCoeff();
  double worst = 0;
  for (Index i = 0; i < a.size(); ++i) {
    const double scale = std::max(std::abs(b.data()[i]), floor);
    const double error = std::abs(a.data()[i] - b.data()[i]);
    worst = std::max(worst, scale > 0 ? error / scale : error);
  }
  return worst;
}

Vector<double> to_vector(const std::vector<double>& v) {
  return Eigen::Map<const Vector<double>>(v.data(), Index(v.size()));
}

// The start point and two seeded points near it, each x0_i moved by up to
// 10% of max(|x0_i|, 0.1).
std::vector<Vector<double>> points_near_start(const Problem& p) {
  const Vector<double> x0 = p.start();
  std::vector<Vector<double>> points = {x0};
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (int k = 0; k < 2; ++k) {
    Vector<double> x = x0;
    for (Index i = 0; i < x.size(); ++i) x[i] += 0.1 * std::max(std::abs(x0[i]), 0.1) * unit(rng);
    points.push_back(x);
  }
  return points;
}

// Levenberg-Marquardt-damped Newton on the exact Hessian:
// solve (H + mu diag|H|) d = -g, accept d if f does not increase.
double damped_newton(const Problem& p, Vector<double>& x, int max_iterations) {
  const Index n = x.size();
  Vector<double> g(n);
  Matrix<double> h(n, n);
  double f = p.value_and_gradient(x, g);
  double mu = 1e-3;
  for (int k = 0; k < max_iterations && mu < 1e20; ++k) {
    p.hessian(x, h);
    Matrix<double> a = h;
    for (Index i = 0; i < n; ++i) a(i, i) += mu * std::max(std::abs(h(i, i)), 1e-300);
    const Vector<double> trial = x + a.colPivHouseholderQr().solve(-g);
    const double f_trial = p.value(trial);
    if (std::isfinite(f_trial) && f_trial <= f) {
      x = trial;
      f = p.value_and_gradient(x, g);
      mu = std::max(mu / 10, 1e-15);
    } else {
      mu *= 10;
    }
  }
  return f;
}

class MghFixed : public ::testing::TestWithParam<Case> {
 protected:
  std::unique_ptr<Problem> make() const { return GetParam().make(GetParam().n); }
};

TEST_P(MghFixed, HasItsNameDimensionAndStartingValue) {
  const Case& c = GetParam();
  const auto p = make();
  EXPECT_EQ(p->name(), c.name);
  EXPECT_EQ(p->dimension(), c.n);
  EXPECT_TRUE(p->has_hessian());
  EXPECT_TRUE(p->known_minimum().has_value());
  const Vector<double> x0 = p->start();
  ASSERT_EQ(x0.size(), c.n);
  if (c.f_start) {
    EXPECT_NEAR(p->value(x0), *c.f_start, 5e-6 * std::abs(*c.f_start));
  }
}

TEST_P(MghFixed, GradientMatchesCentralDifferences) {
  const Case& c = GetParam();
  const auto p = make();
  for (const Vector<double>& x : points_near_start(*p)) {
    Vector<double> g(c.n);
    p->value_and_gradient(x, g);
    const Vector<double> fd = numeric_gradient([&](const Vector<double>& y) { return p->value(y); }, x);
    EXPECT_LE(scaled_error(g, fd), c.gradient_tolerance)
        << "at x = " << x.transpose() << "\nanalytic " << g.transpose() << "\nnumeric  " << fd.transpose();
  }
}

TEST_P(MghFixed, HessianIsSymmetricAndMatchesDifferencesOfTheGradient) {
  const Case& c = GetParam();
  const auto p = make();
  for (const Vector<double>& x : points_near_start(*p)) {
    Matrix<double> h(c.n, c.n);
    p->hessian(x, h);
    EXPECT_LE((h - h.transpose()).cwiseAbs().maxCoeff(), 1e-14 * std::max(1.0, h.cwiseAbs().maxCoeff()));
    const Matrix<double> fd = numeric_jacobian(
        [&](const Vector<double>& y, Vector<double>& out) { p->value_and_gradient(y, out); }, x, c.n);
    EXPECT_LE(scaled_error(h, fd), c.hessian_tolerance)
        << "at x = " << x.transpose() << "\nanalytic\n" << h << "\nnumeric\n" << fd;
  }
}

TEST_P(MghFixed, ValueAndHessianVectorAgreeWithTheFullEvaluations) {
  const Case& c = GetParam();
  const auto p = make();
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (const Vector<double>& x : points_near_start(*p)) {
    Vector<double> g(c.n);
    EXPECT_EQ(p->value(x), p->value_and_gradient(x, g));

    Vector<double> v(c.n);
    for (Index i = 0; i < c.n; ++i) v[i] = unit(rng);
    Matrix<double> h(c.n, c.n);
    p->hessian(x, h);
    const Vector<double> expected = h * v;
    Vector<double> hv(c.n);
    p->hessian_vector(x, v, hv);
    EXPECT_LE((hv - expected).cwiseAbs().maxCoeff(), 1e-12 * std::max(1.0, expected.cwiseAbs().maxCoeff()));
  }
}

// The problems whose paper entry states a minimizer x*.
class MghFixedWithMinimizer : public MghFixed {};

TEST_P(MghFixedWithMinimizer, KnownMinimumIsAttainedAtThePublishedMinimizer) {
  const Case& c = GetParam();
  const auto p = make();
  ASSERT_TRUE(p->known_minimum().has_value());
  const Vector<double> x = to_vector(c.minimizer);
  EXPECT_NEAR(p->value(x), *p->known_minimum(), c.minimizer_tolerance);
  Vector<double> g(c.n);
  p->value_and_gradient(x, g);
  EXPECT_LE(g.cwiseAbs().maxCoeff(), 1e-6);
}

// The data-fitting problems with f* > 0, whose paper entry gives f* alone.
class MghFixedWithPositiveMinimum : public MghFixed {};

TEST_P(MghFixedWithPositiveMinimum, DampedNewtonFromNearTheMinimizerReachesThePublishedMinimum) {
  const Case& c = GetParam();
  const auto p = make();
  ASSERT_TRUE(p->known_minimum().has_value());
  Vector<double> x = to_vector(c.near_minimizer);
  const double f = damped_newton(*p, x, 300);
  const double f_star = *p->known_minimum();
  EXPECT_NEAR(f, f_star, 1e-5 * f_star) << "stopped at x = " << x.transpose();
}

TEST_P(MghFixed, RejectsAnyOtherDimension) {
  const Case& c = GetParam();
  EXPECT_THROW(c.make(c.n - 1), invalid_argument);
  EXPECT_THROW(c.make(c.n + 1), invalid_argument);
  EXPECT_THROW(c.make(0), invalid_argument);
  try {
    c.make(c.n + 1);
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(c.name), std::string::npos) << e.what();
  }
}

std::vector<Case> cases_where(bool (*keep)(const Case&)) {
  std::vector<Case> kept;
  for (Case& c : cases())
    if (keep(c)) kept.push_back(std::move(c));
  return kept;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Mgh, MghFixed, ::testing::ValuesIn(cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Mgh, MghFixedWithMinimizer,
                         ::testing::ValuesIn(cases_where([](const Case& c) { return !c.minimizer.empty(); })),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Mgh, MghFixedWithPositiveMinimum,
                         ::testing::ValuesIn(cases_where([](const Case& c) { return !c.near_minimizer.empty(); })),
                         case_name);

}  // namespace
}  // namespace descent::problems
