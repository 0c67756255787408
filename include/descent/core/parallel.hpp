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

// Sum of body(j) over [0, n); body may also write (a fused pass).
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
  } else {
    Body local = body;
#pragma omp simd reduction(+ : acc)
    for (Index j = 0; j < n; ++j) acc += local(j);
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
  } else {
    Body local = body;
#pragma omp simd reduction(+ : a, b)
    for (Index j = 0; j < n; ++j) local(j, a, b);
  }
  return {a, b};
}

}  // namespace descent::detail

namespace descent::detail {

// a . b, threaded for long vectors.
template <class T>
T dot(const Vector<T>& a, const Vector<T>& b) {
  const T *ap = a.data(), *bp = b.data();
  return sum_over<T>(a.size(), [=](Index j) { return ap[j] * bp[j]; });
}

// out = x + alpha d, threaded for long vectors.
template <class T>
void assign_axpy(Vector<T>& out, const Vector<T>& x, T alpha, const Vector<T>& d) {
  T* op = out.data();
  const T *xp = x.data(), *dp = d.data();
  for_each_index(out.size(), [=](Index j) { op[j] = xp[j] + alpha * dp[j]; });
}

}  // namespace descent::detail
