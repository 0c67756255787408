#include "descent/nn/layers.hpp"

#include <fmt/format.h>

namespace descent::nn {

namespace {

void require_sample(bool ok, const std::string& layer, const Shape& sample, const std::string& expected) {
  require(ok, layer + ": input samples have shape " + sample.str() + ", expected " + expected);
}

// Biases start at zero, except under torch_default, where PyTorch draws
// them like the weights.
template <class T>
void initialize_bias(std::span<T> b, Index fan_in, const InitOptions& o, Rng& rng) {
  if (o.method == Init::torch_default) return initialize(b, fan_in, 1, o, rng);
  std::fill(b.begin(), b.end(), T(0));
}

}  // namespace

// ---- Linear ----------------------------------------------------------------------

template <class T>
Linear<T>::Linear(Index in_features, Index out_features, LinearOptions options)
    : in_(in_features), out_(out_features), options_(options) {
  DESCENT_REQUIRE(in_ >= 1 && out_ >= 1, fmt::format("Linear: features {} -> {}, expected >= 1 each", in_, out_));
}

template <class T>
Shape Linear<T>::build(Builder& builder, const Shape& sample) {
  require_sample(sample.rank() == 1 && sample[0] == in_, describe(), sample, fmt::format("[{}]", in_));
  weight_ = builder.parameter("weight", Shape{out_, in_});
  if (options_.bias) bias_ = builder.parameter("bias", Shape{out_}, 0.0);
  return Shape{out_};
}

template <class T>
Tensor<T> Linear<T>::forward(const Context<T>& c, const Tensor<T>& x) const {
  const Tensor<T> b = options_.bias ? c.parameter(bias_, Shape{out_}) : Tensor<T>();
  return autograd::linear(x, c.parameter(weight_, Shape{out_, in_}), b);
}

template <class T>
void Linear<T>::initialize(std::span<T> params, std::span<T>, Rng& rng) const {
  const auto w = params.subspan(static_cast<std::size_t>(weight_), static_cast<std::size_t>(in_ * out_));
  nn::initialize(w, in_, out_, options_.init, rng);
  if (!options_.bias) return;
  const auto b = params.subspan(static_cast<std::size_t>(bias_), static_cast<std::size_t>(out_));
  initialize_bias(b, in_, options_.init, rng);
}

template <class T>
std::string Linear<T>::describe() const {
  return fmt::format("Linear({}, {}{})", in_, out_, options_.bias ? "" : ", bias=False");
}

// ---- Conv2d ----------------------------------------------------------------------

template <class T>
Conv2d<T>::Conv2d(Index in_channels, Index out_channels, Index kernel, ConvOptions options)
    : in_(in_channels), out_(out_channels), kernel_(kernel), options_(options) {
  DESCENT_REQUIRE(in_ >= 1 && out_ >= 1 && kernel_ >= 1,
          fmt::format("Conv2d: channels {} -> {} with kernel {}, expected >= 1 each", in_, out_, kernel_));
  DESCENT_REQUIRE(options_.stride >= 1 && options_.padding >= 0,
          fmt::format("Conv2d: stride {} and padding {}, expected >= 1 and >= 0", options_.stride, options_.padding));
}

template <class T>
Shape Conv2d<T>::build(Builder& builder, const Shape& sample) {
  const bool fits = sample.rank() == 3 && sample[0] == in_ && sample[1] + 2 * options_.padding >= kernel_ &&
                    sample[2] + 2 * options_.padding >= kernel_;
  require_sample(fits, describe(), sample, fmt::format("[{}, H, W] with H, W >= {}", in_, kernel_ - 2 * options_.padding));
  weight_ = builder.parameter("weight", Shape{out_, in_, kernel_, kernel_});
  if (options_.bias) bias_ = builder.parameter("bias", Shape{out_}, 0.0);
  const auto out = [&](Index d) { return (d + 2 * options_.padding - kernel_) / options_.stride + 1; };
  return Shape{out_, out(sample[1]), out(sample[2])};
}

template <class T>
Tensor<T> Conv2d<T>::forward(const Context<T>& c, const Tensor<T>& x) const {
  const Tensor<T> b = options_.bias ? c.parameter(bias_, Shape{out_}) : Tensor<T>();
  return autograd::conv2d(x, c.parameter(weight_, Shape{out_, in_, kernel_, kernel_}), b,
                          {.stride = options_.stride, .padding = options_.padding});
}

template <class T>
void Conv2d<T>::initialize(std::span<T> params, std::span<T>, Rng& rng) const {
  const Index area = kernel_ * kernel_;
  const auto w = params.subspan(static_cast<std::size_t>(weight_), static_cast<std::size_t>(out_ * in_ * area));
  nn::initialize(w, in_ * area, out_ * area, options_.init, rng);
  if (!options_.bias) return;
  const auto b = params.subspan(static_cast<std::size_t>(bias_), static_cast<std::size_t>(out_));
  initialize_bias(b, in_ * area, options_.init, rng);
}

template <class T>
std::string Conv2d<T>::describe() const {
  return fmt::format("Conv2d({}, {}, kernel_size={}, stride={}, padding={}{})", in_, out_, kernel_, options_.stride,
                     options_.padding, options_.bias ? "" : ", bias=False");
}

// ---- Pooling and Flatten --------------------------------------------------------

template <class T>
Shape Pool2d<T>::build(Builder&, const Shape& sample) {
  const auto& o = options_;
  const Index stride = o.stride == 0 ? o.kernel : o.stride;
  const bool fits = sample.rank() == 3 && o.kernel >= 1 && stride >= 1 && sample[1] + 2 * o.padding >= o.kernel &&
                    sample[2] + 2 * o.padding >= o.kernel;
  require_sample(fits, describe(), sample, fmt::format("[C, H, W] with H, W >= {}", o.kernel - 2 * o.padding));
  const auto out = [&](Index d) { return (d + 2 * o.padding - o.kernel) / stride + 1; };
  return Shape{sample[0], out(sample[1]), out(sample[2])};
}

template <class T>
Tensor<T> Pool2d<T>::forward(const Context<T>&, const Tensor<T>& x) const {
  return kind_ == PoolKind::max ? autograd::max_pool2d(x, options_) : autograd::avg_pool2d(x, options_);
}

template <class T>
std::string Pool2d<T>::describe() const {
  const auto& o = options_;
  return fmt::format("{}(kernel_size={}, stride={}, padding={})", kind_ == PoolKind::max ? "MaxPool2d" : "AvgPool2d",
                     o.kernel, o.stride == 0 ? o.kernel : o.stride, o.padding);
}

template <class T>
Shape Flatten<T>::build(Builder&, const Shape& sample) {
  return Shape{sample.size()};
}
template <class T>
Tensor<T> Flatten<T>::forward(const Context<T>&, const Tensor<T>& x) const {
  return autograd::flatten(x, 1);
}

// ---- Activations and Dropout --------------------------------------------------------

Nonlinearity parse_nonlinearity(const std::string& name) {
  for (auto f : {Nonlinearity::relu, Nonlinearity::leaky_relu, Nonlinearity::tanh, Nonlinearity::sigmoid,
                 Nonlinearity::gelu})
    if (nonlinearity_name(f) == name) return f;
  throw invalid_argument("unknown activation '" + name + "' (known: relu, leaky_relu, tanh, sigmoid, gelu)");
}

std::string nonlinearity_name(Nonlinearity f) {
  switch (f) {
    case Nonlinearity::relu: return "relu";
    case Nonlinearity::leaky_relu: return "leaky_relu";
    case Nonlinearity::tanh: return "tanh";
    case Nonlinearity::sigmoid: return "sigmoid";
    case Nonlinearity::gelu: return "gelu";
  }
  return "unknown";
}

template <class T>
Tensor<T> Activation<T>::forward(const Context<T>&, const Tensor<T>& x) const {
  switch (f_) {
    case Nonlinearity::relu: return autograd::relu(x);
    case Nonlinearity::leaky_relu: return autograd::leaky_relu(x, slope_);
    case Nonlinearity::tanh: return autograd::tanh(x);
    case Nonlinearity::sigmoid: return autograd::sigmoid(x);
    case Nonlinearity::gelu: return autograd::gelu(x);
  }
  return x;
}

template <class T>
std::string Activation<T>::describe() const {
  switch (f_) {
    case Nonlinearity::relu: return "ReLU()";
    case Nonlinearity::leaky_relu: return fmt::format("LeakyReLU(negative_slope={})", slope_);
    case Nonlinearity::tanh: return "Tanh()";
    case Nonlinearity::sigmoid: return "Sigmoid()";
    case Nonlinearity::gelu: return "GELU()";
  }
  return "Activation()";
}

template <class T>
Dropout<T>::Dropout(double p) : p_(p) {
  DESCENT_REQUIRE(p >= 0 && p < 1, fmt::format("Dropout: p = {}, expected in [0, 1)", p));
}

template <class T>
Tensor<T> Dropout<T>::forward(const Context<T>& c, const Tensor<T>& x) const {
  if (!c.training || p_ == 0) return x;
  return autograd::dropout(x, p_, c.rng);
}

template <class T>
std::string Dropout<T>::describe() const {
  return fmt::format("Dropout(p={})", p_);
}

// ---- BatchNorm ------------------------------------------------------------------

template <class T>
BatchNorm<T>::BatchNorm(int sample_rank, Index channels, autograd::BatchNormOptions options)
    : sample_rank_(sample_rank), channels_(channels), options_(options) {
  DESCENT_REQUIRE(channels_ >= 1, fmt::format("BatchNorm: channels = {}, expected >= 1", channels_));
}

template <class T>
Shape BatchNorm<T>::build(Builder& builder, const Shape& sample) {
  require_sample(sample.rank() == sample_rank_ && sample[0] == channels_, describe(), sample,
                 sample_rank_ == 1 ? fmt::format("[{}]", channels_) : fmt::format("[{}, H, W]", channels_));
  weight_ = builder.parameter("weight", Shape{channels_}, 0.0);
  bias_ = builder.parameter("bias", Shape{channels_}, 0.0);
  stats_ = builder.buffer(2 * channels_);  // running_mean, then running_var
  return sample;
}

template <class T>
Tensor<T> BatchNorm<T>::forward(const Context<T>& c, const Tensor<T>& x) const {
  autograd::BatchNormOptions o = options_;
  o.training = c.training;
  T* mean = c.buffers + stats_;
  return autograd::batch_norm(x, c.parameter(weight_, Shape{channels_}), c.parameter(bias_, Shape{channels_}), mean,
                              mean + channels_, o);
}

template <class T>
void BatchNorm<T>::initialize(std::span<T> params, std::span<T> buffers, Rng&) const {
  for (Index i = 0; i < channels_; ++i) {
    params[static_cast<std::size_t>(weight_ + i)] = T(1);
    params[static_cast<std::size_t>(bias_ + i)] = T(0);
    buffers[static_cast<std::size_t>(stats_ + i)] = T(0);
    buffers[static_cast<std::size_t>(stats_ + channels_ + i)] = T(1);
  }
}

template <class T>
std::string BatchNorm<T>::describe() const {
  return fmt::format("BatchNorm{}d({}, eps={}, momentum={})", sample_rank_ == 1 ? 1 : 2, channels_, options_.eps,
                     options_.momentum);
}

// ---- Sequential -----------------------------------------------------------------

template <class T>
Sequential<T>& Sequential<T>::add(std::unique_ptr<Module<T>> module) {
  require(module != nullptr, "Sequential::add: the module is null");
  children_.push_back(std::move(module));
  return *this;
}

template <class T>
Shape Sequential<T>::build(Builder& builder, const Shape& sample) {
  Shape shape = sample;
  for (std::size_t i = 0; i < children_.size(); ++i) {
    Builder child = builder.child(std::to_string(i));
    shape = children_[i]->build(child, shape);
  }
  return shape;
}

template <class T>
Tensor<T> Sequential<T>::forward(const Context<T>& c, const Tensor<T>& x) const {
  Tensor<T> h = x;
  for (const auto& m : children_) h = m->forward(c, h);
  return h;
}

template <class T>
void Sequential<T>::initialize(std::span<T> params, std::span<T> buffers, Rng& rng) const {
  for (const auto& m : children_) m->initialize(params, buffers, rng);
}

template <class T>
std::string Sequential<T>::describe() const {
  std::string s = "Sequential(\n";
  for (std::size_t i = 0; i < children_.size(); ++i) s += fmt::format("  ({}): {}\n", i, children_[i]->describe());
  return s + ")";
}

#define DESCENT_INSTANTIATE(T)      \
  template class Linear<T>;         \
  template class Conv2d<T>;         \
  template class Pool2d<T>;         \
  template class Flatten<T>;        \
  template class Activation<T>;     \
  template class Dropout<T>;        \
  template class BatchNorm<T>;      \
  template class Sequential<T>;
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::nn
