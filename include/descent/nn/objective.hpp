// ModelObjective: a model with its loss on a data set, as a batched
// objective (core/objective.hpp), so that every optimizer of the library
// trains it: the full-batch solvers (L-BFGS on a logistic regression) see
// the mean loss over all samples, the stochastic steppers the mean over a
// mini-batch of rows.
//
//   auto model = nn::make_model<double>("logistic:2");
//   nn::ModelObjective<double> f(model, features, targets, n);  // n x 2, n x 1
//   Vector<double> x(f.size());
//   model.initialize(x, 0);
//   lbfgs(f, x, {});
//
// The data are viewed, not copied: features holds num_samples rows of the
// model's input size, targets num_samples rows of loss().target_width(...)
// values (class labels as numbers for cross_entropy), both row-major; they
// must outlive the objective. A full-batch evaluation runs in chunks of
// chunk_rows samples, so memory stays bounded on large data sets. Outside
// training mode the chunks are shared out among the OpenMP threads, each
// with a tape and a gradient of its own, and the threads' sums are added in
// thread order: the result depends on the thread count, never on timing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "descent/nn/model.hpp"

namespace descent::nn {

struct ModelObjectiveOptions {
  // Samples per forward pass in full-batch evaluations; >= 1.
  Index chunk_rows = 4096;
  // Evaluate in training mode (dropout on, batch statistics in batch norm).
  bool training = true;
  // Seeds the dropout stream.
  std::uint64_t seed = 0;
  // Adds (l2 / 2) ||w||^2 over the weights (segments whose decay is not 0:
  // not biases, not norm parameters) to every value, and l2 w to the
  // gradient, for any optimizer. Range: >= 0.
  double l2 = 0;
  // sum: every value and gradient is the SUM over the samples instead of
  // the mean, without the l2 penalty, and a mini-batch may have no rows
  // (value 0, gradient 0). For data-parallel training, where each rank sums
  // its share and the shares are added up before the one division by the
  // global count and the one penalty() (dist/).
  bool sum = false;
};

// (l2 / 2) sum over the layout's segments of decay * ||x_s||^2, restricted
// to the elements [first, last); adds its gradient to grad when not null.
// The penalty ModelObjective and AffineObjective add to their values.
template <class T>
T layout_l2_penalty(const Layout& layout, double l2, const T* x, T* grad, Index first, Index last);

template <class T>
class ModelObjective {
 public:
  ModelObjective(Model<T>& model, const T* features, const T* targets, Index num_samples,
                 ModelObjectiveOptions options = {});

  Index num_samples() const { return samples_; }
  Index size() const { return model_.num_parameters(); }
  Model<T>& model() { return model_; }

  // Mean loss over all samples, and its gradient.
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g);
  // Mean loss over these rows (indices in [0, num_samples)), and its gradient.
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g, std::span<const Index> rows);
  // Mean loss over all samples, without gradients.
  T value(ConstVectorRef<T> x);

  // The l2 penalty at x (its options' l2); adds its gradient to grad when
  // not null. Included in every value except with the sum option.
  T penalty(const T* x, T* grad) const;
  // The part of it from the elements [first, last) of x (and grad), for a
  // rank that holds the gradient of that slice alone.
  T penalty(const T* x, T* grad, Index first, Index last) const;
  bool has_penalty() const { return options_.l2 != 0; }

  // The calling thread's tape, for tests that count what a pass allocates.
  const Tape<T>& tape() const { return workers_.front()->tape; }
  // The dropout stream, saved and restored with a checkpoint.
  Rng& rng() { return rng_; }

 private:
  // What one thread evaluates with: a tape, the labels of its chunk, and
  // (for threads other than the caller) a gradient of its own.
  struct Worker {
    Tape<T> tape;
    std::vector<Index> labels;
    std::vector<T> grad;
  };

  // Mean loss over rows [first, first + count) or the listed rows; adds
  // weight * its gradient to grad (when not null).
  T evaluate(Worker& worker, const T* x, T* grad, Index first, Index count, std::span<const Index> rows, T weight);
  // Mean loss over the chunks [first_chunk, last_chunk) of the data set.
  T chunk_range(Worker& worker, const T* x, T* grad, Index first_chunk, Index last_chunk);
  T full_pass(const T* x, T* grad);
  // One worker per thread that may share a full pass; the first is the caller's.
  void ensure_workers(int count);
  Model<T>& model_;
  const T* features_;
  const T* targets_;
  Index samples_;
  Index feature_width_, target_width_;
  ModelObjectiveOptions options_;
  Rng rng_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<T> thread_totals_;
};

extern template class ModelObjective<float>;
extern template class ModelObjective<double>;

}  // namespace descent::nn
