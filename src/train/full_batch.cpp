// train::fit_full_batch: the whole training set as one objective for a
// full-batch solver, on one process or summed over the ranks' shards.
#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "descent/core/any_objective.hpp"
#include "descent/nn/affine_objective.hpp"
#include "distributed.hpp"
#include "table.hpp"

namespace descent::train {

using detail::bits_of;
using detail::require_fits;
using detail::Table;

namespace {

// Rows per chunk of a full-batch ModelObjective: about 2 MiB of features, so
// that the backward pass of a chunk finds it still in cache and an
// evaluation reads the data set from memory once instead of twice (for a
// linear model, the whole cost).
Index evaluation_chunk_rows(const data::Dataset& d) {
  return std::clamp<Index>((Index(1) << 18) / std::max<Index>(d.features, 1), 64, 4096);
}

// Forwards a second solve's hooks as the continuation of a first's: one
// on_begin, iterations numbered on from the first's, counts and time
// added. on_end is the caller's to send, with the merged result.
template <class T>
class Continuation final : public Callback<T> {
 public:
  explicit Continuation(Callback<T>& inner) : inner_(inner) {}
  void continue_after(const Result<T>& first) {
    base_ = &first;
  }
  void on_begin(const RunInfo& info) override {
    if (base_ == nullptr) inner_.on_begin(info);
  }
  Control on_iteration(const IterationReport<T>& r) override {
    if (base_ == nullptr) return inner_.on_iteration(r);
    if (r.iteration == 0) return Control::proceed;  // the first solve reported this point
    IterationReport<T> c = r;
    c.iteration += base_->iterations;
    c.value_evaluations += base_->value_evaluations;
    c.gradient_evaluations += base_->gradient_evaluations;
    c.hessian_evaluations += base_->hessian_evaluations;
    c.seconds += base_->seconds;
    return inner_.on_iteration(c);
  }

 private:
  Callback<T>& inner_;
  const Result<T>* base_ = nullptr;
};

// A one-layer model: the fused float32 pass, and where its rounding stops
// the solver short of the tolerance (the line search can no longer tell
// values apart), the rest of the solve on the float64 autograd path from
// the point reached, reported as one run.
template <class T>
Result<T> fit_affine(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, Method method,
                     const MinimizeOptions& options, double l2, Callback<T>* callback) {
  nn::AffineObjective<T> affine(model, training.x.data(), training.y.data(), training.rows, {.l2 = l2});
  std::optional<Continuation<T>> continuation;
  if (callback) continuation.emplace(*callback);
  Callback<T>* hooks = continuation ? &*continuation : nullptr;
  auto fused = AnyObjective<T>::reference(affine);
  const Result<T> first = minimize<T>(fused, x, method, options, hooks);
  const StopOptions& stop = options.stop;
  const bool stalled = first.status == Status::line_search_failed && std::is_same_v<T, double>;
  const bool budget_left = first.iterations < stop.max_iterations &&
                           (stop.max_evaluations <= 0 || first.gradient_evaluations < stop.max_evaluations) &&
                           first.seconds < stop.time_limit;
  if (!stalled || !budget_left) {
    if (callback) callback->on_end(first);
    return first;
  }
  MinimizeOptions rest = options;
  rest.stop.max_iterations = stop.max_iterations - first.iterations;
  if (stop.max_evaluations > 0) rest.stop.max_evaluations = stop.max_evaluations - first.gradient_evaluations;
  rest.stop.time_limit = stop.time_limit - first.seconds;
  const Table<T> table(training);
  nn::ModelObjective<T> exact(model, table.x, table.y, training.rows,
                              {.chunk_rows = evaluation_chunk_rows(training), .training = false, .l2 = l2});
  auto any = AnyObjective<T>::reference(exact);
  if (continuation) continuation->continue_after(first);
  Result<T> r = minimize<T>(any, x, method, rest, hooks);
  r.iterations += first.iterations;
  r.value_evaluations += first.value_evaluations;
  r.gradient_evaluations += first.gradient_evaluations;
  r.hessian_evaluations += first.hessian_evaluations;
  r.seconds += first.seconds;
  if (r.diverged_at >= 0) r.diverged_at += first.iterations;
  r.message = fmt::format("float32 evaluations reached their rounding at iteration {} (|g| = {:.3g}), float64 from "
                          "there: {}",
                          first.iterations, double(first.gradient_norm), r.message);
  if (callback) callback->on_end(r);
  return r;
}

}  // namespace

template <class T>
Result<T> fit_full_batch(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, Method method,
                         const MinimizeOptions& options, double l2, Callback<T>* callback,
                         dist::Communicator* communicator) {
  DESCENT_REQUIRE(x.size() == model.num_parameters(),
          fmt::format("fit_full_batch: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  // One Linear layer on one process: the fused pass over the float32
  // features (nn/affine_objective.hpp), with no copy of the data.
  if (!communicator && nn::AffineObjective<T>::supports(model))
    return fit_affine(model, x, training, method, options, l2, callback);
  const Table<T> table(training);
  // Evaluation mode: a deterministic objective (no dropout; batch norm with
  // its running statistics), as line searches need.
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows,
                                  {.chunk_rows = evaluation_chunk_rows(training),
                                   .training = false,
                                   .l2 = l2,
                                   .sum = communicator != nullptr});
  if (!communicator) {
    auto any = AnyObjective<T>::reference(objective);
    return minimize<T>(any, x, method, options, callback);
  }
  require(!std::isfinite(options.stop.time_limit),
          "a distributed full-batch solver takes no time limit: the ranks' clocks would stop them at different "
          "iterations");
  std::int64_t total_rows = training.rows;
  communicator->allreduce_sum(std::span<std::int64_t>(&total_rows, 1));
  std::string layout;
  for (const Segment& s : model.layout().segments()) layout += fmt::format("{}:{};", s.name, s.length);
  dist::handshake(*communicator,
                  {{"the parameter count", model.num_parameters()},
                   {"the model's layers (a hash of their names and sizes)",
                    static_cast<std::int64_t>(dist::hash_string(layout))},
                   {"the features per sample", training.features},
                   {"the targets per sample", training.targets},
                   {"the method", static_cast<std::int64_t>(method)},
                   {"l2 (its bits)", bits_of(l2)},
                   {"the gradient tolerance (its bits)", bits_of(options.stop.gradient_tolerance)},
                   {"the iteration limit", options.stop.max_iterations},
                   {"the starting parameters (a hash)",
                    static_cast<std::int64_t>(dist::hash_bytes(
                        std::as_bytes(std::span<const T>(x.data(), static_cast<std::size_t>(x.size())))))}});
  detail::AllreducedObjective<T> sharded(objective, *communicator, total_rows);
  auto any = AnyObjective<T>::reference(sharded);
  return minimize<T>(any, x, method, options, callback);
}

template Result<float> fit_full_batch<float>(nn::Model<float>&, Vector<float>&, const data::Dataset&, Method,
                                             const MinimizeOptions&, double, Callback<float>*, dist::Communicator*);
template Result<double> fit_full_batch<double>(nn::Model<double>&, Vector<double>&, const data::Dataset&, Method,
                                               const MinimizeOptions&, double, Callback<double>*, dist::Communicator*);

}  // namespace descent::train
