// Internal: large work buffers backed by transparent huge pages.
//
// A solver on 10^6 variables holds tens of 8 MB vectors. The first write to
// each 4 KiB page of a fresh allocation is a page fault, and on virtual
// machines a fault costs microseconds: an L-BFGS solve at n = 10^6 spent as
// long faulting its workspace in as computing (measured in
// docs/benchmarks.md). Where the kernel offers transparent huge pages only on
// request (/sys/kernel/mm/transparent_hugepage/enabled = madvise, the usual
// default), asking for them before the first write makes that one fault per
// 2 MiB instead of 512. Elsewhere this is a no-op.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "descent/core/types.hpp"

namespace descent::detail {

inline constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

// Advises the 2 MiB-aligned pages inside [p, p + bytes) to be huge pages.
// Only an advice: the contents are untouched and failure is ignored.
inline void advise_huge_pages([[maybe_unused]] void* p, [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < 2 * kHugePageBytes) return;  // at most a page or two to gain
  const auto first = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (first + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const std::uintptr_t end = (first + bytes) & ~(kHugePageBytes - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

// An uninitialized vector (or matrix) whose storage was advised before any
// write. Use for the per-solve workspace of solvers; fill it afterwards.
template <class T>
Vector<T> workspace_vector(Index n) {
  Vector<T> v(n);
  advise_huge_pages(v.data(), std::size_t(n) * sizeof(T));
  return v;
}

template <class T>
Matrix<T> workspace_matrix(Index rows, Index cols) {
  Matrix<T> a(rows, cols);
  advise_huge_pages(a.data(), std::size_t(rows) * std::size_t(cols) * sizeof(T));
  return a;
}

// A zero vector in an advised workspace: optimizer state, touched every step.
template <class T>
Vector<T> workspace_zeros(Index n) {
  Vector<T> v = workspace_vector<T>(n);
  v.setZero();
  return v;
}

// The bytes this process can hope to hold: the machine's physical memory,
// or less where an address-space or data-size limit is set (ulimit -v,
// ulimit -d). Readers and the CLI check what an input asks for against
// it before allocating, so that a request too large fails with a message
// instead of an out-of-memory death.
inline double memory_limit_bytes() noexcept {
  double limit = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  for (const int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    struct rlimit r {};
    if (::getrlimit(resource, &r) == 0 && r.rlim_cur != RLIM_INFINITY) limit = std::min(limit, double(r.rlim_cur));
  }
  return limit;
}

}  // namespace descent::detail
