// Losses by name, for models trained on data sets, and weight penalties.
//
// The loss operations themselves live in autograd/ops.hpp. Here a Loss
// says which one a model uses and what its targets look like:
//
//   name           output   targets per sample
//   mse, mae       [K]      K values
//   huber          [K]      K values (delta > 0)
//   cross_entropy  [K]      1 class label in [0, K), stored as a number
//   bce            [K]      K values in [0, 1] (logits in, sigmoid inside)
//   hinge          [K]      K values in {-1, +1}
#pragma once

#include <span>
#include <string>

#include "descent/autograd/ops.hpp"

namespace descent::nn {

enum class LossKind { mse, mae, huber, cross_entropy, bce, hinge };

struct Loss {
  LossKind kind = LossKind::mse;
  double delta = 1.0;            // huber; > 0
  double label_smoothing = 0.0;  // cross_entropy; in [0, 1)

  // How many target values one sample has, for a model output of this size.
  Index target_width(Index output_size) const { return kind == LossKind::cross_entropy ? 1 : output_size; }
  std::string name() const;
};

// "mse", "mae" (or "l1"), "huber", "cross_entropy", "bce", "hinge"; throws
// descent::invalid_argument listing them otherwise.
LossKind parse_loss(const std::string& name);

// The mean loss of `output` [N, ...] against targets. For cross_entropy,
// `labels` holds the N class labels and `targets` is unused; otherwise
// `targets` views N * target_width values.
template <class T>
autograd::Tensor<T> apply_loss(const Loss& loss, const autograd::Tensor<T>& output, const T* targets,
                               std::span<const Index> labels);

// Penalties on a parameter tensor, built from the primitives:
// l1 = sum |w|, l2 = 0.5 sum w^2. Add lambda * penalty to a loss.
template <class T>
autograd::Tensor<T> l1_penalty(const autograd::Tensor<T>& w) {
  return autograd::sum(autograd::abs(w));
}
template <class T>
autograd::Tensor<T> l2_penalty(const autograd::Tensor<T>& w) {
  return autograd::sum(autograd::mul(w, w)) * T(0.5);
}

}  // namespace descent::nn
