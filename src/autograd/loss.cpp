// Losses, each fused into one operation with its closed-form gradient.
//
// With n elements (or N rows) and d = prediction - target:
//   mse:    mean d^2                        d/dp = 2 d / n
//   l1:     mean |d|                        d/dp = sign(d) / n
//   huber:  mean h(d), h = d^2/2 (|d| <= delta), delta (|d| - delta/2)
//   cross_entropy, logits z [N, K], smoothed targets q = (1-s) onehot + s/K:
//           mean_i (logsumexp z_i - sum_k q_ik z_ik)    d/dz = (softmax z - q) / N
//   binary cross-entropy on logits z, targets y:
//           mean (max(z, 0) - z y + log(1 + exp(-|z|)))  d/dz = (sigmoid z - y) / n
//   hinge:  mean max(0, 1 - y f)            d/df = -y / n where 1 - y f > 0
// Where the target is a tensor that needs a gradient, it gets one too.
#include <cmath>

#include "op_support.hpp"

namespace descent::autograd {
namespace {

enum class Pointwise { mse, l1, huber, bce, hinge };

// The loss term l(p, t) and its partial derivatives in p and t.
template <Pointwise K, class T>
struct Term {
  T value, dp, dt;
};

template <Pointwise K, class T>
inline Term<K, T> term(T p, T t, T delta) {
  if constexpr (K == Pointwise::mse) {
    const T d = p - t;
    return {d * d, 2 * d, -2 * d};
  } else if constexpr (K == Pointwise::l1) {
    const T d = p - t;
    const T s = d > 0 ? T(1) : (d < 0 ? T(-1) : T(0));
    return {std::abs(d), s, -s};
  } else if constexpr (K == Pointwise::huber) {
    const T d = p - t;
    if (std::abs(d) <= delta) return {T(0.5) * d * d, d, -d};
    const T s = d > 0 ? T(1) : T(-1);
    return {delta * (std::abs(d) - T(0.5) * delta), delta * s, -delta * s};
  } else if constexpr (K == Pointwise::bce) {
    const T sig = p >= 0 ? T(1) / (T(1) + std::exp(-p)) : std::exp(p) / (T(1) + std::exp(p));
    return {std::max(p, T(0)) - p * t + std::log1p(std::exp(-std::abs(p))), sig - t, -p};
  } else {
    const T margin = T(1) - t * p;
    if (margin <= 0) return {T(0), T(0), T(0)};
    return {margin, -t, -p};
  }
}

// farg[0]: delta (huber).
template <Pointwise K, class T>
void pointwise_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& p = tape.input_of(node, 0);
  const Node<T>& t = tape.input_of(node, 1);
  const Index n = p.shape.size();
  const T scale = node.grad[0] / static_cast<T>(n);
  const T delta = static_cast<T>(node.farg[0]);
  if (T* gp = p.grad)
    descent::detail::for_each_index(n, [=, pv = p.value, tv = t.value](Index j) {
      gp[j] += scale * term<K>(pv[j], tv[j], delta).dp;
    });
  if (T* gt = t.grad)
    descent::detail::for_each_index(n, [=, pv = p.value, tv = t.value](Index j) {
      gt[j] += scale * term<K>(pv[j], tv[j], delta).dt;
    });
}

template <Pointwise K, class T>
Tensor<T> pointwise_loss(const Tensor<T>& prediction, const Tensor<T>& target, T delta, const char* name) {
  detail::require_same_shape(prediction, target, name);
  DESCENT_REQUIRE(prediction.size() > 0, std::string(name) + ": the tensors are empty");
  Tensor<T> out = prediction.tape().record(Shape{}, {prediction, target}, &pointwise_backward<K, T>);
  prediction.tape().node(out.id()).farg[0] = static_cast<double>(delta);
  const T* p = prediction.data();
  const T* t = target.data();
  const Index n = prediction.size();
  const T total = descent::detail::sum_over<T>(n, [=](Index j) { return term<K>(p[j], t[j], delta).value; });
  out.data()[0] = total / static_cast<T>(n);
  return out;
}

// iarg: N, K; farg[0]: label smoothing; saved[0]: softmax [N, K];
// saved[1]: labels.
template <class T>
void cross_entropy_backward(Tape<T>& tape, const Node<T>& node) {
  const Node<T>& z = tape.input_of(node, 0);
  if (z.grad == nullptr) return;
  const Index n = node.iarg[0], k = node.iarg[1];
  const T s = static_cast<T>(node.farg[0]);
  const auto* prob = static_cast<const T*>(node.saved[0]);
  const auto* labels = static_cast<const Index*>(node.saved[1]);
  const T scale = node.grad[0] / static_cast<T>(n);
  const T off = s / static_cast<T>(k);
  for (Index i = 0; i < n; ++i) {
    T* g = z.grad + i * k;
    const T* p = prob + i * k;
#pragma omp simd
    for (Index c = 0; c < k; ++c) g[c] += scale * (p[c] - off);
    g[labels[i]] -= scale * (T(1) - s);
  }
}

}  // namespace

template <class T>
Tensor<T> mse_loss(const Tensor<T>& prediction, const Tensor<T>& target) {
  return pointwise_loss<Pointwise::mse>(prediction, target, T(0), "mse_loss");
}
template <class T>
Tensor<T> l1_loss(const Tensor<T>& prediction, const Tensor<T>& target) {
  return pointwise_loss<Pointwise::l1>(prediction, target, T(0), "l1_loss");
}
template <class T>
Tensor<T> huber_loss(const Tensor<T>& prediction, const Tensor<T>& target, T delta) {
  DESCENT_REQUIRE(delta > 0, "huber_loss: delta = " + std::to_string(delta) + ", expected > 0");
  return pointwise_loss<Pointwise::huber>(prediction, target, delta, "huber_loss");
}
template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& logits, const Tensor<T>& target) {
  return pointwise_loss<Pointwise::bce>(logits, target, T(0), "binary_cross_entropy_with_logits");
}
template <class T>
Tensor<T> hinge_loss(const Tensor<T>& scores, const Tensor<T>& target) {
  return pointwise_loss<Pointwise::hinge>(scores, target, T(0), "hinge_loss");
}

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, std::span<const Index> labels, T label_smoothing) {
  DESCENT_REQUIRE(logits.rank() == 2, "cross_entropy: logits have shape " + logits.shape().str() + ", expected [N, K]");
  const Index n = logits.dim(0), k = logits.dim(1);
  DESCENT_REQUIRE(n > 0 && k > 0, "cross_entropy: logits have shape " + logits.shape().str() + ", expected N, K >= 1");
  DESCENT_REQUIRE(static_cast<Index>(labels.size()) == n, "cross_entropy: " + std::to_string(labels.size()) +
                                                      " labels for " + std::to_string(n) + " rows of logits");
  DESCENT_REQUIRE(label_smoothing >= 0 && label_smoothing < 1,
          "cross_entropy: label_smoothing = " + std::to_string(label_smoothing) + ", expected in [0, 1)");
  for (std::size_t i = 0; i < labels.size(); ++i)
    DESCENT_REQUIRE(labels[i] >= 0 && labels[i] < k, "cross_entropy: label " + std::to_string(labels[i]) + " of row " +
                                                 std::to_string(i) + " is outside [0, " + std::to_string(k) + ")");
  Tape<T>& tape = logits.tape();
  Tensor<T> out = tape.record(Shape{}, {logits}, &cross_entropy_backward<T>);
  auto* prob = tape.template allocate<T>(n * k);
  auto* saved_labels = tape.template allocate<Index>(n);
  {
    Node<T>& node = tape.node(out.id());
    node.iarg = {n, k};
    node.farg[0] = static_cast<double>(label_smoothing);
    node.saved = {prob, saved_labels};
  }
  const T s = label_smoothing;
  const T off = s / static_cast<T>(k);
  T total = 0;
  for (Index i = 0; i < n; ++i) {
    const Index label = labels[static_cast<std::size_t>(i)];
    saved_labels[i] = label;
    const T* z = logits.data() + i * k;
    T* p = prob + i * k;
    T top = z[0];
    for (Index c = 1; c < k; ++c) top = std::max(top, z[c]);
    T denom = 0, weighted = 0;
    for (Index c = 0; c < k; ++c) {
      p[c] = std::exp(z[c] - top);
      denom += p[c];
      weighted += z[c];
    }
    const T inv = T(1) / denom;
    for (Index c = 0; c < k; ++c) p[c] *= inv;
    const T logsumexp = top + std::log(denom);
    // sum_k q_k z_k = (1 - s) z_label + s/K sum z
    total += logsumexp - (T(1) - s) * z[label] - off * weighted;
  }
  out.data()[0] = total / static_cast<T>(n);
  return out;
}

#define DESCENT_INSTANTIATE(T)                                                                  \
  template Tensor<T> mse_loss<T>(const Tensor<T>&, const Tensor<T>&);                           \
  template Tensor<T> l1_loss<T>(const Tensor<T>&, const Tensor<T>&);                            \
  template Tensor<T> huber_loss<T>(const Tensor<T>&, const Tensor<T>&, T);                      \
  template Tensor<T> binary_cross_entropy_with_logits<T>(const Tensor<T>&, const Tensor<T>&);   \
  template Tensor<T> hinge_loss<T>(const Tensor<T>&, const Tensor<T>&);                         \
  template Tensor<T> cross_entropy<T>(const Tensor<T>&, std::span<const Index>, T);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::autograd
