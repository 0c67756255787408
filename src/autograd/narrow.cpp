// Products of a linear layer with few outputs (a logistic regression's 10
// classes, a regression's one), read in place.
//
// GEMM libraries pack the wide operand, the data, into panels before they
// multiply. With 10 outputs the product does 10 multiply-adds per value
// packed, so the packing pass costs about as much as the product itself.
// These kernels stream the data once instead and keep a block of results in
// vector registers:
//
//   forward:  y[i, k] += sum_j x[i, j] w[k, j]   (rows i in blocks of R, outputs
//             k in blocks of K: R x K accumulators, one load of w per R rows)
//   gradient: gw[k, j] += sum_i gy[i, k] x[i, j] (columns j in blocks of C
//             vectors, outputs in blocks of K: one load of x per K outputs)
//
// GCC/Clang vector types, sized to the widest registers the build targets;
// a portable build gets SSE2 vectors and still skips the packing.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "blas.hpp"
#include "descent/core/parallel.hpp"
#include "op_support.hpp"

namespace descent::autograd::detail {
namespace {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
constexpr int kRegisters = 32;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
constexpr int kRegisters = 16;
#else
constexpr int kVectorBytes = 16;
constexpr int kRegisters = 16;
#endif

template <class T>
struct Simd {
  using V [[gnu::vector_size(kVectorBytes)]] = T;
  static constexpr int lanes = kVectorBytes / static_cast<int>(sizeof(T));
  static V load(const T* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
  }
  static void store(T* p, V v) { std::memcpy(p, &v, sizeof(V)); }
  static T sum(V v) {
    T s = 0;
    for (int l = 0; l < lanes; ++l) s += v[l];
    return s;
  }
};

// Block sizes that keep the accumulators, the loaded rows and one operand
// in registers.
constexpr int kRows = kRegisters >= 32 ? 4 : 2;  // forward: rows per block
constexpr int kOutputs = 5;                       // outputs per block, both ways
constexpr int kColumnVectors = kRegisters >= 32 ? 4 : 2;  // gradient: vectors of columns per block

// y[r, k] += x[r, :] . w[k, :] for R rows of x (row stride ldx) and K rows
// of w (stride f); y has row stride ldy.
template <class T, int R, int K>
inline void forward_block(Index f, const T* x, Index ldx, const T* w, T* y, Index ldy) {
  using S = Simd<T>;
  using V = typename S::V;
  V acc[R][K] = {};
  Index j = 0;
  for (; j + S::lanes <= f; j += S::lanes) {
    V xv[R];
    for (int r = 0; r < R; ++r) xv[r] = S::load(x + r * ldx + j);
    for (int k = 0; k < K; ++k) {
      const V wv = S::load(w + k * f + j);
      for (int r = 0; r < R; ++r) acc[r][k] += xv[r] * wv;
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < K; ++k) {
      T s = S::sum(acc[r][k]);
      for (Index t = j; t < f; ++t) s += x[r * ldx + t] * w[k * f + t];
      y[r * ldy + k] += s;
    }
  }
}

template <class T, int R>
inline void forward_rows(Index f, Index o, const T* x, const T* w, T* y) {
  Index k = 0;
  for (; k + kOutputs <= o; k += kOutputs) forward_block<T, R, kOutputs>(f, x, f, w + k * f, y + k, o);
  for (; k < o; ++k) forward_block<T, R, 1>(f, x, f, w + k * f, y + k, o);
}

template <class T>
void forward_range(Index first, Index last, Index f, Index o, const T* x, const T* w, T* y) {
  Index i = first;
  for (; i + kRows <= last; i += kRows) forward_rows<T, kRows>(f, o, x + i * f, w, y + i * o);
  for (; i < last; ++i) forward_rows<T, 1>(f, o, x + i * f, w, y + i * o);
}

// gw[k, c] += sum_i gy[i, k] x[i, c] for K outputs and the C vectors of
// columns starting at x (row stride ldx); gy has row stride o.
template <class T, int C, int K>
inline void gradient_block(Index n, Index o, const T* gy, const T* x, Index ldx, T* gw, Index ldw) {
  using S = Simd<T>;
  using V = typename S::V;
  V acc[K][C] = {};
  for (Index i = 0; i < n; ++i) {
    V xv[C];
    for (int c = 0; c < C; ++c) xv[c] = S::load(x + i * ldx + c * S::lanes);
    for (int k = 0; k < K; ++k) {
      const T g = gy[i * o + k];
      for (int c = 0; c < C; ++c) acc[k][c] += g * xv[c];
    }
  }
  for (int k = 0; k < K; ++k)
    for (int c = 0; c < C; ++c) S::store(gw + k * ldw + c * S::lanes, S::load(gw + k * ldw + c * S::lanes) + acc[k][c]);
}

template <class T, int C>
inline void gradient_columns(Index n, Index f, Index o, const T* gy, const T* x, T* gw) {
  Index k = 0;
  for (; k + kOutputs <= o; k += kOutputs) gradient_block<T, C, kOutputs>(n, o, gy + k, x, f, gw + k * f, f);
  for (; k < o; ++k) gradient_block<T, C, 1>(n, o, gy + k, x, f, gw + k * f, f);
}

// Columns [first, last) of gw.
template <class T>
void gradient_range(Index first, Index last, Index n, Index f, Index o, const T* gy, const T* x, T* gw) {
  constexpr Index lanes = Simd<T>::lanes;
  Index j = first;
  for (; j + kColumnVectors * lanes <= last; j += kColumnVectors * lanes)
    gradient_columns<T, kColumnVectors>(n, f, o, gy, x + j, gw + j);
  for (; j + lanes <= last; j += lanes) gradient_columns<T, 1>(n, f, o, gy, x + j, gw + j);
  for (; j < last; ++j) {
    for (Index k = 0; k < o; ++k) {
      T s = 0;
      for (Index i = 0; i < n; ++i) s += gy[i * o + k] * x[i * f + j];
      gw[k * f + j] += s;
    }
  }
}

}  // namespace

template <class T>
void narrow_forward(Index n, Index f, Index o, const T* x, const T* w, T* y) {
  const bool parallel = descent::detail::worth_threads(n * f);
  for_each_block(n, parallel, [&](int, Index first, Index last) { forward_range(first, last, f, o, x, w, y); });
}

template <class T>
void narrow_weight_gradient(Index n, Index f, Index o, const T* gy, const T* x, T* gw) {
  // Threads own disjoint blocks of columns, whole vectors each: the sums do
  // not depend on the thread count.
  constexpr Index lanes = Simd<T>::lanes;
  const Index vectors = (f + lanes - 1) / lanes;
  const bool parallel = descent::detail::worth_threads(n * f);
  for_each_block(vectors, parallel, [&](int, Index first, Index last) {
    gradient_range(first * lanes, std::min(last * lanes, f), n, f, o, gy, x, gw);
  });
}

template void narrow_forward<float>(Index, Index, Index, const float*, const float*, float*);
template void narrow_forward<double>(Index, Index, Index, const double*, const double*, double*);
template void narrow_weight_gradient<float>(Index, Index, Index, const float*, const float*, float*);
template void narrow_weight_gradient<double>(Index, Index, Index, const double*, const double*, double*);

}  // namespace descent::autograd::detail
