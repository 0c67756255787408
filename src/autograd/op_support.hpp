// Internal: what the operation files share.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "descent/autograd/ops.hpp"
#include "descent/core/parallel.hpp"

namespace descent::autograd::detail {

// Adds src to dst, n elements (a gradient that passes through unchanged).
template <class T>
inline void accumulate(T* dst, const T* src, Index n) {
  descent::detail::for_each_index(n, [=](Index j) { dst[j] += src[j]; });
}

// Loops over the items of an operation (images, channels, planes), across
// the OpenMP threads when `parallel`, else on the calling thread. Always the
// whole team or none: a region with an if() clause or another team size
// makes libgomp build a new team, and that allocates.
//
// for_each_item calls body(i) for each i in [0, count).
template <class Body>
inline void for_each_item(Index count, bool parallel, const Body& body) {
  if (!parallel || count < 2 || omp_get_max_threads() == 1 || omp_in_parallel()) {
    for (Index i = 0; i < count; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < count; ++i) body(i);
}

// for_each_block calls body(thread, first, last) once per thread with a
// static block [first, last) of [0, count); thread < omp_get_max_threads().
template <class Body>
inline void for_each_block(Index count, bool parallel, const Body& body) {
  if (!parallel || count < 2 || omp_get_max_threads() == 1 || omp_in_parallel()) {
    body(0, Index(0), count);
    return;
  }
#pragma omp parallel
  {
    const Index t = omp_get_thread_num(), nt = omp_get_num_threads();
    const Index first = count * t / nt, last = count * (t + 1) / nt;
    if (first < last) body(static_cast<int>(t), first, last);
  }
}

// A tensor's shape split around one axis: outer x n x inner, row-major.
struct AxisSplit {
  Index outer, n, inner;
};
inline AxisSplit split_at(const Shape& s, int axis) {
  return {s.product(0, axis), s[axis], s.product(axis + 1, s.rank())};
}

inline void require_same_tape(const void* a, const void* b, const char* op) {
  DESCENT_REQUIRE(a == b, std::string(op) + ": the tensors belong to different tapes");
}

template <class T>
inline void require_same_shape(const Tensor<T>& a, const Tensor<T>& b, const char* op) {
  require_same_tape(&a.tape(), &b.tape(), op);
  DESCENT_REQUIRE(a.shape() == b.shape(),
          std::string(op) + ": shapes " + a.shape().str() + " and " + b.shape().str() + " differ");
}

// The shape of a with dimension `axis` replaced by `d` (or removed, d < 0).
inline Shape with_dim(const Shape& s, int axis, Index d) {
  std::array<Index, kMaxRank> dims{};
  int r = 0;
  for (int i = 0; i < s.rank(); ++i) {
    if (i != axis) {
      dims[static_cast<std::size_t>(r++)] = s[i];
    } else if (d >= 0) {
      dims[static_cast<std::size_t>(r++)] = d;
    }
  }
  return Shape::from(dims.begin(), dims.begin() + r);
}

}  // namespace descent::autograd::detail
