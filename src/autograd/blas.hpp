// Internal: row-major GEMM on float and double, routed to OpenBLAS.
//
// One thread pool: OpenMP's. OpenBLAS keeps a pool of its own, and two pools
// that spin for work on a 2-core machine take turns at the cores instead of
// working (a LeNet batch ran 2.5x slower with both). So every BLAS call runs
// on the calling thread (descent sets OpenBLAS to one thread on first use),
// and parallel_gemm splits a large product into row or column blocks, one
// per OpenMP thread.
#pragma once

#include "descent/core/types.hpp"

namespace descent::autograd::detail {

// C = alpha op(A) op(B) + beta C, all row-major; op(A) is m x k, op(B) k x n.
// lda, ldb, ldc are the row strides of A, B, C as stored. On the calling
// thread.
template <class T>
void gemm(bool transpose_a, bool transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc);

// The same, split across the OpenMP threads when the product is large
// enough to pay for it. Not for use inside a parallel region.
template <class T>
void parallel_gemm(bool transpose_a, bool transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
                   const T* b, Index ldb, T beta, T* c, Index ldc);

// A linear layer with at most kNarrowOutputs outputs (narrow.cpp): its
// products read the data in place rather than through GEMM's packing.
inline constexpr Index kNarrowOutputs = 16;

// y += x w^T: x is n x f, w is o x f, y is n x o (all row-major).
template <class T>
void narrow_forward(Index n, Index f, Index o, const T* x, const T* w, T* y);

// gw += gy^T x: gy is n x o, x is n x f, gw is o x f.
template <class T>
void narrow_weight_gradient(Index n, Index f, Index o, const T* gy, const T* x, T* gw);

}  // namespace descent::autograd::detail
