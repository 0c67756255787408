// The learning-rate range test (lr_find.hpp).
#include "descent/train/lr_find.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "descent/core/random.hpp"
#include "descent/nn/objective.hpp"
#include "divergence_guard.hpp"
#include "table.hpp"

namespace descent::train {

namespace {

void check_options(const RangeTestOptions& o) {
  DESCENT_REQUIRE(std::isfinite(o.lr_min) && o.lr_min > 0,
                  fmt::format("lr_min = {}, expected a finite value > 0", o.lr_min));
  DESCENT_REQUIRE(std::isfinite(o.lr_max) && o.lr_max > o.lr_min,
                  fmt::format("lr_max = {}, expected a finite value > lr_min = {}", o.lr_max, o.lr_min));
  DESCENT_REQUIRE(o.steps >= 10, fmt::format("steps = {}, expected >= 10", o.steps));
  DESCENT_REQUIRE(o.batch_size >= 1, fmt::format("batch_size = {}, expected >= 1", o.batch_size));
  DESCENT_REQUIRE(o.smoothing >= 0 && o.smoothing < 1, fmt::format("smoothing = {}, expected in [0, 1)", o.smoothing));
  DESCENT_REQUIRE(std::isfinite(o.divergence) && o.divergence > 1,
                  fmt::format("divergence = {}, expected a finite value > 1", o.divergence));
  DESCENT_REQUIRE(std::isfinite(o.l2) && o.l2 >= 0, fmt::format("l2 = {}, expected a finite value >= 0", o.l2));
  DESCENT_REQUIRE(o.chunk_rows >= 1, fmt::format("chunk_rows = {}, expected >= 1", o.chunk_rows));
}

// Puts x, the stepper's state and the model's buffers back on every way
// out of the test, an exception included.
template <class T>
class Restore {
 public:
  Restore(nn::Model<T>& model, Vector<T>& x, optim::Stepper<T>& stepper)
      : model_(model), x_(x), stepper_(stepper) {
    snapshot_.capture(x, stepper, model.buffers(), 0);
  }
  ~Restore() { snapshot_.restore(x_, stepper_, model_.buffers()); }
  Restore(const Restore&) = delete;
  Restore& operator=(const Restore&) = delete;

 private:
  nn::Model<T>& model_;
  Vector<T>& x_;
  optim::Stepper<T>& stepper_;
  detail::Snapshot<T> snapshot_;
};

}  // namespace

void suggest_learning_rate(RangeTestResult& r) {
  auto& c = r.curve;
  const std::size_t n = c.size();
  r.steepest_lr = r.minimum_lr = r.suggestion = std::numeric_limits<double>::quiet_NaN();
  if (n < 3) return;
  // The smoothed curve: the mean of the losses within n / 40 points (at
  // least 2) either side. A moving average running forward, as the test
  // uses to stop, lags: at 0.98 it reflects the losses of some 50 steps
  // before, which is two decades of the rate in a test of 200 steps, and
  // would put the minimum far to the right of where the loss was lowest.
  const std::size_t half = std::max<std::size_t>(2, n / 40);
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + c[i].loss;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t lo = i >= half ? i - half : 0, hi = std::min(n, i + half + 1);
    c[i].smoothed = (prefix[hi] - prefix[lo]) / double(hi - lo);
  }
  r.initial_loss = c.front().smoothed;
  std::size_t lowest = 0;
  for (std::size_t i = 1; i < n; ++i)
    if (c[i].smoothed < c[lowest].smoothed) lowest = i;
  r.lowest_loss = c[lowest].smoothed;
  // A curve that never fell below its start by a thousandth has no
  // descent to read a rate from.
  if (!(r.lowest_loss < r.initial_loss - 1e-3 * std::abs(r.initial_loss))) return;
  r.minimum_lr = c[lowest].lr;
  // The slope per decade by central differences, over the descent before
  // the minimum.
  const std::size_t first = 1;
  double steepest = 0;
  for (std::size_t i = first; i + 1 < n && i <= lowest; ++i) {
    const double slope = (c[i + 1].smoothed - c[i - 1].smoothed) / std::log10(c[i + 1].lr / c[i - 1].lr);
    if (slope < steepest) {
      steepest = slope;
      r.steepest_lr = c[i].lr;
    }
  }
  if (std::isnan(r.steepest_lr)) r.steepest_lr = r.minimum_lr;
  r.suggestion = r.minimum_lr / 10;
}

template <class T>
RangeTestResult lr_range_test(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training,
                              optim::Stepper<T>& stepper, const RangeTestOptions& o) {
  check_options(o);
  DESCENT_REQUIRE(x.size() == model.num_parameters(),
                  fmt::format("lr_range_test: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  detail::require_fits(model, training, "training");
  Restore<T> restore(model, x, stepper);

  const detail::Table<T> table(training);
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows,
                                  {.chunk_rows = o.chunk_rows, .training = true, .seed = o.seed, .l2 = o.l2});
  Rng shuffle(o.seed ^ 0x9e3779b97f4a7c15ULL);  // train::fit's stream for the batches' order
  std::vector<Index> order(static_cast<std::size_t>(training.rows));
  std::iota(order.begin(), order.end(), Index(0));
  data::shuffle(order, shuffle);
  const Index batch = std::min(o.batch_size, training.rows);
  Index position = 0;
  Vector<T> g(x.size());

  RangeTestResult r;
  r.curve.reserve(static_cast<std::size_t>(o.steps));
  const double log_ratio = std::log(o.lr_max / o.lr_min);
  double average = 0, lowest = std::numeric_limits<double>::infinity();
  std::string why;
  for (Index k = 0; k < o.steps; ++k) {
    if (position + batch > training.rows) {  // whole batches only: every loss is over as many rows
      data::shuffle(order, shuffle);
      position = 0;
    }
    const double lr = o.lr_min * std::exp(log_ratio * double(k) / double(o.steps - 1));
    const std::span<const Index> rows(order.data() + position, static_cast<std::size_t>(batch));
    position += batch;
    const double loss = double(objective.value_and_gradient(x, g, rows));
    if (!std::isfinite(loss) || !g.allFinite()) {
      why = fmt::format("the loss or its gradient was not finite at lr {:.3g}", lr);
      break;
    }
    average = o.smoothing * average + (1 - o.smoothing) * loss;
    const double smoothed = average / (1 - std::pow(o.smoothing, double(k + 1)));
    r.curve.push_back({lr, loss, smoothed});
    lowest = std::min(lowest, smoothed);
    if (smoothed > o.divergence * lowest) {
      why = fmt::format("the moving average of the loss {:.4g} passed {:g} times its lowest {:.4g} at lr {:.3g}", smoothed,
                        o.divergence, lowest, lr);
      break;
    }
    stepper.step(x, g, static_cast<T>(lr));
    if (!x.allFinite()) {
      why = fmt::format("the step at lr {:.3g} made the weights non-finite", lr);
      break;
    }
  }
  r.diverged = !why.empty();
  suggest_learning_rate(r);
  const std::string ran = fmt::format("{} steps from lr {:.3g} to {:.3g}", r.curve.size(), r.curve.empty() ? o.lr_min : r.curve.front().lr,
                                      r.curve.empty() ? o.lr_min : r.curve.back().lr);
  if (std::isnan(r.suggestion)) {
    r.message = fmt::format("{}: the loss never fell{}; {}", ran, r.diverged ? fmt::format(" ({})", why) : "",
                            r.diverged ? "lower lr_min" : "raise lr_max or the number of steps");
  } else {
    r.message = fmt::format("{}{}; suggested lr {:.3g} (steepest fall at {:.3g}, lowest loss at {:.3g})", ran,
                            r.diverged ? fmt::format(", stopped as {}", why) : std::string(), r.suggestion,
                            r.steepest_lr, r.minimum_lr);
  }
  return r;
}

template RangeTestResult lr_range_test<float>(nn::Model<float>&, Vector<float>&, const data::Dataset&,
                                              optim::Stepper<float>&, const RangeTestOptions&);
template RangeTestResult lr_range_test<double>(nn::Model<double>&, Vector<double>&, const data::Dataset&,
                                               optim::Stepper<double>&, const RangeTestOptions&);

}  // namespace descent::train
