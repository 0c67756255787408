#include "descent/nn/model.hpp"

#include <fmt/format.h>

namespace descent::nn {

template <class T>
Model<T>::Model(std::unique_ptr<Module<T>> root, const Shape& sample, Loss loss)
    : root_(std::move(root)), input_(sample), loss_(loss) {
  require(root_ != nullptr, "Model: the module is null");
  require(sample.rank() >= 1 && sample.rank() < autograd::kMaxRank && sample.size() >= 1,
          "Model: sample shape " + sample.str() + ", expected rank 1 to 3 and at least one element");
  Index buffer_count = 0;
  Builder builder(layout_, buffer_count);
  output_ = root_->build(builder, sample);
  buffers_ = Vector<T>::Zero(buffer_count);
}

template <class T>
void Model<T>::initialize(VectorRef<T> params, std::uint64_t seed) {
  DESCENT_REQUIRE(params.size() == num_parameters(), fmt::format("Model::initialize: {} parameters given, the model has {}",
                                                         params.size(), num_parameters()));
  Rng rng(seed);
  root_->initialize(std::span<T>(params.data(), static_cast<std::size_t>(params.size())),
                    std::span<T>(buffers_.data(), static_cast<std::size_t>(buffers_.size())), rng);
}

template <class T>
Tensor<T> Model<T>::forward(Tape<T>& tape, const T* params, T* grads, const Tensor<T>& x, bool training, Rng& rng) {
  DESCENT_REQUIRE(x.rank() >= 1 && x.size() == x.dim(0) * input_.size(),
                  "Model::forward: input of shape " + x.shape().str() + " does not hold samples of shape " +
                      input_.str());
  // [N, ...] viewed as [N, input_shape...].
  std::array<Index, autograd::kMaxRank> dims{};
  dims[0] = x.dim(0);
  for (int i = 0; i < input_.rank(); ++i) dims[static_cast<std::size_t>(i + 1)] = input_[i];
  const Shape want = Shape::from(dims.begin(), dims.begin() + input_.rank() + 1);
  const Tensor<T> batch = x.shape() == want ? x : autograd::reshape(x, want);
  const Context<T> context{tape, params, grads, buffers_.data(), training, rng};
  return root_->forward(context, batch);
}

template <class T>
std::string Model<T>::summary() const {
  Index trainable = 0;
  for (const auto& s : layout_.segments()) trainable += s.length;
  return fmt::format("{}\ninput {} -> output {}, loss {}, {} parameters", root_->describe(), input_.str(),
                     output_.str(), loss_.name(), trainable);
}

template class Model<float>;
template class Model<double>;

}  // namespace descent::nn
