// Elementwise operations: binary with broadcasting, and unary functions.
//
// Binary: a [shape A], b [shape B] -> [broadcast(A, B)]. The backward of a
// broadcast input sums the output gradient over the stretched axes: the
// loops below walk the output and add into the input at a stride of 0
// along those axes.
#include <cmath>
#include <numbers>

#include "op_support.hpp"

namespace descent::autograd {
namespace {

using descent::detail::for_each_index;

// ---- Broadcasting ---------------------------------------------------------

// Both shapes right-aligned in four dimensions, with element strides that
// are 0 along the axes an input is stretched over.
struct Broadcast {
  Shape out;
  std::array<Index, 4> dims{};
  std::array<Index, 4> stride_a{}, stride_b{};
  bool same = false;  // equal shapes: one flat loop
};

std::array<Index, 4> padded(const Shape& s) {
  std::array<Index, 4> d{1, 1, 1, 1};
  for (int i = 0; i < s.rank(); ++i) d[static_cast<std::size_t>(4 - s.rank() + i)] = s[i];
  return d;
}

std::array<Index, 4> strides_for(const std::array<Index, 4>& dims, const std::array<Index, 4>& out) {
  std::array<Index, 4> st{};
  Index step = 1;
  for (int i = 3; i >= 0; --i) {
    const auto k = static_cast<std::size_t>(i);
    st[k] = (dims[k] == 1 && out[k] != 1) ? 0 : step;
    step *= dims[k];
  }
  return st;
}

Broadcast broadcast(const Shape& a, const Shape& b, const char* op) {
  Broadcast p;
  if (a == b) {
    p.out = a;
    p.same = true;
    return p;
  }
  const auto da = padded(a), db = padded(b);
  const int rank = std::max(a.rank(), b.rank());
  for (std::size_t i = 0; i < 4; ++i) {
    DESCENT_REQUIRE(da[i] == db[i] || da[i] == 1 || db[i] == 1,
            std::string(op) + ": shapes " + a.str() + " and " + b.str() + " do not broadcast");
    p.dims[i] = da[i] == 1 ? db[i] : da[i];
  }
  p.out = Shape::from(p.dims.begin() + (4 - rank), p.dims.end());
  p.stride_a = strides_for(da, p.dims);
  p.stride_b = strides_for(db, p.dims);
  return p;
}

// Calls f(i, ia, ib) for every output position i with the matching input
// positions, in order.
template <class F>
void for_each_broadcast(const Broadcast& p, F&& f) {
  const auto& d = p.dims;
  const auto& sa = p.stride_a;
  const auto& sb = p.stride_b;
  Index i = 0;
  for (Index i0 = 0; i0 < d[0]; ++i0)
    for (Index i1 = 0; i1 < d[1]; ++i1)
      for (Index i2 = 0; i2 < d[2]; ++i2) {
        const Index a0 = i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
        const Index b0 = i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
        for (Index i3 = 0; i3 < d[3]; ++i3, ++i) f(i, a0 + i3 * sa[3], b0 + i3 * sb[3]);
      }
}

Broadcast plan_of(const Shape& a, const Shape& b) { return broadcast(a, b, "broadcast"); }

// ---- Binary operations ------------------------------------------------------

enum class Binary { add, sub, mul, div };

template <Binary K, class T>
inline T apply(T x, T y) {
  if constexpr (K == Binary::add) return x + y;
  if constexpr (K == Binary::sub) return x - y;
  if constexpr (K == Binary::mul) return x * y;
  if constexpr (K == Binary::div) return x / y;
}
// d out / d a and d out / d b at (x, y, out).
template <Binary K, class T>
inline T partial_a(T, T y) {
  if constexpr (K == Binary::add || K == Binary::sub) return T(1);
  if constexpr (K == Binary::mul) return y;
  if constexpr (K == Binary::div) return T(1) / y;
}
template <Binary K, class T>
inline T partial_b(T x, T y) {
  if constexpr (K == Binary::add) return T(1);
  if constexpr (K == Binary::sub) return T(-1);
  if constexpr (K == Binary::mul) return x;
  if constexpr (K == Binary::div) return -x / (y * y);
}

template <Binary K, class T>
void binary_backward(Tape<T>& tape, const Node<T>& n) {
  const Node<T>& a = tape.input_of(n, 0);
  const Node<T>& b = tape.input_of(n, 1);
  const T* go = n.grad;
  const T* x = a.value;
  const T* y = b.value;
  if (a.shape == b.shape) {
    const Index size = n.shape.size();
    if (T* ga = a.grad) for_each_index(size, [=](Index j) { ga[j] += go[j] * partial_a<K>(x[j], y[j]); });
    if (T* gb = b.grad) for_each_index(size, [=](Index j) { gb[j] += go[j] * partial_b<K>(x[j], y[j]); });
    return;
  }
  const Broadcast p = plan_of(a.shape, b.shape);
  if (T* ga = a.grad)
    for_each_broadcast(p, [=](Index i, Index ia, Index ib) { ga[ia] += go[i] * partial_a<K>(x[ia], y[ib]); });
  if (T* gb = b.grad)
    for_each_broadcast(p, [=](Index i, Index ia, Index ib) { gb[ib] += go[i] * partial_b<K>(x[ia], y[ib]); });
}

template <Binary K, class T>
Tensor<T> binary(const Tensor<T>& a, const Tensor<T>& b, const char* name) {
  detail::require_same_tape(&a.tape(), &b.tape(), name);
  const Broadcast p = broadcast(a.shape(), b.shape(), name);
  Tensor<T> out = a.tape().record(p.out, {a, b}, &binary_backward<K, T>);
  T* o = out.data();
  const T* x = a.data();
  const T* y = b.data();
  if (p.same) {
    for_each_index(p.out.size(), [=](Index j) { o[j] = apply<K>(x[j], y[j]); });
  } else {
    for_each_broadcast(p, [=](Index i, Index ia, Index ib) { o[i] = apply<K>(x[ia], y[ib]); });
  }
  return out;
}

// ---- Unary operations --------------------------------------------------------

enum class Unary { add_scalar, mul_scalar, neg, exp, log, sqrt, pow, abs, tanh, sigmoid, relu, leaky_relu, gelu, softplus };

template <class T>
inline T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

// f(x) with the op's parameter c (the scalar, the power or the slope).
template <Unary K, class T>
inline T unary_value(T x, T c) {
  if constexpr (K == Unary::add_scalar) return x + c;
  if constexpr (K == Unary::mul_scalar) return x * c;
  if constexpr (K == Unary::neg) return -x;
  if constexpr (K == Unary::exp) return std::exp(x);
  if constexpr (K == Unary::log) return std::log(x);
  if constexpr (K == Unary::sqrt) return std::sqrt(x);
  if constexpr (K == Unary::pow) return std::pow(x, c);
  if constexpr (K == Unary::abs) return std::abs(x);
  if constexpr (K == Unary::tanh) return std::tanh(x);
  if constexpr (K == Unary::sigmoid) return stable_sigmoid(x);
  if constexpr (K == Unary::relu) return x > T(0) ? x : T(0);
  if constexpr (K == Unary::leaky_relu) return x > T(0) ? x : c * x;
  if constexpr (K == Unary::gelu) return T(0.5) * x * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
  if constexpr (K == Unary::softplus) return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

// f'(x), given also y = f(x).
template <Unary K, class T>
inline T unary_derivative(T x, T y, T c) {
  if constexpr (K == Unary::add_scalar) return T(1);
  if constexpr (K == Unary::mul_scalar) return c;
  if constexpr (K == Unary::neg) return T(-1);
  if constexpr (K == Unary::exp) return y;
  if constexpr (K == Unary::log) return T(1) / x;
  if constexpr (K == Unary::sqrt) return T(0.5) / y;
  if constexpr (K == Unary::pow) return c * std::pow(x, c - T(1));
  if constexpr (K == Unary::abs) return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
  if constexpr (K == Unary::tanh) return T(1) - y * y;
  if constexpr (K == Unary::sigmoid) return y * (T(1) - y);
  if constexpr (K == Unary::relu) return x > T(0) ? T(1) : T(0);
  if constexpr (K == Unary::leaky_relu) return x > T(0) ? T(1) : c;
  if constexpr (K == Unary::gelu) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
    const T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
    return cdf + x * pdf;
  }
  if constexpr (K == Unary::softplus) return stable_sigmoid(x);
}

template <Unary K, class T>
void unary_backward(Tape<T>& tape, const Node<T>& n) {
  const Node<T>& a = tape.input_of(n, 0);
  T* ga = a.grad;
  if (ga == nullptr) return;
  const T* go = n.grad;
  const T* x = a.value;
  const T* y = n.value;
  const T c = static_cast<T>(n.farg[0]);
  for_each_index(n.shape.size(), [=](Index j) { ga[j] += go[j] * unary_derivative<K>(x[j], y[j], c); });
}

template <Unary K, class T>
Tensor<T> unary(const Tensor<T>& a, T c = T(0)) {
  Tensor<T> out = a.tape().record(a.shape(), {a}, &unary_backward<K, T>);
  a.tape().node(out.id()).farg[0] = static_cast<double>(c);
  T* o = out.data();
  const T* x = a.data();
  for_each_index(a.size(), [=](Index j) { o[j] = unary_value<K>(x[j], c); });
  return out;
}

}  // namespace

template <class T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) { return binary<Binary::add>(a, b, "add"); }
template <class T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) { return binary<Binary::sub>(a, b, "sub"); }
template <class T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) { return binary<Binary::mul>(a, b, "mul"); }
template <class T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) { return binary<Binary::div>(a, b, "div"); }

template <class T> Tensor<T> add_scalar(const Tensor<T>& a, T s) { return unary<Unary::add_scalar>(a, s); }
template <class T> Tensor<T> mul_scalar(const Tensor<T>& a, T s) { return unary<Unary::mul_scalar>(a, s); }
template <class T> Tensor<T> neg(const Tensor<T>& a) { return unary<Unary::neg>(a); }
template <class T> Tensor<T> exp(const Tensor<T>& a) { return unary<Unary::exp>(a); }
template <class T> Tensor<T> log(const Tensor<T>& a) { return unary<Unary::log>(a); }
template <class T> Tensor<T> sqrt(const Tensor<T>& a) { return unary<Unary::sqrt>(a); }
template <class T> Tensor<T> pow(const Tensor<T>& a, T p) { return unary<Unary::pow>(a, p); }
template <class T> Tensor<T> abs(const Tensor<T>& a) { return unary<Unary::abs>(a); }
template <class T> Tensor<T> tanh(const Tensor<T>& a) { return unary<Unary::tanh>(a); }
template <class T> Tensor<T> sigmoid(const Tensor<T>& a) { return unary<Unary::sigmoid>(a); }
template <class T> Tensor<T> relu(const Tensor<T>& a) { return unary<Unary::relu>(a); }
template <class T> Tensor<T> leaky_relu(const Tensor<T>& a, T slope) { return unary<Unary::leaky_relu>(a, slope); }
template <class T> Tensor<T> gelu(const Tensor<T>& a) { return unary<Unary::gelu>(a); }
template <class T> Tensor<T> softplus(const Tensor<T>& a) { return unary<Unary::softplus>(a); }

#define DESCENT_INSTANTIATE(T)                                        \
  template Tensor<T> add<T>(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> sub<T>(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> mul<T>(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> div<T>(const Tensor<T>&, const Tensor<T>&);      \
  template Tensor<T> add_scalar<T>(const Tensor<T>&, T);              \
  template Tensor<T> mul_scalar<T>(const Tensor<T>&, T);              \
  template Tensor<T> neg<T>(const Tensor<T>&);                        \
  template Tensor<T> exp<T>(const Tensor<T>&);                        \
  template Tensor<T> log<T>(const Tensor<T>&);                        \
  template Tensor<T> sqrt<T>(const Tensor<T>&);                       \
  template Tensor<T> pow<T>(const Tensor<T>&, T);                     \
  template Tensor<T> abs<T>(const Tensor<T>&);                        \
  template Tensor<T> tanh<T>(const Tensor<T>&);                       \
  template Tensor<T> sigmoid<T>(const Tensor<T>&);                    \
  template Tensor<T> relu<T>(const Tensor<T>&);                       \
  template Tensor<T> leaky_relu<T>(const Tensor<T>&, T);              \
  template Tensor<T> gelu<T>(const Tensor<T>&);                       \
  template Tensor<T> softplus<T>(const Tensor<T>&);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
