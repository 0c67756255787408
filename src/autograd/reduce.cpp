// Reductions (sum, mean) and softmax along an axis.
//
// A tensor is seen as outer x n x inner around the reduced axis: the
// result has outer x inner elements, and element (o, i) reduces the n
// values a[o, k, i].
#include <cmath>

#include "op_support.hpp"

namespace descent::autograd {
namespace {

using detail::AxisSplit;
using detail::split_at;

// iarg: outer, n, inner; farg[0]: the scale (1 for sum, 1/n for mean).
template <class T>
void reduce_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& a = tape.input_of(node, 0);
  T* ga = a.grad;
  if (ga == nullptr) return;
  const Index outer = node.iarg[0], n = node.iarg[1], inner = node.iarg[2];
  const T scale = static_cast<T>(node.farg[0]);
  const T* go = node.grad;
  for (Index o = 0; o < outer; ++o)
    for (Index k = 0; k < n; ++k) {
      T* g = ga + (o * n + k) * inner;
      const T* src = go + o * inner;
      for (Index i = 0; i < inner; ++i) g[i] += scale * src[i];
    }
}

template <class T>
Tensor<T> reduce(const Tensor<T>& a, const AxisSplit& s, const Shape& out_shape, T scale) {
  Tensor<T> out = a.tape().record(out_shape, {a}, &reduce_backward<T>);
  Node<T>& node = a.tape().node(out.id());
  node.iarg[0] = s.outer;
  node.iarg[1] = s.n;
  node.iarg[2] = s.inner;
  node.farg[0] = static_cast<double>(scale);
  const T* x = a.data();
  T* o = out.data();
  if (s.inner == 1) {
    for (Index r = 0; r < s.outer; ++r) {
      const T* row = x + r * s.n;
      o[r] = scale * descent::detail::sum_over<T>(s.n, [=](Index k) { return row[k]; });
    }
    return out;
  }
  for (Index r = 0; r < s.outer; ++r) {
    T* dst = o + r * s.inner;
    std::fill_n(dst, s.inner, T(0));
    for (Index k = 0; k < s.n; ++k) {
      const T* src = x + (r * s.n + k) * s.inner;
      for (Index i = 0; i < s.inner; ++i) dst[i] += src[i];
    }
    for (Index i = 0; i < s.inner; ++i) dst[i] *= scale;
  }
  return out;
}

template <class T>
Tensor<T> reduce_axis(const Tensor<T>& a, int axis, bool keepdim, bool average, const char* op) {
  const int ax = a.shape().axis(axis, op);
  const AxisSplit s = split_at(a.shape(), ax);
  const T scale = average ? T(1) / static_cast<T>(s.n) : T(1);
  return reduce(a, s, detail::with_dim(a.shape(), ax, keepdim ? 1 : -1), scale);
}

// ---- Softmax -----------------------------------------------------------------

// iarg: outer, n, inner; iarg[3]: 1 for log_softmax.
template <class T>
void softmax_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& a = tape.input_of(node, 0);
  T* ga = a.grad;
  if (ga == nullptr) return;
  const Index outer = node.iarg[0], n = node.iarg[1], inner = node.iarg[2];
  const bool log_form = node.iarg[3] != 0;
  const T* y = node.value;
  const T* go = node.grad;
  for (Index o = 0; o < outer; ++o)
    for (Index i = 0; i < inner; ++i) {
      const Index base = o * n * inner + i;
      // softmax:     ga = y * (go - sum(go * y))
      // log_softmax: ga = go - exp(y) * sum(go)
      T acc = 0;
      for (Index k = 0; k < n; ++k) {
        const Index j = base + k * inner;
        acc += log_form ? go[j] : go[j] * y[j];
      }
      for (Index k = 0; k < n; ++k) {
        const Index j = base + k * inner;
        ga[j] += log_form ? go[j] - std::exp(y[j]) * acc : y[j] * (go[j] - acc);
      }
    }
}

template <class T>
Tensor<T> softmax_impl(const Tensor<T>& a, int axis, bool log_form) {
  const int ax = a.shape().axis(axis, log_form ? "log_softmax" : "softmax");
  const AxisSplit s = split_at(a.shape(), ax);
  Tensor<T> out = a.tape().record(a.shape(), {a}, &softmax_backward<T>);
  Node<T>& node = a.tape().node(out.id());
  node.iarg = {s.outer, s.n, s.inner, log_form ? 1 : 0};
  const T* x = a.data();
  T* y = out.data();
  for (Index o = 0; o < s.outer; ++o)
    for (Index i = 0; i < s.inner; ++i) {
      const Index base = o * s.n * s.inner + i;
      T top = -std::numeric_limits<T>::infinity();
      for (Index k = 0; k < s.n; ++k) top = std::max(top, x[base + k * s.inner]);
      T total = 0;
      for (Index k = 0; k < s.n; ++k) {
        const Index j = base + k * s.inner;
        y[j] = std::exp(x[j] - top);
        total += y[j];
      }
      if (log_form) {
        const T log_total = top + std::log(total);
        for (Index k = 0; k < s.n; ++k) y[base + k * s.inner] = x[base + k * s.inner] - log_total;
      } else {
        const T inv = T(1) / total;
        for (Index k = 0; k < s.n; ++k) y[base + k * s.inner] *= inv;
      }
    }
  return out;
}

}  // namespace

template <class T>
Tensor<T> sum(const Tensor<T>& a) {
  return reduce(a, AxisSplit{1, a.size(), 1}, Shape{}, T(1));
}
template <class T>
Tensor<T> mean(const Tensor<T>& a) {
  DESCENT_REQUIRE(a.size() > 0, "mean: the tensor is empty");
  return reduce(a, AxisSplit{1, a.size(), 1}, Shape{}, T(1) / static_cast<T>(a.size()));
}
template <class T>
Tensor<T> sum(const Tensor<T>& a, int axis, bool keepdim) {
  return reduce_axis(a, axis, keepdim, false, "sum");
}
template <class T>
Tensor<T> mean(const Tensor<T>& a, int axis, bool keepdim) {
  return reduce_axis(a, axis, keepdim, true, "mean");
}
template <class T>
Tensor<T> softmax(const Tensor<T>& a, int axis) {
  return softmax_impl(a, axis, false);
}
template <class T>
Tensor<T> log_softmax(const Tensor<T>& a, int axis) {
  return softmax_impl(a, axis, true);
}

#define DESCENT_INSTANTIATE(T)                                        \
  template Tensor<T> sum<T>(const Tensor<T>&);                        \
  template Tensor<T> mean<T>(const Tensor<T>&);                       \
  template Tensor<T> sum<T>(const Tensor<T>&, int, bool);             \
  template Tensor<T> mean<T>(const Tensor<T>&, int, bool);            \
  template Tensor<T> softmax<T>(const Tensor<T>&, int);               \
  template Tensor<T> log_softmax<T>(const Tensor<T>&, int);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
