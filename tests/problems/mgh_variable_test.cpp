// Problems (20)-(35) of Moré, Garbow, Hillstrom (1981) and the quadratics.
//
// Oracles: the paper's residuals written out naively here (f = |r|^2, in
// O(m n), independent of the fused O(n) forms in src/), central differences
// for every derivative, minimizers known in closed form, and a damped Newton
// run to the paper's six-digit minima where there is no closed form.
#include <cmath>
#include <functional>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <gtest/gtest.h>

#include "descent/core/error.hpp"
#include "problems/factories.hpp"
#include "support/finite_difference.hpp"

namespace descent::problems {
namespace {

using detail::make_brown_almost_linear;
using detail::make_broyden_banded;
using detail::make_broyden_tridiagonal;
using detail::make_chebyquad;
using detail::make_discrete_boundary_value;
using detail::make_discrete_integral_equation;
using detail::make_extended_powell;
using detail::make_extended_rosenbrock;
using detail::make_linear_full_rank;
using detail::make_linear_rank1;
using detail::make_linear_rank1_zero;
using detail::make_penalty1;
using detail::make_penalty2;
using detail::make_trigonometric;
using detail::make_variably_dimensioned;
using detail::make_watson;

using Residuals = std::function<Vector<double>(const Vector<double>&)>;

// ---------------------------------------------------------------------------
// The paper's residuals, 1-based as printed: x(j) is x_j.

Vector<double> watson_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  auto x = [&](Index j) { return xv[j - 1]; };
  Vector<double> r(31);
  for (int i = 1; i <= 29; ++i) {
    const double t = i / 29.0;
    double s1 = 0, s2 = 0;
    for (Index j = 2; j <= n; ++j) s1 += double(j - 1) * x(j) * std::pow(t, double(j - 2));
    for (Index j = 1; j <= n; ++j) s2 += x(j) * std::pow(t, double(j - 1));
    r[i - 1] = s1 - s2 * s2 - 1;
  }
  r[29] = x(1);
  r[30] = x(2) - x(1) * x(1) - 1;
  return r;
}

Vector<double> extended_rosenbrock_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  auto x = [&](Index j) { return xv[j - 1]; };
  Vector<double> r(n);
  for (Index i = 1; i <= n / 2; ++i) {
    r[2 * i - 2] = 10 * (x(2 * i) - x(2 * i - 1) * x(2 * i - 1));
    r[2 * i - 1] = 1 - x(2 * i - 1);
  }
  return r;
}

Vector<double> extended_powell_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  auto x = [&](Index j) { return xv[j - 1]; };
  Vector<double> r(n);
  for (Index i = 1; i <= n / 4; ++i) {
    r[4 * i - 4] = x(4 * i - 3) + 10 * x(4 * i - 2);
    r[4 * i - 3] = std::sqrt(5.0) * (x(4 * i - 1) - x(4 * i));
    r[4 * i - 2] = std::pow(x(4 * i - 2) - 2 * x(4 * i - 1), 2);
    r[4 * i - 1] = std::sqrt(10.0) * std::pow(x(4 * i - 3) - x(4 * i), 2);
  }
  return r;
}

Vector<double> penalty1_residuals(const Vector<double>& x) {
  const Index n = x.size();
  Vector<double> r(n + 1);
  for (Index i = 0; i < n; ++i) r[i] = std::sqrt(1e-5) * (x[i] - 1);
  r[n] = x.squaredNorm() - 0.25;
  return r;
}

Vector<double> penalty2_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  auto x = [&](Index j) { return xv[j - 1]; };
  const double a = std::sqrt(1e-5);
  Vector<double> r(2 * n);
  r[0] = x(1) - 0.2;
  for (Index i = 2; i <= n; ++i) {
    const double y = std::exp(i / 10.0) + std::exp((i - 1) / 10.0);
    r[i - 1] = a * (std::exp(x(i) / 10) + std::exp(x(i - 1) / 10) - y);
  }
  for (Index i = n + 1; i <= 2 * n - 1; ++i)
    r[i - 1] = a * (std::exp(x(i - n + 1) / 10) - std::exp(-0.1));
  double s = 0;
  for (Index j = 1; j <= n; ++j) s += double(n - j + 1) * x(j) * x(j);
  r[2 * n - 1] = s - 1;
  return r;
}

Vector<double> variably_dimensioned_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  Vector<double> r(n + 2);
  double s = 0;
  for (Index j = 1; j <= n; ++j) {
    r[j - 1] = xv[j - 1] - 1;
    s += double(j) * (xv[j - 1] - 1);
  }
  r[n] = s;
  r[n + 1] = s * s;
  return r;
}

Vector<double> trigonometric_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  Vector<double> r(n);
  for (Index i = 1; i <= n; ++i) {
    double s = 0;
    for (Index j = 1; j <= n; ++j) s += std::cos(xv[j - 1]);
    r[i - 1] = double(n) - s + double(i) * (1 - std::cos(xv[i - 1])) - std::sin(xv[i - 1]);
  }
  return r;
}

Vector<double> brown_almost_linear_residuals(const Vector<double>& x) {
  const Index n = x.size();
  Vector<double> r(n);
  for (Index i = 0; i + 1 < n; ++i) r[i] = x[i] + x.sum() - double(n + 1);
  r[n - 1] = x.prod() - 1;
  return r;
}

Vector<double> discrete_boundary_value_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  const double h = 1.0 / double(n + 1);
  auto x = [&](Index j) { return j == 0 || j == n + 1 ? 0.0 : xv[j - 1]; };
  Vector<double> r(n);
  for (Index i = 1; i <= n; ++i)
    r[i - 1] = 2 * x(i) - x(i - 1) - x(i + 1) + h * h * std::pow(x(i) + double(i) * h + 1, 3) / 2;
  return r;
}

Vector<double> discrete_integral_equation_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  const double h = 1.0 / double(n + 1);
  auto t = [&](Index j) { return double(j) * h; };
  auto c = [&](Index j) { return std::pow(xv[j - 1] + t(j) + 1, 3); };
  Vector<double> r(n);
  for (Index i = 1; i <= n; ++i) {
    double below = 0, above = 0;
    for (Index j = 1; j <= i; ++j) below += t(j) * c(j);
    for (Index j = i + 1; j <= n; ++j) above += (1 - t(j)) * c(j);
    r[i - 1] = xv[i - 1] + h * ((1 - t(i)) * below + t(i) * above) / 2;
  }
  return r;
}

Vector<double> broyden_tridiagonal_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  auto x = [&](Index j) { return j == 0 || j == n + 1 ? 0.0 : xv[j - 1]; };
  Vector<double> r(n);
  for (Index i = 1; i <= n; ++i) r[i - 1] = (3 - 2 * x(i)) * x(i) - x(i - 1) - 2 * x(i + 1) + 1;
  return r;
}

Vector<double> broyden_banded_residuals(const Vector<double>& xv) {
  const Index n = xv.size();
  auto x = [&](Index j) { return xv[j - 1]; };
  Vector<double> r(n);
  for (Index i = 1; i <= n; ++i) {
    double s = 0;
    for (Index j = std::max<Index>(1, i - 5); j <= std::min<Index>(n, i + 1); ++j)
      if (j != i) s += x(j) * (1 + x(j));
    r[i - 1] = x(i) * (2 + 5 * x(i) * x(i)) + 1 - s;
  }
  return r;
}

Vector<double> linear_full_rank_residuals(const Vector<double>& x) {
  const Index n = x.size(), m = 2 * n;
  Vector<double> r(m);
  for (Index i = 0; i < m; ++i) r[i] = (i < n ? x[i] : 0.0) - 2.0 / double(m) * x.sum() - 1;
  return r;
}

Vector<double> linear_rank1_residuals(const Vector<double>& x) {
  const Index n = x.size(), m = 2 * n;
  double s = 0;
  for (Index j = 1; j <= n; ++j) s += double(j) * x[j - 1];
  Vector<double> r(m);
  for (Index i = 1; i <= m; ++i) r[i - 1] = double(i) * s - 1;
  return r;
}

Vector<double> linear_rank1_zero_residuals(const Vector<double>& x) {
  const Index n = x.size(), m = 2 * n;
  double s = 0;
  for (Index j = 2; j <= n - 1; ++j) s += double(j) * x[j - 1];
  Vector<double> r(m);
  r[0] = -1;
  for (Index i = 2; i <= m - 1; ++i) r[i - 1] = double(i - 1) * s - 1;
  r[m - 1] = -1;
  return r;
}

// Shifted Chebyshev polynomials by their trigonometric definition.
Vector<double> chebyquad_residuals(const Vector<double>& x) {
  const Index n = x.size();
  auto chebyshev = [](Index i, double y) {
    return std::abs(y) <= 1 ? std::cos(double(i) * std::acos(y))
                            : std::cosh(double(i) * std::acosh(std::abs(y))) *
                                  (y < 0 && i % 2 == 1 ? -1.0 : 1.0);
  };
  Vector<double> r(n);
  for (Index i = 1; i <= n; ++i) {
    double s = 0;
    for (Index j = 0; j < n; ++j) s += chebyshev(i, 2 * x[j] - 1);
    r[i - 1] = s / double(n) - (i % 2 == 0 ? -1.0 / (double(i * i) - 1) : 0.0);
  }
  return r;
}

Vector<double> quadratic_residuals(const Vector<double>& x) {
  // 0.5 sum i x_i^2 = sum (sqrt(i/2) x_i)^2.
  Vector<double> r(x.size());
  for (Index i = 0; i < x.size(); ++i) r[i] = std::sqrt(double(i + 1) / 2) * x[i];
  return r;
}

// 0.5 sum a_i x_i^2 with a_i = 1e4^((i-1)/(n-1)).
Vector<double> ill_conditioned_quadratic_residuals(const Vector<double>& x) {
  const Index n = x.size();
  Vector<double> r(n);
  for (Index i = 0; i < n; ++i) {
    const double a = n == 1 ? 1.0 : std::pow(1e4, double(i) / double(n - 1));
    r[i] = std::sqrt(a / 2) * x[i];
  }
  return r;
}

// ---------------------------------------------------------------------------

struct Case {
  std::string name;
  std::function<std::unique_ptr<Problem>(Index)> make;
  Index n;
  Residuals residuals;
};

std::vector<Case> cases() {
  struct Family {
    std::string name;
    std::function<std::unique_ptr<Problem>(Index)> make;
    std::vector<Index> dims;
    Residuals residuals;
  };
  const std::vector<Family> families = {
      {"watson", make_watson, {2, 6, 9, 12}, watson_residuals},
      {"extended_rosenbrock", make_extended_rosenbrock, {2, 4, 8}, extended_rosenbrock_residuals},
      {"extended_powell", make_extended_powell, {4, 8, 12}, extended_powell_residuals},
      {"penalty1", make_penalty1, {1, 4, 7, 10}, penalty1_residuals},
      {"penalty2", make_penalty2, {1, 2, 4, 7, 10}, penalty2_residuals},
      {"variably_dimensioned",
       make_variably_dimensioned,
       {1, 4, 7, 12},
       variably_dimensioned_residuals},
      {"trigonometric", make_trigonometric, {1, 4, 7, 12}, trigonometric_residuals},
      {"brown_almost_linear",
       make_brown_almost_linear,
       {1, 2, 5, 10},
       brown_almost_linear_residuals},
      {"discrete_boundary_value",
       make_discrete_boundary_value,
       {1, 2, 5, 12},
       discrete_boundary_value_residuals},
      {"discrete_integral_equation",
       make_discrete_integral_equation,
       {1, 2, 5, 12},
       discrete_integral_equation_residuals},
      {"broyden_tridiagonal",
       make_broyden_tridiagonal,
       {1, 2, 5, 12},
       broyden_tridiagonal_residuals},
      {"broyden_banded", make_broyden_banded, {1, 2, 5, 9, 14}, broyden_banded_residuals},
      {"linear_full_rank", make_linear_full_rank, {1, 4, 7}, linear_full_rank_residuals},
      {"linear_rank1", make_linear_rank1, {1, 4, 7}, linear_rank1_residuals},
      {"linear_rank1_zero", make_linear_rank1_zero, {1, 2, 3, 7}, linear_rank1_zero_residuals},
      {"chebyquad", make_chebyquad, {1, 2, 5, 8, 10}, chebyquad_residuals},
      {"quadratic", detail::make_quadratic, {1, 4, 7}, quadratic_residuals},
      {"ill_conditioned_quadratic",
       [](Index n) { return detail::make_ill_conditioned_quadratic(n, 1e4); },
       {1, 2, 7},
       ill_conditioned_quadratic_residuals},
  };
  std::vector<Case> all;
  for (const auto& f : families)
    for (Index n : f.dims) all.push_back({f.name, f.make, n, f.residuals});
  return all;
}

// max |a - b| / max(1, max |b|): an error relative to the scale of the oracle.
double scaled_error(const Vector<double>& a, const Vector<double>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}
double scaled_error(const Matrix<double>& a, const Matrix<double>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}

// The start, then points scattered around it (fixed seed).
std::vector<Vector<double>> test_points(const Problem& p, int count = 3, double spread = 0.1) {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const Vector<double> x0 = p.start();
  std::vector<Vector<double>> points = {x0};
  for (int k = 0; k < count; ++k) {
    Vector<double> x = x0;
    for (Index i = 0; i < x.size(); ++i) x[i] += spread * u(rng) * std::max(1.0, std::abs(x0[i]));
    points.push_back(x);
  }
  return points;
}

Vector<double> random_vector(Index n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Vector<double> v(n);
  for (Index i = 0; i < n; ++i) v[i] = u(rng);
  return v;
}

Vector<double> gradient(const Problem& p, const Vector<double>& x) {
  Vector<double> g(x.size());
  p.value_and_gradient(x, g);
  return g;
}

class MghVariable : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { problem_ = GetParam().make(GetParam().n); }
  std::unique_ptr<Problem> problem_;
};

TEST_P(MghVariable, ReportsItsNameDimensionAndStart) {
  EXPECT_EQ(problem_->name(), GetParam().name);
  EXPECT_EQ(problem_->dimension(), GetParam().n);
  EXPECT_EQ(problem_->start().size(), GetParam().n);
  EXPECT_TRUE(problem_->has_hessian());
  EXPECT_TRUE(problem_->has_hessian_vector());
}

TEST_P(MghVariable, ValueIsTheSumOfThePapersSquaredResiduals) {
  ASSERT_TRUE(GetParam().residuals);
  for (const auto& x : test_points(*problem_)) {
    const double expected = GetParam().residuals(x).squaredNorm();
    EXPECT_NEAR(problem_->value(x), expected, 1e-12 * std::max(1.0, std::abs(expected)));
  }
}

TEST_P(MghVariable, ValueAgreesWithValueAndGradient) {
  for (const auto& x : test_points(*problem_)) {
    Vector<double> g(x.size());
    const double f = problem_->value_and_gradient(x, g);
    EXPECT_NEAR(problem_->value(x), f, 1e-14 * std::max(1.0, std::abs(f)));
  }
}

TEST_P(MghVariable, GradientMatchesCentralDifferences) {
  for (const auto& x : test_points(*problem_)) {
    const Vector<double> numeric =
        testing::numeric_gradient([&](const Vector<double>& y) { return problem_->value(y); }, x);
    EXPECT_LT(scaled_error(gradient(*problem_, x), numeric), 1e-6);
  }
}

TEST_P(MghVariable, HessianMatchesDifferencesOfTheGradientAndIsSymmetric) {
  const Index n = problem_->dimension();
  for (const auto& x : test_points(*problem_)) {
    Matrix<double> h(n, n);
    problem_->hessian(x, h);
    const Matrix<double> numeric = testing::numeric_jacobian(
        [&](const Vector<double>& y, Vector<double>& g) { problem_->value_and_gradient(y, g); }, x,
        n);
    EXPECT_LT(scaled_error(h, numeric), 1e-5);
    EXPECT_LT(scaled_error(Matrix<double>(h.transpose()), h), 1e-14);
  }
}

TEST_P(MghVariable, HessianVectorEqualsDenseHessianTimesVector) {
  const Index n = problem_->dimension();
  unsigned seed = 7;
  for (const auto& x : test_points(*problem_)) {
    Matrix<double> h(n, n);
    problem_->hessian(x, h);
    const Vector<double> v = random_vector(n, seed++);
    Vector<double> hv(n);
    problem_->hessian_vector(x, v, hv);
    EXPECT_LT(scaled_error(hv, Vector<double>(h * v)), 1e-12);
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name + "_" + std::to_string(info.param.n);
}

INSTANTIATE_TEST_SUITE_P(Problems, MghVariable, ::testing::ValuesIn(cases()), case_name);

// ---------------------------------------------------------------------------
// The sparse problems at a size no dense Hessian could hold.

struct LargeCase {
  std::string name;
  std::function<std::unique_ptr<Problem>(Index)> make;
  Index n;
};

class MghVariableLarge : public ::testing::TestWithParam<LargeCase> {};

TEST_P(MghVariableLarge, HessianVectorMatchesDifferencesOfTheGradientAlongV) {
  const auto problem = GetParam().make(GetParam().n);
  const Index n = problem->dimension();
  EXPECT_EQ(problem->has_hessian(), n <= Problem::kMaxDenseDimension);
  ASSERT_TRUE(problem->has_hessian_vector());

  Vector<double> x = problem->start();
  x += 0.01 * random_vector(n, 3).cwiseProduct(x.cwiseAbs().cwiseMax(1.0));
  const Vector<double> v = random_vector(n, 4);
  Vector<double> hv(n);
  problem->hessian_vector(x, v, hv);

  const double eps = 1e-6 * std::max(1.0, x.cwiseAbs().maxCoeff());
  const Vector<double> xp = x + eps * v, xm = x - eps * v;
  const Vector<double> numeric = (gradient(*problem, xp) - gradient(*problem, xm)) / (2 * eps);
  EXPECT_LT(scaled_error(hv, numeric), 1e-5);
}

std::vector<LargeCase> large_cases() {
  constexpr Index kN = 100000;
  return {
      {"extended_rosenbrock", make_extended_rosenbrock, kN},
      {"extended_powell", make_extended_powell, kN},
      {"penalty1", make_penalty1, kN},
      {"penalty2", make_penalty2, 3000},  // its largest n; still has a dense Hessian
      {"variably_dimensioned", make_variably_dimensioned, kN},
      {"trigonometric", make_trigonometric, kN},
      {"brown_almost_linear", make_brown_almost_linear, kN},
      {"discrete_boundary_value", make_discrete_boundary_value, kN},
      {"discrete_integral_equation", make_discrete_integral_equation, kN},
      {"broyden_tridiagonal", make_broyden_tridiagonal, kN},
      {"broyden_banded", make_broyden_banded, kN},
      {"linear_full_rank", make_linear_full_rank, kN},
      {"linear_rank1", make_linear_rank1, kN},
      {"linear_rank1_zero", make_linear_rank1_zero, kN},
      {"quadratic", detail::make_quadratic, kN},
      {"ill_conditioned_quadratic",
       [](Index n) { return detail::make_ill_conditioned_quadratic(n, 1e6); }, kN},
  };
}

INSTANTIATE_TEST_SUITE_P(Problems, MghVariableLarge, ::testing::ValuesIn(large_cases()),
                         [](const ::testing::TestParamInfo<LargeCase>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------
// Minimizers known in closed form.

TEST(MghVariableMinima, ExtendedRosenbrockIsZeroAtOnes) {
  const auto p = make_extended_rosenbrock(10);
  EXPECT_EQ(p->value(Vector<double>::Ones(10)), 0.0);
  EXPECT_EQ(p->known_minimum(), 0.0);
}

TEST(MghVariableMinima, ExtendedPowellIsZeroAtTheOrigin) {
  const auto p = make_extended_powell(12);
  EXPECT_EQ(p->value(Vector<double>::Zero(12)), 0.0);
  EXPECT_EQ(p->known_minimum(), 0.0);
}

TEST(MghVariableMinima, VariablyDimensionedIsZeroAtOnes) {
  const auto p = make_variably_dimensioned(10);
  EXPECT_EQ(p->value(Vector<double>::Ones(10)), 0.0);
  EXPECT_EQ(p->known_minimum(), 0.0);
}

TEST(MghVariableMinima, TrigonometricIsZeroAtTheOrigin) {
  const auto p = make_trigonometric(10);
  EXPECT_EQ(p->value(Vector<double>::Zero(10)), 0.0);
  EXPECT_EQ(p->known_minimum(), 0.0);
}

TEST(MghVariableMinima, BrownAlmostLinearIsZeroAtOnesAndOneAtTheOtherStationaryPoint) {
  const auto p = make_brown_almost_linear(10);
  EXPECT_EQ(p->value(Vector<double>::Ones(10)), 0.0);
  Vector<double> x = Vector<double>::Zero(10);
  x[9] = 11;  // (0, ..., 0, n + 1): f = 1, the paper's other value
  EXPECT_DOUBLE_EQ(p->value(x), 1.0);
  EXPECT_EQ(p->known_minimum(), 0.0);
}

TEST(MghVariableMinima, LinearFullRankIsMMinusNAtMinusOnes) {
  for (Index n : {1, 5, 10}) {
    const auto p = make_linear_full_rank(n);
    const Vector<double> x = -Vector<double>::Ones(n);
    EXPECT_DOUBLE_EQ(p->value(x), double(n));  // m - n with m = 2n
    EXPECT_DOUBLE_EQ(*p->known_minimum(), double(n));
    EXPECT_LT(gradient(*p, x).cwiseAbs().maxCoeff(), 1e-14);
  }
}

TEST(MghVariableMinima, LinearRank1ReachesItsMinimumWhereSumJXjIsThreeOver2MPlus1) {
  for (Index n : {1, 5, 10}) {
    const auto p = make_linear_rank1(n);
    const double m = 2.0 * double(n);
    Vector<double> x = Vector<double>::Zero(n);
    x[0] = 3 / (2 * m + 1);
    EXPECT_NEAR(p->value(x), m * (m - 1) / (2 * (2 * m + 1)), 1e-12 * m);
    EXPECT_DOUBLE_EQ(*p->known_minimum(), m * (m - 1) / (2 * (2 * m + 1)));
    EXPECT_LT(gradient(*p, x).cwiseAbs().maxCoeff(), 1e-9 * m * m * m);
  }
}

TEST(MghVariableMinima, LinearRank1ZeroReachesItsMinimumWhereSumJXjIsThreeOver2MMinus3) {
  for (Index n : {3, 5, 10}) {
    const auto p = make_linear_rank1_zero(n);
    const double m = 2.0 * double(n);
    const double expected = (m * m + 3 * m - 6) / (2 * (2 * m - 3));
    Vector<double> x = Vector<double>::Zero(n);
    x[1] = 3 / (2 * m - 3) / 2;  // j = 2
    EXPECT_NEAR(p->value(x), expected, 1e-12 * m);
    EXPECT_DOUBLE_EQ(*p->known_minimum(), expected);
  }
  // With n <= 2 no variable enters: f = m everywhere.
  for (Index n : {1, 2}) {
    const auto p = make_linear_rank1_zero(n);
    EXPECT_DOUBLE_EQ(p->value(p->start()), 2.0 * double(n));
    EXPECT_DOUBLE_EQ(*p->known_minimum(), 2.0 * double(n));
  }
}

TEST(MghVariableMinima, ChebyquadIsZeroAtTheChebyshevQuadratureNodes) {
  // Equal-weight (Chebyshev) quadrature nodes on [-1, 1], mapped to [0, 1].
  const double s3 = 1 / std::numbers::sqrt3, s2 = 1 / std::numbers::sqrt2;
  const std::vector<std::vector<double>> nodes = {{0.0}, {-s3, s3}, {-s2, 0.0, s2}};
  for (const auto& y : nodes) {
    const Index n = Index(y.size());
    Vector<double> x(n);
    for (Index j = 0; j < n; ++j) x[j] = (y[j] + 1) / 2;
    const auto p = make_chebyquad(n);
    EXPECT_NEAR(p->value(x), 0.0, 1e-28);
    EXPECT_EQ(p->known_minimum(), 0.0);
  }
}

TEST(MghVariableMinima, QuadraticsAreZeroAtTheOrigin) {
  for (const auto& p :
       {detail::make_quadratic(7), detail::make_ill_conditioned_quadratic(7, 1e6)}) {
    EXPECT_EQ(p->value(Vector<double>::Zero(7)), 0.0);
    EXPECT_EQ(p->known_minimum(), 0.0);
  }
}

// The stored minima carry full precision and round to the paper's six digits.
TEST(MghVariableMinima, KnownMinimaAreThePapersWhereItGivesOne) {
  EXPECT_NEAR(*make_watson(6)->known_minimum(), 2.28767e-3, 0.5e-5 * 2.28767e-3);
  EXPECT_NEAR(*make_watson(9)->known_minimum(), 1.39976e-6, 0.5e-5 * 1.39976e-6);
  EXPECT_NEAR(*make_watson(12)->known_minimum(), 4.72238e-10, 0.5e-5 * 4.72238e-10);
  EXPECT_EQ(make_watson(7)->known_minimum(), std::nullopt);
  EXPECT_NEAR(*make_penalty1(4)->known_minimum(), 2.24997e-5, 0.5e-5 * 2.24997e-5);
  EXPECT_NEAR(*make_penalty1(10)->known_minimum(), 7.08765e-5, 0.5e-5 * 7.08765e-5);
  EXPECT_EQ(make_penalty1(5)->known_minimum(), std::nullopt);
  EXPECT_NEAR(*make_penalty2(4)->known_minimum(), 9.37629e-6, 0.5e-5 * 9.37629e-6);
  EXPECT_NEAR(*make_penalty2(10)->known_minimum(), 2.93660e-4, 0.5e-5 * 2.93660e-4);
  EXPECT_EQ(make_penalty2(5)->known_minimum(), std::nullopt);
  EXPECT_EQ(make_chebyquad(7)->known_minimum(), 0.0);
  EXPECT_NEAR(*make_chebyquad(8)->known_minimum(), 3.51687e-3, 0.5e-5 * 3.51687e-3);
  EXPECT_EQ(make_chebyquad(9)->known_minimum(), 0.0);
  EXPECT_NEAR(*make_chebyquad(10)->known_minimum(), 6.50395e-3, 0.5e-5 * 6.50395e-3);
  EXPECT_EQ(make_chebyquad(11)->known_minimum(), std::nullopt);
  for (auto make : {make_discrete_boundary_value, make_discrete_integral_equation,
                    make_broyden_tridiagonal, make_broyden_banded})
    EXPECT_EQ(make(10)->known_minimum(), 0.0);
}

// Levenberg-damped Newton on the dense Hessian, run to full precision: a
// check of the paper's six-digit minima for the problems with no closed form.
double newton_minimum(const Problem& p) {
  const Index n = p.dimension();
  Vector<double> x = p.start(), g(n), gn(n);
  Matrix<double> h(n, n);
  double f = p.value_and_gradient(x, g), mu = 1e-3;
  for (int it = 0; it < 5000 && mu < 1e20; ++it) {
    p.hessian(x, h);
    h.diagonal().array() += mu * std::max(1.0, h.diagonal().cwiseAbs().maxCoeff());
    const Vector<double> xn = x + h.ldlt().solve(-g);
    const double fn = p.value_and_gradient(xn, gn);
    if (fn > f) {
      mu *= 4;
      continue;
    }
    const bool done = f - fn <= 1e-16 * f;
    x = xn, g = gn, f = fn, mu = std::max(mu / 3, 1e-16);
    if (done) break;
  }
  return f;
}

TEST(MghVariableMinima, DampedNewtonFromTheStartReachesThePapersMinima) {
  const std::vector<std::unique_ptr<Problem>> problems = [] {
    std::vector<std::unique_ptr<Problem>> v;
    for (Index n : {6, 9, 12}) v.push_back(make_watson(n));
    for (Index n : {4, 10}) v.push_back(make_penalty1(n));
    for (Index n : {4, 10}) v.push_back(make_penalty2(n));
    for (Index n : {8, 10}) v.push_back(make_chebyquad(n));
    return v;
  }();
  for (const auto& p : problems) {
    const double expected = *p->known_minimum();
    EXPECT_NEAR(newton_minimum(*p), expected, 1e-5 * expected)
        << p->name() << " n = " << p->dimension();
  }
}

// ---------------------------------------------------------------------------
// f(x0), worked out by hand from the paper's definitions.

TEST(MghVariableStart, ValuesAtTheStandardStart) {
  EXPECT_DOUBLE_EQ(make_watson(6)->value(make_watson(6)->start()), 30.0);  // 29 r_i = -1, r_31 = -1
  for (Index n : {2, 10, 1000}) {
    const auto p = make_extended_rosenbrock(n);
    EXPECT_NEAR(p->value(p->start()), 12.1 * double(n), 1e-12 * double(n));  // 24.2 per pair
  }
  for (Index n : {4, 12, 1000}) {
    const auto p = make_extended_powell(n);
    EXPECT_DOUBLE_EQ(p->value(p->start()), 215.0 * double(n / 4));  // 49 + 5 + 1 + 160 per block
  }
  {
    const auto p = make_penalty1(4);  // a (0 + 1 + 4 + 9) + (30 - 1/4)^2
    EXPECT_DOUBLE_EQ(p->value(p->start()), 1e-5 * 14 + 29.75 * 29.75);
  }
  for (Index n : {1, 10}) {
    const auto p = make_linear_full_rank(n);  // n (1 - 2)^2 + n 2^2
    EXPECT_DOUBLE_EQ(p->value(p->start()), 5.0 * double(n));
  }
  for (Index n : {3, 10}) {
    const auto p = make_variably_dimensioned(n);  // x_j - 1 = -j/n
    const double nn = double(n), s = -(nn + 1) * (2 * nn + 1) / 6;
    const double expected = -s / nn + s * s + s * s * s * s;
    EXPECT_NEAR(p->value(p->start()), expected, 1e-14 * expected);
  }
  for (Index n : {2, 10}) {
    const auto p = make_brown_almost_linear(n);  // r_i = -(n+1)/2, r_n = 2^-n - 1
    const double nn = double(n);
    EXPECT_DOUBLE_EQ(p->value(p->start()),
                     (nn - 1) * (nn + 1) * (nn + 1) / 4 + std::pow(std::pow(0.5, nn) - 1, 2));
  }
  {
    const auto p = detail::make_quadratic(10);  // 0.5 sum i
    EXPECT_DOUBLE_EQ(p->value(p->start()), 27.5);
    const auto q = detail::make_ill_conditioned_quadratic(2, 1e6);  // 0.5 (1 + cond)
    EXPECT_DOUBLE_EQ(q->value(q->start()), 0.5 * (1 + 1e6));
  }
}

TEST(IllConditionedQuadratic, CurvaturesAreLogSpacedFromOneToTheCondition) {
  const auto p = detail::make_ill_conditioned_quadratic(5, 1e4);
  Matrix<double> h(5, 5);
  p->hessian(p->start(), h);
  for (Index i = 0; i < 5; ++i) EXPECT_NEAR(h(i, i), std::pow(10.0, double(i)), 1e-12 * h(i, i));
  const auto one = detail::make_ill_conditioned_quadratic(1, 1e4);
  Matrix<double> h1(1, 1);
  one->hessian(one->start(), h1);
  EXPECT_EQ(h1(0, 0), 1.0);
}

// ---------------------------------------------------------------------------
// Dimensions a problem does not accept.

TEST(MghVariableDimensions, InvalidDimensionsThrow) {
  EXPECT_THROW(make_watson(1), invalid_argument);
  EXPECT_THROW(make_watson(32), invalid_argument);
  EXPECT_THROW(make_extended_rosenbrock(7), invalid_argument);
  EXPECT_THROW(make_extended_rosenbrock(0), invalid_argument);
  EXPECT_THROW(make_extended_powell(6), invalid_argument);
  EXPECT_THROW(make_extended_powell(0), invalid_argument);
  EXPECT_THROW(make_penalty2(3001), invalid_argument);
  EXPECT_THROW(make_chebyquad(Problem::kMaxDenseDimension + 1), invalid_argument);
  EXPECT_THROW(detail::make_ill_conditioned_quadratic(4, 0.5), invalid_argument);
  EXPECT_THROW(detail::make_ill_conditioned_quadratic(4, INFINITY), invalid_argument);
  for (auto make :
       {make_penalty1, make_penalty2, make_variably_dimensioned, make_trigonometric,
        make_brown_almost_linear, make_discrete_boundary_value, make_discrete_integral_equation,
        make_broyden_tridiagonal, make_broyden_banded, make_linear_full_rank, make_linear_rank1,
        make_linear_rank1_zero, make_chebyquad, detail::make_quadratic})
    EXPECT_THROW(make(0), invalid_argument);
}

TEST(MghVariableDimensions, MessagesSayWhichDimensionsAreAccepted) {
  try {
    make_extended_rosenbrock(7);
    FAIL() << "no exception";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("even"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("7"), std::string::npos) << e.what();
  }
  try {
    make_watson(40);
    FAIL() << "no exception";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2 <= n <= 31"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace descent::problems
