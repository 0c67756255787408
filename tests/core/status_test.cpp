#include "descent/core/status.hpp"

#include <gtest/gtest.h>

#include "descent/core/any_objective.hpp"
#include "descent/core/result.hpp"
#include "descent/core/stopping.hpp"
#include "descent/core/error.hpp"

namespace descent {
namespace {

TEST(Status, ConvergedStatusesAreExactlyTheSuccessfulOnes) {
  EXPECT_TRUE(is_converged(Status::converged_gradient));
  EXPECT_TRUE(is_converged(Status::converged_value));
  EXPECT_TRUE(is_converged(Status::converged_step));
  EXPECT_TRUE(is_converged(Status::stopped_by_callback));
  EXPECT_FALSE(is_converged(Status::max_iterations));
  EXPECT_FALSE(is_converged(Status::line_search_failed));
  EXPECT_FALSE(is_converged(Status::diverged));
  EXPECT_FALSE(is_converged(Status::aborted_by_callback));
  EXPECT_FALSE(is_converged(Status::interrupted));
  EXPECT_EQ(to_string(Status::interrupted), "interrupted");
  EXPECT_EQ(to_string(Status::line_search_failed), "line_search_failed");
}

TEST(Result, ReportsNameStatusCountsAndDivergence) {
  Result<double> r;
  r.status = Status::diverged;
  r.value = 1.5;
  r.iterations = 7;
  r.gradient_evaluations = 9;
  r.diverged_at = 7;
  r.message = "f became nan";
  EXPECT_NE(r.brief_report().find("diverged"), std::string::npos);
  EXPECT_NE(r.brief_report().find("7 iterations"), std::string::npos);
  EXPECT_NE(r.full_report().find("diverged at:   iteration 7"), std::string::npos);
}

TEST(StopOptions, RejectsOutOfRangeFieldsByName) {
  StopOptions o;
  EXPECT_NO_THROW(o.validate());
  o.gradient_tolerance = -1;
  try {
    o.validate();
    FAIL() << "expected invalid_argument";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("gradient_tolerance"), std::string::npos);
  }
  o = {};
  o.relative_gradient_tolerance = 1.0;
  EXPECT_THROW(o.validate(), invalid_argument);
  o = {};
  o.time_limit = 0;
  EXPECT_THROW(o.validate(), invalid_argument);
}

struct Sphere {
  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
    g = 2 * x;
    return x.squaredNorm();
  }
};

struct SphereWithHessian : Sphere {
  void hessian(ConstVectorRef<double> x, MatrixRef<double> h) {
    h.setIdentity(x.size(), x.size());
    h *= 2;
  }
};

TEST(AnyObjective, ForwardsEvaluationsAndReportsCapabilities) {
  AnyObjective<double> plain{Sphere{}};
  AnyObjective<double> curved{SphereWithHessian{}};
  Vector<double> x(2), g(2);
  x << 1, 2;
  EXPECT_DOUBLE_EQ(plain.value_and_gradient(x, g), 5.0);
  EXPECT_DOUBLE_EQ(g[1], 4.0);
  EXPECT_DOUBLE_EQ(plain.value(x), 5.0);
  EXPECT_FALSE(plain.has_hessian());
  EXPECT_FALSE(plain.has_hessian_vector());
  EXPECT_TRUE(curved.has_hessian());
  Matrix<double> h(2, 2);
  curved.hessian(x, h);
  EXPECT_DOUBLE_EQ(h(1, 1), 2.0);
  EXPECT_THROW(plain.hessian(x, h), invalid_argument);
}

TEST(AnyObjective, ReferenceSeesTheCallersObject) {
  struct Counting : Sphere {
    int calls = 0;
    double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
      ++calls;
      return Sphere::value_and_gradient(x, g);
    }
  } counting;
  auto any = AnyObjective<double>::reference(counting);
  Vector<double> x = Vector<double>::Ones(3), g(3);
  any.value_and_gradient(x, g);
  any.value_and_gradient(x, g);
  EXPECT_EQ(counting.calls, 2);
}

}  // namespace
}  // namespace descent
