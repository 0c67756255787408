// AffineObjective: the full-batch loss of a one-layer model, z = W x + b,
// on float32 features, with its gradient, in one cache-blocked pass over
// the data: for each block of rows (a few hundred KiB, kept in L2) the
// logits X W^T, the loss and its residual R = dloss/dz, and X^T R, so that an
// evaluation reads the features from memory once. The products are
// register-blocked (four rows, or two without AVX-512, by five outputs
// forward; five outputs by sixteen features backward) in float32 with
// float64 sums across blocks and threads, and compiled twice, for AVX2 with
// FMA and for the baseline target, chosen at run time.
//
// It serves the models nn::make_model builds as one Linear layer:
//   linear:F[-O]     mse            mean (z - t)^2 over N x O
//   logistic:F       bce            mean of the logistic loss on logits
//   logistic:F-K     cross_entropy  mean over N, label smoothing included
// and gives what nn::ModelObjective gives for them (outside training mode),
// to float32 rounding, at a fraction of the cost: descent train's full-batch
// solvers use it for those models.
//
//   auto model = nn::make_model<double>("logistic:784-10");
//   if (nn::AffineObjective<double>::supports(model)) {
//     nn::AffineObjective<double> f(model, d.x.data(), d.y.data(), d.rows, {.l2 = 1e-4});
//     lbfgs(f, x, {});
//   }
//
// The features (rows x F, row-major) and targets (a class label per row for
// cross_entropy, O values per row otherwise) are viewed, not copied, and
// must outlive the objective. An evaluation allocates nothing; it splits the
// row blocks across the OpenMP threads in a fixed way and adds the threads'
// sums in thread order, so a result depends on the thread count, never on
// timing.
#pragma once

#include <memory>
#include <vector>

#include "descent/nn/model.hpp"

namespace descent::nn {

struct AffineObjectiveOptions {
  // (l2 / 2) ||w||^2 over the segments whose decay is not 0 (the weight,
  // not the bias), as ModelObjectiveOptions::l2. Range: >= 0.
  double l2 = 0;
};

template <class T>
class AffineObjective {
 public:
  // Whether `model` is one Linear layer (with or without bias) under a loss
  // this objective evaluates: mse, bce or cross_entropy.
  static bool supports(const Model<T>& model);

  // Throws descent::invalid_argument when supports(model) is false, or when
  // a class label is not an integer in [0, K).
  AffineObjective(const Model<T>& model, const float* features, const float* targets, Index num_samples,
                  AffineObjectiveOptions options = {});
  ~AffineObjective();
  AffineObjective(const AffineObjective&) = delete;
  AffineObjective& operator=(const AffineObjective&) = delete;

  Index size() const { return size_; }
  Index num_samples() const { return rows_; }

  // Mean loss over all samples plus the penalty, and its gradient.
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g);
  // The same value without the gradient (the forward half of the pass).
  T value(ConstVectorRef<T> x);

  // The l2 penalty at x; adds its gradient to grad when not null.
  T penalty(const T* x, T* grad) const;

  // Which kernel runs: "avx2" or "baseline".
  static const char* kernel();

 private:
  T evaluate(ConstVectorRef<T> x, T* g);

  struct Work;
  const Model<T>& model_;
  const float* x_;
  const float* targets_;
  Index rows_, features_, outputs_, size_;
  bool bias_;
  Loss loss_;
  AffineObjectiveOptions options_;
  std::vector<int> labels_;  // cross_entropy: the class of each row
  std::unique_ptr<Work> work_;
};

extern template class AffineObjective<float>;
extern template class AffineObjective<double>;

}  // namespace descent::nn
