// Layers: Linear, Conv2d, pooling, Flatten, activations, Dropout,
// BatchNorm1d/2d and Sequential, each a Module over the flat vector.
//
// Shapes name one sample; the batch dimension N comes first at run time.
// Parameter names follow PyTorch's ("weight", "bias", "running_mean"), so
// a model's safetensors file reads like a PyTorch state_dict.
//
//   Sequential<float> net;
//   net.add<Linear<float>>(784, 256);
//   net.add<ReLU<float>>();
//   net.add<Linear<float>>(256, 10);
#pragma once

#include <memory>
#include <vector>

#include "descent/nn/init.hpp"
#include "descent/nn/module.hpp"

namespace descent::nn {

struct LinearOptions {
  bool bias = true;
  // Weight initialization; biases start at zero (torch_default: uniform,
  // as PyTorch does).
  InitOptions init{};
};

// y = x W^T + b; W [out, in], b [out]. Sample [in] -> [out].
template <class T>
class Linear : public Module<T> {
 public:
  Linear(Index in_features, Index out_features, LinearOptions options = {});
  Shape build(Builder& builder, const Shape& sample) override;
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  void initialize(std::span<T> params, std::span<T> buffers, Rng& rng) const override;
  std::string describe() const override;

 private:
  Index in_, out_;
  LinearOptions options_;
  Index weight_ = 0, bias_ = 0;
};

struct ConvOptions {
  Index stride = 1;   // >= 1
  Index padding = 0;  // >= 0
  bool bias = true;
  InitOptions init{};
};

// 2-D convolution: sample [C, H, W] -> [O, H', W'], weight [O, C, K, K].
template <class T>
class Conv2d : public Module<T> {
 public:
  Conv2d(Index in_channels, Index out_channels, Index kernel, ConvOptions options = {});
  Shape build(Builder& builder, const Shape& sample) override;
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  void initialize(std::span<T> params, std::span<T> buffers, Rng& rng) const override;
  std::string describe() const override;

 private:
  Index in_, out_, kernel_;
  ConvOptions options_;
  Index weight_ = 0, bias_ = 0;
};

// Max or average pooling: sample [C, H, W] -> [C, H', W']. MaxPool2d and
// AvgPool2d below are this with the kind fixed.
enum class PoolKind { max, average };

template <class T>
class Pool2d : public Module<T> {
 public:
  Pool2d(PoolKind kind, autograd::Pool2dOptions options) : kind_(kind), options_(options) {}
  Shape build(Builder& builder, const Shape& sample) override;
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  std::string describe() const override;

 private:
  PoolKind kind_;
  autograd::Pool2dOptions options_;
};

template <class T>
struct MaxPool2d : Pool2d<T> {
  explicit MaxPool2d(autograd::Pool2dOptions options = {}) : Pool2d<T>(PoolKind::max, options) {}
};
template <class T>
struct AvgPool2d : Pool2d<T> {
  explicit AvgPool2d(autograd::Pool2dOptions options = {}) : Pool2d<T>(PoolKind::average, options) {}
};

// Sample [...] -> [size of the sample].
template <class T>
class Flatten : public Module<T> {
 public:
  Shape build(Builder& builder, const Shape& sample) override;
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  std::string describe() const override { return "Flatten()"; }
};

enum class Nonlinearity { relu, leaky_relu, tanh, sigmoid, gelu };
// "relu", "leaky_relu", "tanh", "sigmoid", "gelu"; throws otherwise.
Nonlinearity parse_nonlinearity(const std::string& name);
std::string nonlinearity_name(Nonlinearity f);

// An elementwise nonlinearity; shape unchanged. The named layers below are
// this with the function fixed.
template <class T>
class Activation : public Module<T> {
 public:
  explicit Activation(Nonlinearity f, T negative_slope = T(0.01)) : f_(f), slope_(negative_slope) {}
  Shape build(Builder&, const Shape& sample) override { return sample; }
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  std::string describe() const override;

 private:
  Nonlinearity f_;
  T slope_;
};

template <class T>
struct ReLU : Activation<T> {
  ReLU() : Activation<T>(Nonlinearity::relu) {}
};
template <class T>
struct LeakyReLU : Activation<T> {
  explicit LeakyReLU(T negative_slope = T(0.01)) : Activation<T>(Nonlinearity::leaky_relu, negative_slope) {}
};
template <class T>
struct Tanh : Activation<T> {
  Tanh() : Activation<T>(Nonlinearity::tanh) {}
};
template <class T>
struct Sigmoid : Activation<T> {
  Sigmoid() : Activation<T>(Nonlinearity::sigmoid) {}
};
template <class T>
struct GELU : Activation<T> {
  GELU() : Activation<T>(Nonlinearity::gelu) {}
};

// Dropout with probability p in [0, 1) while training; identity in evaluation.
template <class T>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p = 0.5);
  Shape build(Builder&, const Shape& sample) override { return sample; }
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  std::string describe() const override;

 private:
  double p_;
};

// Batch normalization over channel 0 of the sample: BatchNorm1d takes
// samples [C], BatchNorm2d samples [C, H, W]. Parameters weight (gamma,
// starts at 1) and bias (beta, 0), exempt from weight decay; buffers
// running_mean (0) and running_var (1).
template <class T>
class BatchNorm : public Module<T> {
 public:
  BatchNorm(int sample_rank, Index channels, autograd::BatchNormOptions options = {});
  Shape build(Builder& builder, const Shape& sample) override;
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  void initialize(std::span<T> params, std::span<T> buffers, Rng& rng) const override;
  std::string describe() const override;

 private:
  int sample_rank_;
  Index channels_;
  autograd::BatchNormOptions options_;
  Index weight_ = 0, bias_ = 0, stats_ = 0;
};

template <class T>
struct BatchNorm1d : BatchNorm<T> {
  explicit BatchNorm1d(Index channels, autograd::BatchNormOptions options = {}) : BatchNorm<T>(1, channels, options) {}
};
template <class T>
struct BatchNorm2d : BatchNorm<T> {
  explicit BatchNorm2d(Index channels, autograd::BatchNormOptions options = {}) : BatchNorm<T>(3, channels, options) {}
};

// Modules applied in order; children are named "0", "1", ... .
template <class T>
class Sequential : public Module<T> {
 public:
  Sequential() = default;
  Sequential& add(std::unique_ptr<Module<T>> module);
  template <class M, class... Args>
  Sequential& add(Args&&... args) {
    return add(std::make_unique<M>(std::forward<Args>(args)...));
  }

  Shape build(Builder& builder, const Shape& sample) override;
  Tensor<T> forward(const Context<T>& context, const Tensor<T>& x) const override;
  void initialize(std::span<T> params, std::span<T> buffers, Rng& rng) const override;
  std::string describe() const override;

  const std::vector<std::unique_ptr<Module<T>>>& children() const { return children_; }

 private:
  std::vector<std::unique_ptr<Module<T>>> children_;
};

}  // namespace descent::nn
