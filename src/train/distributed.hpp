// Internal: data-parallel training (a Concern of the loop, and the step's
// arithmetic in a distributed run): the options checked, the ranks'
// handshake, the gradient of a global batch and the sharded update
// (data_parallel.hpp), the agreement on stopping, local SGD's averaging,
// and the end of the run (averaged buffers, the optimizer's whole state
// gathered). docs/distributed.md describes both modes.
#pragma once

#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "data_parallel.hpp"
#include "descent/dist/communicator.hpp"
#include "descent/dist/shard.hpp"
#include "descent/optim/schedule.hpp"
#include "divergence_guard.hpp"
#include "loop.hpp"
#include "saved_files.hpp"

namespace descent::train::detail {

// What kind of run the options ask for, checked.
struct DistributedRun {
  bool on = false;
  Index sync_every = 0;
  Index rows_per_epoch = 0;  // the rows one epoch's loop walks through
  bool synchronous() const { return on && sync_every == 0; }
  bool local_sgd() const { return on && sync_every > 0; }
};

inline DistributedRun distributed_run(const TrainOptions& o, const data::Dataset& training) {
  DistributedRun d;
  d.rows_per_epoch = training.rows;
  DESCENT_REQUIRE(o.sync_every >= 0, fmt::format("sync_every = {}, expected >= 0", o.sync_every));
  require((o.communicator == nullptr) == (o.shard == nullptr),
          "a data-parallel run needs both a communicator and the rank's shard (TrainOptions::communicator, shard)");
  if (!o.communicator) {
    require(o.sync_every == 0 && !o.sync_state, "sync_every and sync_state need a communicator (local SGD)");
    return d;
  }
  const dist::Shard& shard = *o.shard;
  DESCENT_REQUIRE(static_cast<Index>(shard.rows.size()) == training.rows,
          fmt::format("the training set given has {} rows, this rank's shard {}", training.rows, shard.rows.size()));
  for (const Index r : shard.rows)
    DESCENT_REQUIRE(r >= 0 && r < shard.total_rows, fmt::format("the shard holds row {} of {}", r, shard.total_rows));
  d.on = true;
  d.sync_every = o.sync_every;
  d.rows_per_epoch = shard.total_rows;
  if (o.sync_every > 0) {
    DESCENT_REQUIRE(o.checkpoint_every % o.sync_every == 0,
            fmt::format("local SGD checkpoints where the ranks' weights are averaged: checkpoint_every = {} must be "
                        "a multiple of sync_every = {}",
                        o.checkpoint_every, o.sync_every));
    require(!optim::is_plateau_spec(o.schedule), "local SGD (sync_every > 0) does not take a plateau schedule");
    require(o.on_divergence == TrainOptions::OnDivergence::stop && o.divergence_factor == 0,
            "local SGD (sync_every > 0) takes neither the divergence rollback nor divergence_factor: its ranks see "
            "different losses");
    d.rows_per_epoch = shard.total_rows / o.communicator->size();  // the smallest shard
  }
  return d;
}

inline std::int64_t bits_of(double v) {
  std::int64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Every rank must run the same model on the same data with the same
// settings: compared once, before the first collective of the loop.
template <class T>
void handshake(dist::Communicator& comm, const nn::Model<T>& model, const Vector<T>& x, const data::Dataset& training,
               const data::Dataset* validation, optim::Stepper<T>& stepper, const TrainOptions& o,
               const DistributedRun& d) {
  std::string layout;
  for (const Segment& s : model.layout().segments()) layout += fmt::format("{}:{};", s.name, s.length);
  const auto hash = [](const std::string& v) { return static_cast<std::int64_t>(dist::hash_string(v)); };
  const auto values = std::as_bytes(std::span<const T>(x.data(), static_cast<std::size_t>(x.size())));
  dist::handshake(comm, {{"the parameter count", model.num_parameters()},
                         {"the model's layers (a hash of their names and sizes)", hash(layout)},
                         {"the loss", hash(model.loss().name())},
                         {"the features per sample", training.features},
                         {"the targets per sample", training.targets},
                         {"the training rows in all", o.shard->total_rows},
                         {"a validation set", validation != nullptr},
                         {"the optimizer", hash(stepper.name())},
                         {"the batch size", o.batch_size},
                         {"the epochs", o.epochs},
                         {"the seed", static_cast<std::int64_t>(o.seed)},
                         {"the learning rate (its bits)", bits_of(o.lr)},
                         {"l2 (its bits)", bits_of(o.l2)},
                         {"the schedule", hash(o.schedule)},
                         {"the early-stopping patience", o.patience},
                         {"the checkpoint interval", o.checkpoint_every},
                         {"sync_every", d.sync_every},
                         {"sync_state", o.sync_state},
                         {"optimizer sharding", o.shard_optimizer},
                         {"the starting parameters (a hash; after --resume, the checkpoint's)",
                          static_cast<std::int64_t>(dist::hash_bytes(values))}});
}

// A full-batch objective over sharded data: each rank sums value and
// gradient over its rows, one allreduce adds [gradient..., value], and the

template <class T>
class Synchronization final : public Concern<T> {
 public:
  using Stops = typename DataParallel<T>::Stops;

  Synchronization(Run<T>& run, const DistributedRun& d)
      : d_(d), parallel_(*run.options.communicator, *run.options.shard, run.objective, run.options.batch_size,
                         run.options.seed) {
    run.sync = this;
    run.lead = parallel_.lead();
  }
  bool local_sgd() const { return d_.local_sgd(); }
  bool sharded() const { return sharded_; }
  DataParallel<T>& parallel() { return parallel_; }

  void on_run_start(Run<T>& run) override {
    const TrainOptions& o = run.options;
    // Local SGD: each rank shuffles its own rows with a stream of its own
    // (a checkpoint holds each rank's).
    if (local_sgd() && o.resume.empty())
      run.shuffle.reseed(o.seed ^ (0x2545f4914f6cdd1dULL * std::uint64_t(o.communicator->rank() + 1)));
    handshake(*o.communicator, run.model, run.x, run.training, run.validation, run.stepper, o, d_);
    // Optimizer sharding: `active` takes the steps (this rank's slice of
    // the update), the caller's stepper gets the whole state back before a
    // checkpoint and at the end.
    sharded_ = d_.synchronous() && o.shard_optimizer && parallel_.shard_optimizer(run.stepper);
    run.active = &parallel_.stepper(run.stepper);
    if (local_sgd()) synced_ = run.x;
  }

  // The step's loss and gradient: over the global batch (synchronous), or
  // over the rank's own batch (local SGD).
  void gradient(Run<T>& run, Step<T>& s) {
    parallel_.seed_dropout(run.loop.steps);
    if (sharded_) {
      const auto gradient = parallel_.sharded_gradient(run.x, s.rows);  // this rank's slice of it
      s.loss = gradient.loss;
      s.gradient_norm = gradient.gradient_norm;
      return;
    }
    s.loss = d_.synchronous() ? parallel_.gradient(run.x, run.g, s.rows)
                              : run.objective.value_and_gradient(run.x, run.g, s.rows);
    s.gradient_norm = double(run.g.norm());
  }

  // A sharded step: this rank's slice, then x whole again from every rank's.
  void sharded_update(Run<T>& run, Step<T>& s) {
    const auto update = parallel_.sharded_step(run.x, static_cast<T>(s.lr), s.gradient_norm);
    s.finite = update.finite;
    s.update_norm = update.update_norm;
  }

  // Local SGD, after each step: a rank that diverged stops every rank, on
  // the weights of the last averaging; every sync_every steps the ranks
  // average their weights.
  void after_update(Run<T>& run, DivergenceGuard<T>& guard) {
    if (!local_sgd()) return;
    if (parallel_.agree({.diverged = run.stopped}).diverged) {
      if (!run.stopped)
        guard.diverged_elsewhere(run, fmt::format("another rank's loss, gradient or weights became non-finite at "
                                                  "step {} (epoch {})",
                                                  run.loop.steps + 1, run.loop.epoch));
      run.x = synced_;
      run.result.message += " (local SGD: the weights of the last averaging)";
      return;
    }
    if ((run.loop.steps + 1) % d_.sync_every == 0) average(run);
  }

  // Every rank stops at the same step: when any callback or interrupt, or
  // rank 0's clock, says so (local SGD: an interrupt at the next step that
  // averages the weights).
  StopRequests agree_step(const Run<T>& run, StopRequests mine, bool mid_epoch) {
    const auto agreed = parallel_.agree({.callback = mine.callback, .time = mine.time, .interrupt = mine.interrupt});
    return {.callback = agreed.callback,
            .time = agreed.time,
            .interrupt = mid_epoch && agreed.interrupt && (!local_sgd() || run.loop.steps % d_.sync_every == 0)};
  }
  Stops agree(Stops mine) { return parallel_.agree(mine); }

  // Local SGD: the epoch ends on averaged weights and the loss over every
  // rank's rows.
  void end_epoch(Run<T>& run) {
    if (!local_sgd()) return;
    average(run);
    LoopState& l = run.loop;
    double sums[2] = {l.loss_sum, double(l.seen)};
    parallel_.sum(std::span<double>(sums, 2));
    l.processed += Index(sums[1]) - l.seen;
    l.loss_sum = sums[0];
    l.seen = Index(sums[1]);
  }

  // Rank 0 alone evaluates the validation set; every rank gets its figures.
  void share_validation(double& loss, double& accuracy) { parallel_.share_from_lead(loss, accuracy); }

  // Before a checkpoint (a collective): the caller's stepper gets the whole
  // state, and in local SGD rank 0 gets every rank's own state.
  std::optional<LocalSgdCheckpoint> prepare_checkpoint(Run<T>& run) {
    if (sharded_) parallel_.gather_state(run.stepper);
    if (!local_sgd()) return std::nullopt;
    return LocalSgdCheckpoint{.ranks = parallel_.size(),
                              .sync_every = d_.sync_every,
                              .rank_states = parallel_.communicator().gather_bytes(local_state(run.stepper, run.loop), 0)};
  }
  std::optional<LocalSgdResume> resume_as(const Run<T>& run) const {
    if (!local_sgd()) return std::nullopt;
    return LocalSgdResume{.rank = parallel_.rank(), .ranks = parallel_.size(), .sync_every = d_.sync_every,
                          .rows = run.training.rows};
  }

  // Local SGD ends on averaged weights; batch norm's running statistics
  // (each rank's own batches) are averaged in either mode.
  void on_run_end(Run<T>& run) override {
    if (local_sgd() && run.result.status != Status::diverged)
      parallel_.average(run.x, run.options.sync_state ? &run.stepper : nullptr);
    Vector<T>& buffers = run.model.buffers();
    if (buffers.size() > 0) parallel_.average(std::span<T>(buffers.data(), static_cast<std::size_t>(buffers.size())));
    if (sharded_) parallel_.gather_state(run.stepper);  // the caller's stepper ends with the whole state
    run.result.ranks = parallel_.size();
    run.result.optimizer_sharded = sharded_;
    run.result.communication_seconds = parallel_.communication_seconds();
  }

 private:
  void average(Run<T>& run) {
    parallel_.average(run.x, run.options.sync_state ? &run.stepper : nullptr);
    synced_ = run.x;
  }

  DistributedRun d_;
  DataParallel<T> parallel_;
  bool sharded_ = false;
  Vector<T> synced_;  // local SGD: x at the last averaging
};

template <class T>
class AllreducedObjective {
 public:
  AllreducedObjective(nn::ModelObjective<T>& local, dist::Communicator& comm, Index total_rows)
      : local_(local), comm_(comm), total_(static_cast<T>(total_rows)), buffer_(local.size() + 1) {}
  Index size() const { return local_.size(); }
  T value_and_gradient(ConstVectorRef<T> x, VectorRef<T> g) {
    const Index n = size();
    auto sums = buffer_.head(n);
    buffer_[n] = local_.value_and_gradient(x, sums);
    comm_.allreduce_sum(std::span<T>(buffer_.data(), static_cast<std::size_t>(buffer_.size())));
    g = sums / total_;
    return buffer_[n] / total_ + local_.penalty(x.data(), g.data());
  }
  T value(ConstVectorRef<T> x) {
    T v = local_.value(x);
    comm_.allreduce_sum(std::span<T>(&v, 1));
    return v / total_ + local_.penalty(x.data(), nullptr);
  }

 private:
  nn::ModelObjective<T>& local_;
  dist::Communicator& comm_;
  T total_;
  Vector<T> buffer_;
};


}  // namespace descent::train::detail
