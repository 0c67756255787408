// Internal: the plateau report. An epoch is on a plateau when, over it and
// the plateau_epochs - 1 epochs before it, the epoch's mean training loss
// and its mean gradient norm both stayed flat: their range within
// plateau_tolerance, and plateau_gradient_tolerance, of their mean
// (TrainOptions). The loop marks each epoch's record before anyone sees it
// (the progress display, the log, the caller's callback) and the run's
// result says whether it ended on one. It only reports: nothing in the
// run changes.
//
// It keeps no state in checkpoints: a resumed run starts watching afresh,
// and the first epoch after a resume in mid-epoch averages the gradient
// norm over the steps it took after the resume.
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>

#include "descent/train/trainer.hpp"

namespace descent::train::detail {

class PlateauWatch {
 public:
  explicit PlateauWatch(const TrainOptions& o)
      : window_(std::size_t(o.plateau_epochs)), loss_tolerance_(o.plateau_tolerance),
        gradient_tolerance_(o.plateau_gradient_tolerance) {}

  void add_step(double gradient_norm) {
    gradient_sum_ += gradient_norm;
    ++steps_;
  }

  // Fills e.mean_gradient_norm and e.plateau_epochs; returns the first
  // epoch of the plateau e is on (0: none).
  Index close_epoch(EpochRecord& e) {
    e.mean_gradient_norm = steps_ > 0 ? gradient_sum_ / double(steps_) : e.gradient_norm;
    gradient_sum_ = 0;
    steps_ = 0;
    if (window_ < 2) return 0;
    recent_.push_back({e.train_loss, e.mean_gradient_norm});
    if (recent_.size() > window_) recent_.pop_front();
    const bool flat = recent_.size() == window_ && flat_within(&Epoch::loss, loss_tolerance_) &&
                      flat_within(&Epoch::gradient_norm, gradient_tolerance_);
    if (!flat) {
      since_ = 0;
      return 0;
    }
    if (since_ == 0) since_ = e.epoch - Index(window_) + 1;
    e.plateau_epochs = e.epoch - since_ + 1;
    return since_;
  }

 private:
  struct Epoch {
    double loss, gradient_norm;
  };

  bool flat_within(double Epoch::*field, double tolerance) const {
    double lo = recent_.front().*field, hi = lo, sum = 0;
    for (const Epoch& r : recent_) {
      lo = std::min(lo, r.*field);
      hi = std::max(hi, r.*field);
      sum += r.*field;
    }
    const double mean = std::abs(sum / double(recent_.size()));
    return std::isfinite(hi - lo) && hi - lo <= tolerance * std::max(mean, 1e-300);
  }

  std::size_t window_;
  double loss_tolerance_, gradient_tolerance_;
  std::deque<Epoch> recent_;
  double gradient_sum_ = 0;
  Index steps_ = 0;
  Index since_ = 0;  // the first epoch of the plateau in progress
};

}  // namespace descent::train::detail
