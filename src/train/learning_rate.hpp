// Internal: the learning rate of each step (a Concern of the loop): a
// schedule over the run's steps (optim::parse_schedule), or
// reduce-on-plateau, which takes each epoch's validation loss (the
// training loss without a validation set) and whose state a checkpoint
// keeps. The divergence guard's scale multiplies either.
#pragma once

#include <optional>

#include "descent/optim/schedule.hpp"
#include "loop.hpp"

namespace descent::train::detail {

template <class T>
class LearningRate final : public Concern<T> {
 public:
  LearningRate(const TrainOptions& o, Index steps_per_epoch) : base_(o.lr) {
    if (optim::is_plateau_spec(o.schedule)) {
      plateau_.emplace(o.lr, optim::parse_plateau(o.schedule));
    } else if (!o.schedule.empty()) {
      schedule_ = optim::parse_schedule(o.schedule, o.epochs * steps_per_epoch);
    }
  }
  bool plateau() const { return plateau_.has_value(); }

  // The rate of the step after `steps` steps.
  double lr(const Run<T>& run) const {
    return (plateau_ ? plateau_->lr() : schedule_.lr(base_, run.loop.steps)) * run.loop.lr_scale;
  }

  void on_run_start(Run<T>& run) override {
    if (!plateau_) return;
    if (run.loop.plateau) plateau_->restore(*run.loop.plateau);  // resumed
    run.loop.plateau = plateau_->state();
  }
  void on_epoch_end(Run<T>& run, const EpochRecord& e) override {
    if (!plateau_) return;
    plateau_->report(run.validation ? e.validation_loss : e.train_loss);
    run.loop.plateau = plateau_->state();
  }

 private:
  double base_;
  std::optional<optim::ReduceOnPlateau> plateau_;
  optim::Schedule schedule_;
};

}  // namespace descent::train::detail
