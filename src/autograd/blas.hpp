// Internal: row-major GEMM on float and double, routed to OpenBLAS.
#pragma once

#include "descent/core/types.hpp"

namespace descent::autograd::detail {

// C = alpha op(A) op(B) + beta C, all row-major; op(A) is m x k, op(B) k x n.
// lda, ldb, ldc are the row strides of A, B, C as stored.
template <class T>
void gemm(bool transpose_a, bool transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc);

}  // namespace descent::autograd::detail
