#include "blas.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>

extern "C" void openblas_set_num_threads(int num_threads);

namespace descent::autograd::detail {

namespace {

CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }
blasint as_int(Index v) { return static_cast<blasint>(v); }

// OpenBLAS on the calling thread, set once before the first product.
void single_threaded_blas() {
  static const bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

// C = beta C, for an empty inner dimension (BLAS rejects a zero stride).
template <class T>
void scale_only(Index m, Index n, T beta, T* c, Index ldc) {
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

void call(bool ta, bool tb, Index m, Index n, Index k, float alpha, const float* a, Index lda, const float* b,
          Index ldb, float beta, float* c, Index ldc) {
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), as_int(m), as_int(n), as_int(k), alpha, a, as_int(lda), b,
              as_int(ldb), beta, c, as_int(ldc));
}
void call(bool ta, bool tb, Index m, Index n, Index k, double alpha, const double* a, Index lda, const double* b,
          Index ldb, double beta, double* c, Index ldc) {
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), as_int(m), as_int(n), as_int(k), alpha, a, as_int(lda), b,
              as_int(ldb), beta, c, as_int(ldc));
}

// Below this many multiply-adds a product stays on one thread: opening a
// parallel region costs a few microseconds.
constexpr double kParallelMinMacs = 1 << 18;

}  // namespace

template <class T>
void gemm(bool ta, bool tb, Index m, Index n, Index k, T alpha, const T* a, Index lda, const T* b, Index ldb, T beta,
          T* c, Index ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale_only(m, n, beta, c, ldc);
  single_threaded_blas();
  call(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void parallel_gemm(bool ta, bool tb, Index m, Index n, Index k, T alpha, const T* a, Index lda, const T* b, Index ldb,
                   T beta, T* c, Index ldc) {
  const int threads = omp_get_max_threads();
  if (threads == 1 || double(m) * double(n) * double(k) < kParallelMinMacs || omp_in_parallel())
    return gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  single_threaded_blas();
  // Blocks of C's rows (or columns, when it is wider than tall), rounded to
  // 16 so that each thread's block fills whole vector registers.
  const bool by_rows = m >= n;
  const Index extent = by_rows ? m : n;
  const Index block = std::max<Index>(16, (extent / threads + 15) / 16 * 16);
#pragma omp parallel for schedule(static, 1)
  for (Index first = 0; first < extent; first += block) {
    const Index count = std::min(block, extent - first);
    if (by_rows) {
      const T* a_block = ta ? a + first : a + first * lda;  // rows first.. of op(A)
      gemm(ta, tb, count, n, k, alpha, a_block, lda, b, ldb, beta, c + first * ldc, ldc);
    } else {
      const T* b_block = tb ? b + first * ldb : b + first;  // columns first.. of op(B)
      gemm(ta, tb, m, count, k, alpha, a, lda, b_block, ldb, beta, c + first, ldc);
    }
  }
}

template void gemm<float>(bool, bool, Index, Index, Index, float, const float*, Index, const float*, Index, float,
                          float*, Index);
template void gemm<double>(bool, bool, Index, Index, Index, double, const double*, Index, const double*, Index,
                           double, double*, Index);
template void parallel_gemm<float>(bool, bool, Index, Index, Index, float, const float*, Index, const float*, Index,
                                   float, float*, Index);
template void parallel_gemm<double>(bool, bool, Index, Index, Index, double, const double*, Index, const double*,
                                    Index, double, double*, Index);

}  // namespace descent::autograd::detail
