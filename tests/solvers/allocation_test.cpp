// An L-BFGS-B iteration allocates nothing: every buffer, the Gram matrices
// and the small factors are sized once per solve. Counted between the
// callbacks of iterations 3 and 8, on one thread and on the threaded path.
#include <gtest/gtest.h>

#include "descent/solvers/lbfgsb.hpp"
#include "descent/solvers/projected.hpp"
#include "support/allocation_counter.hpp"
#include "support/objectives.hpp"

namespace descent {
namespace {

// Counts from iteration `from` to iteration `to`.
class CountBetween final : public Callback<double> {
 public:
  CountBetween(Index from, Index to) : from_(from), to_(to) {}
  Control on_iteration(const IterationReport<double>& r) override {
    if (r.iteration == from_) testing::start_counting_allocations();
    if (r.iteration == to_) {
      counted = testing::stop_counting_allocations();
      reached = true;
    }
    return Control::proceed;
  }
  long counted = -1;
  bool reached = false;

 private:
  Index from_, to_;
};

// Extended Rosenbrock with x_i >= 0 and every other x_i <= 0.8: bounds
// enter and leave the active set during the counted iterations.
TEST(Allocations, AnLbfgsbIterationAllocatesNothing) {
  if (!DESCENT_COUNTS_ALLOCATIONS) GTEST_SKIP() << "the sanitizer owns the allocator";
  for (const Index n : {Index(1000), Index(1) << 17}) {
    testing::Rosenbrock<double> f;
    Vector<double> x = testing::Rosenbrock<double>::start(n);
    Bounds box = Bounds::uniform(n, 0.0, Bounds::inf);
    for (Index i = 0; i < n; i += 2) box.upper[i] = 0.8;
    CountBetween counter(3, 8);
    LbfgsbOptions o;
    o.stop.max_iterations = 8;
    lbfgsb(f, x, box, o, &counter);
    ASSERT_TRUE(counter.reached) << "n = " << n;
    EXPECT_EQ(counter.counted, 0) << "n = " << n;
  }
}

// The setup takes one slab for every buffer of n and of m, so that a solve
// of a small problem does not cost more in malloc than in arithmetic: the
// slab, x and the trial point, and the Result's x, message and active
// lists.
TEST(Allocations, AnLbfgsbSolveAllocatesAHandfulOfTimes) {
  if (!DESCENT_COUNTS_ALLOCATIONS) GTEST_SKIP() << "the sanitizer owns the allocator";
  testing::Rosenbrock<double> f;
  const Index n = 100;
  Vector<double> x = testing::Rosenbrock<double>::start(n);
  Bounds box = Bounds::uniform(n, 0.0, Bounds::inf);
  for (Index i = 0; i < n; i += 2) box.upper[i] = 0.8;
  LbfgsbOptions o;
  o.stop.max_iterations = 20;
  testing::start_counting_allocations();
  const Result<double> r = lbfgsb(f, x, box, o);
  const long counted = testing::stop_counting_allocations();
  EXPECT_GE(r.iterations, 5);
  EXPECT_FALSE(r.active_lower.empty() && r.active_upper.empty());
  EXPECT_LE(counted, 8);
}

TEST(Allocations, ASpgIterationOnABoxAllocatesNothing) {
  if (!DESCENT_COUNTS_ALLOCATIONS) GTEST_SKIP() << "the sanitizer owns the allocator";
  testing::Rosenbrock<double> f;
  Vector<double> x = testing::Rosenbrock<double>::start(1000);
  CountBetween counter(3, 8);
  SpgOptions o;
  o.stop.max_iterations = 8;
  spg(f, x, Projection::box(0.0, 0.8), o, &counter);
  ASSERT_TRUE(counter.reached);
  EXPECT_EQ(counter.counted, 0);
}

}  // namespace
}  // namespace descent
