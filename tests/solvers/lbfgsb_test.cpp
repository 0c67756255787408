// L-BFGS-B against answers known exactly: box-constrained convex quadratics
// solved by enumerating active sets, non-negative least squares, the
// unconstrained solve when every bound is infinite, and the refusals.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <Eigen/Cholesky>
#include <gtest/gtest.h>

#include "descent/core/random.hpp"
#include "descent/solvers/lbfgs.hpp"
#include "descent/solvers/lbfgsb.hpp"
#include "support/objectives.hpp"

namespace descent {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// f(x) = 0.5 x'Ax - b'x with A symmetric positive definite.
struct Quadratic {
  Matrix<double> a;
  Vector<double> b;
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const {
    g.noalias() = a * x - b;
    return 0.5 * x.dot(a * x) - b.dot(x);
  }
};

Quadratic random_quadratic(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<double> m(n, n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) m(i, j) = rng.normal();
  Quadratic q;
  q.a = m.transpose() * m + 0.5 * Matrix<double>::Identity(n, n);
  q.b.resize(n);
  for (Index i = 0; i < n; ++i) q.b[i] = 3.0 * rng.normal();
  return q;
}

// The exact minimizer of a strictly convex quadratic over a box, by
// enumerating every assignment of each variable to lower / upper / free and
// keeping the one whose KKT conditions hold (3^n candidates; n <= 7).
Vector<double> exact_box_qp(const Quadratic& q, const Bounds& box) {
  const Index n = q.b.size();
  Index total = 1;
  for (Index i = 0; i < n; ++i) total *= 3;
  for (Index code = 0; code < total; ++code) {
    Vector<double> x = Vector<double>::Zero(n);
    std::vector<Index> free;
    Index c = code;
    bool possible = true;
    for (Index i = 0; i < n; ++i, c /= 3) {
      const int s = int(c % 3);
      if (s == 0) free.push_back(i);
      else x[i] = s == 1 ? box.lower[i] : box.upper[i];
      if (s != 0 && !std::isfinite(x[i])) possible = false;
    }
    if (!possible) continue;
    // Solve the free block: A_FF x_F = b_F - A_FA x_A.
    const Index k = Index(free.size());
    if (k > 0) {
      Matrix<double> aff(k, k);
      Vector<double> rhs(k);
      for (Index i = 0; i < k; ++i) {
        rhs[i] = q.b[free[i]];
        for (Index j = 0; j < n; ++j)
          if (std::find(free.begin(), free.end(), j) == free.end()) rhs[i] -= q.a(free[i], j) * x[j];
        for (Index j = 0; j < k; ++j) aff(i, j) = q.a(free[i], free[j]);
      }
      const Vector<double> xf = aff.llt().solve(rhs);
      for (Index i = 0; i < k; ++i) x[free[i]] = xf[i];
    }
    // KKT: feasible, and the gradient points into the box at active bounds.
    const Vector<double> g = q.a * x - q.b;
    bool kkt = true;
    c = code;
    for (Index i = 0; i < n && kkt; ++i, c /= 3) {
      const int s = int(c % 3);
      if (x[i] < box.lower[i] - 1e-12 || x[i] > box.upper[i] + 1e-12) kkt = false;
      if (s == 1 && g[i] < -1e-10) kkt = false;
      if (s == 2 && g[i] > 1e-10) kkt = false;
    }
    if (kkt) return x;
  }
  ADD_FAILURE() << "no KKT point found";
  return Vector<double>::Zero(n);
}

TEST(Lbfgsb, MatchesTheExactMinimizerOfRandomBoxConstrainedQuadratics) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const Index n = 2 + Index(seed % 5);
    Quadratic q = random_quadratic(n, seed);
    Rng rng(seed + 100);
    Bounds box = Bounds::uniform(n, -1.0, 1.0);
    for (Index i = 0; i < n; ++i) {
      box.lower[i] = rng.uniform() < 0.2 ? -kInf : -rng.uniform();
      box.upper[i] = rng.uniform() < 0.2 ? kInf : rng.uniform();
    }
    const Vector<double> expected = exact_box_qp(q, box);
    Vector<double> x = Vector<double>::Zero(n);
    LbfgsbOptions o;
    o.stop.gradient_tolerance = 1e-7;
    o.stop.value_tolerance = 0;
    const auto r = lbfgsb(q, x, box, o);
    EXPECT_TRUE(r.converged()) << "seed " << seed << ": " << r.full_report();
    EXPECT_LT((r.x - expected).lpNorm<Eigen::Infinity>(), 1e-6) << "seed " << seed << "\n"
                                                                << r.x.transpose() << "\n"
                                                                << expected.transpose();
    for (Index i = 0; i < n; ++i) {
      EXPECT_GE(r.x[i], box.lower[i]);
      EXPECT_LE(r.x[i], box.upper[i]);
    }
  }
}

TEST(Lbfgsb, ReportsWhichBoundsAreActive) {
  // min 0.5 ||x - a||^2 over [0, 1]^4: x = clamp(a).
  Quadratic q{Matrix<double>::Identity(4, 4), Vector<double>(4)};
  q.b << -2.0, 0.5, 3.0, 0.25;
  Vector<double> x = Vector<double>::Constant(4, 0.5);
  const auto r = lbfgsb(q, x, Bounds::uniform(4, 0.0, 1.0));
  ASSERT_TRUE(r.converged()) << r.full_report();
  EXPECT_EQ(r.x[0], 0.0);
  EXPECT_EQ(r.x[2], 1.0);
  EXPECT_NEAR(r.x[1], 0.5, 1e-9);
  EXPECT_EQ(r.active_lower, std::vector<Index>{0});
  EXPECT_EQ(r.active_upper, std::vector<Index>{2});
  EXPECT_LE(r.gradient_norm, 1e-5);
}

TEST(Lbfgsb, ProjectsAStartOutsideTheBox) {
  testing::Rosenbrock<double> f;
  Vector<double> x(2);
  x << -10.0, 10.0;
  Bounds box = Bounds::uniform(2, -1.5, 2.0);
  auto r = lbfgsb(f, x, box);
  ASSERT_TRUE(r.converged()) << r.full_report();
  EXPECT_NEAR(r.x[0], 1.0, 1e-3);
  EXPECT_NEAR(r.x[1], 1.0, 1e-3);
}

TEST(Lbfgsb, RosenbrockWithTheMinimumOutsideTheBox) {
  // x_1 <= 0.5: the minimum lies on that bound, where f'(x_2) = 0 gives
  // x_2 = 0.25 (f = 0.25).
  testing::Rosenbrock<double> f;
  Vector<double> x = testing::Rosenbrock<double>::start(2);
  Bounds box{Vector<double>::Constant(2, -kInf), Vector<double>(2)};
  box.upper << 0.5, kInf;
  LbfgsbOptions o;
  o.stop.gradient_tolerance = 1e-9;
  auto r = lbfgsb(f, x, box, o);
  ASSERT_TRUE(r.converged()) << r.full_report();
  EXPECT_EQ(r.x[0], 0.5);
  EXPECT_NEAR(r.x[1], 0.25, 1e-7);
  EXPECT_NEAR(r.value, 0.25, 1e-12);
  EXPECT_EQ(r.active_upper, std::vector<Index>{0});
}

TEST(Lbfgsb, InfiniteBoundsGiveTheUnconstrainedSolve) {
  testing::Rosenbrock<double> f;
  const Index n = 10;
  Vector<double> x = testing::Rosenbrock<double>::start(n);
  LbfgsbOptions o;
  o.stop.gradient_tolerance = 1e-8;
  o.stop.value_tolerance = 0;
  auto r = lbfgsb(f, x, Bounds::none(n), o);
  ASSERT_TRUE(r.converged()) << r.full_report();
  EXPECT_LT((r.x - Vector<double>::Ones(n)).norm(), 1e-6);
  EXPECT_TRUE(r.active_lower.empty());
  EXPECT_TRUE(r.active_upper.empty());
  // The same minimizer as L-BFGS, which it reduces to (compact instead of
  // two-loop form).
  Vector<double> y = testing::Rosenbrock<double>::start(n);
  LbfgsOptions lo;
  lo.stop = o.stop;
  auto plain = lbfgs(f, y, lo);
  EXPECT_LT((r.x - plain.x).norm(), 1e-6);
}

TEST(Lbfgsb, FixedVariablesStayFixed) {
  Quadratic q = random_quadratic(5, 7);
  Bounds box = Bounds::uniform(5, -2.0, 2.0);
  box.lower[1] = box.upper[1] = 0.75;
  box.lower[3] = box.upper[3] = -0.5;
  Vector<double> x = Vector<double>::Zero(5);
  LbfgsbOptions o;
  o.stop.gradient_tolerance = 1e-7;
  o.stop.value_tolerance = 0;
  auto r = lbfgsb(q, x, box, o);
  ASSERT_TRUE(r.converged()) << r.full_report();
  EXPECT_EQ(r.x[1], 0.75);
  EXPECT_EQ(r.x[3], -0.5);
  EXPECT_LT((r.x - exact_box_qp(q, box)).lpNorm<Eigen::Infinity>(), 1e-6);
}

TEST(Lbfgsb, RefusesEmptyAndNanBoundsNamingTheFirstBadIndex) {
  testing::Rosenbrock<double> f;
  Vector<double> x = Vector<double>::Zero(3);
  Bounds empty = Bounds::uniform(3, 0.0, 1.0);
  empty.lower[2] = 2.0;
  try {
    lbfgsb(f, x, empty);
    FAIL() << "empty bounds accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bound 2 is empty"), std::string::npos) << e.what();
  }
  Bounds nan = Bounds::uniform(3, 0.0, 1.0);
  nan.upper[1] = std::nan("");
  try {
    lbfgsb(f, x, nan);
    FAIL() << "NaN bounds accepted";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bound 1 is NaN"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lbfgsb(f, x, Bounds::uniform(2, 0.0, 1.0)), invalid_argument);  // wrong size
  LbfgsbOptions zero_memory;
  zero_memory.memory = 0;
  EXPECT_THROW(lbfgsb(f, x, Bounds::none(3), zero_memory), invalid_argument);
}

TEST(Lbfgsb, SolvesInSinglePrecision) {
  testing::Rosenbrock<float> f;
  Vector<float> x = testing::Rosenbrock<float>::start(2);
  Bounds box = Bounds::uniform(2, -2.0, 0.8);
  auto r = lbfgsb(f, x, box);
  EXPECT_TRUE(r.converged()) << r.full_report();
  EXPECT_EQ(r.x[0], 0.8f);
  EXPECT_NEAR(r.x[1], 0.64f, 1e-3f);
}

}  // namespace
}  // namespace descent
