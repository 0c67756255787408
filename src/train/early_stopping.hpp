// Internal: the best epoch by validation loss, and early stopping (a
// Concern of the loop). With a validation set every epoch's loss is
// compared with the best so far (TrainResult::best_epoch); with patience
// P > 0 the best epoch's weights are kept, and P epochs without a better
// loss stop the run on them (Status::converged_value).
#pragma once

#include <fmt/format.h>

#include "loop.hpp"

namespace descent::train::detail {

template <class T>
class EarlyStopping final : public Concern<T> {
 public:
  explicit EarlyStopping(Index patience) : patience_(patience) {}

  // Before a resume fills them: the best weights have the parameters' size.
  static void prepare(Run<T>& run) {
    if (run.options.patience > 0) run.best = run.x;
  }

  void on_epoch_end(Run<T>& run, const EpochRecord& e) override {
    if (!run.validation) return;
    LoopState& l = run.loop;
    if (l.best_epoch == 0 || e.validation_loss < l.best_validation_loss) {
      l.best_epoch = e.epoch;
      l.best_validation_loss = e.validation_loss;
      l.since_best = 0;
      if (patience_ > 0) run.best = run.x;
    } else {
      ++l.since_best;
    }
    run.result.best_epoch = l.best_epoch;
    run.result.best_validation_loss = l.best_validation_loss;
    if (run.stopped || patience_ == 0 || l.since_best < patience_) return;
    run.x = run.best;
    run.stop(Status::converged_value,
             fmt::format("early stopping: the validation loss did not improve for {} epochs; restored the weights of "
                         "epoch {} (validation loss {:.6g})",
                         patience_, l.best_epoch, l.best_validation_loss));
  }

 private:
  Index patience_;
};

}  // namespace descent::train::detail
