// Every operation of ops.hpp: its value against a direct computation, its
// backward against central finite differences (tests/support/gradient_check.hpp),
// and its shape checks.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <omp.h>

#include "descent/autograd/ops.hpp"
#include "support/gradient_check.hpp"

namespace descent::autograd {
namespace {

using descent::testing::away_from_zero;
using descent::testing::check_directional_derivatives;
using descent::testing::check_gradients;
using descent::testing::compare_float_with_double;
using descent::testing::GradientCase;
using descent::testing::positive;
using descent::testing::scalar_of;
using descent::testing::scaled;
using descent::testing::Transform;
using In = descent::testing::Inputs<double>;

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

GradientCase make_case(std::vector<Shape> shapes, Transform transform = {}, std::uint64_t seed = 1) {
  GradientCase c;
  c.shapes = std::move(shapes);
  c.transform = std::move(transform);
  c.seed = seed;
  return c;
}

// n values uniform on [lo, hi) from a fixed seed.
Vector<double> draws(Index n, std::uint64_t seed, double lo = -1, double hi = 1) {
  Rng rng(seed);
  Vector<double> v(n);
  for (Index i = 0; i < n; ++i) v[i] = rng.uniform(lo, hi);
  return v;
}

// n distinct values `spacing` apart from -1 on, in random order (no ties
// within finite-difference steps of 1e-6).
Vector<double> distinct(Index n, std::uint64_t seed, double spacing = 0.05) {
  Vector<double> v(n);
  for (Index i = 0; i < n; ++i) v[i] = -1 + spacing * double(i);
  Rng rng(seed);
  for (Index i = n - 1; i > 0; --i) std::swap(v[i], v[rng.below(i + 1)]);
  return v;
}

Tensor<double> tensor_of(Tape<double>& tape, const Shape& shape, const Vector<double>& values) {
  EXPECT_EQ(values.size(), shape.size());
  Tensor<double> t = tape.variable(shape);
  t.values() = values;
  return t;
}

Vector<double> values_of(const Tensor<double>& t) { return t.values(); }

// The row-major index of position `pos` (rank entries) in `shape`.
Index flat_index(const Shape& shape, const std::array<Index, 4>& pos) {
  Index i = 0;
  for (int d = 0; d < shape.rank(); ++d) i = i * shape[d] + pos[static_cast<std::size_t>(d)];
  return i;
}

// Calls f(pos) for every position of `shape` in row-major order.
template <class F>
void for_each_position(const Shape& shape, F&& f) {
  std::array<Index, 4> pos{};
  const Index n = shape.size();
  for (Index k = 0; k < n; ++k) {
    f(pos);
    for (int d = shape.rank() - 1; d >= 0; --d) {
      if (++pos[static_cast<std::size_t>(d)] < shape[d]) break;
      pos[static_cast<std::size_t>(d)] = 0;
    }
  }
}

// ---- Elementwise binary operations, with broadcasting ----------------------------

struct BroadcastCase {
  Shape a, b, out;
};
const std::vector<BroadcastCase>& broadcast_cases() {
  static const std::vector<BroadcastCase> cases{
      {{3, 4}, {3, 4}, {3, 4}},
      {{3, 4}, {4}, {3, 4}},
      {{4}, {3, 4}, {3, 4}},
      {{3, 1}, {1, 4}, {3, 4}},
      {{2, 3, 4}, {3, 1}, {2, 3, 4}},
      {{}, {2, 3}, {2, 3}},
      {{2, 3}, {}, {2, 3}},
      {{2, 1, 4, 1}, {3, 1, 5}, {2, 3, 4, 5}},
  };
  return cases;
}

// The element of an input of shape s that output position `pos` (of rank
// out_rank) reads under broadcasting.
Index broadcast_source(const Shape& s, int out_rank, const std::array<Index, 4>& pos) {
  const int pad = out_rank - s.rank();
  Index i = 0;
  for (int d = 0; d < s.rank(); ++d) i = i * s[d] + (s[d] == 1 ? 0 : pos[static_cast<std::size_t>(pad + d)]);
  return i;
}

template <class Op>
void expect_binary_gradients(Op op, Transform transform) {
  for (const auto& bc : broadcast_cases()) {
    SCOPED_TRACE(bc.a.str() + " with " + bc.b.str());
    EXPECT_TRUE(check_gradients(make_case({bc.a, bc.b}, transform), [&](const In& in) { return op(in[0], in[1]); }));
  }
}

// Divisors in [0.5, 1.5).
Transform positive_divisor() {
  return [](int input, double u) { return input == 1 ? 1 + 0.5 * u : u; };
}

TEST(Add, GradientMatchesFiniteDifferencesForEveryBroadcastPattern) {
  expect_binary_gradients([](const auto& a, const auto& b) { return add(a, b); }, {});
}
TEST(Sub, GradientMatchesFiniteDifferencesForEveryBroadcastPattern) {
  expect_binary_gradients([](const auto& a, const auto& b) { return sub(a, b); }, {});
}
TEST(Mul, GradientMatchesFiniteDifferencesForEveryBroadcastPattern) {
  expect_binary_gradients([](const auto& a, const auto& b) { return mul(a, b); }, {});
}
TEST(Div, GradientMatchesFiniteDifferencesForEveryBroadcastPattern) {
  expect_binary_gradients([](const auto& a, const auto& b) { return div(a, b); }, positive_divisor());
}

TEST(Broadcasting, OutputShapesAndValuesFollowNumPyRules) {
  for (const auto& bc : broadcast_cases()) {
    SCOPED_TRACE(bc.a.str() + " with " + bc.b.str());
    Tape<double> tape;
    const Vector<double> va = draws(bc.a.size(), 3), vb = draws(bc.b.size(), 4, 0.5, 1.5);
    const auto a = tensor_of(tape, bc.a, va), b = tensor_of(tape, bc.b, vb);
    const auto sum_ab = add(a, b), diff = sub(a, b), prod = mul(a, b), quot = div(a, b);
    for (const auto& t : {sum_ab, diff, prod, quot}) EXPECT_EQ(t.shape(), bc.out);
    for_each_position(bc.out, [&](const std::array<Index, 4>& pos) {
      const Index i = flat_index(bc.out, pos);
      const double x = va[broadcast_source(bc.a, bc.out.rank(), pos)];
      const double y = vb[broadcast_source(bc.b, bc.out.rank(), pos)];
      EXPECT_DOUBLE_EQ(sum_ab.data()[i], x + y);
      EXPECT_DOUBLE_EQ(diff.data()[i], x - y);
      EXPECT_DOUBLE_EQ(prod.data()[i], x * y);
      EXPECT_DOUBLE_EQ(quot.data()[i], x / y);
    });
  }
}

TEST(Broadcasting, IncompatibleShapesThrowInvalidArgument) {
  Tape<double> tape;
  const auto a = tape.variable({2, 3});
  const auto b = tape.variable({4});
  const auto c = tape.variable({3, 2});
  EXPECT_THROW(add(a, b), descent::invalid_argument);
  EXPECT_THROW(sub(a, b), descent::invalid_argument);
  EXPECT_THROW(mul(a, c), descent::invalid_argument);
  EXPECT_THROW(div(b, a), descent::invalid_argument);
}

TEST(Broadcasting, TensorsOfDifferentTapesThrowInvalidArgument) {
  Tape<double> one, two;
  const auto a = one.variable({2, 3});
  const auto b = two.variable({2, 3});
  EXPECT_THROW(add(a, b), descent::invalid_argument);
  EXPECT_THROW(matmul(a, transpose(b)), descent::invalid_argument);
}

// ---- Scalars and operators ---------------------------------------------------------

TEST(AddScalar, ValueAndGradientMatchFiniteDifferences) {
  EXPECT_TRUE(check_gradients(make_case({{3, 4}}), [](const In& in) { return add_scalar(in[0], 2.5); }));
  Tape<double> tape;
  const Vector<double> v = draws(6, 5);
  const auto y = add_scalar(tensor_of(tape, {2, 3}, v), -1.25);
  EXPECT_TRUE(values_of(y).isApprox((v.array() - 1.25).matrix()));
}

TEST(MulScalar, ValueAndGradientMatchFiniteDifferences) {
  EXPECT_TRUE(check_gradients(make_case({{3, 4}}), [](const In& in) { return mul_scalar(in[0], -3.0); }));
  Tape<double> tape;
  const Vector<double> v = draws(6, 5);
  const auto y = mul_scalar(tensor_of(tape, {2, 3}, v), 0.75);
  EXPECT_TRUE(values_of(y).isApprox(0.75 * v));
}

TEST(Operators, EqualTheNamedOperations) {
  Tape<double> tape;
  const Vector<double> va = draws(6, 6), vb = draws(6, 7, 0.5, 1.5);
  const auto a = tensor_of(tape, {2, 3}, va), b = tensor_of(tape, {2, 3}, vb);
  const auto same = [](const Tensor<double>& x, const Vector<double>& want) {
    return x.shape() == Shape{2, 3} && values_of(x).isApprox(want, 1e-15);
  };
  EXPECT_TRUE(same(a + b, va + vb));
  EXPECT_TRUE(same(a - b, va - vb));
  EXPECT_TRUE(same(a * b, va.cwiseProduct(vb)));
  EXPECT_TRUE(same(a / b, va.cwiseQuotient(vb)));
  EXPECT_TRUE(same(a + 2.0, (va.array() + 2).matrix()));
  EXPECT_TRUE(same(a - 2.0, (va.array() - 2).matrix()));
  EXPECT_TRUE(same(a * 3.0, 3 * va));
  EXPECT_TRUE(same(3.0 * a, 3 * va));
  EXPECT_TRUE(same(a / 4.0, va / 4));
  EXPECT_TRUE(same(-a, -va));
}

TEST(Operators, GradientOfACompositeExpressionMatchesFiniteDifferences) {
  EXPECT_TRUE(check_gradients(make_case({{2, 3}, {2, 3}}, positive_divisor()), [](const In& in) {
    const auto& a = in[0];
    const auto& b = in[1];
    return (a + b) * a - b / (a * 2.0 + 3.0) + (-a) / 4.0 - 1.5 + 0.5 * b;
  }));
}

// ---- Elementwise functions ------------------------------------------------------------

template <class Op>
::testing::AssertionResult unary_gradient_ok(Op op, Transform transform = {}) {
  return check_gradients(make_case({{3, 5}}, std::move(transform)), [&](const In& in) { return op(in[0]); });
}

TEST(Neg, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return neg(a); }));
}
TEST(Exp, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return exp(a); }, scaled(3)));
}
TEST(Log, GradientMatchesFiniteDifferencesOnPositiveInputs) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return log(a); }, positive()));
}
TEST(Sqrt, GradientMatchesFiniteDifferencesOnPositiveInputs) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return sqrt(a); }, positive()));
}
TEST(Pow, GradientMatchesFiniteDifferencesForSeveralExponents) {
  for (double p : {2.0, 3.0}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    EXPECT_TRUE(unary_gradient_ok([p](const auto& a) { return pow(a, p); }));
  }
  for (double p : {1.5, -0.5, 0.3}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    EXPECT_TRUE(unary_gradient_ok([p](const auto& a) { return pow(a, p); }, positive()));
  }
}
TEST(Abs, GradientMatchesFiniteDifferencesAwayFromZero) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return abs(a); }, away_from_zero()));
}
TEST(Tanh, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return tanh(a); }, scaled(3)));
}
TEST(Sigmoid, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return sigmoid(a); }, scaled(5)));
}
TEST(Relu, GradientMatchesFiniteDifferencesAwayFromZero) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return relu(a); }, away_from_zero()));
}
TEST(LeakyRelu, GradientMatchesFiniteDifferencesAwayFromZero) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return leaky_relu(a); }, away_from_zero()));
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return leaky_relu(a, 0.2); }, away_from_zero()));
}
TEST(Gelu, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return gelu(a); }, scaled(3)));
}
TEST(Softplus, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(unary_gradient_ok([](const auto& a) { return softplus(a); }, scaled(5)));
}

TEST(ElementwiseFunctions, ValuesMatchTheirDefinitions) {
  Tape<double> tape;
  const Vector<double> v = draws(12, 8, -3, 3);
  const Vector<double> vp = draws(12, 9, 0.1, 4);
  const auto x = tensor_of(tape, {3, 4}, v);
  const auto xp = tensor_of(tape, {3, 4}, vp);
  const auto expect_each = [&](const Tensor<double>& y, const Vector<double>& in, auto f, const char* name) {
    SCOPED_TRACE(name);
    ASSERT_EQ(y.shape(), (Shape{3, 4}));
    for (Index i = 0; i < in.size(); ++i) EXPECT_NEAR(y.data()[i], f(in[i]), 1e-14 * std::max(1.0, std::abs(f(in[i]))));
  };
  expect_each(neg(x), v, [](double t) { return -t; }, "neg");
  expect_each(exp(x), v, [](double t) { return std::exp(t); }, "exp");
  expect_each(log(xp), vp, [](double t) { return std::log(t); }, "log");
  expect_each(sqrt(xp), vp, [](double t) { return std::sqrt(t); }, "sqrt");
  expect_each(pow(xp, 1.7), vp, [](double t) { return std::pow(t, 1.7); }, "pow");
  expect_each(abs(x), v, [](double t) { return std::abs(t); }, "abs");
  expect_each(tanh(x), v, [](double t) { return std::tanh(t); }, "tanh");
  expect_each(sigmoid(x), v, [](double t) { return 1 / (1 + std::exp(-t)); }, "sigmoid");
  expect_each(relu(x), v, [](double t) { return t > 0 ? t : 0.0; }, "relu");
  expect_each(leaky_relu(x), v, [](double t) { return t > 0 ? t : 0.01 * t; }, "leaky_relu");
  expect_each(leaky_relu(x, 0.3), v, [](double t) { return t > 0 ? t : 0.3 * t; }, "leaky_relu(0.3)");
  expect_each(gelu(x), v, [](double t) { return t * 0.5 * std::erfc(-t / std::numbers::sqrt2); }, "gelu");
  expect_each(softplus(x), v, [](double t) { return std::log(1 + std::exp(t)); }, "softplus");
}

TEST(Gelu, UsesTheExactGaussianCdf) {
  Tape<double> tape;
  const auto x = tape.variable({2});
  x.data()[0] = 1;
  x.data()[1] = -1;
  const auto y = gelu(x);
  EXPECT_NEAR(y.data()[0], 0.8413447460685429, 1e-15);   // Phi(1)
  EXPECT_NEAR(y.data()[1], -0.15865525393145707, 1e-15);  // -Phi(-1)
}

TEST(AbsAndRelu, GradientIsZeroAtZero) {
  Tape<double> tape;
  const auto x = tape.variable({3});
  x.values() << 0, 2, -2;
  tape.backward(sum(abs(x) + relu(x)));
  EXPECT_EQ(x.grad()[0], 0);
  EXPECT_EQ(x.grad()[1], 2);
  EXPECT_EQ(x.grad()[2], -1);
}

template <class T>
void expect_sigmoid_saturates() {
  Tape<T> tape;
  const auto x = tape.variable({2});
  x.data()[0] = T(100);
  x.data()[1] = T(-100);
  const auto y = sigmoid(x);
  tape.backward(sum(y));
  EXPECT_TRUE(std::isfinite(y.data()[0]) && std::isfinite(y.data()[1]));
  EXPECT_EQ(y.data()[0], T(1));
  EXPECT_GE(y.data()[1], T(0));
  EXPECT_LT(y.data()[1], T(1e-40));
  EXPECT_TRUE(std::isfinite(x.grad()[0]) && std::isfinite(x.grad()[1]));
  EXPECT_LT(std::abs(x.grad()[0]), T(1e-30));
  EXPECT_LT(std::abs(x.grad()[1]), T(1e-30));
}
TEST(Sigmoid, StaysFiniteAndSaturatesAtPlusMinus100) {
  expect_sigmoid_saturates<double>();
  expect_sigmoid_saturates<float>();
}

template <class T>
void expect_softplus_finite() {
  Tape<T> tape;
  const auto x = tape.variable({2});
  x.data()[0] = T(1000);
  x.data()[1] = T(-1000);
  const auto y = softplus(x);
  tape.backward(sum(y));
  EXPECT_EQ(y.data()[0], T(1000));
  EXPECT_EQ(y.data()[1], T(0));
  EXPECT_EQ(x.grad()[0], T(1));
  EXPECT_EQ(x.grad()[1], T(0));
}
TEST(Softplus, StaysFiniteForLargeInputs) {
  expect_softplus_finite<double>();
  expect_softplus_finite<float>();
}

// ---- Reductions ---------------------------------------------------------------------

const Shape kCube{2, 3, 4};

TEST(Sum, GradientMatchesFiniteDifferencesOverAllElementsAndEachAxis) {
  EXPECT_TRUE(check_gradients(make_case({kCube}), [](const In& in) { return sum(in[0]); }));
  for (int axis : {0, 1, 2, -1, -3})
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + (keepdim ? ", keepdim" : ""));
      EXPECT_TRUE(check_gradients(make_case({kCube}), [&](const In& in) { return sum(in[0], axis, keepdim); }));
    }
}

TEST(Mean, GradientMatchesFiniteDifferencesOverAllElementsAndEachAxis) {
  EXPECT_TRUE(check_gradients(make_case({kCube}), [](const In& in) { return mean(in[0]); }));
  for (int axis : {0, 1, 2, -1, -2})
    for (bool keepdim : {false, true}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + (keepdim ? ", keepdim" : ""));
      EXPECT_TRUE(check_gradients(make_case({kCube}), [&](const In& in) { return mean(in[0], axis, keepdim); }));
    }
}

TEST(SumAndMean, ValuesAndShapesMatchDirectLoops) {
  Tape<double> tape;
  const Vector<double> v = draws(kCube.size(), 10);
  const auto x = tensor_of(tape, kCube, v);
  EXPECT_NEAR(sum(x).item(), v.sum(), 1e-14);
  EXPECT_NEAR(mean(x).item(), v.mean(), 1e-14);
  EXPECT_EQ(sum(x).shape(), Shape{});
  const std::array<Shape, 3> dropped{Shape{3, 4}, Shape{2, 4}, Shape{2, 3}};
  const std::array<Shape, 3> kept{Shape{1, 3, 4}, Shape{2, 1, 4}, Shape{2, 3, 1}};
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const auto s = sum(x, axis), m = mean(x, axis), sk = sum(x, axis, true);
    EXPECT_EQ(s.shape(), dropped[static_cast<std::size_t>(axis)]);
    EXPECT_EQ(sk.shape(), kept[static_cast<std::size_t>(axis)]);
    EXPECT_EQ(sum(x, axis - 3).shape(), s.shape());
    Vector<double> want = Vector<double>::Zero(s.size());
    for_each_position(kCube, [&](const std::array<Index, 4>& pos) {
      std::array<Index, 4> out = pos;
      out[static_cast<std::size_t>(axis)] = 0;
      want[flat_index(sk.shape(), out)] += v[flat_index(kCube, pos)];
    });
    EXPECT_TRUE(values_of(s).isApprox(want, 1e-14));
    EXPECT_TRUE(values_of(sk).isApprox(want, 1e-14));
    EXPECT_TRUE(values_of(m).isApprox(want / double(kCube[axis]), 1e-14));
  }
}

TEST(SumAndMean, AxisOutOfRangeThrowsInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable(kCube);
  EXPECT_THROW(sum(x, 3), descent::invalid_argument);
  EXPECT_THROW(mean(x, -4), descent::invalid_argument);
}

// ---- Softmax ---------------------------------------------------------------------------

TEST(Softmax, SlicesAlongTheAxisAreNormalizedExponentials) {
  Tape<double> tape;
  const Vector<double> v = draws(kCube.size(), 11, -3, 3);
  const auto x = tensor_of(tape, kCube, v);
  for (int axis : {0, 1, 2}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const auto y = softmax(x, axis);
    ASSERT_EQ(y.shape(), kCube);
    const auto totals = sum(y, axis);
    for (Index i = 0; i < totals.size(); ++i) EXPECT_NEAR(totals.data()[i], 1.0, 1e-14);
    const auto denominators = sum(exp(x), axis, true);
    for_each_position(kCube, [&](const std::array<Index, 4>& pos) {
      std::array<Index, 4> out = pos;
      out[static_cast<std::size_t>(axis)] = 0;
      const Index i = flat_index(kCube, pos);
      EXPECT_NEAR(y.data()[i], std::exp(v[i]) / denominators.data()[flat_index(denominators.shape(), out)], 1e-14);
    });
  }
  EXPECT_TRUE(values_of(softmax(x)).isApprox(values_of(softmax(x, 2))));
}

TEST(Softmax, LargeInputsDoNotOverflow) {
  Tape<double> tape;
  const auto x = tape.variable({1, 3});
  x.values() << 1000, 1001, -1000;
  const auto y = softmax(x);
  const double e = std::numbers::e;
  EXPECT_NEAR(y.data()[0], 1 / (1 + e), 1e-15);
  EXPECT_NEAR(y.data()[1], e / (1 + e), 1e-15);
  EXPECT_EQ(y.data()[2], 0);
  const auto z = log_softmax(x);
  EXPECT_NEAR(z.data()[0], -std::log1p(e), 1e-13);
  EXPECT_NEAR(z.data()[1], 1 - std::log1p(e), 1e-13);
  EXPECT_TRUE(std::isfinite(z.data()[2]));
  EXPECT_NEAR(z.data()[2], -2001 - std::log1p(1 / e), 1e-10);
}

TEST(Softmax, GradientMatchesFiniteDifferencesAlongEachAxis) {
  EXPECT_TRUE(check_gradients(make_case({{3, 5}}, scaled(3)), [](const In& in) { return softmax(in[0]); }));
  for (int axis : {0, 1, -1}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    EXPECT_TRUE(check_gradients(make_case({kCube}, scaled(3)), [&](const In& in) { return softmax(in[0], axis); }));
  }
}

TEST(LogSoftmax, EqualsTheLogarithmOfSoftmax) {
  Tape<double> tape;
  const auto x = tensor_of(tape, kCube, draws(kCube.size(), 12, -3, 3));
  for (int axis : {0, 1, -1}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const Vector<double> want = values_of(softmax(x, axis)).array().log();
    EXPECT_TRUE(values_of(log_softmax(x, axis)).isApprox(want, 1e-14));
  }
}

TEST(LogSoftmax, GradientMatchesFiniteDifferencesAlongEachAxis) {
  EXPECT_TRUE(check_gradients(make_case({{3, 5}}, scaled(3)), [](const In& in) { return log_softmax(in[0]); }));
  for (int axis : {0, 1, -1}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    EXPECT_TRUE(
        check_gradients(make_case({kCube}, scaled(3)), [&](const In& in) { return log_softmax(in[0], axis); }));
  }
}

// ---- Matrix products ---------------------------------------------------------------------

Eigen::Map<const RowMatrix> matrix_at(const double* p, Index rows, Index cols) { return {p, rows, cols}; }

TEST(Matmul, ValuesEqualEigenProducts) {
  Tape<double> tape;
  {  // [3, 4] x [4, 5]
    const auto a = tensor_of(tape, {3, 4}, draws(12, 13)), b = tensor_of(tape, {4, 5}, draws(20, 14));
    const auto c = matmul(a, b);
    ASSERT_EQ(c.shape(), (Shape{3, 5}));
    const RowMatrix want = matrix_at(a.data(), 3, 4) * matrix_at(b.data(), 4, 5);
    EXPECT_TRUE(matrix_at(c.data(), 3, 5).isApprox(want, 1e-14));
  }
  {  // [2, 3, 4] x [4, 5]: the leading axis folds into the rows
    const auto a = tensor_of(tape, {2, 3, 4}, draws(24, 15)), b = tensor_of(tape, {4, 5}, draws(20, 16));
    const auto c = matmul(a, b);
    ASSERT_EQ(c.shape(), (Shape{2, 3, 5}));
    for (Index i = 0; i < 2; ++i) {
      const RowMatrix want = matrix_at(a.data() + i * 12, 3, 4) * matrix_at(b.data(), 4, 5);
      EXPECT_TRUE(matrix_at(c.data() + i * 15, 3, 5).isApprox(want, 1e-14));
    }
  }
  {  // [2, 3, 4] x [2, 4, 5]: one product per batch
    const auto a = tensor_of(tape, {2, 3, 4}, draws(24, 17)), b = tensor_of(tape, {2, 4, 5}, draws(40, 18));
    const auto c = matmul(a, b);
    ASSERT_EQ(c.shape(), (Shape{2, 3, 5}));
    for (Index i = 0; i < 2; ++i) {
      const RowMatrix want = matrix_at(a.data() + i * 12, 3, 4) * matrix_at(b.data() + i * 20, 4, 5);
      EXPECT_TRUE(matrix_at(c.data() + i * 15, 3, 5).isApprox(want, 1e-14));
    }
  }
}

TEST(Matmul, GradientMatchesFiniteDifferencesFor2dProducts) {
  EXPECT_TRUE(check_gradients(make_case({{3, 4}, {4, 5}}), [](const In& in) { return matmul(in[0], in[1]); }));
  EXPECT_TRUE(check_gradients(make_case({{1, 6}, {6, 1}}), [](const In& in) { return matmul(in[0], in[1]); }));
}

TEST(Matmul, GradientMatchesFiniteDifferencesForA3dTensorTimesAMatrix) {
  EXPECT_TRUE(check_gradients(make_case({{2, 3, 4}, {4, 5}}), [](const In& in) { return matmul(in[0], in[1]); }));
}

TEST(Matmul, GradientMatchesFiniteDifferencesForBatchedProducts) {
  EXPECT_TRUE(
      check_gradients(make_case({{2, 3, 4}, {2, 4, 5}}), [](const In& in) { return matmul(in[0], in[1]); }));
}

TEST(Matmul, MismatchedShapesThrowInvalidArgument) {
  Tape<double> tape;
  EXPECT_THROW(matmul(tape.variable({2, 3}), tape.variable({4, 5})), descent::invalid_argument);
  EXPECT_THROW(matmul(tape.variable({2, 3, 4}), tape.variable({3, 4, 5})), descent::invalid_argument);
  EXPECT_THROW(matmul(tape.variable({2, 3}), tape.variable({2, 3, 4})), descent::invalid_argument);
  EXPECT_THROW(matmul(tape.variable({3}), tape.variable({3, 4})), descent::invalid_argument);
}

TEST(Linear, ValueEqualsInputTimesWeightTransposePlusBias) {
  Tape<double> tape;
  const auto x = tensor_of(tape, {4, 3}, draws(12, 19));
  const auto w = tensor_of(tape, {5, 3}, draws(15, 20));
  const auto b = tensor_of(tape, {5}, draws(5, 21));
  const RowMatrix xw = matrix_at(x.data(), 4, 3) * matrix_at(w.data(), 5, 3).transpose();
  const auto y = linear(x, w, b);
  ASSERT_EQ(y.shape(), (Shape{4, 5}));
  const RowMatrix want = xw.rowwise() + b.values().transpose();
  EXPECT_TRUE(matrix_at(y.data(), 4, 5).isApprox(want, 1e-14));
  const auto y0 = linear(x, w, Tensor<double>());
  EXPECT_TRUE(matrix_at(y0.data(), 4, 5).isApprox(xw, 1e-14));
}

TEST(Linear, GradientMatchesFiniteDifferencesWithAndWithoutBias) {
  EXPECT_TRUE(
      check_gradients(make_case({{4, 3}, {5, 3}, {5}}), [](const In& in) { return linear(in[0], in[1], in[2]); }));
  EXPECT_TRUE(check_gradients(make_case({{4, 3}, {5, 3}}),
                              [](const In& in) { return linear(in[0], in[1], Tensor<double>()); }));
}

// Layers of up to 16 outputs take the in-place kernels, wider ones GEMM:
// both must agree with Eigen at every remainder of the kernels' blocks (rows,
// outputs, vector lanes), and the weight's gradient too.
TEST(Linear, NarrowAndWideLayersMatchEigenAtEveryBlockRemainder) {
  for (const Index o : {1, 4, 5, 9, 10, 16, 17}) {
    for (const Index n : {1, 3, 6, 13}) {
      for (const Index f : {1, 7, 16, 37, 70}) {
        SCOPED_TRACE(fmt::format("n {} f {} o {}", n, f, o));
        Tape<double> tape;
        const auto x = tensor_of(tape, {n, f}, draws(n * f, 22));
        const auto w = tensor_of(tape, {o, f}, draws(o * f, 23));
        const auto b = tensor_of(tape, {o}, draws(o, 24));
        const auto y = linear(x, w, b);
        const RowMatrix want = (matrix_at(x.data(), n, f) * matrix_at(w.data(), o, f).transpose()).rowwise() +
                               b.values().transpose();
        EXPECT_LT((matrix_at(y.data(), n, o) - want).cwiseAbs().maxCoeff(), 1e-13);
        const auto y0 = linear(x, w, Tensor<double>());
        EXPECT_LT((matrix_at(y0.data(), n, o) - (want.rowwise() - b.values().transpose())).cwiseAbs().maxCoeff(),
                  1e-13);

        const Vector<double> seed = draws(n * o, 25);
        tape.backward(sum(mul(y, tensor_of(tape, {n, o}, seed))));
        const RowMatrix want_gw = matrix_at(seed.data(), n, o).transpose() * matrix_at(x.data(), n, f);
        EXPECT_LT((matrix_at(w.grad(), o, f) - want_gw).cwiseAbs().maxCoeff(), 1e-13);
      }
    }
  }
}

TEST(Linear, MismatchedShapesThrowInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({4, 3});
  EXPECT_THROW(linear(x, tape.variable({5, 4}), Tensor<double>()), descent::invalid_argument);
  EXPECT_THROW(linear(x, tape.variable({5, 3}), tape.variable({4})), descent::invalid_argument);
  EXPECT_THROW(linear(tape.variable({4, 3, 1}), tape.variable({5, 3}), Tensor<double>()), descent::invalid_argument);
}

// ---- Shapes and indexing ------------------------------------------------------------------

TEST(Reshape, ViewsTheSameValuesUnderANewShape) {
  Tape<double> tape;
  const auto x = tensor_of(tape, kCube, draws(24, 22));
  const auto y = reshape(x, {4, 6});
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_EQ(y.data(), x.data());
  EXPECT_EQ(y.grad(), x.grad());
  EXPECT_THROW(reshape(x, {5, 5}), descent::invalid_argument);
}

TEST(Reshape, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(check_gradients(make_case({kCube}), [](const In& in) { return reshape(in[0], {4, 6}); }));
  // A reshape of an intermediate result, inside a longer chain.
  EXPECT_TRUE(check_gradients(make_case({kCube}), [](const In& in) {
    return tanh(reshape(exp(in[0]), {6, 2, 2}) * 0.5);
  }));
}

TEST(Flatten, MergesTheTrailingDimensions) {
  Tape<double> tape;
  const auto x = tensor_of(tape, {2, 3, 4, 5}, draws(120, 23));
  EXPECT_EQ(flatten(x).shape(), (Shape{2, 60}));
  EXPECT_EQ(flatten(x, 2).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(flatten(x, 0).shape(), (Shape{120}));
  EXPECT_EQ(flatten(x, -1).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(flatten(x).data(), x.data());
  EXPECT_TRUE(check_gradients(make_case({{2, 3, 2, 2}}), [](const In& in) { return flatten(in[0]); }));
}

TEST(Transpose, SwapsTwoAxesOfA4dTensor) {
  Tape<double> tape;
  const Shape s{2, 3, 4, 5};
  const Vector<double> v = draws(s.size(), 24);
  const auto x = tensor_of(tape, s, v);
  const std::vector<std::pair<int, int>> pairs{{0, 1}, {1, 3}, {0, 3}, {2, -1}, {-4, 2}, {1, 1}};
  for (auto [a0, a1] : pairs) {
    SCOPED_TRACE("axes " + std::to_string(a0) + ", " + std::to_string(a1));
    const auto y = transpose(x, a0, a1);
    const auto p0 = static_cast<std::size_t>(a0 < 0 ? a0 + 4 : a0), p1 = static_cast<std::size_t>(a1 < 0 ? a1 + 4 : a1);
    Shape want_shape = s;
    std::swap(want_shape[int(p0)], want_shape[int(p1)]);
    ASSERT_EQ(y.shape(), want_shape);
    for_each_position(y.shape(), [&](const std::array<Index, 4>& pos) {
      std::array<Index, 4> src = pos;
      std::swap(src[p0], src[p1]);
      EXPECT_EQ(y.data()[flat_index(y.shape(), pos)], v[flat_index(s, src)]);
    });
  }
  // The default swaps the last two axes: a matrix transpose.
  const auto m = tensor_of(tape, {3, 4}, draws(12, 25));
  EXPECT_TRUE(matrix_at(transpose(m).data(), 4, 3).isApprox(matrix_at(m.data(), 3, 4).transpose()));
}

TEST(Transpose, GradientMatchesFiniteDifferencesForSeveralAxisPairs) {
  const std::vector<std::pair<int, int>> pairs{{0, 1}, {1, 3}, {0, 3}, {2, -1}};
  for (auto [a0, a1] : pairs) {
    SCOPED_TRACE("axes " + std::to_string(a0) + ", " + std::to_string(a1));
    EXPECT_TRUE(check_gradients(make_case({{2, 3, 2, 4}}), [&](const In& in) { return transpose(in[0], a0, a1); }));
  }
  EXPECT_TRUE(check_gradients(make_case({{3, 4}}), [](const In& in) { return transpose(in[0]); }));
}

TEST(Concat, JoinsThreePartsAlongAxis0And1) {
  Tape<double> tape;
  {
    const auto a = tensor_of(tape, {2, 3}, draws(6, 26)), b = tensor_of(tape, {1, 3}, draws(3, 27)),
               c = tensor_of(tape, {3, 3}, draws(9, 28));
    const auto y = concat({a, b, c}, 0);
    ASSERT_EQ(y.shape(), (Shape{6, 3}));
    Vector<double> want(18);
    want << a.values(), b.values(), c.values();
    EXPECT_EQ(values_of(y), want);
  }
  {
    const auto a = tensor_of(tape, {2, 1, 4}, draws(8, 29)), b = tensor_of(tape, {2, 3, 4}, draws(24, 30)),
               c = tensor_of(tape, {2, 2, 4}, draws(16, 31));
    const auto y = concat({a, b, c}, 1);
    ASSERT_EQ(y.shape(), (Shape{2, 6, 4}));
    for (Index n = 0; n < 2; ++n)
      for (Index k = 0; k < 4; ++k) {
        EXPECT_EQ(y.data()[(n * 6 + 0) * 4 + k], a.data()[n * 4 + k]);
        for (Index j = 0; j < 3; ++j) EXPECT_EQ(y.data()[(n * 6 + 1 + j) * 4 + k], b.data()[(n * 3 + j) * 4 + k]);
        for (Index j = 0; j < 2; ++j) EXPECT_EQ(y.data()[(n * 6 + 4 + j) * 4 + k], c.data()[(n * 2 + j) * 4 + k]);
      }
  }
}

TEST(Concat, GradientMatchesFiniteDifferencesAlongAxis0And1) {
  EXPECT_TRUE(check_gradients(make_case({{2, 3}, {1, 3}, {3, 3}}),
                              [](const In& in) { return concat({in[0], in[1], in[2]}, 0); }));
  EXPECT_TRUE(check_gradients(make_case({{2, 1, 4}, {2, 3, 4}, {2, 2, 4}}),
                              [](const In& in) { return concat({in[0], in[1], in[2]}, 1); }));
  EXPECT_TRUE(check_gradients(make_case({{2, 3, 1}, {2, 3, 2}, {2, 3, 3}}),
                              [](const In& in) { return concat({in[0], in[1], in[2]}, -1); }));
  // A part used twice gets both gradients.
  EXPECT_TRUE(check_gradients(make_case({{2, 3}, {1, 3}}),
                              [](const In& in) { return concat({in[0], in[1], in[0]}, 0); }));
}

TEST(Concat, MismatchedPartsThrowInvalidArgument) {
  Tape<double> tape;
  const auto a = tape.variable({2, 3});
  EXPECT_THROW(concat({a, tape.variable({2, 4})}, 0), descent::invalid_argument);
  EXPECT_THROW(concat({a, tape.variable({2, 3, 1})}, 0), descent::invalid_argument);
  EXPECT_THROW(concat({a, a}, 2), descent::invalid_argument);
  EXPECT_THROW(concat(std::span<const Tensor<double>>(), 0), descent::invalid_argument);
}

TEST(Slice, KeepsTheRangeAlongOneAxis) {
  Tape<double> tape;
  const Shape s{3, 5, 2};
  const Vector<double> v = draws(s.size(), 32);
  const auto x = tensor_of(tape, s, v);
  const auto y = slice(x, 1, 1, 4);
  ASSERT_EQ(y.shape(), (Shape{3, 3, 2}));
  for_each_position(y.shape(), [&](const std::array<Index, 4>& pos) {
    EXPECT_EQ(y.data()[flat_index(y.shape(), pos)], v[flat_index(s, {pos[0], pos[1] + 1, pos[2], 0})]);
  });
  EXPECT_EQ(slice(x, -1, 1, 2).shape(), (Shape{3, 5, 1}));
  EXPECT_EQ(slice(x, 0, 2, 2).shape(), (Shape{0, 5, 2}));
}

TEST(Slice, GradientMatchesFiniteDifferences) {
  EXPECT_TRUE(check_gradients(make_case({{3, 5, 2}}), [](const In& in) { return slice(in[0], 1, 1, 4); }));
  EXPECT_TRUE(check_gradients(make_case({{4, 3}}), [](const In& in) { return slice(in[0], 0, 0, 2); }));
  EXPECT_TRUE(check_gradients(make_case({{3, 5, 2}}), [](const In& in) { return slice(in[0], -1, 1, 2); }));
}

TEST(Slice, RangeOutsideTheAxisThrowsInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({3, 5});
  EXPECT_THROW(slice(x, 1, 2, 6), descent::invalid_argument);
  EXPECT_THROW(slice(x, 1, -1, 2), descent::invalid_argument);
  EXPECT_THROW(slice(x, 0, 2, 1), descent::invalid_argument);
  EXPECT_THROW(slice(x, 2, 0, 1), descent::invalid_argument);
}

TEST(IndexSelect, PicksTheIndexedEntriesInOrder) {
  Tape<double> tape;
  const Shape s{2, 4, 3};
  const Vector<double> v = draws(s.size(), 33);
  const auto x = tensor_of(tape, s, v);
  const std::vector<Index> idx{2, 0, 2, 3, 2};
  const auto y = index_select(x, 1, std::span<const Index>(idx));
  ASSERT_EQ(y.shape(), (Shape{2, 5, 3}));
  for_each_position(y.shape(), [&](const std::array<Index, 4>& pos) {
    const Index src = idx[static_cast<std::size_t>(pos[1])];
    EXPECT_EQ(y.data()[flat_index(y.shape(), pos)], v[flat_index(s, {pos[0], src, pos[2], 0})]);
  });
}

TEST(IndexSelect, GradientMatchesFiniteDifferencesWithRepeatedIndices) {
  const std::vector<Index> idx{2, 0, 2, 2};
  EXPECT_TRUE(check_gradients(make_case({{4, 3}}),
                              [&](const In& in) { return index_select(in[0], 0, std::span<const Index>(idx)); }));
  EXPECT_TRUE(check_gradients(make_case({{2, 3, 3}}),
                              [&](const In& in) { return index_select(in[0], 1, std::span<const Index>(idx)); }));
  EXPECT_TRUE(check_gradients(make_case({{2, 3, 3}}),
                              [&](const In& in) { return index_select(in[0], -1, std::span<const Index>(idx)); }));
}

TEST(IndexSelect, IndexOutOfRangeThrowsInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({4, 3});
  const std::vector<Index> too_big{0, 4}, negative{-1};
  EXPECT_THROW(index_select(x, 0, std::span<const Index>(too_big)), descent::invalid_argument);
  EXPECT_THROW(index_select(x, 0, std::span<const Index>(negative)), descent::invalid_argument);
}

TEST(Gather, PicksOneElementPerPositionOfTheOtherAxes) {
  Tape<double> tape;
  const Vector<double> v = draws(20, 34);
  const auto x = tensor_of(tape, {4, 5}, v);
  const std::vector<Index> rows{3, 0, 4, 3};  // axis 1: one column per row
  const auto y = gather(x, 1, std::span<const Index>(rows));
  ASSERT_EQ(y.shape(), (Shape{4, 1}));
  for (Index i = 0; i < 4; ++i) EXPECT_EQ(y.data()[i], v[i * 5 + rows[static_cast<std::size_t>(i)]]);
  const std::vector<Index> cols{1, 1, 0, 3, 2};  // axis 0: one row per column
  const auto z = gather(x, 0, std::span<const Index>(cols));
  ASSERT_EQ(z.shape(), (Shape{1, 5}));
  for (Index j = 0; j < 5; ++j) EXPECT_EQ(z.data()[j], v[cols[static_cast<std::size_t>(j)] * 5 + j]);
}

TEST(Gather, GradientMatchesFiniteDifferencesAlongAxis1And0) {
  const std::vector<Index> rows{3, 0, 4, 3}, cols{1, 1, 0, 3, 2};
  EXPECT_TRUE(check_gradients(make_case({{4, 5}}),
                              [&](const In& in) { return gather(in[0], 1, std::span<const Index>(rows)); }));
  EXPECT_TRUE(check_gradients(make_case({{4, 5}}),
                              [&](const In& in) { return gather(in[0], 0, std::span<const Index>(cols)); }));
  // A gathered row feeding a nonlinearity: the gradient still lands on the picked elements only.
  EXPECT_TRUE(check_gradients(make_case({{4, 5}}),
                              [&](const In& in) { return exp(gather(in[0], -1, std::span<const Index>(rows))); }));
}

TEST(Gather, WrongIndexCountOrRangeThrowsInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({4, 5});
  const std::vector<Index> three{0, 1, 2}, out_of_range{0, 1, 5, 2};
  EXPECT_THROW(gather(x, 1, std::span<const Index>(three)), descent::invalid_argument);
  EXPECT_THROW(gather(x, 1, std::span<const Index>(out_of_range)), descent::invalid_argument);
}

// ---- Convolution ----------------------------------------------------------------------

struct ConvCase {
  Shape x, w;
  bool bias;
  Index stride, padding;
  std::string name() const {
    return "x " + x.str() + ", w " + w.str() + (bias ? ", bias" : ", no bias") + ", stride " + std::to_string(stride) +
           ", padding " + std::to_string(padding);
  }
};

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases{
      {{1, 1, 5, 5}, {1, 1, 3, 3}, true, 1, 0},
      {{2, 3, 7, 6}, {4, 3, 3, 3}, true, 1, 1},
      {{2, 3, 7, 6}, {4, 3, 3, 3}, false, 2, 1},
      {{1, 2, 6, 9}, {3, 2, 3, 2}, true, 2, 2},
      {{2, 2, 5, 4}, {2, 2, 2, 2}, false, 2, 0},
      {{1, 2, 4, 5}, {3, 2, 1, 1}, true, 1, 2},
  };
  return cases;
}

// The convolution straight from its definition.
Vector<double> direct_conv2d(const ConvCase& c, const Vector<double>& x, const Vector<double>& w,
                             const Vector<double>& b, Shape& out) {
  const Index n = c.x[0], ch = c.x[1], h = c.x[2], wd = c.x[3];
  const Index o = c.w[0], kh = c.w[2], kw = c.w[3], s = c.stride, p = c.padding;
  const Index oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1;
  out = Shape{n, o, oh, ow};
  Vector<double> y(out.size());
  for (Index in = 0; in < n; ++in)
    for (Index io = 0; io < o; ++io)
      for (Index yy = 0; yy < oh; ++yy)
        for (Index xx = 0; xx < ow; ++xx) {
          double acc = c.bias ? b[io] : 0.0;
          for (Index ic = 0; ic < ch; ++ic)
            for (Index i = 0; i < kh; ++i)
              for (Index j = 0; j < kw; ++j) {
                const Index iy = yy * s - p + i, ix = xx * s - p + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += x[((in * ch + ic) * h + iy) * wd + ix] * w[((io * ch + ic) * kh + i) * kw + j];
              }
          y[((in * o + io) * oh + yy) * ow + xx] = acc;
        }
  return y;
}

TEST(Conv2d, ValueEqualsDirectConvolution) {
  for (const auto& c : conv_cases()) {
    SCOPED_TRACE(c.name());
    Tape<double> tape;
    const Vector<double> vx = draws(c.x.size(), 35), vw = draws(c.w.size(), 36), vb = draws(c.w[0], 37);
    const auto x = tensor_of(tape, c.x, vx), w = tensor_of(tape, c.w, vw);
    const auto b = c.bias ? tensor_of(tape, {c.w[0]}, vb) : Tensor<double>();
    const auto y = conv2d(x, w, b, {.stride = c.stride, .padding = c.padding});
    Shape want_shape;
    const Vector<double> want = direct_conv2d(c, vx, vw, vb, want_shape);
    ASSERT_EQ(y.shape(), want_shape);
    EXPECT_LT((values_of(y) - want).cwiseAbs().maxCoeff(), 1e-13);
  }
}

TEST(Conv2d, GradientMatchesFiniteDifferencesWithStrideAndPadding) {
  for (const auto& c : conv_cases()) {
    SCOPED_TRACE(c.name());
    const Conv2dOptions options{.stride = c.stride, .padding = c.padding};
    if (c.bias) {
      EXPECT_TRUE(check_gradients(make_case({c.x, c.w, {c.w[0]}}),
                                  [&](const In& in) { return conv2d(in[0], in[1], in[2], options); }));
    } else {
      EXPECT_TRUE(check_gradients(make_case({c.x, c.w}),
                                  [&](const In& in) { return conv2d(in[0], in[1], Tensor<double>(), options); }));
    }
  }
}

TEST(Conv2d, MismatchedShapesThrowInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({1, 3, 5, 5});
  EXPECT_THROW(conv2d(x, tape.variable({2, 2, 3, 3}), Tensor<double>()), descent::invalid_argument);  // channels
  EXPECT_THROW(conv2d(x, tape.variable({2, 3, 3, 3}), tape.variable({3})), descent::invalid_argument);  // bias
  EXPECT_THROW(conv2d(x, tape.variable({2, 3, 6, 6}), Tensor<double>()), descent::invalid_argument);  // too large
  EXPECT_THROW(conv2d(tape.variable({3, 5, 5}), tape.variable({2, 3, 3, 3}), Tensor<double>()),
               descent::invalid_argument);
  EXPECT_THROW(conv2d(x, tape.variable({2, 3, 3, 3}), Tensor<double>(), {.stride = 0}), descent::invalid_argument);
  EXPECT_THROW(conv2d(x, tape.variable({2, 3, 3, 3}), Tensor<double>(), {.padding = -1}), descent::invalid_argument);
}

// ---- Pooling ------------------------------------------------------------------------------

// Max (or mean, padding counted as zeros) over each window, from the definition.
Vector<double> direct_pool(const Shape& s, const Vector<double>& x, Pool2dOptions opt, bool max, Shape& out) {
  const Index k = opt.kernel, st = opt.stride == 0 ? k : opt.stride, p = opt.padding;
  const Index oh = (s[2] + 2 * p - k) / st + 1, ow = (s[3] + 2 * p - k) / st + 1;
  out = Shape{s[0], s[1], oh, ow};
  Vector<double> y(out.size());
  for (Index plane = 0; plane < s[0] * s[1]; ++plane)
    for (Index yy = 0; yy < oh; ++yy)
      for (Index xx = 0; xx < ow; ++xx) {
        double best = -std::numeric_limits<double>::infinity(), total = 0;
        for (Index i = 0; i < k; ++i)
          for (Index j = 0; j < k; ++j) {
            const Index iy = yy * st - p + i, ix = xx * st - p + j;
            if (iy < 0 || iy >= s[2] || ix < 0 || ix >= s[3]) continue;
            const double v = x[(plane * s[2] + iy) * s[3] + ix];
            best = std::max(best, v);
            total += v;
          }
        y[(plane * oh + yy) * ow + xx] = max ? best : total / double(k * k);
      }
  return y;
}

struct PoolCase {
  Shape x;
  Pool2dOptions options;
  std::string name() const {
    return "x " + x.str() + ", kernel " + std::to_string(options.kernel) + ", stride " +
           std::to_string(options.stride) + ", padding " + std::to_string(options.padding);
  }
};

const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases{
      {{2, 3, 6, 5}, {.kernel = 2, .stride = 2}},
      {{1, 2, 4, 4}, {.kernel = 2}},  // stride 0: equal to the kernel
      {{1, 2, 5, 4}, {.kernel = 3, .stride = 1, .padding = 1}},
      {{2, 1, 5, 6}, {.kernel = 3, .stride = 2, .padding = 1}},
      {{1, 2, 4, 5}, {.kernel = 2, .stride = 1, .padding = 1}},
  };
  return cases;
}

TEST(MaxPool2d, ValueIsTheMaximumOfEachWindow) {
  for (const auto& c : pool_cases()) {
    SCOPED_TRACE(c.name());
    Tape<double> tape;
    const Vector<double> v = draws(c.x.size(), 38);
    const auto y = max_pool2d(tensor_of(tape, c.x, v), c.options);
    Shape want_shape;
    const Vector<double> want = direct_pool(c.x, v, c.options, true, want_shape);
    ASSERT_EQ(y.shape(), want_shape);
    EXPECT_EQ(values_of(y), want);
  }
}

TEST(MaxPool2d, GradientMatchesFiniteDifferencesOnDistinctInputs) {
  for (const auto& c : pool_cases()) {
    SCOPED_TRACE(c.name());
    GradientCase g = make_case({c.x});
    g.values = {distinct(c.x.size(), 39)};
    EXPECT_TRUE(check_gradients(g, [&](const In& in) { return max_pool2d(in[0], c.options); }));
  }
}

TEST(MaxPool2d, PaddingNeverWinsOverNegativeInputs) {
  Tape<double> tape;
  const Shape s{1, 1, 3, 3};
  const Vector<double> v = draws(9, 40, -2, -1);
  const auto x = tensor_of(tape, s, v);
  const auto y = max_pool2d(x, {.kernel = 3, .stride = 1, .padding = 1});
  Shape want_shape;
  EXPECT_EQ(values_of(y), direct_pool(s, v, {.kernel = 3, .stride = 1, .padding = 1}, true, want_shape));
  EXPECT_LT(values_of(y).maxCoeff(), -1 + 1e-12);
  tape.backward(sum(y));
  EXPECT_EQ(x.gradient().sum(), 9);  // every window's gradient reaches a real input
}

TEST(MaxPool2d, TiesSendTheGradientToTheFirstMaximum) {
  Tape<double> tape;
  const auto x = tape.variable({1, 1, 4, 4});
  x.values().setConstant(0.5);
  tape.backward(sum(max_pool2d(x, {.kernel = 2})));
  Vector<double> want = Vector<double>::Zero(16);
  for (Index r : {0, 2})
    for (Index c : {0, 2}) want[r * 4 + c] = 1;
  EXPECT_EQ(x.gradient(), want);
}

TEST(AvgPool2d, ValueIsTheWindowMeanWithPaddingCountedAsZeros) {
  for (const auto& c : pool_cases()) {
    SCOPED_TRACE(c.name());
    Tape<double> tape;
    const Vector<double> v = draws(c.x.size(), 41);
    const auto y = avg_pool2d(tensor_of(tape, c.x, v), c.options);
    Shape want_shape;
    const Vector<double> want = direct_pool(c.x, v, c.options, false, want_shape);
    ASSERT_EQ(y.shape(), want_shape);
    EXPECT_LT((values_of(y) - want).cwiseAbs().maxCoeff(), 1e-15);
  }
}

TEST(AvgPool2d, GradientMatchesFiniteDifferencesWithAndWithoutPadding) {
  for (const auto& c : pool_cases()) {
    SCOPED_TRACE(c.name());
    EXPECT_TRUE(check_gradients(make_case({c.x}), [&](const In& in) { return avg_pool2d(in[0], c.options); }));
  }
}

TEST(Pool2d, InvalidOptionsOrShapesThrowInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({1, 1, 4, 4});
  EXPECT_THROW(max_pool2d(tape.variable({1, 4, 4})), descent::invalid_argument);
  EXPECT_THROW(avg_pool2d(x, {.kernel = 0}), descent::invalid_argument);
  EXPECT_THROW(max_pool2d(x, {.kernel = 2, .padding = 2}), descent::invalid_argument);
  EXPECT_THROW(avg_pool2d(x, {.kernel = 5}), descent::invalid_argument);
  EXPECT_THROW(max_pool2d(x, {.kernel = 2, .stride = -1}), descent::invalid_argument);
}

// ---- Dropout ------------------------------------------------------------------------------

TEST(Dropout, GradientEqualsTheMask) {
  Tape<double> tape;
  const double p = 0.4;
  const auto x = tensor_of(tape, {6, 7}, draws(42, 42, 0.5, 1.5));
  Rng rng(5);
  const auto y = dropout(x, p, rng);
  tape.backward(sum(y));
  for (Index i = 0; i < x.size(); ++i) {
    const double mask = y.data()[i] / x.data()[i];
    EXPECT_TRUE(mask == 0 || std::abs(mask - 1 / (1 - p)) < 1e-15) << "mask " << mask;
    EXPECT_NEAR(x.grad()[i], mask, 1e-15);
  }
  // With the mask fixed by the seed, the gradient also matches finite differences.
  EXPECT_TRUE(check_gradients(make_case({{6, 7}}), [&](const In& in) {
    Rng fixed(5);
    return dropout(in[0], p, fixed);
  }));
}

TEST(Dropout, ZeroesAboutPOfTheElementsAndScalesTheRest) {
  Tape<double> tape;
  const Index n = 20000;
  for (double p : {0.1, 0.5, 0.8}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    const auto x = tape.full({n}, 2.0);
    Rng rng(6);
    const auto y = dropout(x, p, rng);
    Index zeros = 0;
    for (Index i = 0; i < n; ++i) {
      if (y.data()[i] == 0) {
        ++zeros;
      } else {
        EXPECT_NEAR(y.data()[i], 2 / (1 - p), 1e-12);
      }
    }
    EXPECT_NEAR(double(zeros) / double(n), p, 0.02);
  }
  Rng rng(7);
  const auto x = tape.full({5}, 3.0);
  EXPECT_EQ(values_of(dropout(x, 0.0, rng)), values_of(x));  // p = 0 is the identity
}

TEST(Dropout, SameSeedGivesTheSameMask) {
  Tape<double> tape;
  const auto x = tape.full({200}, 1.0);
  Rng a(9), b(9), c(10);
  const Vector<double> ya = values_of(dropout(x, 0.5, a));
  const Vector<double> yb = values_of(dropout(x, 0.5, b));
  const Vector<double> yc = values_of(dropout(x, 0.5, c));
  EXPECT_EQ(ya, yb);
  EXPECT_NE(ya, yc);
  EXPECT_NE(values_of(dropout(x, 0.5, a)), ya);  // the stream moves on
}

TEST(Dropout, ProbabilityOutsideZeroToOneThrowsInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({3});
  Rng rng(1);
  EXPECT_THROW(dropout(x, 1.0, rng), descent::invalid_argument);
  EXPECT_THROW(dropout(x, -0.1, rng), descent::invalid_argument);
}

// ---- Batch normalization ----------------------------------------------------------------

TEST(BatchNorm, TrainingGradientsMatchFiniteDifferencesFor2dInput) {
  EXPECT_TRUE(check_gradients(make_case({{6, 3}, {3}, {3}}),
                              [](const In& in) { return batch_norm<double>(in[0], in[1], in[2], nullptr, nullptr); }));
}

TEST(BatchNorm, TrainingGradientsMatchFiniteDifferencesFor4dInput) {
  EXPECT_TRUE(check_gradients(make_case({{3, 2, 3, 2}, {2}, {2}}),
                              [](const In& in) { return batch_norm<double>(in[0], in[1], in[2], nullptr, nullptr); }));
}

TEST(BatchNorm, TrainingNormalizesEachChannelAndUpdatesTheRunningStatistics) {
  const Shape s{4, 3, 2, 3};
  const Index m = 4 * 2 * 3;
  for (double momentum : {0.1, 0.35}) {
    SCOPED_TRACE("momentum " + std::to_string(momentum));
    Tape<double> tape;
    const Vector<double> v = draws(s.size(), 43, -2, 3);
    const auto x = tensor_of(tape, s, v);
    const auto gamma = tensor_of(tape, {3}, Vector<double>{{1.5, -0.5, 2.0}});
    const auto beta = tensor_of(tape, {3}, Vector<double>{{0.1, 0.2, -0.3}});
    std::vector<double> running_mean{0.5, -0.2, 0.1}, running_var{2.0, 1.0, 0.5};
    const double eps = 1e-5;
    const auto y = batch_norm(x, gamma, beta, running_mean.data(), running_var.data(),
                              {.training = true, .momentum = momentum, .eps = eps});
    for (Index c = 0; c < 3; ++c) {
      double mu = 0, var = 0, out_mean = 0, out_var = 0;
      for (Index b = 0; b < 4; ++b)
        for (Index i = 0; i < 6; ++i) mu += v[(b * 3 + c) * 6 + i] / double(m);
      for (Index b = 0; b < 4; ++b)
        for (Index i = 0; i < 6; ++i) var += std::pow(v[(b * 3 + c) * 6 + i] - mu, 2) / double(m);
      for (Index b = 0; b < 4; ++b)
        for (Index i = 0; i < 6; ++i) {
          const Index j = (b * 3 + c) * 6 + i;
          EXPECT_NEAR(y.data()[j], gamma.data()[c] * (v[j] - mu) / std::sqrt(var + eps) + beta.data()[c], 1e-12);
          out_mean += y.data()[j] / double(m);
        }
      for (Index b = 0; b < 4; ++b)
        for (Index i = 0; i < 6; ++i) out_var += std::pow(y.data()[(b * 3 + c) * 6 + i] - out_mean, 2) / double(m);
      EXPECT_NEAR(out_mean, beta.data()[c], 1e-12);
      EXPECT_NEAR(out_var, gamma.data()[c] * gamma.data()[c] * var / (var + eps), 1e-12);
      const std::array<double, 3> mean0{0.5, -0.2, 0.1}, var0{2.0, 1.0, 0.5};
      const auto k = static_cast<std::size_t>(c);
      EXPECT_NEAR(running_mean[k], (1 - momentum) * mean0[k] + momentum * mu, 1e-14);
      // The running variance takes the unbiased batch variance.
      EXPECT_NEAR(running_var[k], (1 - momentum) * var0[k] + momentum * var * double(m) / double(m - 1), 1e-14);
    }
  }
}

TEST(BatchNorm, EvaluationUsesTheRunningStatisticsAndLeavesThemUnchanged) {
  Tape<double> tape;
  const Vector<double> v = draws(12, 44, -2, 2);
  const auto x = tensor_of(tape, {4, 3}, v);
  const auto gamma = tensor_of(tape, {3}, Vector<double>{{1.5, -0.5, 2.0}});
  const auto beta = tensor_of(tape, {3}, Vector<double>{{0.1, 0.2, -0.3}});
  std::vector<double> running_mean{0.5, -0.2, 0.1}, running_var{2.0, 1.0, 0.5};
  const auto y = batch_norm(x, gamma, beta, running_mean.data(), running_var.data(), {.training = false});
  for (Index b = 0; b < 4; ++b)
    for (Index c = 0; c < 3; ++c) {
      const auto k = static_cast<std::size_t>(c);
      const Index j = b * 3 + c;
      EXPECT_NEAR(y.data()[j],
                  gamma.data()[c] * (v[j] - running_mean[k]) / std::sqrt(running_var[k] + 1e-5) + beta.data()[c],
                  1e-14);
    }
  EXPECT_EQ(running_mean, (std::vector<double>{0.5, -0.2, 0.1}));
  EXPECT_EQ(running_var, (std::vector<double>{2.0, 1.0, 0.5}));
}

TEST(BatchNorm, EvaluationGradientsMatchFiniteDifferences) {
  std::vector<double> running_mean{0.5, -0.2}, running_var{2.0, 0.7};
  const BatchNormOptions eval{.training = false};
  EXPECT_TRUE(check_gradients(make_case({{2, 2, 2, 3}, {2}, {2}}), [&](const In& in) {
    return batch_norm(in[0], in[1], in[2], running_mean.data(), running_var.data(), eval);
  }));
  EXPECT_TRUE(check_gradients(make_case({{5, 2}, {2}, {2}}), [&](const In& in) {
    return batch_norm(in[0], in[1], in[2], running_mean.data(), running_var.data(), eval);
  }));
}

TEST(BatchNorm, InvalidShapesOrOptionsThrowInvalidArgument) {
  Tape<double> tape;
  const auto x = tape.variable({4, 3});
  const auto g = tape.variable({3}), b = tape.variable({3});
  EXPECT_THROW(batch_norm<double>(x, tape.variable({2}), b, nullptr, nullptr), descent::invalid_argument);
  EXPECT_THROW(batch_norm<double>(tape.variable({4, 3, 2}), g, b, nullptr, nullptr), descent::invalid_argument);
  EXPECT_THROW(batch_norm<double>(x, g, b, nullptr, nullptr, {.training = false}), descent::invalid_argument);
  EXPECT_THROW(batch_norm<double>(tape.variable({1, 3}), g, b, nullptr, nullptr), descent::invalid_argument);
  EXPECT_THROW(batch_norm<double>(x, g, b, nullptr, nullptr, {.eps = 0}), descent::invalid_argument);
  EXPECT_THROW(batch_norm<double>(x, g, b, nullptr, nullptr, {.momentum = 1.5}), descent::invalid_argument);
}

// ---- Losses ----------------------------------------------------------------------------------

// Predictions at a distance of at least 0.1 from their targets: away from the
// kink of l1 at p = t.
GradientCase prediction_target_case(const Shape& s, std::uint64_t seed) {
  GradientCase c = make_case({s, s}, {}, seed);
  const Vector<double> t = draws(s.size(), seed + 100);
  Vector<double> p = draws(s.size(), seed + 200);
  for (Index i = 0; i < p.size(); ++i) p[i] = t[i] + (p[i] < 0 ? p[i] - 0.1 : p[i] + 0.1);
  c.values = {p, t};
  return c;
}

TEST(MseLoss, ValueAndGradientsMatchTheDefinition) {
  EXPECT_TRUE(check_gradients(make_case({{3, 4}, {3, 4}}), [](const In& in) { return mse_loss(in[0], in[1]); }));
  Tape<double> tape;
  const Vector<double> p = draws(12, 45), t = draws(12, 46);
  const auto loss = mse_loss(tensor_of(tape, {3, 4}, p), tensor_of(tape, {3, 4}, t));
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), (p - t).squaredNorm() / 12, 1e-15);
}

TEST(L1Loss, ValueAndGradientsMatchTheDefinitionAwayFromTheKink) {
  EXPECT_TRUE(check_gradients(prediction_target_case({3, 4}, 47), [](const In& in) { return l1_loss(in[0], in[1]); }));
  Tape<double> tape;
  const Vector<double> p = draws(12, 48), t = draws(12, 49);
  const auto loss = l1_loss(tensor_of(tape, {12}, p), tensor_of(tape, {12}, t));
  EXPECT_NEAR(loss.item(), (p - t).cwiseAbs().sum() / 12, 1e-15);
}

TEST(HuberLoss, ValueAndGradientsMatchTheDefinitionOnBothSidesOfDelta) {
  const double delta = 0.5;
  const Vector<double> d{{0.2, -0.3, 0.45, 0.8, -1.5, 2.0, -0.05, -0.7}};
  const Vector<double> t = draws(d.size(), 50);
  const Vector<double> p = t + d;
  GradientCase c = make_case({{8}, {8}});
  c.values = {p, t};
  EXPECT_TRUE(check_gradients(c, [&](const In& in) { return huber_loss(in[0], in[1], delta); }));
  EXPECT_TRUE(check_gradients(c, [&](const In& in) { return huber_loss(in[0], in[1]); }));  // delta 1

  Tape<double> tape;
  const auto pt = tensor_of(tape, {8}, p), tt = tensor_of(tape, {8}, t);
  const auto loss = huber_loss(pt, tt, delta);
  double want = 0;
  for (Index i = 0; i < 8; ++i)
    want += std::abs(d[i]) <= delta ? 0.5 * d[i] * d[i] : delta * (std::abs(d[i]) - 0.5 * delta);
  EXPECT_NEAR(loss.item(), want / 8, 1e-15);
  tape.backward(loss);
  for (Index i = 0; i < 8; ++i) {
    const double slope = std::abs(d[i]) <= delta ? d[i] : (d[i] > 0 ? delta : -delta);
    EXPECT_NEAR(pt.grad()[i], slope / 8, 1e-15);
  }
  EXPECT_THROW(huber_loss(pt, tt, 0.0), descent::invalid_argument);
}

TEST(CrossEntropy, ValueMatchesAHandComputation) {
  Tape<double> tape;
  const auto z = tape.variable({2, 3});
  z.values() << 1, 2, 3, 0, 0, 0;
  const std::vector<Index> labels{2, 1};
  // Row 0: log(e + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2); row 1: log 3.
  const double row0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0)), row1 = std::log(3.0);
  EXPECT_NEAR(cross_entropy(z, std::span<const Index>(labels)).item(), (row0 + row1) / 2, 1e-15);
  EXPECT_NEAR(cross_entropy(z, std::span<const Index>(labels)).item(), 0.753109126556245, 1e-14);
  // Smoothing 0.1 over K = 3: targets 0.9 one-hot + 0.1 / 3, so row 0 becomes
  // logsumexp - (0.9 * 3 + (0.1 / 3) * 6) = row0 + 0.1; row 1 is uniform, unchanged.
  EXPECT_NEAR(cross_entropy(z, std::span<const Index>(labels), 0.1).item(), (row0 + 0.1 + row1) / 2, 1e-15);
  EXPECT_NEAR(cross_entropy(z, std::span<const Index>(labels), 0.1).item(), 0.8031091265562451, 1e-14);
}

TEST(CrossEntropy, EqualsTheMeanNegativeLogSoftmaxOfTheSmoothedTargets) {
  Tape<double> tape;
  const Index n = 5, k = 4;
  const auto z = tensor_of(tape, {n, k}, draws(n * k, 51, -4, 4));
  const std::vector<Index> labels{3, 0, 1, 3, 2};
  const auto logp = log_softmax(z);
  for (double s : {0.0, 0.25}) {
    double want = 0;
    for (Index i = 0; i < n; ++i)
      for (Index c = 0; c < k; ++c) {
        const double q = (1 - s) * (c == labels[static_cast<std::size_t>(i)] ? 1.0 : 0.0) + s / double(k);
        want -= q * logp.data()[i * k + c] / double(n);
      }
    EXPECT_NEAR(cross_entropy(z, std::span<const Index>(labels), s).item(), want, 1e-14) << "smoothing " << s;
  }
}

TEST(CrossEntropy, GradientMatchesFiniteDifferencesWithAndWithoutLabelSmoothing) {
  const std::vector<Index> labels{1, 0, 4, 1};
  for (double s : {0.0, 0.2}) {
    SCOPED_TRACE("smoothing " + std::to_string(s));
    EXPECT_TRUE(check_gradients(make_case({{4, 5}}, scaled(3)), [&](const In& in) {
      return cross_entropy(in[0], std::span<const Index>(labels), s);
    }));
  }
}

TEST(CrossEntropy, LabelsOutOfRangeOrMiscountedThrowInvalidArgument) {
  Tape<double> tape;
  const auto z = tape.variable({2, 3});
  const std::vector<Index> too_big{0, 3}, negative{-1, 0}, one{0};
  EXPECT_THROW(cross_entropy(z, std::span<const Index>(too_big)), descent::invalid_argument);
  EXPECT_THROW(cross_entropy(z, std::span<const Index>(negative)), descent::invalid_argument);
  EXPECT_THROW(cross_entropy(z, std::span<const Index>(one)), descent::invalid_argument);
  const std::vector<Index> ok{0, 2};
  EXPECT_THROW(cross_entropy(z, std::span<const Index>(ok), 1.0), descent::invalid_argument);
  EXPECT_THROW(cross_entropy(tape.variable({6}), std::span<const Index>(ok)), descent::invalid_argument);
}

TEST(BinaryCrossEntropyWithLogits, ValueMatchesTheNaiveFormulaForModerateLogits) {
  Tape<double> tape;
  const Vector<double> z = draws(10, 52, -5, 5), y = draws(10, 53, 0, 1);
  const auto loss = binary_cross_entropy_with_logits(tensor_of(tape, {2, 5}, z), tensor_of(tape, {2, 5}, y));
  double want = 0;
  for (Index i = 0; i < 10; ++i) {
    const double s = 1 / (1 + std::exp(-z[i]));
    want -= (y[i] * std::log(s) + (1 - y[i]) * std::log(1 - s)) / 10;
  }
  EXPECT_NEAR(loss.item(), want, 1e-14);
}

TEST(BinaryCrossEntropyWithLogits, GradientMatchesFiniteDifferences) {
  GradientCase c = make_case({{2, 5}, {2, 5}}, scaled(4));
  c.values = {Vector<double>(), draws(10, 54, 0, 1)};
  EXPECT_TRUE(
      check_gradients(c, [](const In& in) { return binary_cross_entropy_with_logits(in[0], in[1]); }));
}

TEST(BinaryCrossEntropyWithLogits, StaysFiniteForLogitsOfPlusMinus1000) {
  Tape<double> tape;
  const auto z = tape.variable({4});
  z.values() << 1000, -1000, 1000, -1000;
  std::array<double, 4> targets{1, 1, 0, 0};
  const auto t = tape.constant(targets.data(), {4});
  const auto loss = binary_cross_entropy_with_logits(z, t);
  // Per element: 0, 1000, 1000, 0.
  EXPECT_TRUE(std::isfinite(loss.item()));
  EXPECT_NEAR(loss.item(), 500, 1e-12);
  tape.backward(loss);
  // (sigmoid(z) - y) / 4: 0, -1/4, 1/4, 0.
  EXPECT_NEAR(z.grad()[0], 0, 1e-15);
  EXPECT_NEAR(z.grad()[1], -0.25, 1e-15);
  EXPECT_NEAR(z.grad()[2], 0.25, 1e-15);
  EXPECT_NEAR(z.grad()[3], 0, 1e-15);
}

TEST(HingeLoss, ValueAndGradientsMatchTheDefinitionAwayFromTheKink) {
  // Margins 1 - y f: 0.5, -0.5, 1.3, -0.2, 0.9, 2.0 (two inactive).
  const Vector<double> y{{1, -1, 1, -1, 1, -1}};
  const Vector<double> f{{0.5, -1.5, -0.3, -1.2, 0.1, 1.0}};
  GradientCase c = make_case({{6}, {6}});
  c.values = {f, y};
  EXPECT_TRUE(check_gradients(c, [](const In& in) { return hinge_loss(in[0], in[1]); }));

  Tape<double> tape;
  const auto scores = tensor_of(tape, {6}, f);
  const auto loss = hinge_loss(scores, tape.constant(y.data(), {6}));
  EXPECT_NEAR(loss.item(), (0.5 + 1.3 + 0.9 + 2.0) / 6, 1e-15);
  tape.backward(loss);
  const Vector<double> want{{-1.0 / 6, 0, -1.0 / 6, 0, -1.0 / 6, 1.0 / 6}};
  EXPECT_TRUE(scores.gradient().isApprox(want, 1e-15));
}

TEST(Losses, MismatchedShapesThrowInvalidArgument) {
  Tape<double> tape;
  const auto a = tape.variable({2, 3}), b = tape.variable({3, 2});
  EXPECT_THROW(mse_loss(a, b), descent::invalid_argument);
  EXPECT_THROW(l1_loss(a, b), descent::invalid_argument);
  EXPECT_THROW(huber_loss(a, b), descent::invalid_argument);
  EXPECT_THROW(binary_cross_entropy_with_logits(a, b), descent::invalid_argument);
  EXPECT_THROW(hinge_loss(a, b), descent::invalid_argument);
}

// ---- Large tensors: the threaded paths ---------------------------------------------------
//
// Above a size threshold, elementwise passes, reductions, convolution,
// pooling, batch normalization and matrix products split their work across
// OpenMP threads. These cases are large enough to take those paths, checked
// by directional derivatives (one central difference per input) and against
// the same pass on one thread.

// Sets the OpenMP thread count for a scope, so that the threaded paths run
// on any machine.
class OmpThreads {
 public:
  explicit OmpThreads(int n) : previous_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreads() { omp_set_num_threads(previous_); }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int previous_;
};

// The case's pass (outputs and gradients) on one thread and on four agree.
template <class F>
::testing::AssertionResult threads_agree(const GradientCase& c, F&& forward) {
  const auto run = [&](int threads) {
    OmpThreads scope(threads);
    Rng rng(c.seed);
    const auto values = descent::testing::case_values(c, rng);
    Vector<double> weights;
    return descent::testing::run_pass<double>(c, values, weights, rng, forward);
  };
  const auto one = run(1), four = run(4);
  const double out_error = descent::testing::max_relative_error(four.output, one.output);
  if (!(out_error <= 1e-12)) return ::testing::AssertionFailure() << "outputs differ by " << out_error;
  for (std::size_t k = 0; k < one.gradients.size(); ++k) {
    const double error = descent::testing::max_relative_error(four.gradients[k], one.gradients[k]);
    if (!(error <= 1e-12)) return ::testing::AssertionFailure() << "gradients of input " << k << " differ by " << error;
  }
  return ::testing::AssertionSuccess();
}

// Both checks, with four threads for the directional derivatives.
template <class F>
void expect_large_case_ok(const GradientCase& c, F&& forward) {
  {
    OmpThreads scope(4);
    EXPECT_TRUE(check_directional_derivatives(c, forward));
  }
  EXPECT_TRUE(threads_agree(c, forward));
}

TEST(LargeConv2d, ValueAndGradientsMatchDirectConvolutionOnFourThreads) {
  OmpThreads scope(4);
  const std::vector<ConvCase> cases{
      {{8, 8, 24, 24}, {16, 8, 3, 3}, true, 1, 1},
      {{6, 4, 33, 30}, {8, 4, 5, 5}, false, 2, 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name());
    Tape<double> tape;
    const Vector<double> vx = draws(c.x.size(), 60), vw = draws(c.w.size(), 61), vb = draws(c.w[0], 62);
    const auto x = tensor_of(tape, c.x, vx), w = tensor_of(tape, c.w, vw);
    const auto b = c.bias ? tensor_of(tape, {c.w[0]}, vb) : Tensor<double>();
    const Conv2dOptions options{.stride = c.stride, .padding = c.padding};
    const auto y = conv2d(x, w, b, options);
    Shape want_shape;
    const Vector<double> want = direct_conv2d(c, vx, vw, vb, want_shape);
    ASSERT_EQ(y.shape(), want_shape);
    EXPECT_LT((values_of(y) - want).cwiseAbs().maxCoeff(), 1e-12);
    if (c.bias) {
      expect_large_case_ok(make_case({c.x, c.w, {c.w[0]}}, {}, 63),
                           [&](const In& in) { return conv2d(in[0], in[1], in[2], options); });
    } else {
      expect_large_case_ok(make_case({c.x, c.w}, {}, 63),
                           [&](const In& in) { return conv2d(in[0], in[1], Tensor<double>(), options); });
    }
  }
}

TEST(LargeTensors, SmallNetworkGradientsMatchDirectionalDerivativesOnFourThreads) {
  // conv -> batch norm -> tanh -> average pool -> linear -> log_softmax, each
  // above its threading threshold ([8, 16, 24, 24] activations).
  const GradientCase c = make_case({{8, 8, 24, 24}, {16, 8, 3, 3}, {16}, {16}, {16}, {10, 2304}, {10}}, {}, 64);
  expect_large_case_ok(c, [](const In& in) {
    const auto features = conv2d(in[0], in[1], in[2], {.padding = 1});
    const auto h = tanh(batch_norm<double>(features, in[3], in[4], nullptr, nullptr));
    return log_softmax(linear(flatten(avg_pool2d(h, {.kernel = 2})), in[5], in[6]));
  });
}

TEST(LargeTensors, ElementwiseReductionsAndLossesMatchDirectionalDerivativesOnFourThreads) {
  expect_large_case_ok(make_case({{300, 256}, {256}}, {}, 65), [](const In& in) {
    return softmax(in[0] * in[1] + sigmoid(in[0]) * exp(in[0]), 0);
  });
  expect_large_case_ok(make_case({{300, 256}, {300, 256}}, {}, 66), [](const In& in) {
    return reshape(mse_loss(in[0], in[1]) + mean(gelu(in[0]) * in[1]) + mean(sum(softplus(in[1]), 1)), {1});
  });
}

TEST(LargeTensors, PoolingMatchesDirectLoopsAndDirectionalDerivativesOnFourThreads) {
  const Shape s{4, 16, 32, 32};
  const Pool2dOptions options{.kernel = 3, .stride = 2, .padding = 1};
  GradientCase c = make_case({s}, {}, 67);
  c.values = {distinct(s.size(), 68, 2.0 / double(s.size()))};  // in [-1, 1): steps of 1e-6 stay exact enough
  {
    OmpThreads scope(4);
    Tape<double> tape;
    const auto x = tensor_of(tape, s, c.values[0]);
    Shape want_shape;
    EXPECT_EQ(values_of(max_pool2d(x, options)), direct_pool(s, c.values[0], options, true, want_shape));
    const Vector<double> want = direct_pool(s, c.values[0], options, false, want_shape);
    EXPECT_LT((values_of(avg_pool2d(x, options)) - want).cwiseAbs().maxCoeff(), 1e-12);
  }
  expect_large_case_ok(c, [&](const In& in) { return max_pool2d(in[0], options); });
  expect_large_case_ok(c, [&](const In& in) { return avg_pool2d(in[0], options); });
}

TEST(LargeTensors, MatrixProductsMatchEigenAndDirectionalDerivativesOnFourThreads) {
  {
    OmpThreads scope(4);
    Tape<double> tape;
    const auto a = tensor_of(tape, {16, 64}, draws(16 * 64, 69));
    const auto b = tensor_of(tape, {64, 1024}, draws(64 * 1024, 70));
    const RowMatrix want = matrix_at(a.data(), 16, 64) * matrix_at(b.data(), 64, 1024);
    EXPECT_TRUE(matrix_at(matmul(a, b).data(), 16, 1024).isApprox(want, 1e-14));  // split by columns
    const auto t = tensor_of(tape, {256, 96}, draws(256 * 96, 71));
    const auto u = tensor_of(tape, {96, 80}, draws(96 * 80, 72));
    const RowMatrix want2 = matrix_at(t.data(), 256, 96) * matrix_at(u.data(), 96, 80);
    EXPECT_TRUE(matrix_at(matmul(t, u).data(), 256, 80).isApprox(want2, 1e-14));  // split by rows
  }
  expect_large_case_ok(make_case({{16, 64}, {64, 1024}}, {}, 73), [](const In& in) { return matmul(in[0], in[1]); });
  expect_large_case_ok(make_case({{2, 128, 96}, {96, 80}}, {}, 74), [](const In& in) { return matmul(in[0], in[1]); });
  expect_large_case_ok(make_case({{2, 128, 96}, {2, 96, 80}}, {}, 75),
                       [](const In& in) { return matmul(in[0], in[1]); });
  expect_large_case_ok(make_case({{256, 96}, {80, 96}, {80}}, {}, 76),
                       [](const In& in) { return linear(in[0], in[1], in[2]); });
  expect_large_case_ok(make_case({{1031, 97}, {10, 97}, {10}}, {}, 77),  // the narrow kernels
                       [](const In& in) { return linear(in[0], in[1], in[2]); });
}

// ---- Float against double ---------------------------------------------------------------------

TEST(FloatPrecision, ConvolutionAgreesWithDouble) {
  EXPECT_TRUE(compare_float_with_double(make_case({{2, 3, 6, 5}, {4, 3, 3, 3}, {4}}), [](const auto& in) {
    return conv2d(in[0], in[1], in[2], {.stride = 1, .padding = 1});
  }));
}

TEST(FloatPrecision, BatchNormAgreesWithDouble) {
  EXPECT_TRUE(compare_float_with_double(make_case({{4, 3, 3, 2}, {3}, {3}}), [](const auto& in) {
    using T = scalar_of<decltype(in)>;
    return batch_norm(in[0], in[1], in[2], static_cast<T*>(nullptr), static_cast<T*>(nullptr));
  }));
}

TEST(FloatPrecision, CrossEntropyAndMatmulAgreeWithDouble) {
  const std::vector<Index> labels{1, 0, 4, 1, 2, 3};
  EXPECT_TRUE(compare_float_with_double(make_case({{6, 5}}, scaled(4)), [&](const auto& in) {
    using T = scalar_of<decltype(in)>;
    return cross_entropy(in[0], std::span<const Index>(labels), T(0.1));
  }));
  EXPECT_TRUE(compare_float_with_double(make_case({{2, 3, 4}, {2, 4, 5}}),
                                        [](const auto& in) { return matmul(in[0], in[1]); }));
  EXPECT_TRUE(compare_float_with_double(make_case({{3, 4}}, scaled(3)), [](const auto& in) {
    using T = scalar_of<decltype(in)>;
    return gelu(in[0]) * log_softmax(in[0]) + pow(sigmoid(in[0]), T(2));
  }));
}

}  // namespace
}  // namespace descent::autograd
