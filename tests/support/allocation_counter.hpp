// Counts heap allocations by interposing the C allocator (operator new,
// Eigen and OpenBLAS all end in malloc), so a count covers the library's own
// code and everything it calls. Include in exactly one file of a test
// binary: it defines malloc and friends for the whole program.
//
// AddressSanitizer replaces the allocator itself: there DESCENT_COUNTS_ALLOCATIONS
// is 0 and tests that need the count skip.
#pragma once

#include <atomic>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define DESCENT_COUNTS_ALLOCATIONS 0
#else
#define DESCENT_COUNTS_ALLOCATIONS 1

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
void note() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
  note();
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  note();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  note();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  note();
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
}
#endif


namespace descent::testing {

inline void start_counting_allocations() {
#if DESCENT_COUNTS_ALLOCATIONS
  allocations = 0;
  counting = true;
#endif
}

// Allocations since start_counting_allocations().
inline long stop_counting_allocations() {
#if DESCENT_COUNTS_ALLOCATIONS
  counting = false;
  return allocations.load();
#else
  return 0;
#endif
}

// Allocations made by `step` on its third call (two calls warm it up).
template <class F>
long allocations_of_warm_call(F&& step) {
  step();
  step();
  start_counting_allocations();
  step();
  return stop_counting_allocations();
}

}  // namespace descent::testing
