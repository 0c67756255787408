// Internal: checkpoints (a Concern of the loop). A run resumes from
// TrainOptions::resume before anything else starts; it writes
// TrainOptions::checkpoint at the end of every epoch and every
// checkpoint_every steps, and on an interrupt writes it (or
// interrupt_checkpoint) where it stopped. The file's layout is
// saved_files.cpp's alone.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "descent/io/file.hpp"
#include "distributed.hpp"
#include "divergence_guard.hpp"
#include "loop.hpp"
#include "saved_files.hpp"

namespace descent::train::detail {

template <class T>
class Checkpointing final : public Concern<T> {
 public:
  Checkpointing(const TrainOptions& o, DivergenceGuard<T>& guard)
      : options_(o), guard_(guard),
        interrupt_path_(o.checkpoint.empty() ? o.interrupt_checkpoint : o.checkpoint) {}

  // Whether the caller's interrupt flag is up.
  bool interrupted() const { return options_.interrupt && options_.interrupt->load(std::memory_order_relaxed); }

  // The run's state from TrainOptions::resume: the loop's, the weights,
  // early stopping's best weights, the optimizer's and the generators'.
  static void resume(Run<T>& run, bool with_plateau) {
    const std::optional<LocalSgdResume> local = run.sync ? run.sync->resume_as(run) : std::nullopt;
    run.loop = load_checkpoint(run.options.resume, run.model, run.x, run.best, run.stepper, run.epoch_rows,
                               with_plateau, local ? &*local : nullptr);
    run.shuffle.set_state(run.loop.shuffle);
    run.objective.rng().set_state(run.loop.dropout);
  }

  void on_run_start(Run<T>& run) override {
    // What a run killed while writing its checkpoint left beside it.
    if (!options_.checkpoint.empty() && run.lead) io::remove_stale_temporaries(options_.checkpoint);
  }

  void on_step_end(Run<T>& run, const Step<T>& s) override {
    const Index every = options_.checkpoint_every;
    if (options_.checkpoint.empty() || every == 0 || run.loop.steps % every != 0 || !s.mid_epoch) return;
    run.loop.position += s.count;  // the checkpoint resumes after this step
    write(run, options_.checkpoint);
    run.loop.position -= s.count;
  }

  // Resuming from an epoch's checkpoint starts the next epoch (a run given
  // more epochs continues from the last one). An interrupt at the end of
  // an epoch (not the last) stops the run there.
  void on_epoch_end(Run<T>& run, const EpochRecord& e) override {
    if (run.stopped) return;
    ++run.loop.epoch;
    bool interrupt = interrupted();
    if (run.sync) interrupt = run.sync->agree({.interrupt = interrupt}).interrupt;
    if (e.epoch < options_.epochs && interrupt) {
      stop_interrupted(run, e.epoch);  // (its checkpoint is written at the run's end, of the next epoch)
      return;
    }
    if (!options_.checkpoint.empty()) write(run, options_.checkpoint);
    --run.loop.epoch;
  }

  // An interrupted run's checkpoint, of the step boundary where it stopped.
  void on_run_end(Run<T>& run) override {
    if (run.result.status != Status::interrupted || interrupt_path_.empty()) return;
    write(run, interrupt_path_);
    run.result.checkpoint_written = interrupt_path_;
    run.result.message += fmt::format("; checkpoint written to {}", interrupt_path_);
  }

  static void stop_interrupted(Run<T>& run, Index epoch) {
    run.stop(Status::interrupted, fmt::format("interrupted after step {} (epoch {})", run.loop.steps, epoch));
  }

 private:
  void write(Run<T>& run, const std::string& path) {
    run.loop.shuffle = run.shuffle.state();
    run.loop.dropout = run.objective.rng().state();
    const std::optional<LocalSgdCheckpoint> local = run.sync ? run.sync->prepare_checkpoint(run) : std::nullopt;
    if (run.lead)  // rank 0 writes it
      save_checkpoint(path, run.model, run.x, run.best, run.stepper, run.loop, local ? &*local : nullptr);
    // A run resumed from here starts with this snapshot: so does this one.
    guard_.capture(run);
  }

  const TrainOptions& options_;
  DivergenceGuard<T>& guard_;
  std::string interrupt_path_;
};

}  // namespace descent::train::detail
