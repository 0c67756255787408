// Matrix products through BLAS GEMM.
//
//   matmul: a [..., M, K] x b [K, P] -> [..., M, P]   (leading axes of a
//           folded into M), or a [B, M, K] x b [B, K, P] -> [B, M, P]
//   linear: x [N, F], weight [O, F], bias [O] -> x weight^T + bias [N, O]
//
// Backward of C = A B: dA += dC B^T, dB += A^T dC (two more GEMMs).
#include "blas.hpp"
#include "op_support.hpp"

namespace descent::autograd {
namespace {

using detail::parallel_gemm;

// iarg: batches, M, K, P.
template <class T>
void matmul_backward(Tape<T>& tape, const Node<T>& n) {
  const Node<T>& a = tape.input_of(n, 0);
  const Node<T>& b = tape.input_of(n, 1);
  const Index batches = n.iarg[0], m = n.iarg[1], k = n.iarg[2], p = n.iarg[3];
  for (Index i = 0; i < batches; ++i) {
    const T* gc = n.grad + i * m * p;
    if (a.grad) parallel_gemm<T>(false, true, m, k, p, T(1), gc, p, b.value + i * k * p, p, T(1), a.grad + i * m * k, k);
    if (b.grad) parallel_gemm<T>(true, false, k, p, m, T(1), a.value + i * m * k, k, gc, p, T(1), b.grad + i * k * p, p);
  }
}

// iarg: N, F, O.
template <class T>
void linear_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  const Node<T>& w = tape.input_of(node, 1);
  const Index n = node.iarg[0], f = node.iarg[1], o = node.iarg[2];
  const T* gy = node.grad;
  if (x.grad) parallel_gemm<T>(false, false, n, f, o, T(1), gy, o, w.value, f, T(1), x.grad, f);
  if (w.grad) {
    if (o <= detail::kNarrowOutputs)
      detail::narrow_weight_gradient(n, f, o, gy, x.value, w.grad);
    else
      parallel_gemm<T>(true, false, o, f, n, T(1), gy, o, x.value, f, T(1), w.grad, f);
  }
  if (node.num_inputs > 2) {
    if (T* gb = tape.input_of(node, 2).grad) {
      for (Index r = 0; r < n; ++r) {
        const T* row = gy + r * o;
#pragma omp simd
        for (Index j = 0; j < o; ++j) gb[j] += row[j];
      }
    }
  }
}

}  // namespace

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  detail::require_same_tape(&a.tape(), &b.tape(), "matmul");
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const auto mismatch = [&] {
    return "matmul: shapes " + sa.str() + " and " + sb.str() +
           " do not multiply (expected [..., M, K] x [K, P] or [B, M, K] x [B, K, P])";
  };
  DESCENT_REQUIRE(sa.rank() >= 2 && sb.rank() >= 2, mismatch());
  Index batches = 1, m = 0;
  Shape out = sa;
  if (sb.rank() == 2) {
    m = sa.product(0, sa.rank() - 1);
  } else {
    DESCENT_REQUIRE(sa.rank() == sb.rank(), mismatch());
    for (int i = 0; i < sa.rank() - 2; ++i) DESCENT_REQUIRE(sa[i] == sb[i], mismatch());
    batches = sa.product(0, sa.rank() - 2);
    m = sa[-2];
  }
  const Index k = sa[-1], p = sb[-1];
  DESCENT_REQUIRE(sb[-2] == k, mismatch());
  out[-1] = p;

  Tensor<T> c = a.tape().record(out, {a, b}, &matmul_backward<T>);
  a.tape().node(c.id()).iarg = {batches, m, k, p};
  for (Index i = 0; i < batches; ++i)
    detail::parallel_gemm<T>(false, false, m, p, k, T(1), a.data() + i * m * k, k, b.data() + i * k * p, p, T(0),
                    c.data() + i * m * p, p);
  return c;
}

template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias) {
  detail::require_same_tape(&x.tape(), &weight.tape(), "linear");
  const bool has_bias = bias.defined();
  DESCENT_REQUIRE(x.rank() == 2 && weight.rank() == 2 && x.dim(1) == weight.dim(1),
          "linear: input " + x.shape().str() + " and weight " + weight.shape().str() +
              " do not fit (expected [N, F] and [O, F])");
  const Index n = x.dim(0), f = x.dim(1), o = weight.dim(0);
  if (has_bias) {
    detail::require_same_tape(&x.tape(), &bias.tape(), "linear");
    DESCENT_REQUIRE(bias.shape() == Shape{o}, "linear: bias has shape " + bias.shape().str() + ", expected [" +
                                          std::to_string(o) + "]");
  }
  Tensor<T> y = has_bias ? x.tape().record(Shape{n, o}, {x, weight, bias}, &linear_backward<T>)
                         : x.tape().record(Shape{n, o}, {x, weight}, &linear_backward<T>);
  x.tape().node(y.id()).iarg = {n, f, o};
  T* out = y.data();
  // y starts as the bias (or zero for the narrow kernel, which adds to y).
  const bool narrow = o <= detail::kNarrowOutputs;
  if (has_bias) {
    const T* b = bias.data();
    for (Index r = 0; r < n; ++r) std::copy_n(b, o, out + r * o);
  } else if (narrow) {
    std::fill_n(out, n * o, T(0));
  }
  if (narrow)
    detail::narrow_forward(n, f, o, x.data(), weight.data(), out);
  else
    parallel_gemm<T>(false, true, n, o, f, T(1), x.data(), f, weight.data(), f, has_bias ? T(1) : T(0), out, o);
  return y;
}

#define DESCENT_INSTANTIATE(T)                                                         \
  template Tensor<T> matmul<T>(const Tensor<T>&, const Tensor<T>&);                    \
  template Tensor<T> linear<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
