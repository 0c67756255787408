// Model: a module built for one input shape, with its parameter layout,
// its buffers and its loss.
//
//   auto model = nn::make_model<float>("mlp:784-256-128-10");  // spec.hpp
//   Vector<float> x(model.num_parameters()), g(model.num_parameters());
//   model.initialize(x, /*seed=*/1);
//   Tape<float> tape;
//   auto batch = tape.constant(images, {64, 784});
//   auto logits = model.forward(tape, x.data(), g.data(), batch, /*training=*/true, rng);
//   tape.backward(nn::apply_loss(model.loss(), logits, nullptr, labels));
//
// The flat vector x is the optimizers' view of the model (docs/architecture.md);
// layout() names its segments ("0.weight", "0.bias", ...) for per-segment
// settings and for safetensors files.
#pragma once

#include <cstdint>
#include <memory>

#include "descent/nn/layers.hpp"
#include "descent/nn/loss.hpp"

namespace descent::nn {

template <class T>
class Model {
 public:
  // Builds `root` for samples of shape `sample` (no batch dimension).
  Model(std::unique_ptr<Module<T>> root, const Shape& sample, Loss loss);

  const Layout& layout() const { return layout_; }
  Index num_parameters() const { return layout_.size(); }
  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const { return output_; }
  const Loss& loss() const { return loss_; }
  void set_loss(const Loss& loss) { loss_ = loss; }
  const Module<T>& root() const { return *root_; }

  // Non-trainable state (batch-norm running statistics), its own flat vector.
  Vector<T>& buffers() { return buffers_; }
  const Vector<T>& buffers() const { return buffers_; }

  // Fills params (num_parameters() values) with initial weights drawn from
  // a stream seeded by `seed`, and resets the buffers.
  void initialize(VectorRef<T> params, std::uint64_t seed);

  // x: [N, input_shape...], or any [N, ...] of the same size per sample
  // (a flat batch of images). grads may be null (no parameter gradients).
  Tensor<T> forward(Tape<T>& tape, const T* params, T* grads, const Tensor<T>& x, bool training, Rng& rng);

  // The module tree and the parameter count, as PyTorch prints a model.
  std::string summary() const;

 private:
  std::unique_ptr<Module<T>> root_;
  Shape input_, output_;
  Loss loss_;
  Layout layout_;
  Vector<T> buffers_;
};

extern template class Model<float>;
extern template class Model<double>;

}  // namespace descent::nn
