// The operations of the autograd engine, each with its backward.
//
// Every operation takes tensors of one tape and returns a new tensor on that
// tape (see tape.hpp). Shapes use N (batch), C (channels), H, W (height,
// width), F (features), K (classes). Backward functions accumulate, and each
// is checked against central finite differences in tests/autograd/.
//
// Broadcasting follows NumPy: shapes are aligned on their last dimension,
// and a dimension of 1 (or a missing one) stretches to match the other.
//
// Wrong shapes throw descent::invalid_argument naming the operation and the
// shapes it received.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>

#include "descent/autograd/tape.hpp"
#include "descent/core/random.hpp"

namespace descent::autograd {

// ---- Elementwise, with broadcasting -------------------------------------
template <class T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);

// a + s, a * s for a scalar s (no broadcasting node for the scalar).
template <class T> Tensor<T> add_scalar(const Tensor<T>& a, T s);
template <class T> Tensor<T> mul_scalar(const Tensor<T>& a, T s);

template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator+(const Tensor<T>& a, T s) { return add_scalar(a, s); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, T s) { return add_scalar(a, -s); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, T s) { return mul_scalar(a, s); }
template <class T> Tensor<T> operator*(T s, const Tensor<T>& a) { return mul_scalar(a, s); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, T s) { return mul_scalar(a, T(1) / s); }
template <class T> Tensor<T> operator-(const Tensor<T>& a) { return mul_scalar(a, T(-1)); }

// ---- Elementwise functions ---------------------------------------------
template <class T> Tensor<T> neg(const Tensor<T>& a);
template <class T> Tensor<T> exp(const Tensor<T>& a);
template <class T> Tensor<T> log(const Tensor<T>& a);   // natural log; a > 0
template <class T> Tensor<T> sqrt(const Tensor<T>& a);  // a >= 0
template <class T> Tensor<T> pow(const Tensor<T>& a, T p);
template <class T> Tensor<T> abs(const Tensor<T>& a);   // gradient sign(a), 0 at 0
template <class T> Tensor<T> tanh(const Tensor<T>& a);
template <class T> Tensor<T> sigmoid(const Tensor<T>& a);
template <class T> Tensor<T> relu(const Tensor<T>& a);  // gradient 0 at 0, as PyTorch
template <class T> Tensor<T> leaky_relu(const Tensor<T>& a, T negative_slope = T(0.01));
// GELU with the exact Gaussian CDF: x * Phi(x) (PyTorch's default).
template <class T> Tensor<T> gelu(const Tensor<T>& a);
// log(1 + exp(a)), computed without overflow.
template <class T> Tensor<T> softplus(const Tensor<T>& a);

// ---- Reductions ---------------------------------------------------------
// Over all elements (a scalar), or over one axis (negative counts from the
// end), keeping it as a dimension of 1 when keepdim is set.
template <class T> Tensor<T> sum(const Tensor<T>& a);
template <class T> Tensor<T> mean(const Tensor<T>& a);
template <class T> Tensor<T> sum(const Tensor<T>& a, int axis, bool keepdim = false);
template <class T> Tensor<T> mean(const Tensor<T>& a, int axis, bool keepdim = false);

// Softmax and its logarithm along an axis (the last by default), with the
// maximum subtracted first so that large inputs do not overflow.
template <class T> Tensor<T> softmax(const Tensor<T>& a, int axis = -1);
template <class T> Tensor<T> log_softmax(const Tensor<T>& a, int axis = -1);

// ---- Matrix products (BLAS) ----------------------------------------------
// a: [..., M, K], b: [K, P] -> [..., M, P]; or batched with equal leading
// dimensions: a: [B, M, K], b: [B, K, P] -> [B, M, P].
template <class T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);
// The affine map of a linear layer: x [N, F] times the transpose of
// weight [O, F], plus bias [O] (bias may be an undefined Tensor) -> [N, O].
template <class T> Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias);

// ---- Shapes and indexing --------------------------------------------------
// A view with another shape of the same size (no copy).
template <class T> Tensor<T> reshape(const Tensor<T>& a, const Shape& shape);
// Dimensions [start, end) merged into one: [N, C, H, W] -> [N, C*H*W].
template <class T> Tensor<T> flatten(const Tensor<T>& a, int start = 1);
// Swaps two axes (a copy).
template <class T> Tensor<T> transpose(const Tensor<T>& a, int axis0 = -2, int axis1 = -1);
// Joins tensors along an axis; all other dimensions must agree.
template <class T> Tensor<T> concat(std::span<const Tensor<T>> parts, int axis);
template <class T> Tensor<T> concat(std::initializer_list<Tensor<T>> parts, int axis) {
  return concat(std::span<const Tensor<T>>(parts.begin(), parts.size()), axis);
}
// Elements [start, end) along an axis.
template <class T> Tensor<T> slice(const Tensor<T>& a, int axis, Index start, Index end);
// The entries of `indices` along an axis, in that order (repeats allowed):
// a [N, F], axis 0, indices {4, 1} -> [2, F].
template <class T> Tensor<T> index_select(const Tensor<T>& a, int axis, std::span<const Index> indices);
// One element along `axis` for every position of the other axes (PyTorch's
// gather with an index of size 1 along that axis): a [N, K], axis 1,
// indices [N] -> [N, 1] holding a[i, indices[i]].
template <class T> Tensor<T> gather(const Tensor<T>& a, int axis, std::span<const Index> indices);

// ---- Convolution and pooling (N, C, H, W) ---------------------------------
struct Conv2dOptions {
  Index stride = 1;   // >= 1, both directions
  Index padding = 0;  // >= 0 zeros on each side, both directions
};
// x [N, C, H, W], weight [O, C, KH, KW], bias [O] or undefined ->
// [N, O, (H + 2p - KH) / s + 1, (W + 2p - KW) / s + 1]. im2col + GEMM.
template <class T>
Tensor<T> conv2d(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias, Conv2dOptions options = {});

struct Pool2dOptions {
  Index kernel = 2;   // >= 1, square window
  Index stride = 0;   // >= 1; 0 means equal to kernel (PyTorch's default)
  Index padding = 0;  // in [0, kernel / 2]
};
// Maximum over each window; padding never wins. Gradient to the first
// maximum of each window.
template <class T> Tensor<T> max_pool2d(const Tensor<T>& x, Pool2dOptions options = {});
// Mean over each window, padding counted as zeros (PyTorch's
// count_include_pad = true).
template <class T> Tensor<T> avg_pool2d(const Tensor<T>& x, Pool2dOptions options = {});

// ---- Regularization layers as operations ---------------------------------
// Zeroes each element with probability p (in [0, 1)) and scales the rest by
// 1 / (1 - p); the mask comes from rng, so a seed reproduces it.
template <class T> Tensor<T> dropout(const Tensor<T>& x, double p, Rng& rng);

struct BatchNormOptions {
  bool training = true;   // batch statistics (and update the running ones), or running ones
  double momentum = 0.1;  // running = (1 - momentum) running + momentum batch; in [0, 1]
  double eps = 1e-5;      // added to the variance; > 0
};
// x [N, C] or [N, C, H, W], normalized per channel C over the other axes,
// then scaled by gamma [C] and shifted by beta [C]. running_mean and
// running_var ([C] each, caller-owned, not parameters) are updated in
// training mode with the unbiased batch variance, and used in evaluation.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, T* running_mean,
                     T* running_var, BatchNormOptions options = {});

// ---- Losses (each returns a scalar, the mean over the batch) --------------
// Mean squared error and mean absolute error over all elements.
template <class T> Tensor<T> mse_loss(const Tensor<T>& prediction, const Tensor<T>& target);
template <class T> Tensor<T> l1_loss(const Tensor<T>& prediction, const Tensor<T>& target);
// Huber: 0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) beyond; delta > 0.
template <class T> Tensor<T> huber_loss(const Tensor<T>& prediction, const Tensor<T>& target, T delta = T(1));
// Softmax cross-entropy of logits [N, K] against class labels in [0, K),
// with the targets smoothed to (1 - s) one-hot + s / K (s in [0, 1)).
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, std::span<const Index> labels, T label_smoothing = T(0));
// Binary cross-entropy of logits against targets in [0, 1], same shape.
template <class T> Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& logits, const Tensor<T>& target);
// Hinge: mean of max(0, 1 - y f) for scores f and targets y in {-1, +1}.
template <class T> Tensor<T> hinge_loss(const Tensor<T>& scores, const Tensor<T>& target);

}  // namespace descent::autograd
