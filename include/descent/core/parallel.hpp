// Internal: fused passes over memory, split across threads when that pays.
//
// An OpenMP parallel region costs microseconds to open, even with an if()
// clause that keeps it on one thread, while a streaming pass over 64Ki
// doubles takes tens of microseconds. Passes below that size stay on the
// calling thread (vectorized); larger ones are split across the OpenMP
// threads with a static schedule, so a result depends only on the thread
// count, never on timing.
//
//   for_each_index(n, [&](Index j) { y[j] += a * x[j]; });
//   T dot = sum_over(n, [&](Index j) { return x[j] * y[j]; });
//
// The bodies are inlined into `omp simd` loops: keep them free of calls
// and branches that would stop vectorization.
#pragma once

#include <algorithm>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "descent/core/types.hpp"

namespace descent::detail {

inline constexpr Index kParallelMinElements = Index(1) << 16;

// Inside a parallel region (a thread's share of a larger job) every pass
// stays on its thread: a nested team would be one thread anyway, and
// building it allocates.
inline bool worth_threads(Index n) noexcept {
#ifdef _OPENMP
  return n >= kParallelMinElements && !omp_in_parallel();
#else
  return n >= kParallelMinElements;
#endif
}

template <class Body>
inline void for_each_index(Index n, const Body& body) {
  if (worth_threads(n)) {
#pragma omp parallel
    {
      Body local = body;  // a private copy: its captures provably do not alias what it writes
#pragma omp for simd schedule(static)
      for (Index j = 0; j < n; ++j) local(j);
    }
  } else {
    Body local = body;  // here too: through the reference, every store could change a capture
#pragma omp simd
    for (Index j = 0; j < n; ++j) local(j);
  }
}

// Lanes of a serial sum: one `omp simd reduction` keeps a single vector
// accumulator, so each add waits for the previous one (an FMA's latency per
// vector); sixteen lanes make four independent vectors in flight, and a
// dot product over vectors in L2 or L3 runs at the cache's speed (25% faster
// at n = 10^4, measured).
inline constexpr int kSumLanes = 16;

// Sum of body(j) over [0, n); body may also write (a fused pass). The order
// of the additions depends on n and the thread count only.
template <class Acc, class Body>
inline Acc sum_over(Index n, const Body& body) {
  Acc acc = 0;
  if (worth_threads(n)) {
#pragma omp parallel
    {
      Body local = body;
#pragma omp for simd schedule(static) reduction(+ : acc)
      for (Index j = 0; j < n; ++j) acc += local(j);
    }
  } else if (n < kSumLanes) {
    // Too short for the lanes: their zeroing and folding would cost more
    // than the sum (L-BFGS on a handful of variables takes 2m of these).
    Body local = body;
    for (Index j = 0; j < n; ++j) acc += local(j);
  } else {
    Body local = body;
    Acc lanes[kSumLanes] = {};
    Index j = 0;
    for (; j + kSumLanes <= n; j += kSumLanes) {
#pragma omp simd
      for (int l = 0; l < kSumLanes; ++l) lanes[l] += local(j + l);
    }
    for (; j < n; ++j) acc += local(j);
    for (int l = 0; l < kSumLanes; ++l) acc += lanes[l];
  }
  return acc;
}

// Two sums in one pass: body(j, a, b) adds its terms to a and b.
template <class Acc, class Body>
inline std::pair<Acc, Acc> sum2_over(Index n, const Body& body) {
  Acc a = 0, b = 0;
  if (worth_threads(n)) {
#pragma omp parallel
    {
      Body local = body;
#pragma omp for simd schedule(static) reduction(+ : a, b)
      for (Index j = 0; j < n; ++j) local(j, a, b);
    }
  } else if (n < kSumLanes) {
    Body local = body;
    for (Index j = 0; j < n; ++j) local(j, a, b);
  } else {
    Body local = body;
    Acc la[kSumLanes] = {}, lb[kSumLanes] = {};
    Index j = 0;
    for (; j + kSumLanes <= n; j += kSumLanes) {
#pragma omp simd
      for (int l = 0; l < kSumLanes; ++l) local(j + l, la[l], lb[l]);
    }
    for (; j < n; ++j) local(j, a, b);
    for (int l = 0; l < kSumLanes; ++l) {
      a += la[l];
      b += lb[l];
    }
  }
  return {a, b};
}

// Rows per block of a blocked pass (below): a block of two dozen columns
// (48 KiB) stays in L1/L2 while every product over it is formed.
inline constexpr Index kBlockRows = 256;

// The threads a blocked pass may use: size its partials for this many.
inline int pass_threads() noexcept {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// A fused pass for work that forms many products per row (several columns
// against each other), where one loop per product would stream every column
// from memory once per product. body(j0, j1, acc) treats the rows [j0, j1)
// and folds its results into acc[0, width), which holds fold's identity on
// entry. Passes worth threads give each thread one contiguous run of
// blocks and its own row of `partials` (threads x width, threads at most
// pass_threads() when the caller sized them), and fold(acc, row) combines
// the rows in thread order, so the result depends on the thread count,
// never on timing.
template <class T, class Body, class Fold>
inline void blocked_pass(Index n, Index width, T* acc, T* partials, int threads, const Body& body,
                         const Fold& fold) {
  const Index blocks = (n + kBlockRows - 1) / kBlockRows;
  auto run_blocks = [&](Index first, Index last, T* out) {
    for (Index b = first; b < last; ++b) body(b * kBlockRows, std::min(n, (b + 1) * kBlockRows), out);
  };
#ifdef _OPENMP
  if (threads > 1 && worth_threads(n)) {
    for (int t = 0; t < threads; ++t) std::copy(acc, acc + width, partials + Index(t) * width);
#pragma omp parallel num_threads(threads)
    {
      const Index team = omp_get_num_threads(), id = omp_get_thread_num();
      run_blocks(blocks * id / team, blocks * (id + 1) / team, partials + id * width);
    }
    for (int t = 0; t < threads; ++t) fold(acc, partials + Index(t) * width);
    return;
  }
#else
  (void)partials, (void)threads, (void)width, (void)fold;
#endif
  run_blocks(0, blocks, acc);
}

}  // namespace descent::detail

namespace descent::detail {

// a . b over n entries, threaded for long vectors.
template <class T>
T dot(const T* a, const T* b, Index n) {
  return sum_over<T>(n, [=](Index j) { return a[j] * b[j]; });
}
template <class T>
T dot(const Vector<T>& a, const Vector<T>& b) {
  return dot(a.data(), b.data(), a.size());
}

// out = x + alpha d, threaded for long vectors.
template <class T>
void assign_axpy(Vector<T>& out, const Vector<T>& x, T alpha, const Vector<T>& d) {
  T* op = out.data();
  const T *xp = x.data(), *dp = d.data();
  for_each_index(out.size(), [=](Index j) { op[j] = xp[j] + alpha * dp[j]; });
}

}  // namespace descent::detail
