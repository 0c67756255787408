// Threads of the BLAS library that runs descent's matrix products.
//
// Matrix products (matmul, linear, conv2d) go to OpenBLAS, which keeps its
// own thread pool beside OpenMP's. Give both the same count, or on a small
// machine the two pools fight over the cores.
#pragma once

namespace descent::autograd {

// Sets the BLAS thread count (>= 1).
void set_blas_threads(int threads);
int blas_threads();

}  // namespace descent::autograd
