// Module: a layer, or a composition of layers, over the flat parameter vector.
//
// A module owns no storage (docs/architecture.md). When a model is built,
// each module registers its parameters as named segments of the model's
// Layout (and its non-trainable buffers, such as batch-norm statistics, in a
// separate flat buffer), and remembers their offsets. Its forward pass views
// those slices of whatever flat vectors it is handed, so the same module
// evaluates any point an optimizer asks about, without copies.
//
//   class Scale : public Module<float> {            // y = a * x, one parameter
//     Shape build(Builder& b, const Shape& in) override { a_ = b.parameter("a", {1}); return in; }
//     Tensor<float> forward(const Context<float>& c, const Tensor<float>& x) const override {
//       return x * c.parameter(a_, {1});
//     }
//     void initialize(std::span<float> p, std::span<float>, Rng&) const override { p[a_] = 1; }
//     std::string describe() const override { return "Scale"; }
//     Index a_ = 0;
//   };
#pragma once

#include <span>
#include <string>

#include "descent/autograd/ops.hpp"
#include "descent/core/random.hpp"
#include "descent/core/segments.hpp"

namespace descent::nn {

using autograd::Shape;
using autograd::Tape;
using autograd::Tensor;

// Collects parameters and buffers while a model is built. Names nest with
// dots, as PyTorch's state_dict keys do: "0.weight", "3.running_mean".
class Builder {
 public:
  Builder(Layout& layout, Index& buffers, std::string prefix = "")
      : layout_(layout), buffers_(buffers), prefix_(std::move(prefix)) {}

  // Registers a parameter of this shape; returns its offset in the flat
  // vector. A rank-2 or larger shape is a matrix segment rows x (the rest),
  // for the optimizers that treat matrices apart (Muon, Adafactor).
  // decay multiplies weight decay there (0 for biases and norm weights).
  Index parameter(const std::string& name, const Shape& shape, double decay = 1.0) {
    const Index offset = layout_.size();
    Segment& s = shape.rank() >= 2 ? layout_.add(prefix_ + name, shape[0], shape.size() / shape[0])
                                   : layout_.add(prefix_ + name, shape.size());
    s.decay = decay;
    return offset;
  }
  // Reserves n values of non-trainable state; returns their offset.
  Index buffer(Index n) {
    const Index offset = buffers_;
    buffers_ += n;
    return offset;
  }
  // The builder for a child module called `name`.
  Builder child(const std::string& name) const { return Builder(layout_, buffers_, prefix_ + name + "."); }

 private:
  Layout& layout_;
  Index& buffers_;
  std::string prefix_;
};

// What a forward pass sees: the tape, the flat parameters (and gradients,
// or null for none), the flat buffers, the mode and the random stream.
template <class T>
struct Context {
  Tape<T>& tape;
  const T* params;
  T* grads;  // null: no parameter gradients (evaluation)
  T* buffers;
  bool training;
  Rng& rng;

  // The parameter at this offset, as a tensor of this shape.
  Tensor<T> parameter(Index offset, const Shape& shape) const {
    return tape.parameter(params + offset, grads ? grads + offset : nullptr, shape);
  }
};

template <class T>
class Module {
 public:
  virtual ~Module() = default;

  // Registers parameters and buffers for inputs of shape [N, sample...];
  // returns the shape of one output sample. Throws descent::invalid_argument
  // when the sample shape does not fit the module.
  virtual Shape build(Builder& builder, const Shape& sample) = 0;
  // x: [N, sample...] -> [N, output sample...].
  virtual Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const = 0;
  // Writes initial values into this module's slices of the flat vectors.
  virtual void initialize(std::span<T> params, std::span<T> buffers, Rng& rng) const {
    (void)params, (void)buffers, (void)rng;
  }
  // One line, as PyTorch prints modules: "Linear(784, 256)".
  virtual std::string describe() const = 0;
};

}  // namespace descent::nn
