#include "blas.hpp"

#include <cblas.h>

#include "descent/autograd/blas.hpp"
#include "descent/core/error.hpp"

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace descent::autograd {

void set_blas_threads(int threads) {
  DESCENT_REQUIRE(threads >= 1, "set_blas_threads: threads = " + std::to_string(threads) + ", expected >= 1");
  openblas_set_num_threads(threads);
}

int blas_threads() { return openblas_get_num_threads(); }

namespace detail {

namespace {
CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }
blasint as_int(Index v) { return static_cast<blasint>(v); }

// C = beta C, for an empty inner dimension (BLAS rejects a zero stride).
template <class T>
void scale_only(Index m, Index n, T beta, T* c, Index ldc) {
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}
}  // namespace

template <>
void gemm<float>(bool ta, bool tb, Index m, Index n, Index k, float alpha, const float* a, Index lda,
                 const float* b, Index ldb, float beta, float* c, Index ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale_only(m, n, beta, c, ldc);
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), as_int(m), as_int(n), as_int(k), alpha, a, as_int(lda), b,
              as_int(ldb), beta, c, as_int(ldc));
}

template <>
void gemm<double>(bool ta, bool tb, Index m, Index n, Index k, double alpha, const double* a, Index lda,
                  const double* b, Index ldb, double beta, double* c, Index ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale_only(m, n, beta, c, ldc);
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), as_int(m), as_int(n), as_int(k), alpha, a, as_int(lda), b,
              as_int(ldb), beta, c, as_int(ldc));
}

}  // namespace detail
}  // namespace descent::autograd
