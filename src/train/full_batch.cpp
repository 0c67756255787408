// train::fit_full_batch: the whole training set as one objective for a
// full-batch solver, on one process or summed over the ranks' shards.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "descent/core/any_objective.hpp"
#include "distributed.hpp"
#include "table.hpp"

namespace descent::train {

using detail::bits_of;
using detail::require_fits;
using detail::Table;

template <class T>
Result<T> fit_full_batch(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, Method method,
                         const MinimizeOptions& options, double l2, Callback<T>* callback,
                         dist::Communicator* communicator) {
  DESCENT_REQUIRE(x.size() == model.num_parameters(),
          fmt::format("fit_full_batch: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  const Table<T> table(training);
  // Evaluation mode: a deterministic objective (no dropout; batch norm with
  // its running statistics), as line searches need. Chunks of about 2 MiB of
  // features: the backward pass of a chunk finds it still in cache, so an
  // evaluation reads the data set from memory once instead of twice (for a
  // linear model, the whole cost).
  const Index chunk = std::clamp<Index>((Index(1) << 18) / std::max<Index>(training.features, 1), 64, 4096);
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows,
                                  {.chunk_rows = chunk, .training = false, .l2 = l2, .sum = communicator != nullptr});
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
