#include "descent/nn/objective.hpp"

#include <cmath>

#include <fmt/format.h>

namespace descent::nn {

template <class T>
ModelObjective<T>::ModelObjective(Model<T>& model, const T* features, const T* targets, Index num_samples,
                                  ModelObjectiveOptions options)
    : model_(model),
      features_(features),
      targets_(targets),
      samples_(num_samples),
      feature_width_(model.input_shape().size()),
      target_width_(model.loss().target_width(model.output_shape().size())),
      options_(options),
      rng_(options.seed) {
  require(num_samples >= 1, fmt::format("ModelObjective: {} samples, expected >= 1", num_samples));
  require(features != nullptr && targets != nullptr, "ModelObjective: features and targets must not be null");
  require(options.l2 >= 0, fmt::format("ModelObjective: l2 = {}, expected >= 0", options.l2));
  require(options.chunk_rows >= 1,
          fmt::format("ModelObjective: chunk_rows = {}, expected >= 1", options.chunk_rows));
  if (model.loss().kind == LossKind::cross_entropy) {
    // Labels are stored as numbers: check them once, here.
    const Index classes = model.output_shape().size();
    for (Index i = 0; i < num_samples; ++i) {
      const T v = targets[i];
      require(v >= 0 && v < static_cast<T>(classes) && v == std::floor(v),
              fmt::format("ModelObjective: the label of sample {} is {}, expected an integer in [0, {})", i, v,
                          classes));
    }
  }
  labels_.reserve(static_cast<std::size_t>(std::min(num_samples, options.chunk_rows)));
}

template <class T>
T ModelObjective<T>::evaluate(const T* x, T* grad, Index first, Index count, std::span<const Index> rows, T weight) {
  tape_.reset();
  const Index fw = feature_width_, tw = target_width_;
  const Shape batch_shape{count, fw};

  // The batch: a view of consecutive rows, or the listed rows gathered.
  Tensor<T> batch;
  const T* targets = nullptr;
  if (rows.empty()) {
    batch = tape_.constant(features_ + first * fw, batch_shape);
    targets = targets_ + first * tw;
  } else {
    batch = tape_.input(batch_shape);
    T* gathered_targets = tape_.template allocate<T>(count * tw);
    for (Index i = 0; i < count; ++i) {
      const Index r = rows[static_cast<std::size_t>(i)];
      DESCENT_REQUIRE(r >= 0 && r < samples_, fmt::format("ModelObjective: row {} is outside [0, {})", r, samples_));
      std::copy_n(features_ + r * fw, fw, batch.data() + i * fw);
      std::copy_n(targets_ + r * tw, tw, gathered_targets + i * tw);
    }
    targets = gathered_targets;
  }
  if (model_.loss().kind == LossKind::cross_entropy) {
    labels_.resize(static_cast<std::size_t>(count));
    for (Index i = 0; i < count; ++i) labels_[static_cast<std::size_t>(i)] = static_cast<Index>(targets[i]);
  }

  const bool with_grad = grad != nullptr;
  tape_.set_grad_enabled(with_grad);
  const Tensor<T> output = model_.forward(tape_, x, grad, batch, options_.training, rng_);
  const Tensor<T> loss = apply_loss(model_.loss(), output, targets, std::span<const Index>(labels_));
  if (with_grad) tape_.backward(loss, weight);
  tape_.set_grad_enabled(true);
  return loss.item();
}

template <class T>
T ModelObjective<T>::full_pass(const T* x, T* grad) {
  T total = 0;
  for (Index first = 0; first < samples_; first += options_.chunk_rows) {
    const Index count = std::min(options_.chunk_rows, samples_ - first);
    const T weight = static_cast<T>(count) / static_cast<T>(samples_);
    total += weight * evaluate(x, grad, first, count, {}, weight);
  }
  return total;
}

template <class T>
T ModelObjective<T>::penalty(const T* x, T* grad) const {
  if (options_.l2 == 0) return T(0);
  const T l2 = static_cast<T>(options_.l2);
  T total = 0;
  for (const Segment& s : model_.layout().segments()) {
    if (s.decay == 0) continue;
    const T scale = l2 * static_cast<T>(s.decay);
    T squares = 0;
    for (Index j = s.offset; j < s.offset + s.length; ++j) {
      squares += x[j] * x[j];
      if (grad) grad[j] += scale * x[j];
    }
    total += T(0.5) * scale * squares;
  }
  return total;
}

template <class T>
T ModelObjective<T>::value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
  DESCENT_REQUIRE(x.size() == size() && g.size() == size(),
                  fmt::format("ModelObjective: x has {} and g {} values, the model {}", x.size(), g.size(), size()));
  g.setZero();
  const T loss = full_pass(x.data(), g.data());
  return loss + penalty(x.data(), g.data());
}

template <class T>
T ModelObjective<T>::value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g, std::span<const Index> rows) {
  DESCENT_REQUIRE(x.size() == size() && g.size() == size(),
                  fmt::format("ModelObjective: x has {} and g {} values, the model {}", x.size(), g.size(), size()));
  DESCENT_REQUIRE(!rows.empty(), "ModelObjective: the mini-batch has no rows");
  g.setZero();
  const T loss = evaluate(x.data(), g.data(), 0, static_cast<Index>(rows.size()), rows, T(1));
  return loss + penalty(x.data(), g.data());
}

template <class T>
T ModelObjective<T>::value(ConstVectorRef<T> x) {
  DESCENT_REQUIRE(x.size() == size(), fmt::format("ModelObjective: x has {} values, the model {}", x.size(), size()));
  return full_pass(x.data(), nullptr) + penalty(x.data(), nullptr);
}

template class ModelObjective<float>;
template class ModelObjective<double>;

}  // namespace descent::nn
