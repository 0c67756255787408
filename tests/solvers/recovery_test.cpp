// Recovery after a failed line search: a method first forgets its
// curvature model and retries along -g, and gives up only if that fails too.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "descent/descent.hpp"
#include "descent/solvers/detail/line_search_method.hpp"
#include "support/objectives.hpp"

namespace descent {
namespace {

using testing::Rosenbrock;

// f = 0.5 ||x||^2, not finite outside the ball ||x|| <= 10.
struct QuadraticInABall {
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
    ++evaluations;
    if (x.norm() > 10) {
      g.setConstant(std::numeric_limits<double>::quiet_NaN());
      return std::numeric_limits<double>::quiet_NaN();
    }
    g = x;
    return 0.5 * x.squaredNorm();
  }
  int evaluations = 0;
};

// A curvature model gone wrong: a descent direction 1e60 times too long,
// until reset() makes it forget.
struct Misled {
  template <class E>
  bool compute(E&, const Vector<double>&, const Vector<double>& g, Vector<double>& d) {
    d = forgotten ? Vector<double>(-g) : Vector<double>(-1e60 * g);
    return forgotten;
  }
  double initial_step(const detail::StepContext<double>&) { return 1; }
  void update(const Vector<double>&, const Vector<double>&, const Vector<double>&, const Vector<double>&, double,
              const Vector<double>&) {}
  void reset() {
    forgotten = true;
    ++resets;
  }
  bool forgotten = false;
  int resets = 0;
};

TEST(LineSearchRecovery, AFailedSearchResetsTheModelAndRetriesAlongTheGradient) {
  QuadraticInABall f;
  Misled direction;
  Vector<double> x = Vector<double>::Constant(4, 1.0);
  const auto rule = detail::StepRule::strong_wolfe_search({});
  const auto r = detail::line_search_method<double>(f, VectorRef<double>(x), direction, rule, StopOptions{}, nullptr,
                                                    "misled");
  EXPECT_EQ(direction.resets, 1);
  EXPECT_EQ(r.status, Status::converged_gradient) << r.full_report();
  EXPECT_LT(x.norm(), 1e-5);
}

TEST(LineSearchRecovery, ItGivesUpWhenTheGradientDirectionFailsToo) {
  // NaN everywhere but the start: no step is acceptable along any direction.
  struct OnlyTheStart {
    double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
      if ((x.array() == 1.0).all()) {
        g = x;
        return 0.5 * x.squaredNorm();
      }
      g.setConstant(std::numeric_limits<double>::quiet_NaN());
      return std::numeric_limits<double>::quiet_NaN();
    }
  } f;
  Misled direction;
  Vector<double> x = Vector<double>::Constant(4, 1.0);
  const auto r = detail::line_search_method<double>(f, VectorRef<double>(x), direction,
                                                    detail::StepRule::strong_wolfe_search({}), StopOptions{}, nullptr,
                                                    "misled");
  EXPECT_GE(direction.resets, 1);
  EXPECT_EQ(r.status, Status::diverged) << r.full_report();
  EXPECT_EQ(x, Vector<double>::Constant(4, 1.0));  // the last good point
}

// Rosenbrock whose evaluations fail (NaN) for a stretch in the middle of the
// run, as a flaky simulation might: long enough to fail a whole line search.
struct FlakyRosenbrock {
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
    ++evaluations;
    const double f = inner.value_and_gradient(x, g);
    if (evaluations > first_bad && evaluations <= first_bad + bad) {
      g.setConstant(std::numeric_limits<double>::quiet_NaN());
      return std::numeric_limits<double>::quiet_NaN();
    }
    return f;
  }
  Rosenbrock<double> inner;
  int evaluations = 0;
  int first_bad = 15, bad = 30;
};

class EveryLineSearchMethod : public ::testing::TestWithParam<Method> {};

TEST_P(EveryLineSearchMethod, RecoversFromAStretchOfFailedEvaluations) {
  FlakyRosenbrock f;
  Vector<double> x = Rosenbrock<double>::start(2);
  MinimizeOptions o;
  o.stop.max_iterations = 100000;
  auto any = AnyObjective<double>::reference(f);
  const auto r = minimize<double>(any, x, GetParam(), o);
  EXPECT_GT(f.evaluations, f.first_bad + f.bad);  // the stretch was met and passed
  EXPECT_EQ(r.status, Status::converged_gradient) << to_string(GetParam()) << ": " << r.full_report();
  EXPECT_NEAR(x[0], 1.0, 1e-4);
  EXPECT_NEAR(x[1], 1.0, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(ByName, EveryLineSearchMethod,
                         ::testing::Values(Method::lbfgs, Method::bfgs, Method::cg_pr, Method::cg_hz, Method::newton,
                                           Method::gd_bb),
                         [](const auto& info) {
                           std::string name(to_string(info.param));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace descent
