#include "descent/nn/objective.hpp"

#include <omp.h>

#include <algorithm>
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
  DESCENT_REQUIRE(num_samples >= 1, fmt::format("ModelObjective: {} samples, expected >= 1", num_samples));
  require(features != nullptr && targets != nullptr, "ModelObjective: features and targets must not be null");
  DESCENT_REQUIRE(options.l2 >= 0, fmt::format("ModelObjective: l2 = {}, expected >= 0", options.l2));
  DESCENT_REQUIRE(options.chunk_rows >= 1,
          fmt::format("ModelObjective: chunk_rows = {}, expected >= 1", options.chunk_rows));
  if (model.loss().kind == LossKind::cross_entropy) {
    // Labels are stored as numbers: check them once, here.
    const Index classes = model.output_shape().size();
    for (Index i = 0; i < num_samples; ++i) {
      const T v = targets[i];
      DESCENT_REQUIRE(v >= 0 && v < static_cast<T>(classes) && v == std::floor(v),
              fmt::format("ModelObjective: the label of sample {} is {}, expected an integer in [0, {})", i, v,
                          classes));
    }
  }
  ensure_workers(1);
  workers_.front()->labels.reserve(static_cast<std::size_t>(std::min(num_samples, options.chunk_rows)));
}

template <class T>
void ModelObjective<T>::ensure_workers(int count) {
  thread_totals_.resize(static_cast<std::size_t>(count));
  while (static_cast<int>(workers_.size()) < count) {
    auto worker = std::make_unique<Worker>();
    if (!workers_.empty()) worker->grad.resize(static_cast<std::size_t>(size()));
    workers_.push_back(std::move(worker));
  }
}

template <class T>
T ModelObjective<T>::evaluate(Worker& worker, const T* x, T* grad, Index first, Index count,
                              std::span<const Index> rows, T weight) {
  Tape<T>& tape = worker.tape;
  std::vector<Index>& labels = worker.labels;
  tape.reset();
  const Index fw = feature_width_, tw = target_width_;
  const Shape batch_shape{count, fw};

  // The batch: a view of consecutive rows, or the listed rows gathered.
  Tensor<T> batch;
  const T* targets = nullptr;
  if (rows.empty()) {
    batch = tape.constant(features_ + first * fw, batch_shape);
    targets = targets_ + first * tw;
  } else {
    batch = tape.input(batch_shape);
    T* gathered_targets = tape.template allocate<T>(count * tw);
    for (Index i = 0; i < count; ++i) {
      const Index r = rows[static_cast<std::size_t>(i)];
      DESCENT_REQUIRE(r >= 0 && r < samples_, fmt::format("ModelObjective: row {} is outside [0, {})", r, samples_));
      std::copy_n(features_ + r * fw, fw, batch.data() + i * fw);
      std::copy_n(targets_ + r * tw, tw, gathered_targets + i * tw);
    }
    targets = gathered_targets;
  }
  if (model_.loss().kind == LossKind::cross_entropy) {
    labels.resize(static_cast<std::size_t>(count));
    for (Index i = 0; i < count; ++i) labels[static_cast<std::size_t>(i)] = static_cast<Index>(targets[i]);
  }

  const bool with_grad = grad != nullptr;
  tape.set_grad_enabled(with_grad);
  const Tensor<T> output = model_.forward(tape, x, grad, batch, options_.training, rng_);
  const Tensor<T> loss = apply_loss(model_.loss(), output, targets, std::span<const Index>(labels));
  if (with_grad) tape.backward(loss, weight);
  tape.set_grad_enabled(true);
  return loss.item();
}

template <class T>
T ModelObjective<T>::chunk_range(Worker& worker, const T* x, T* grad, Index first_chunk, Index last_chunk) {
  T total = 0;
  for (Index c = first_chunk; c < last_chunk; ++c) {
    const Index first = c * options_.chunk_rows;
    const Index count = std::min(options_.chunk_rows, samples_ - first);
    const T weight = options_.sum ? static_cast<T>(count) : static_cast<T>(count) / static_cast<T>(samples_);
    total += weight * evaluate(worker, x, grad, first, count, {}, weight);
  }
  return total;
}

template <class T>
T ModelObjective<T>::full_pass(const T* x, T* grad) {
  const Index chunks = (samples_ + options_.chunk_rows - 1) / options_.chunk_rows;
  // Training mode draws dropout masks from one stream and updates batch
  // norm's running statistics: those passes stay on the calling thread, in
  // chunk order.
  const int threads = options_.training || chunks < 2 || omp_in_parallel()
                          ? 1
                          : static_cast<int>(std::min<Index>(omp_get_max_threads(), chunks));
  if (threads == 1) return chunk_range(*workers_.front(), x, grad, 0, chunks);

  ensure_workers(threads);
  // The whole team (another team size would make libgomp allocate); threads
  // beyond the chunk count idle.
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = std::min(omp_get_num_threads(), threads);
    if (t < nt) {
      Worker& worker = *workers_[static_cast<std::size_t>(t)];
      T* g = nullptr;
      if (grad != nullptr) {
        g = t == 0 ? grad : worker.grad.data();
        if (t != 0) std::fill(worker.grad.begin(), worker.grad.end(), T(0));
      }
      thread_totals_[static_cast<std::size_t>(t)] = chunk_range(worker, x, g, chunks * t / nt, chunks * (t + 1) / nt);
    }
  }
  // Fixed order: the same threads give the same bits.
  T total = thread_totals_[0];
  for (int t = 1; t < threads; ++t) {
    total += thread_totals_[static_cast<std::size_t>(t)];
    if (grad != nullptr) {
      const T* g = workers_[static_cast<std::size_t>(t)]->grad.data();
      for (Index j = 0; j < size(); ++j) grad[j] += g[j];
    }
  }
  return total;
}

template <class T>
T ModelObjective<T>::penalty(const T* x, T* grad) const {
  return penalty(x, grad, 0, size());
}

template <class T>
T layout_l2_penalty(const Layout& layout, double l2, const T* x, T* grad, Index first, Index last) {
  if (l2 == 0) return T(0);
  T total = 0;
  for (const Segment& s : layout.segments()) {
    const Index lo = std::max(first, s.offset), hi = std::min(last, s.offset + s.length);
    if (s.decay == 0 || lo >= hi) continue;
    const T scale = static_cast<T>(l2) * static_cast<T>(s.decay);
    T squares = 0;
    for (Index j = lo; j < hi; ++j) {
      squares += x[j] * x[j];
      if (grad) grad[j] += scale * x[j];
    }
    total += T(0.5) * scale * squares;
  }
  return total;
}

template <class T>
T ModelObjective<T>::penalty(const T* x, T* grad, Index first, Index last) const {
  return layout_l2_penalty(model_.layout(), options_.l2, x, grad, first, last);
}

template <class T>
T ModelObjective<T>::value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
  DESCENT_REQUIRE(x.size() == size() && g.size() == size(),
                  fmt::format("ModelObjective: x has {} and g {} values, the model {}", x.size(), g.size(), size()));
  g.setZero();
  const T loss = full_pass(x.data(), g.data());
  return options_.sum ? loss : loss + penalty(x.data(), g.data());
}

template <class T>
T ModelObjective<T>::value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g, std::span<const Index> rows) {
  DESCENT_REQUIRE(x.size() == size() && g.size() == size(),
                  fmt::format("ModelObjective: x has {} and g {} values, the model {}", x.size(), g.size(), size()));
  DESCENT_REQUIRE(options_.sum || !rows.empty(), "ModelObjective: the mini-batch has no rows");
  g.setZero();
  if (rows.empty()) return T(0);
  const auto count = static_cast<Index>(rows.size());
  if (options_.sum) return static_cast<T>(count) * evaluate(*workers_.front(), x.data(), g.data(), 0, count, rows, static_cast<T>(count));
  const T loss = evaluate(*workers_.front(), x.data(), g.data(), 0, count, rows, T(1));
  return loss + penalty(x.data(), g.data());
}

template <class T>
T ModelObjective<T>::value(ConstVectorRef<T> x) {
  DESCENT_REQUIRE(x.size() == size(), fmt::format("ModelObjective: x has {} values, the model {}", x.size(), size()));
  const T loss = full_pass(x.data(), nullptr);
  return options_.sum ? loss : loss + penalty(x.data(), nullptr);
}

template class ModelObjective<float>;
template class ModelObjective<double>;
template float layout_l2_penalty<float>(const Layout&, double, const float*, float*, Index, Index);
template double layout_l2_penalty<double>(const Layout&, double, const double*, double*, Index, Index);

}  // namespace descent::nn
