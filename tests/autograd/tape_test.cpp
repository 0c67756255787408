// The tape: which nodes get gradients, how they accumulate, no-gradient
// mode, and memory reuse across passes.
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "descent/autograd/ops.hpp"

namespace descent::autograd {
namespace {

Vector<double> iota(Index n, double start = 0.5, double step = 0.25) {
  Vector<double> v(n);
  for (Index i = 0; i < n; ++i) v[i] = start + step * double(i);
  return v;
}

// ---- Shape -------------------------------------------------------------------

TEST(Shape, ReportsRankSizeAndDimensionsFromEitherEnd) {
  const Shape s{64, 1, 28, 28};
  EXPECT_EQ(s.rank(), 4);
  EXPECT_EQ(s.size(), 50176);
  EXPECT_EQ(s[0], 64);
  EXPECT_EQ(s[-1], 28);
  EXPECT_EQ(s[-3], 1);
  EXPECT_EQ(s.product(1, 4), 784);
  EXPECT_EQ(s.str(), "[64, 1, 28, 28]");
  EXPECT_EQ(Shape{}.rank(), 0);
  EXPECT_EQ(Shape{}.size(), 1);
  EXPECT_EQ(Shape{}.str(), "[]");
  EXPECT_EQ(s.axis(-1, "test"), 3);
  EXPECT_FALSE(s == (Shape{64, 1, 28}));
}

TEST(Shape, RankAboveFourNegativeDimensionsAndBadAxesThrowInvalidArgument) {
  EXPECT_THROW((Shape{1, 2, 3, 4, 5}), descent::invalid_argument);
  EXPECT_THROW((Shape{2, -1}), descent::invalid_argument);
  const std::vector<int> five{1, 1, 1, 1, 1};
  EXPECT_THROW(Shape::from(five.begin(), five.end()), descent::invalid_argument);
  const Shape s{2, 3};
  EXPECT_THROW(s.axis(2, "test"), descent::invalid_argument);
  EXPECT_THROW(s.axis(-3, "test"), descent::invalid_argument);
}

// ---- Leaves ---------------------------------------------------------------------

TEST(Tape, VariableStartsWithAZeroGradientOfItsOwn) {
  Tape<double> tape;
  const auto a = tape.variable({2, 3});
  const auto b = tape.variable({2, 3});
  ASSERT_NE(a.grad(), nullptr);
  EXPECT_TRUE(a.requires_grad());
  EXPECT_NE(a.grad(), b.grad());
  EXPECT_NE(a.data(), a.grad());
  EXPECT_EQ(a.gradient(), Vector<double>::Zero(6));
}

TEST(Tape, ScalarFullAndInputAreLeavesWithoutGradient) {
  Tape<double> tape;
  const auto s = tape.scalar(2.5);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.item(), 2.5);
  EXPECT_EQ(s.grad(), nullptr);
  const auto f = tape.full({2, 2}, -1.0);
  EXPECT_EQ(f.values(), Vector<double>::Constant(4, -1.0));
  EXPECT_FALSE(f.requires_grad());
  EXPECT_FALSE(tape.input({3}).requires_grad());
}

TEST(Tensor, ItemReadsAOneElementTensorAndThrowsOtherwise) {
  Tape<double> tape;
  const auto one = tape.full({1, 1}, 4.0);
  EXPECT_EQ(one.item(), 4.0);
  EXPECT_THROW(tape.full({2}, 1.0).item(), descent::invalid_argument);
}

TEST(Tape, ConstantInputsReceiveNoGradient) {
  Tape<double> tape;
  const Vector<double> cv = iota(6), xv = iota(6, -1, 0.3);
  const auto c = tape.constant(cv.data(), {2, 3});
  const auto x = tape.variable({2, 3});
  x.values() = xv;
  EXPECT_EQ(c.data(), cv.data());  // a view, not a copy
  const auto loss = sum(c * exp(x));
  tape.backward(loss);
  EXPECT_EQ(c.grad(), nullptr);
  EXPECT_FALSE(c.requires_grad());
  EXPECT_TRUE(x.gradient().isApprox(cv.cwiseProduct(xv.array().exp().matrix())));
  EXPECT_EQ(cv, iota(6));  // never written
}

TEST(Tape, OperationsOnConstantsOnlyNeedNoGradient) {
  Tape<double> tape;
  const Vector<double> cv = iota(4);
  const auto c = tape.constant(cv.data(), {4});
  const auto y = sum(exp(c) * c);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_NO_THROW(tape.backward(y));  // nothing to do
}

TEST(Tape, FrozenParameterIsNotWritten) {
  Tape<double> tape;
  Vector<double> wv = iota(3), bv = iota(3, -0.5), bg = Vector<double>::Zero(3);
  const auto w = tape.parameter(wv.data(), nullptr, {3});  // frozen
  const auto b = tape.parameter(bv.data(), bg.data(), {3});
  const auto x = tape.variable({3});
  x.values() << 1, 2, 3;
  EXPECT_EQ(w.grad(), nullptr);
  EXPECT_FALSE(mul(w, w).requires_grad());  // nothing below it needs a gradient
  tape.backward(sum(w * x + b * b));
  EXPECT_EQ(w.grad(), nullptr);
  EXPECT_EQ(wv, iota(3));                     // the value is untouched
  EXPECT_EQ(x.gradient(), wv);                // the gradient still flows past it
  EXPECT_TRUE(bg.isApprox(2 * bv));
}

TEST(Tape, ParameterGradientsAccumulateIntoTheCallersBufferAcrossPasses) {
  Vector<double> wv = iota(4, -0.5, 0.4), wg = Vector<double>::Constant(4, 10.0);  // the caller's buffers
  const Vector<double> xv = iota(4, 1, -0.7);
  Tape<double> tape;
  const auto pass = [&] {
    const auto w = tape.parameter(wv.data(), wg.data(), {4});
    EXPECT_EQ(w.grad(), wg.data());
    const auto x = tape.constant(xv.data(), {4});
    tape.backward(sum(tanh(w) * x));
    tape.reset();
  };
  const Vector<double> once = xv.cwiseProduct((1 - wv.array().tanh().square()).matrix());
  pass();
  EXPECT_TRUE(wg.isApprox((10 + once.array()).matrix()));  // added to what was there
  pass();
  EXPECT_TRUE(wg.isApprox((10 + 2 * once.array()).matrix()));
}

TEST(Tape, BackwardTwiceOnOnePassAddsTheGradientTwice) {
  Vector<double> wv = iota(3, 0.2, 0.3), wg = Vector<double>::Zero(3);
  Tape<double> tape;
  const auto w = tape.parameter(wv.data(), wg.data(), {3});
  const auto x = tape.variable({3});
  x.values() << 1, -2, 0.5;
  const auto loss = sum(exp(w * x) * 2.0);
  tape.backward(loss);
  const Vector<double> once = wg, x_once = x.gradient();
  EXPECT_TRUE(once.isApprox(2 * x.values().cwiseProduct(wv.cwiseProduct(x.values()).array().exp().matrix())));
  tape.backward(loss);
  EXPECT_TRUE(wg.isApprox(2 * once));
  EXPECT_TRUE(x.gradient().isApprox(2 * x_once));
}

TEST(Tape, BackwardFromTwoRootsAddsBothGradientsOnce) {
  Tape<double> tape;
  const auto x = tape.variable({3});
  x.values() << 0.5, -1, 2;
  const auto shared = x * x;             // d/dx = 2x
  const auto first = sum(shared);        // d/dx = 2x
  const auto second = sum(shared * 3.0);  // d/dx = 6x
  tape.backward(first);
  EXPECT_TRUE(x.gradient().isApprox(2 * x.values()));
  tape.backward(second);
  EXPECT_TRUE(x.gradient().isApprox(8 * x.values()));
}

TEST(Tape, BackwardSeedScalesTheGradient) {
  Tape<double> tape;
  const auto x = tape.variable({2});
  x.values() << 1, 3;
  tape.backward(sum(x * x), 0.5);
  EXPECT_TRUE(x.gradient().isApprox(x.values()));
}

TEST(Tape, BackwardIgnoresBranchesTheRootDoesNotDependOn) {
  Tape<double> tape;
  const auto x = tape.variable({3});
  x.values() << 0, 1, 4;
  const auto metric = sum(sqrt(x) + log(x));  // infinite slopes at x = 0, not part of the loss
  const auto loss = sum(x * x);
  (void)metric;
  tape.backward(loss);
  EXPECT_TRUE(x.gradient().allFinite()) << x.gradient().transpose();
  EXPECT_TRUE(x.gradient().isApprox(2 * x.values()));
}

TEST(Tape, ANodeUsedTwiceAccumulatesBothContributions) {
  Tape<double> tape;
  const auto x = tape.variable({3});
  x.values() << 0.5, -1, 2;
  tape.backward(sum(x * x));
  EXPECT_TRUE(x.gradient().isApprox(2 * x.values()));

  Tape<double> branches;
  const auto y = branches.variable({3});
  y.values() << 0.5, -1, 2;
  const auto h = tanh(y);                          // used by both branches
  const auto loss = sum(h * 3.0) + sum(exp(h) + y);  // y used twice too
  branches.backward(loss);
  const Vector<double> t = y.values().array().tanh();
  const Vector<double> want = ((3 + t.array().exp()) * (1 - t.array().square()) + 1).matrix();
  EXPECT_TRUE(y.gradient().isApprox(want));
}

TEST(Tape, ReshapeSharesTheGradientOfItsSource) {
  Tape<double> tape;
  const auto x = tape.variable({2, 3});
  x.values() = iota(6);
  const auto r = reshape(x, {3, 2});
  const auto loss = sum(r * r) + sum(x);
  tape.backward(loss);
  EXPECT_EQ(r.grad(), x.grad());
  EXPECT_TRUE(x.gradient().isApprox((2 * x.values().array() + 1).matrix()));
}

TEST(Tape, BackwardOnANonScalarThrowsInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({2, 3});
  EXPECT_THROW(tape.backward(x * x), descent::invalid_argument);
  EXPECT_THROW(tape.backward(sum(x, 1, true)), descent::invalid_argument);
  EXPECT_NO_THROW(tape.backward(reshape(sum(x), {1, 1})));  // one element of any rank is a root
}

TEST(Tape, BackwardOnATensorOfAnotherTapeThrowsInvalidArgument) {
  Tape<double> one, two;
  const auto x = one.variable({2});
  EXPECT_THROW(two.backward(sum(x)), descent::invalid_argument);
}

// ---- No-gradient mode -------------------------------------------------------------

TEST(NoGradGuard, OutputsHaveNoGradientAndBackwardDoesNothing) {
  Tape<double> tape;
  Vector<double> wv = iota(3), wg = Vector<double>::Zero(3);
  const auto x = tape.variable({3});
  x.values() << 1, 2, 3;
  {
    NoGradGuard<double> guard(tape);
    EXPECT_FALSE(tape.grad_enabled());
    const auto w = tape.parameter(wv.data(), wg.data(), {3});
    EXPECT_EQ(w.grad(), nullptr);
    EXPECT_EQ(tape.variable({2}).grad(), nullptr);
    const auto y = sum(exp(x) * w);
    EXPECT_EQ(y.grad(), nullptr);
    EXPECT_NEAR(y.item(), (x.values().array().exp() * wv.array()).sum(), 1e-12);  // values are computed
    const auto before = tape.arena_bytes();
    EXPECT_NO_THROW(tape.backward(y));
    EXPECT_EQ(tape.arena_bytes(), before);
  }
  EXPECT_EQ(wg, Vector<double>::Zero(3));
  EXPECT_EQ(x.gradient(), Vector<double>::Zero(3));
}

TEST(NoGradGuard, RestoresThePreviousSetting) {
  Tape<double> tape;
  EXPECT_TRUE(tape.grad_enabled());
  {
    NoGradGuard<double> outer(tape);
    EXPECT_FALSE(tape.grad_enabled());
    {
      NoGradGuard<double> inner(tape);
      EXPECT_FALSE(tape.grad_enabled());
    }
    EXPECT_FALSE(tape.grad_enabled());  // the inner guard restores "off"
  }
  EXPECT_TRUE(tape.grad_enabled());
  tape.set_grad_enabled(false);
  { NoGradGuard<double> guard(tape); }
  EXPECT_FALSE(tape.grad_enabled());
  tape.set_grad_enabled(true);
  const auto x = tape.variable({2});
  EXPECT_TRUE(exp(x).requires_grad());  // recording again
}

// ---- Memory ---------------------------------------------------------------------

// A forward and backward pass large enough to outgrow the arena's first block.
void training_pass(Tape<double>& tape, Vector<double>& wv, Vector<double>& wg) {
  const auto w = tape.parameter(wv.data(), wg.data(), {32, 64});
  const auto x = tape.full({128, 64}, 0.01);
  const auto h = relu(linear(x, w, Tensor<double>()));
  const auto y = softmax(h * h + 1.0);
  tape.backward(mean(log(y)));
}

TEST(Tape, ResetKeepsCapacitySoARepeatedPassDoesNotGrowTheArena) {
  Tape<double> tape;
  Vector<double> wv = iota(32 * 64, -1, 1.0 / 1024);
  Vector<double> wg = Vector<double>::Zero(32 * 64);
  training_pass(tape, wv, wg);  // warm-up
  const auto nodes = tape.num_nodes();
  EXPECT_GT(nodes, 0);
  tape.reset();
  EXPECT_EQ(tape.num_nodes(), 0);
  const std::size_t capacity = tape.arena_bytes();
  EXPECT_GT(capacity, std::size_t(1) << 16);  // more than one first block was needed
  for (int pass = 0; pass < 3; ++pass) {
    training_pass(tape, wv, wg);
    EXPECT_EQ(tape.num_nodes(), nodes);
    EXPECT_EQ(tape.arena_bytes(), capacity) << "pass " << pass;
    tape.reset();
    EXPECT_EQ(tape.arena_bytes(), capacity);
  }
}

TEST(Arena, AllocationsAre64ByteAlignedAndResetReusesThem) {
  Arena arena;
  EXPECT_EQ(arena.capacity(), 0u);
  auto* a = arena.allocate<double>(3);
  auto* b = arena.allocate<float>(1);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 64, 0u);
  EXPECT_NE(static_cast<void*>(a), static_cast<void*>(b));
  arena.reset();
  EXPECT_EQ(static_cast<void*>(arena.allocate<double>(3)), static_cast<void*>(a));
  // A pass that needs more than one block is served by a single block next time.
  arena.reset();
  for (int i = 0; i < 10; ++i) arena.allocate<double>(4096);
  const std::size_t grown = arena.capacity();
  arena.reset();
  EXPECT_EQ(arena.capacity(), grown);
  for (int i = 0; i < 10; ++i) arena.allocate<double>(4096);
  EXPECT_EQ(arena.capacity(), grown);
}

}  // namespace
}  // namespace descent::autograd
