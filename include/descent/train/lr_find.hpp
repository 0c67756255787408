// The learning-rate range test (Smith 2017, "Cyclical learning rates for
// training neural networks"): train for a few hundred mini-batches while
// the rate grows geometrically from lr_min to lr_max, record the
// smoothed loss against the rate, stop once it diverges, and put the
// weights and the stepper's state back as they were.
//
//   auto sgd = optim::make_stepper<float>("momentum", model.layout(), x);
//   auto test = train::lr_range_test(model, x, training, *sgd, {.batch_size = 128, .seed = 1});
//   // test.suggestion: the rate to train with; test.curve: the loss against the rate
//
// Reading the curve: at tiny rates the loss does not move; then it falls,
// fastest at `steepest_lr`; it is lowest at `minimum_lr`, past which the
// steps are too long and it climbs until it diverges. The suggestion is a
// tenth of the minimum's rate (`descent train --lr auto` trains with it):
// on logistic regression over Fashion-MNIST it came within a factor of 3
// of the best rate of a sweep for SGD, momentum and Adam (docs/training.md),
// where the steepest fall was off by up to 5x. It comes from a short run
// whose rate changes every step: treat it as the right decade, not the
// last digit.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "descent/data/dataset.hpp"
#include "descent/nn/model.hpp"
#include "descent/optim/stepper.hpp"

namespace descent::train {

struct RangeTestOptions {
  double lr_min = 1e-7;     // > 0
  double lr_max = 10;       // > lr_min
  Index steps = 200;        // mini-batches; the rate of step k is lr_min (lr_max / lr_min)^(k / (steps - 1)); >= 10
  Index batch_size = 32;    // >= 1
  // The test stops once a moving average of the losses (this weight on
  // the past, bias-corrected) exceeds `divergence` times its lowest.
  double smoothing = 0.98;  // in [0, 1)
  double divergence = 4;    // > 1
  double l2 = 0;            // as TrainOptions::l2
  std::uint64_t seed = 0;   // the batches' order and dropout, as in train::fit
  Index chunk_rows = 4096;
};

struct RangeTestPoint {
  double lr = 0;
  double loss = 0;      // of the mini-batch, before the step at lr
  double smoothed = 0;  // the mean of the losses within steps / 40 points (at least 2) either side
};

struct RangeTestResult {
  std::vector<RangeTestPoint> curve;  // one point per step taken, the rate increasing
  double steepest_lr = std::numeric_limits<double>::quiet_NaN();  // where the smoothed loss falls fastest per decade
  double minimum_lr = std::numeric_limits<double>::quiet_NaN();   // where the smoothed loss is lowest
  double suggestion = std::numeric_limits<double>::quiet_NaN();   // minimum_lr / 10
  double initial_loss = 0;  // smoothed loss of the first step
  double lowest_loss = 0;   // the smoothed curve's minimum
  bool diverged = false;    // stopped early: the loss grew past divergence times its lowest, or was not finite
  std::string message;
};

// Runs the test from x with the stepper. x, the stepper's state and the
// model's buffers are as they were when it returns (or throws). Throws
// descent::invalid_argument for options out of range or a data set that
// does not fit the model.
template <class T>
RangeTestResult lr_range_test(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training,
                              optim::Stepper<T>& stepper, const RangeTestOptions& options);

// Smooths the curve's losses (RangeTestPoint::smoothed) and reads the
// suggestion off it (steepest_lr, minimum_lr, suggestion, initial_loss,
// lowest_loss), for a curve recorded elsewhere too. A curve whose loss
// never fell by a thousandth leaves the rates NaN.
void suggest_learning_rate(RangeTestResult& result);

}  // namespace descent::train
