// train::evaluate: a model's loss, and its accuracy and confusion matrix or
// its MSE and R^2, on a data set, in evaluation mode.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "descent/train/trainer.hpp"
#include "table.hpp"

namespace descent::train {

using detail::require_fits;
using detail::Table;

template <class T>
Evaluation evaluate(nn::Model<T>& model, const Vector<T>& x, const data::Dataset& d, Index chunk_rows) {
  require_fits(model, d, "evaluation");
  DESCENT_REQUIRE(x.size() == model.num_parameters(),
          fmt::format("evaluate: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  DESCENT_REQUIRE(chunk_rows >= 1, fmt::format("evaluate: chunk_rows = {}, expected >= 1", chunk_rows));
  const Table<T> table(d);
  const Index out = model.output_shape().size(), width = d.targets;
  const nn::LossKind kind = model.loss().kind;
  // Classes: labels with cross-entropy; one logit, or one-hot rows of K,
  // with binary cross-entropy (the prediction is the largest output).
  const bool one_hot = kind == nn::LossKind::bce && out > 1 && data::is_one_hot(d);
  const bool by_class = kind == nn::LossKind::cross_entropy || (kind == nn::LossKind::bce && out == 1) || one_hot;

  Evaluation e;
  e.rows = d.rows;
  if (by_class) {
    e.classes = kind == nn::LossKind::cross_entropy || one_hot ? out : 2;
    e.confusion.assign(static_cast<std::size_t>(e.classes * e.classes), 0);
  }
  autograd::Tape<T> tape;
  autograd::NoGradGuard<T> no_grad(tape);
  Rng rng(0);
  std::vector<Index> labels;
  double loss_sum = 0, squared_error = 0, target_sum = 0, target_squares = 0;
  Index right = 0;
  for (Index first = 0; first < d.rows; first += chunk_rows) {
    const Index count = std::min(chunk_rows, d.rows - first);
    tape.reset();
    const T* targets = table.y + first * width;
    labels.resize(static_cast<std::size_t>(count));
    if (kind == nn::LossKind::cross_entropy)
      for (Index i = 0; i < count; ++i) {
        const T v = targets[i];
        DESCENT_REQUIRE(v >= 0 && v < static_cast<T>(out) && v == std::floor(v),
                fmt::format("the label of sample {} is {}, expected an integer in [0, {})", first + i, v, out));
        labels[static_cast<std::size_t>(i)] = static_cast<Index>(v);
      }
    const auto batch = tape.constant(table.x + first * d.features, {count, d.features});
    const auto output = model.forward(tape, x.data(), nullptr, batch, false, rng);
    loss_sum += double(nn::apply_loss(model.loss(), output, targets, std::span<const Index>(labels)).item()) * count;
    const T* o = output.data();
    for (Index i = 0; i < count; ++i) {
      if (by_class) {
        Index predicted = 0, truth = 0;
        if (kind == nn::LossKind::cross_entropy || one_hot) {
          for (Index k = 1; k < out; ++k)
            if (o[i * out + k] > o[i * out + predicted]) predicted = k;
          if (one_hot) {
            while (targets[i * width + truth] != T(1)) ++truth;
          } else {
            truth = labels[static_cast<std::size_t>(i)];
          }
        } else {
          predicted = o[i] > 0 ? 1 : 0;
          truth = targets[i] >= T(0.5) ? 1 : 0;
        }
        right += predicted == truth;
        ++e.confusion[static_cast<std::size_t>(truth * e.classes + predicted)];
      } else {
        for (Index k = 0; k < width; ++k) {
          const double t = targets[i * width + k], r = double(o[i * out + k]) - t;
          squared_error += r * r;
          target_sum += t;
          target_squares += t * t;
        }
      }
    }
  }
  e.loss = loss_sum / double(d.rows);
  if (by_class) {
    e.accuracy = double(right) / double(d.rows);
  } else {
    const double values = double(d.rows * width);
    e.mse = squared_error / values;
    const double total = target_squares - target_sum * target_sum / values;  // sum of (t - mean t)^2
    e.r2 = total > 0 ? 1 - squared_error / total : std::numeric_limits<double>::quiet_NaN();
  }
  return e;
}

template Evaluation evaluate<float>(nn::Model<float>&, const Vector<float>&, const data::Dataset&, Index);
template Evaluation evaluate<double>(nn::Model<double>&, const Vector<double>&, const data::Dataset&, Index);

}  // namespace descent::train
