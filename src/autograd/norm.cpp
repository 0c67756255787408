// Dropout and batch normalization.
//
// Batch normalization (Ioffe and Szegedy, 2015), per channel c over the
// M = N*H*W values x_i of that channel:
//   mean = sum x_i / M,  var = sum (x_i - mean)^2 / M,
//   xhat_i = (x_i - mean) / sqrt(var + eps),  y_i = gamma xhat_i + beta.
// Backward in training mode (the statistics depend on x):
//   dx_i = gamma / sqrt(var + eps) / M * (M dy_i - sum dy - xhat_i sum dy xhat)
// and in evaluation mode (fixed running statistics) dx_i = gamma dy_i / sqrt(rv + eps).
#include <cmath>

#include "op_support.hpp"

namespace descent::autograd {
namespace {

// saved[0]: the mask (0 or 1 / (1 - p) per element).
template <class T>
void dropout_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  T* gx = x.grad;
  if (gx == nullptr) return;
  const auto* mask = static_cast<const T*>(node.saved[0]);
  const T* go = node.grad;
  descent::detail::for_each_index(node.shape.size(), [=](Index j) { gx[j] += go[j] * mask[j]; });
}

// iarg: N, C, inner (H*W or 1), training; saved[0]: mean and inverse
// standard deviation per channel (2C values).
template <class T>
void batch_norm_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& x = tape.input_of(node, 0);
  const Node<T>& gamma = tape.input_of(node, 1);
  const Node<T>& beta = tape.input_of(node, 2);
  const Index n = node.iarg[0], channels = node.iarg[1], inner = node.iarg[2];
  const bool training = node.iarg[3] != 0;
  const auto* stats = static_cast<const T*>(node.saved[0]);
  const T m = static_cast<T>(n * inner);
  detail::for_each_item(channels, descent::detail::worth_threads(n * channels * inner), [&](Index c) {
    const T mu = stats[c], inv = stats[channels + c];
    T sum_dy = 0, sum_dy_xhat = 0;
    for (Index b = 0; b < n; ++b) {
      const Index base = (b * channels + c) * inner;
      for (Index i = 0; i < inner; ++i) {
        const T dy = node.grad[base + i];
        sum_dy += dy;
        sum_dy_xhat += dy * (x.value[base + i] - mu) * inv;
      }
    }
    if (gamma.grad) gamma.grad[c] += sum_dy_xhat;
    if (beta.grad) beta.grad[c] += sum_dy;
    if (x.grad == nullptr) return;
    const T scale = gamma.value[c] * inv;
    for (Index b = 0; b < n; ++b) {
      const Index base = (b * channels + c) * inner;
      for (Index i = 0; i < inner; ++i) {
        const T dy = node.grad[base + i];
        if (training) {
          const T xhat = (x.value[base + i] - mu) * inv;
          x.grad[base + i] += scale * (dy - sum_dy / m - xhat * sum_dy_xhat / m);
        } else {
          x.grad[base + i] += scale * dy;
        }
      }
    }
  });
}

}  // namespace

template <class T>
Tensor<T> dropout(const Tensor<T>& x, double p, Rng& rng) {
  DESCENT_REQUIRE(p >= 0 && p < 1, "dropout: p = " + std::to_string(p) + ", expected in [0, 1)");
  Tape<T>& tape = x.tape();
  Tensor<T> y = tape.record(x.shape(), {x}, &dropout_backward<T>);
  auto* mask = tape.template allocate<T>(x.size());
  tape.node(y.id()).saved[0] = mask;
  const T keep = static_cast<T>(1 / (1 - p));
  const auto threshold = static_cast<float>(p);
  for (Index j = 0; j < x.size(); ++j) mask[j] = rng.uniform_float() < threshold ? T(0) : keep;
  const T* in = x.data();
  T* out = y.data();
  descent::detail::for_each_index(x.size(), [=](Index j) { out[j] = in[j] * mask[j]; });
  return y;
}

template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, T* running_mean,
                     T* running_var, BatchNormOptions options) {
  DESCENT_REQUIRE(x.rank() == 2 || x.rank() == 4,
          "batch_norm: input has shape " + x.shape().str() + ", expected [N, C] or [N, C, H, W]");
  const Index n = x.dim(0), channels = x.dim(1), inner = x.rank() == 4 ? x.dim(2) * x.dim(3) : 1;
  DESCENT_REQUIRE(gamma.shape() == Shape{channels} && beta.shape() == Shape{channels},
          "batch_norm: gamma " + gamma.shape().str() + " and beta " + beta.shape().str() + " should be [" +
              std::to_string(channels) + "]");
  DESCENT_REQUIRE(options.eps > 0, "batch_norm: eps = " + std::to_string(options.eps) + ", expected > 0");
  DESCENT_REQUIRE(options.momentum >= 0 && options.momentum <= 1,
          "batch_norm: momentum = " + std::to_string(options.momentum) + ", expected in [0, 1]");
  DESCENT_REQUIRE(options.training || (running_mean && running_var),
          "batch_norm: evaluation mode needs the running mean and variance");
  const Index m = n * inner;
  DESCENT_REQUIRE(!options.training || m > 1, "batch_norm: training needs more than one value per channel, got input " +
                                          x.shape().str());

  Tape<T>& tape = x.tape();
  Tensor<T> y = tape.record(x.shape(), {x, gamma, beta}, &batch_norm_backward<T>);
  auto* stats = tape.template allocate<T>(2 * channels);
  {
    Node<T>& node = tape.node(y.id());
    node.iarg = {n, channels, inner, options.training ? 1 : 0};
    node.saved[0] = stats;
  }
  const T eps = static_cast<T>(options.eps);
  const T momentum = static_cast<T>(options.momentum);
  const T* in = x.data();
  T* out = y.data();
  detail::for_each_item(channels, descent::detail::worth_threads(n * channels * inner), [&](Index c) {
    T mu, var;
    if (options.training) {
      // Two passes (mean, then squared deviations) for accuracy in float.
      T acc = 0;
      for (Index b = 0; b < n; ++b)
        for (Index i = 0; i < inner; ++i) acc += in[(b * channels + c) * inner + i];
      mu = acc / static_cast<T>(m);
      T sq = 0;
      for (Index b = 0; b < n; ++b)
        for (Index i = 0; i < inner; ++i) {
          const T d = in[(b * channels + c) * inner + i] - mu;
          sq += d * d;
        }
      var = sq / static_cast<T>(m);
      if (running_mean) running_mean[c] = (T(1) - momentum) * running_mean[c] + momentum * mu;
      if (running_var)
        running_var[c] = (T(1) - momentum) * running_var[c] + momentum * var * static_cast<T>(m) / static_cast<T>(m - 1);
    } else {
      mu = running_mean[c];
      var = running_var[c];
    }
    const T inv = T(1) / std::sqrt(var + eps);
    stats[c] = mu;
    stats[channels + c] = inv;
    const T scale = gamma.data()[c] * inv, shift = beta.data()[c] - mu * scale;
    for (Index b = 0; b < n; ++b) {
      const Index base = (b * channels + c) * inner;
#pragma omp simd
      for (Index i = 0; i < inner; ++i) out[base + i] = in[base + i] * scale + shift;
    }
  });
  return y;
}

#define DESCENT_INSTANTIATE(T)                                                                         \
  template Tensor<T> dropout<T>(const Tensor<T>&, double, Rng&);                                       \
  template Tensor<T> batch_norm<T>(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, T*, T*,       \
                                   BatchNormOptions);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
