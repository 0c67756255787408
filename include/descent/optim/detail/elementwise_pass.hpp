// Internal: the one pass over memory of an element-wise stepper.
#pragma once

#include <algorithm>
#include <cmath>

#include "descent/core/parallel.hpp"

namespace descent::optim {
namespace pass {

// No box: the new x_j as the method and the regularization leave it.
template <class T>
struct Unclamped {
  T operator()(T v) const { return v; }
};

// A box [lower, upper]. NaN stays NaN, for the divergence guard.
template <class T>
struct Clamped {
  T lower, upper;
  T operator()(T v) const { return std::min(std::max(v, lower), upper); }
};

// The pass over the elements [first, first + count) of a segment.
template <class T, class Kernel, class Clamp>
void pass_over(Index first, Index count, T* x_segment, const T* g_segment, const PassConstants<T>& c,
               const Kernel& kernel, Clamp clamp) {
  T* x = x_segment + first;
  const T* g = g_segment + first;
  if (c.plain) {
    descent::detail::for_each_index(count, [=](Index j) { x[j] = clamp(kernel(j + first, x[j], g[j])); });
    return;
  }
  const T scale = c.clip_scale, bound = c.clip_value, l2 = c.l2, keep = c.keep, threshold = c.l1_threshold;
  descent::detail::for_each_index(count, [=](Index j) {
    const T xj = x[j];
    const T gj = std::clamp(g[j] * scale, -bound, bound) + l2 * xj;
    const T updated = kernel(j + first, xj * keep, gj);
    // Soft-thresholding; with threshold 0 it returns `updated` unchanged.
    const T shrunk = std::max(std::abs(updated) - threshold, T(0));
    x[j] = clamp(std::copysign(shrunk, updated));
  });
}

}  // namespace pass

template <class T, class Kernel>
void elementwise_pass(Index n, T* x, const T* g, const PassConstants<T>& c, const Kernel& kernel) {
  if (c.box_count == 0) {
    pass::pass_over(0, n, x, g, c, kernel, pass::Unclamped<T>{});
    return;
  }
  // The stretches between boxes, then each box, in order of position.
  Index cursor = 0;
  for (Index k = 0; k < c.box_count; ++k) {
    const BoxRun<T>& run = c.boxes[k];
    if (run.first > cursor) pass::pass_over(cursor, run.first - cursor, x, g, c, kernel, pass::Unclamped<T>{});
    pass::pass_over(run.first, run.last - run.first, x, g, c, kernel, pass::Clamped<T>{run.lower, run.upper});
    cursor = run.last;
  }
  if (cursor < n) pass::pass_over(cursor, n - cursor, x, g, c, kernel, pass::Unclamped<T>{});
}

}  // namespace descent::optim
