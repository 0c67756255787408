// Operations that move elements: reshape, transpose, concat, slice,
// index_select and gather. Their backward functions move gradients back to
// where the elements came from, adding where an element was used twice.
#include "op_support.hpp"

namespace descent::autograd {
namespace {

using detail::AxisSplit;
using detail::split_at;

// ---- transpose --------------------------------------------------------------

// Output dims and, for each output axis, the input stride (4-D, padded).
struct Permuted {
  std::array<Index, 4> dims{1, 1, 1, 1};
  std::array<Index, 4> stride{0, 0, 0, 0};
};

Permuted permuted(const Shape& in, int a0, int a1) {
  Permuted p;
  const int pad = 4 - in.rank();
  std::array<Index, 4> in_dims{1, 1, 1, 1}, in_stride{0, 0, 0, 0};
  for (int i = 0; i < in.rank(); ++i) in_dims[static_cast<std::size_t>(pad + i)] = in[i];
  Index step = 1;
  for (int i = 3; i >= 0; --i) {
    in_stride[static_cast<std::size_t>(i)] = step;
    step *= in_dims[static_cast<std::size_t>(i)];
  }
  p.dims = in_dims;
  p.stride = in_stride;
  std::swap(p.dims[static_cast<std::size_t>(pad + a0)], p.dims[static_cast<std::size_t>(pad + a1)]);
  std::swap(p.stride[static_cast<std::size_t>(pad + a0)], p.stride[static_cast<std::size_t>(pad + a1)]);
  return p;
}

// f(out_index, in_index) over the output in order.
template <class F>
void for_each_permuted(const Permuted& p, F&& f) {
  Index i = 0;
  for (Index i0 = 0; i0 < p.dims[0]; ++i0)
    for (Index i1 = 0; i1 < p.dims[1]; ++i1)
      for (Index i2 = 0; i2 < p.dims[2]; ++i2) {
        const Index base = i0 * p.stride[0] + i1 * p.stride[1] + i2 * p.stride[2];
        for (Index i3 = 0; i3 < p.dims[3]; ++i3, ++i) f(i, base + i3 * p.stride[3]);
      }
}

// iarg: the two axes.
template <class T>
void transpose_backward(Tape<T>& tape, const Node<T>& n) {
  const Node<T>& a = tape.input_of(n, 0);
  T* ga = a.grad;
  if (ga == nullptr) return;
  const T* go = n.grad;
  for_each_permuted(permuted(a.shape, int(n.iarg[0]), int(n.iarg[1])),
                    [=](Index i, Index j) { ga[j] += go[i]; });
}

// ---- concat and slice -------------------------------------------------------

// iarg: outer, inner; each input's length along the axis is its own shape's.
template <class T>
void concat_backward(Tape<T>& tape, const Node<T>& n) {
  const Index outer = n.iarg[0], inner = n.iarg[1], total = n.iarg[2];
  const int axis = int(n.iarg[3]);
  Index offset = 0;
  for (int k = 0; k < n.num_inputs; ++k) {
    const Node<T>& part = tape.input_of(n, k);
    const Index len = part.shape[axis] * inner;
    if (part.grad)
      for (Index o = 0; o < outer; ++o) detail::accumulate(part.grad + o * len, n.grad + o * total + offset, len);
    offset += len;
  }
}

// iarg: outer, n (input axis length), inner, start, count.
template <class T>
void slice_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& a = tape.input_of(node, 0);
  if (a.grad == nullptr) return;
  const Index outer = node.iarg[0], n = node.iarg[1], inner = node.iarg[2];
  const Index start = node.iarg[3], count = node.iarg[4];
  for (Index o = 0; o < outer; ++o)
    detail::accumulate(a.grad + (o * n + start) * inner, node.grad + o * count * inner, count * inner);
}

// ---- index_select and gather -----------------------------------------------

// iarg: outer, n, inner, count; saved[0]: the indices.
template <class T>
void index_select_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& a = tape.input_of(node, 0);
  if (a.grad == nullptr) return;
  const Index outer = node.iarg[0], n = node.iarg[1], inner = node.iarg[2], count = node.iarg[3];
  const auto* idx = static_cast<const Index*>(node.saved[0]);
  for (Index o = 0; o < outer; ++o)
    for (Index k = 0; k < count; ++k)
      detail::accumulate(a.grad + (o * n + idx[k]) * inner, node.grad + (o * count + k) * inner, inner);
}

// iarg: outer, n, inner; saved[0]: one index per output element.
template <class T>
void gather_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& a = tape.input_of(node, 0);
  if (a.grad == nullptr) return;
  const Index outer = node.iarg[0], n = node.iarg[1], inner = node.iarg[2];
  const auto* idx = static_cast<const Index*>(node.saved[0]);
  for (Index o = 0; o < outer; ++o)
    for (Index i = 0; i < inner; ++i) a.grad[(o * n + idx[o * inner + i]) * inner + i] += node.grad[o * inner + i];
}

template <class T>
const Index* save_indices(Tape<T>& tape, std::span<const Index> indices, Index bound, const char* op) {
  auto* copy = tape.template allocate<Index>(static_cast<Index>(indices.size()));
  for (std::size_t k = 0; k < indices.size(); ++k) {
    DESCENT_REQUIRE(indices[k] >= 0 && indices[k] < bound, std::string(op) + ": index " + std::to_string(indices[k]) +
                                                       " at position " + std::to_string(k) + " is outside [0, " +
                                                       std::to_string(bound) + ")");
    copy[k] = indices[k];
  }
  return copy;
}

}  // namespace

template <class T>
Tensor<T> reshape(const Tensor<T>& a, const Shape& shape) {
  return a.tape().alias(a, shape);
}

template <class T>
Tensor<T> flatten(const Tensor<T>& a, int start) {
  const int s = a.shape().axis(start, "flatten");
  std::array<Index, kMaxRank> dims{};
  for (int i = 0; i < s; ++i) dims[static_cast<std::size_t>(i)] = a.dim(i);
  dims[static_cast<std::size_t>(s)] = a.shape().product(s, a.rank());
  return reshape(a, Shape::from(dims.begin(), dims.begin() + s + 1));
}

template <class T>
Tensor<T> transpose(const Tensor<T>& a, int axis0, int axis1) {
  const int a0 = a.shape().axis(axis0, "transpose");
  const int a1 = a.shape().axis(axis1, "transpose");
  Shape out_shape = a.shape();
  std::swap(out_shape[a0], out_shape[a1]);
  Tensor<T> out = a.tape().record(out_shape, {a}, &transpose_backward<T>);
  a.tape().node(out.id()).iarg[0] = a0;
  a.tape().node(out.id()).iarg[1] = a1;
  T* o = out.data();
  const T* x = a.data();
  for_each_permuted(permuted(a.shape(), a0, a1), [=](Index i, Index j) { o[i] = x[j]; });
  return out;
}

template <class T>
Tensor<T> concat(std::span<const Tensor<T>> parts, int axis) {
  DESCENT_REQUIRE(!parts.empty(), "concat: no tensors to join");
  const Shape& first = parts[0].shape();
  const int ax = first.axis(axis, "concat");
  Index length = 0;
  for (const auto& p : parts) {
    detail::require_same_tape(&p.tape(), &parts[0].tape(), "concat");
    bool fits = p.rank() == first.rank();
    for (int i = 0; fits && i < first.rank(); ++i) fits = i == ax || p.dim(i) == first[i];
    DESCENT_REQUIRE(fits, "concat: shapes " + first.str() + " and " + p.shape().str() + " differ off axis " +
                      std::to_string(ax));
    length += p.dim(ax);
  }
  const Shape out_shape = detail::with_dim(first, ax, length);
  const AxisSplit s = split_at(out_shape, ax);
  Tensor<T> out = parts[0].tape().record(out_shape, parts, &concat_backward<T>);
  const Index total = s.n * s.inner;
  parts[0].tape().node(out.id()).iarg = {s.outer, s.inner, total, ax};
  Index offset = 0;
  for (const auto& p : parts) {
    const Index len = p.dim(ax) * s.inner;
    for (Index o = 0; o < s.outer; ++o) std::copy_n(p.data() + o * len, len, out.data() + o * total + offset);
    offset += len;
  }
  return out;
}

template <class T>
Tensor<T> slice(const Tensor<T>& a, int axis, Index start, Index end) {
  const int ax = a.shape().axis(axis, "slice");
  DESCENT_REQUIRE(0 <= start && start <= end && end <= a.dim(ax),
          "slice: range [" + std::to_string(start) + ", " + std::to_string(end) + ") is outside axis " +
              std::to_string(ax) + " of shape " + a.shape().str());
  const AxisSplit s = split_at(a.shape(), ax);
  const Index count = end - start;
  Tensor<T> out = a.tape().record(detail::with_dim(a.shape(), ax, count), {a}, &slice_backward<T>);
  a.tape().node(out.id()).iarg = {s.outer, s.n, s.inner, start, count};
  for (Index o = 0; o < s.outer; ++o)
    std::copy_n(a.data() + (o * s.n + start) * s.inner, count * s.inner, out.data() + o * count * s.inner);
  return out;
}

template <class T>
Tensor<T> index_select(const Tensor<T>& a, int axis, std::span<const Index> indices) {
  const int ax = a.shape().axis(axis, "index_select");
  const AxisSplit s = split_at(a.shape(), ax);
  const Index count = static_cast<Index>(indices.size());
  const Index* idx = save_indices(a.tape(), indices, s.n, "index_select");
  Tensor<T> out = a.tape().record(detail::with_dim(a.shape(), ax, count), {a}, &index_select_backward<T>);
  Node<T>& node = a.tape().node(out.id());
  node.iarg = {s.outer, s.n, s.inner, count};
  node.saved[0] = const_cast<Index*>(idx);
  for (Index o = 0; o < s.outer; ++o)
    for (Index k = 0; k < count; ++k)
      std::copy_n(a.data() + (o * s.n + idx[k]) * s.inner, s.inner, out.data() + (o * count + k) * s.inner);
  return out;
}

template <class T>
Tensor<T> gather(const Tensor<T>& a, int axis, std::span<const Index> indices) {
  const int ax = a.shape().axis(axis, "gather");
  const AxisSplit s = split_at(a.shape(), ax);
  DESCENT_REQUIRE(static_cast<Index>(indices.size()) == s.outer * s.inner,
          "gather: " + std::to_string(indices.size()) + " indices for shape " + a.shape().str() + " along axis " +
              std::to_string(ax) + ", expected " + std::to_string(s.outer * s.inner));
  const Index* idx = save_indices(a.tape(), indices, s.n, "gather");
  Tensor<T> out = a.tape().record(detail::with_dim(a.shape(), ax, 1), {a}, &gather_backward<T>);
  Node<T>& node = a.tape().node(out.id());
  node.iarg = {s.outer, s.n, s.inner};
  node.saved[0] = const_cast<Index*>(idx);
  for (Index o = 0; o < s.outer; ++o)
    for (Index i = 0; i < s.inner; ++i)
      out.data()[o * s.inner + i] = a.data()[(o * s.n + idx[o * s.inner + i]) * s.inner + i];
  return out;
}

#define DESCENT_INSTANTIATE(T)                                                         \
  template Tensor<T> reshape<T>(const Tensor<T>&, const Shape&);                       \
  template Tensor<T> flatten<T>(const Tensor<T>&, int);                                \
  template Tensor<T> transpose<T>(const Tensor<T>&, int, int);                         \
  template Tensor<T> concat<T>(std::span<const Tensor<T>>, int);                       \
  template Tensor<T> slice<T>(const Tensor<T>&, int, Index, Index);                    \
  template Tensor<T> index_select<T>(const Tensor<T>&, int, std::span<const Index>);   \
  template Tensor<T> gather<T>(const Tensor<T>&, int, std::span<const Index>);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
