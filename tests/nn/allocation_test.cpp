// A warm training step allocates nothing: the tape's arena and every
// buffer are reused from step to step. Counted by interposing the C
// allocator (operator new, Eigen and OpenBLAS all end in malloc), so the
// count covers the library's own code and everything it calls.
//
// AddressSanitizer replaces the allocator itself: there the test is skipped.
#include <gtest/gtest.h>


#include "descent/nn/objective.hpp"
#include "descent/nn/spec.hpp"
#include "descent/optim/factory.hpp"
#include "support/allocation_counter.hpp"

namespace descent::nn {
namespace {

using descent::testing::allocations_of_warm_call;

struct Batch {
  std::vector<float> features, targets;
};

Batch random_batch(const Model<float>& model, Index n) {
  Rng rng(1);
  Batch b;
  for (Index i = 0; i < n * model.input_shape().size(); ++i) b.features.push_back(float(rng.normal()));
  for (Index i = 0; i < n; ++i) b.targets.push_back(float(rng.below(model.output_shape().size())));
  return b;
}

class WarmStep : public ::testing::TestWithParam<const char*> {};

TEST_P(WarmStep, ForwardBackwardAndAdamAllocateNothing) {
  if (!DESCENT_COUNTS_ALLOCATIONS) GTEST_SKIP() << "the sanitizer owns the allocator";
  auto model = make_model<float>(GetParam());
  const Index n = 32;
  const Batch batch = random_batch(model, n);
  ModelObjective<float> f(model, batch.features.data(), batch.targets.data(), n, {.chunk_rows = 16});
  Vector<float> x(f.size()), g(f.size());
  model.initialize(x, 1);
  auto adam = optim::make_stepper<float>("adamw", model.layout(), x);
  const std::vector<Index> rows{3, 17, 5, 30, 8, 0, 21, 9};

  EXPECT_EQ(allocations_of_warm_call([&] {
              f.value_and_gradient(x, g);  // two chunks, consecutive rows
              adam->step(x, g, 1e-3f);
            }),
            0);
  EXPECT_EQ(allocations_of_warm_call([&] {
              f.value_and_gradient(x, g, rows);  // gathered rows
              adam->step(x, g, 1e-3f);
            }),
            0);
}

INSTANTIATE_TEST_SUITE_P(Models, WarmStep, ::testing::Values("mlp:784-64-10", "cnn:lenet", "logistic:784-10"));

double* volatile sink = nullptr;  // keeps the allocation below from being optimized away

TEST(AllocationCounter, SeesAllocations) {
  if (!DESCENT_COUNTS_ALLOCATIONS) GTEST_SKIP() << "the sanitizer owns the allocator";
  // The counter itself works: a vector that grows is counted.
  EXPECT_GT(allocations_of_warm_call([] {
              std::vector<double> v(100);
              sink = v.data();
            }),
            0);
}

}  // namespace
}  // namespace descent::nn
