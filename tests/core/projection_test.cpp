// Projections: each against an independent exact answer on random inputs,
// idempotent and non-expansive, and the pieces, parsing and refusals.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "descent/core/error.hpp"
#include "descent/core/projection.hpp"
#include "descent/core/random.hpp"

namespace descent {
namespace {

Vector<double> random_vector(Rng& rng, Index n, double scale) {
  Vector<double> v(n);
  for (Index i = 0; i < n; ++i) v[i] = scale * rng.normal();
  return v;
}

// The threshold of the simplex projection by bisection on
// h(tau) = sum max(u_i - tau, 0) - r, decreasing in tau: a method that
// shares nothing with the sort-based one under test.
double bisect_threshold(const Vector<double>& u, double r) {
  double lo = u.minCoeff() - r, hi = u.maxCoeff();
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    const double h = (u.array() - mid).max(0.0).sum() - r;
    (h > 0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

TEST(Projection, SimplexMatchesBisectionOnRandomInputs) {
  Rng rng(1);
  std::vector<double> scratch;
  for (int trial = 0; trial < 200; ++trial) {
    const Index n = 1 + Index(rng.uniform() * 40);
    const double r = 0.1 + 3 * rng.uniform();
    Vector<double> x = random_vector(rng, n, 2.0);
    const double tau = bisect_threshold(x, r);
    const Vector<double> expected = (x.array() - tau).max(0.0).matrix();
    project_simplex<double>(x, r, scratch);
    EXPECT_LT((x - expected).lpNorm<Eigen::Infinity>(), 1e-9) << "trial " << trial;
    EXPECT_NEAR(x.sum(), r, 1e-9);
    EXPECT_GE(x.minCoeff(), 0.0);
  }
}

TEST(Projection, SimplexIsCloserThanAnyOtherPointOfTheSimplex) {
  Rng rng(2);
  std::vector<double> scratch;
  const Index n = 6;
  for (int trial = 0; trial < 50; ++trial) {
    const Vector<double> x = random_vector(rng, n, 1.5);
    Vector<double> p = x;
    project_simplex<double>(p, 1.0, scratch);
    for (int k = 0; k < 200; ++k) {
      Vector<double> z(n);
      for (Index i = 0; i < n; ++i) z[i] = -std::log(1.0 - rng.uniform());  // uniform on the simplex
      z /= z.sum();
      EXPECT_LE((x - p).norm(), (x - z).norm() + 1e-12);
    }
  }
}

TEST(Projection, L1BallMatchesBisectionAndLeavesInteriorPointsAlone) {
  Rng rng(3);
  std::vector<double> scratch;
  for (int trial = 0; trial < 200; ++trial) {
    const Index n = 1 + Index(rng.uniform() * 30);
    const double r = 0.5 + 2 * rng.uniform();
    Vector<double> x = random_vector(rng, n, 1.0);
    const Vector<double> original = x;
    project_l1_ball<double>(x, r, scratch);
    if (original.lpNorm<1>() <= r) {
      EXPECT_EQ(x, original);
      continue;
    }
    const double tau = bisect_threshold(original.cwiseAbs(), r);
    for (Index i = 0; i < n; ++i)
      EXPECT_NEAR(x[i], std::copysign(std::max(std::abs(original[i]) - tau, 0.0), original[i]), 1e-9);
    EXPECT_NEAR(x.lpNorm<1>(), r, 1e-9);
  }
}

TEST(Projection, L2BallAndBox) {
  Vector<double> x(3);
  x << 3.0, 0.0, 4.0;
  project_l2_ball<double>(x, 1.0);
  EXPECT_NEAR(x[0], 0.6, 1e-15);
  EXPECT_NEAR(x[2], 0.8, 1e-15);
  project_l2_ball<double>(x, 2.0);  // inside: unchanged
  EXPECT_NEAR(x.norm(), 1.0, 1e-15);
  x << -2.0, 0.5, 7.0;
  project_box<double>(x, 0.0, 1.0);
  EXPECT_EQ(x, (Vector<double>(3) << 0.0, 0.5, 1.0).finished());
}

// Every kind of piece, combined on disjoint ranges.
Projection mixed(Index n) {
  Bounds b = Bounds::uniform(4, -0.5, 0.5);
  b.upper[2] = Bounds::inf;
  Projection p = Projection::simplex(2.0).on(0, 5);
  p.also(Projection::l1_ball(1.0).on(5, 4))
      .also(Projection::l2_ball(0.7).on(9, 3))
      .also(Projection::box(-1.0, 2.0).on(12, 3))
      .also(Projection::bounds(b).on(15, 4));
  p.validate(n);
  return p;
}

TEST(Projection, EveryPieceIsIdempotentAndNonExpansive) {
  const Index n = 22;  // the last three variables are free
  const Projection p = mixed(n);
  Rng rng(4);
  for (int trial = 0; trial < 300; ++trial) {
    Vector<double> x = random_vector(rng, n, 2.0), y = random_vector(rng, n, 2.0);
    const double before = (x - y).norm();
    p.apply(x);
    p.apply(y);
    EXPECT_LE((x - y).norm(), before + 1e-12);
    Vector<double> again = x;
    p.apply(again);
    EXPECT_LT((again - x).lpNorm<Eigen::Infinity>(), 1e-12);
  }
  // The free tail is untouched.
  Vector<double> z = Vector<double>::Constant(n, 5.0);
  p.apply(z);
  EXPECT_EQ(z.tail(3), Vector<double>::Constant(3, 5.0));
  EXPECT_NEAR(z.head(5).sum(), 2.0, 1e-12);
  EXPECT_EQ(z.segment(15, 4), (Vector<double>(4) << 0.5, 0.5, 5.0, 0.5).finished());
}

TEST(Projection, FloatMatchesDouble) {
  const Projection p = mixed(22);
  Rng rng(5);
  Vector<double> x = random_vector(rng, 22, 2.0);
  Vector<float> xf = x.cast<float>();
  p.apply(x);
  p.apply(xf);
  EXPECT_LT((xf.cast<double>() - x).lpNorm<Eigen::Infinity>(), 1e-5);
}

TEST(Projection, ParsesTheCliForms) {
  EXPECT_EQ(Projection::parse("nonneg").describe(), "box[0, inf]");
  EXPECT_EQ(Projection::parse("box:-1,inf").pieces()[0].lower, -1.0);
  EXPECT_EQ(Projection::parse("simplex").pieces()[0].radius, 1.0);
  EXPECT_EQ(Projection::parse("simplex:3").pieces()[0].radius, 3.0);
  EXPECT_EQ(Projection::parse("l1:0.5").pieces()[0].kind, Projection::Kind::l1_ball);
  EXPECT_EQ(Projection::parse("l2:2").pieces()[0].kind, Projection::Kind::l2_ball);
  EXPECT_TRUE(Projection::parse("box:0,1").is_box());
  EXPECT_FALSE(Projection::parse("simplex").is_box());
  for (const char* bad : {"sphere", "box:1", "box:2,1", "box:a,b", "simplex:-1", "l1:0", "nonneg:1", "l2:inf"}) {
    try {
      Projection::parse(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Projection, RefusesOverlapsRangesOutsideXAndBadRadii) {
  Projection overlap = Projection::simplex().on(0, 5);
  overlap.also(Projection::nonnegative().on(4, 2));
  EXPECT_THROW(overlap.validate(10), invalid_argument);
  EXPECT_THROW(Projection::simplex().on(8, 5).validate(10), invalid_argument);
  EXPECT_THROW(Projection::l2_ball(-1).validate(3), invalid_argument);
  EXPECT_THROW(Projection::box(2, 1).validate(3), invalid_argument);
  EXPECT_THROW(Projection::bounds(Bounds::uniform(3, 0, 1)).on(0, 4), invalid_argument);
  EXPECT_NO_THROW(Projection().validate(3));
}

}  // namespace
}  // namespace descent
