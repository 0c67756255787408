// Projected gradient and SPG on problems solved exactly by another method:
// simplex-constrained and non-negative least squares (by enumerating
// supports); and the constraint rules of minimize().
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "descent/core/random.hpp"
#include "descent/solvers/lbfgsb.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/solvers/projected.hpp"
#include "support/objectives.hpp"

namespace descent {
namespace {

// f(x) = 0.5 ||A x - b||^2.
struct LeastSquares {
  Matrix<double> a;
  Vector<double> b;
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const {
    const Vector<double> r = a * x - b;
    g.noalias() = a.transpose() * r;
    return 0.5 * r.squaredNorm();
  }
};

LeastSquares random_least_squares(Index m, Index n, std::uint64_t seed) {
  Rng rng(seed);
  LeastSquares ls{Matrix<double>(m, n), Vector<double>(m)};
  for (Index i = 0; i < m; ++i) {
    ls.b[i] = rng.normal();
    for (Index j = 0; j < n; ++j) ls.a(i, j) = rng.normal();
  }
  return ls;
}

// min over the simplex by enumerating supports S: on S solve the KKT system
// [A_S'A_S 1; 1' 0] [x_S; -mu] = [A_S'b; 1], keep the one with x_S >= 0 and
// g_i >= mu off S.
Vector<double> exact_simplex_ls(const LeastSquares& ls) {
  const Index n = ls.a.cols();
  const Matrix<double> h = ls.a.transpose() * ls.a;
  const Vector<double> c = ls.a.transpose() * ls.b;
  for (Index mask = 1; mask < (Index(1) << n); ++mask) {
    std::vector<Index> s;
    for (Index i = 0; i < n; ++i)
      if (mask & (Index(1) << i)) s.push_back(i);
    const Index k = Index(s.size());
    Matrix<double> kkt = Matrix<double>::Zero(k + 1, k + 1);
    Vector<double> rhs(k + 1);
    for (Index i = 0; i < k; ++i) {
      for (Index j = 0; j < k; ++j) kkt(i, j) = h(s[i], s[j]);
      kkt(i, k) = kkt(k, i) = 1.0;
      rhs[i] = c[s[i]];
    }
    rhs[k] = 1.0;
    const Vector<double> sol = kkt.fullPivLu().solve(rhs);
    Vector<double> x = Vector<double>::Zero(n);
    for (Index i = 0; i < k; ++i) x[s[i]] = sol[i];
    if (x.minCoeff() < -1e-12) continue;
    const double mu = -sol[k];
    const Vector<double> g = h * x - c;
    bool ok = true;
    for (Index i = 0; i < n; ++i)
      if (!(mask & (Index(1) << i)) && g[i] < mu - 1e-10) ok = false;
    if (ok) return x;
  }
  ADD_FAILURE() << "no KKT point";
  return Vector<double>::Zero(n);
}

// min over x >= 0 by enumerating supports: the unconstrained solution on S,
// non-negative, with g_i >= 0 off S.
Vector<double> exact_nnls(const LeastSquares& ls) {
  const Index n = ls.a.cols();
  const Matrix<double> h = ls.a.transpose() * ls.a;
  const Vector<double> c = ls.a.transpose() * ls.b;
  for (Index mask = 0; mask < (Index(1) << n); ++mask) {
    std::vector<Index> s;
    for (Index i = 0; i < n; ++i)
      if (mask & (Index(1) << i)) s.push_back(i);
    const Index k = Index(s.size());
    Vector<double> x = Vector<double>::Zero(n);
    if (k > 0) {
      Matrix<double> hs(k, k);
      Vector<double> cs(k);
      for (Index i = 0; i < k; ++i) {
        cs[i] = c[s[i]];
        for (Index j = 0; j < k; ++j) hs(i, j) = h(s[i], s[j]);
      }
      const Vector<double> xs = hs.llt().solve(cs);
      for (Index i = 0; i < k; ++i) x[s[i]] = xs[i];
    }
    if (x.minCoeff() < -1e-12) continue;
    const Vector<double> g = h * x - c;
    bool ok = true;
    for (Index i = 0; i < n; ++i)
      if (!(mask & (Index(1) << i)) && g[i] < -1e-10) ok = false;
    if (ok) return x;
  }
  ADD_FAILURE() << "no KKT point";
  return Vector<double>::Zero(n);
}

TEST(Projected, SimplexLeastSquaresMatchTheExactSolution) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const LeastSquares ls = random_least_squares(12, 6, seed);
    const Vector<double> expected = exact_simplex_ls(ls);
    const Projection simplex = Projection::simplex();
    SpgOptions so;
    so.stop.gradient_tolerance = 1e-9;
    so.stop.max_iterations = 20000;
    Vector<double> x = Vector<double>::Zero(6);
    const auto r = spg(ls, x, simplex, so);
    EXPECT_TRUE(r.converged()) << r.full_report();
    EXPECT_LT((r.x - expected).lpNorm<Eigen::Infinity>(), 1e-7) << "spg, seed " << seed;
    EXPECT_NEAR(r.x.sum(), 1.0, 1e-12);

    ProjectedGradientOptions po;
    po.stop.gradient_tolerance = 1e-7;  // an f-based Armijo test cannot resolve less here
    po.stop.max_iterations = 200000;
    Vector<double> y = Vector<double>::Zero(6);
    const auto q = projected_gradient(ls, y, simplex, po);
    EXPECT_TRUE(q.converged()) << q.full_report();
    EXPECT_LT((q.x - expected).lpNorm<Eigen::Infinity>(), 1e-5) << "projected-gd, seed " << seed;
  }
}

TEST(Projected, NonNegativeLeastSquaresAgreeAcrossMethodsWithTheExactSolution) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const LeastSquares ls = random_least_squares(15, 8, seed);
    const Vector<double> expected = exact_nnls(ls);
    const Bounds nonneg = Bounds::uniform(8, 0.0, Bounds::inf);
    MinimizeOptions o;
    o.stop.gradient_tolerance = 1e-7;
    o.stop.value_tolerance = 0;
    o.stop.max_iterations = 100000;
    o.bounds = nonneg;
    for (Method m : {Method::lbfgsb, Method::projected_gd, Method::spg}) {
      LeastSquares f = ls;
      auto any = AnyObjective<double>::reference(f);
      Vector<double> x = Vector<double>::Ones(8);
      const auto r = minimize<double>(any, x, m, o);
      EXPECT_TRUE(r.converged()) << to_string(m) << ": " << r.full_report();
      EXPECT_LT((r.x - expected).lpNorm<Eigen::Infinity>(), 1e-5) << to_string(m) << ", seed " << seed;
      // The active set is the zero pattern of the exact solution.
      std::vector<Index> zeros;
      for (Index i = 0; i < 8; ++i)
        if (expected[i] == 0.0) zeros.push_back(i);
      EXPECT_EQ(r.active_lower, zeros) << to_string(m) << ", seed " << seed;
    }
  }
}

TEST(Projected, UnconstrainedSpgAndProjectedGdReachRosenbrocksMinimum) {
  testing::Rosenbrock<double> f;
  for (int which = 0; which < 2; ++which) {
    Vector<double> x = testing::Rosenbrock<double>::start(2);
    StopOptions stop;
    stop.max_iterations = 100000;
    const auto r = which == 0 ? spg(f, x, Projection{}, SpgOptions{.stop = stop})
                              : projected_gradient(f, x, Projection{}, ProjectedGradientOptions{.stop = stop});
    EXPECT_TRUE(r.converged()) << r.full_report();
    EXPECT_NEAR(r.x[0], 1.0, 1e-4);
  }
}

TEST(Minimize, MethodsWithoutBoundsRefuseThemNamingThoseThatTakeThem) {
  testing::Rosenbrock<double> f;
  auto any = AnyObjective<double>::reference(f);
  MinimizeOptions o;
  o.bounds = Bounds::uniform(2, -2.0, 2.0);
  for (Method m : all_methods()) {
    Vector<double> x = testing::Rosenbrock<double>::start(2);
    if (accepts_bounds(m)) {
      EXPECT_NO_THROW(minimize<double>(any, x, m, o)) << to_string(m);
      continue;
    }
    try {
      minimize<double>(any, x, m, o);
      ADD_FAILURE() << to_string(m) << " accepted bounds";
    } catch (const invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("use lbfgsb, projected-gd or spg"), std::string::npos) << what;
    }
  }
  MinimizeOptions p;
  p.projection = Projection::simplex();
  Vector<double> x = Vector<double>::Zero(2);
  EXPECT_THROW(minimize<double>(any, x, Method::lbfgsb, p), invalid_argument);
  p.bounds = Bounds::uniform(2, 0.0, 1.0);
  EXPECT_THROW(minimize<double>(any, x, Method::spg, p), invalid_argument);  // both at once
  MinimizeOptions wrong_size;
  wrong_size.bounds = Bounds::uniform(3, 0.0, 1.0);
  EXPECT_THROW(minimize<double>(any, x, Method::spg, wrong_size), invalid_argument);
}

}  // namespace
}  // namespace descent
