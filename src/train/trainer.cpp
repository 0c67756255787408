#include "descent/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "descent/core/any_objective.hpp"
#include "descent/optim/schedule.hpp"

namespace descent::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A data set's values as T: a view for float, a converted copy otherwise.
template <class T>
struct Table {
  explicit Table(const data::Dataset& d) {
    if constexpr (std::is_same_v<T, float>) {
      x = d.x.data();
      y = d.y.data();
    } else {
      x_copy.assign(d.x.begin(), d.x.end());
      y_copy.assign(d.y.begin(), d.y.end());
      x = x_copy.data();
      y = y_copy.data();
    }
  }
  std::vector<T> x_copy, y_copy;
  const T* x = nullptr;
  const T* y = nullptr;
};

// Checks that the data set fits the model: feature count, target width and,
// for class labels, their range.
template <class T>
void require_fits(const nn::Model<T>& model, const data::Dataset& d, const char* what) {
  d.validate();
  require(d.rows >= 1, fmt::format("the {} set has no rows", what));
  const Index in = model.input_shape().size(), out = model.output_shape().size();
  require(d.features == in, fmt::format("the {} set has {} features per sample; the model takes {} (input {})", what,
                                        d.features, in, model.input_shape().str()));
  const Index width = model.loss().target_width(out);
  require(d.targets == width, fmt::format("the {} set has {} target values per sample; loss {} on {} outputs takes {}",
                                          what, d.targets, model.loss().name(), out, width));
}

}  // namespace

template <class T>
Evaluation evaluate(nn::Model<T>& model, const Vector<T>& x, const data::Dataset& d, Index chunk_rows) {
  require_fits(model, d, "evaluation");
  require(x.size() == model.num_parameters(),
          fmt::format("evaluate: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require(chunk_rows >= 1, fmt::format("evaluate: chunk_rows = {}, expected >= 1", chunk_rows));
  const Table<T> table(d);
  const Index out = model.output_shape().size(), width = d.targets;
  const nn::LossKind kind = model.loss().kind;
  const bool by_class = kind == nn::LossKind::cross_entropy || (kind == nn::LossKind::bce && out == 1);

  Evaluation e;
  e.rows = d.rows;
  if (by_class) {
    e.classes = kind == nn::LossKind::cross_entropy ? out : 2;
    e.confusion.assign(static_cast<std::size_t>(e.classes * e.classes), 0);
  }
  autograd::Tape<T> tape;
  autograd::NoGradGuard<T> no_grad(tape);
  Rng rng(0);
  std::vector<Index> labels;
  double loss_sum = 0, squared_error = 0, target_sum = 0, target_squares = 0;
  Index right = 0;
  for (Index first = 0; first < d.rows; first += chunk_rows) {
    const Index count = std::min(chunk_rows, d.rows - first);
    tape.reset();
    const T* targets = table.y + first * width;
    labels.resize(static_cast<std::size_t>(count));
    if (kind == nn::LossKind::cross_entropy)
      for (Index i = 0; i < count; ++i) {
        const T v = targets[i];
        require(v >= 0 && v < static_cast<T>(out) && v == std::floor(v),
                fmt::format("the label of sample {} is {}, expected an integer in [0, {})", first + i, v, out));
        labels[static_cast<std::size_t>(i)] = static_cast<Index>(v);
      }
    const auto batch = tape.constant(table.x + first * d.features, {count, d.features});
    const auto output = model.forward(tape, x.data(), nullptr, batch, false, rng);
    loss_sum += double(nn::apply_loss(model.loss(), output, targets, std::span<const Index>(labels)).item()) * count;
    const T* o = output.data();
    for (Index i = 0; i < count; ++i) {
      if (by_class) {
        Index predicted = 0, truth = 0;
        if (kind == nn::LossKind::cross_entropy) {
          for (Index k = 1; k < out; ++k)
            if (o[i * out + k] > o[i * out + predicted]) predicted = k;
          truth = labels[static_cast<std::size_t>(i)];
        } else {
          predicted = o[i] > 0 ? 1 : 0;
          truth = targets[i] >= T(0.5) ? 1 : 0;
        }
        right += predicted == truth;
        ++e.confusion[static_cast<std::size_t>(truth * e.classes + predicted)];
      } else {
        for (Index k = 0; k < width; ++k) {
          const double t = targets[i * width + k], r = double(o[i * out + k]) - t;
          squared_error += r * r;
          target_sum += t;
          target_squares += t * t;
        }
      }
    }
  }
  e.loss = loss_sum / double(d.rows);
  if (by_class) {
    e.accuracy = double(right) / double(d.rows);
  } else {
    const double values = double(d.rows * width);
    e.mse = squared_error / values;
    const double total = target_squares - target_sum * target_sum / values;  // sum of (t - mean t)^2
    e.r2 = total > 0 ? 1 - squared_error / total : std::numeric_limits<double>::quiet_NaN();
  }
  return e;
}

template <class T>
TrainResult fit(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, const data::Dataset* validation,
                optim::Stepper<T>& stepper, const TrainOptions& o, TrainCallback* callback) {
  require(o.epochs >= 1, fmt::format("epochs = {}, expected >= 1", o.epochs));
  require(o.batch_size >= 1, fmt::format("batch_size = {}, expected >= 1", o.batch_size));
  require(std::isfinite(o.lr) && o.lr >= 0, fmt::format("lr = {}, expected a finite value >= 0", o.lr));
  require(o.patience >= 0, fmt::format("patience = {}, expected >= 0", o.patience));
  require(o.patience == 0 || validation != nullptr, "early stopping (patience > 0) needs a validation set");
  require(x.size() == model.num_parameters(),
          fmt::format("fit: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  if (validation) require_fits(model, *validation, "validation");

  const Table<T> table(training);
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows,
                                  {.chunk_rows = o.chunk_rows, .training = true, .seed = o.seed, .l2 = o.l2});
  const Index n = training.rows, batch = std::min(o.batch_size, n);
  const Index steps_per_epoch = (n + batch - 1) / batch;
  const optim::Schedule schedule =
      o.schedule.empty() ? optim::Schedule() : optim::parse_schedule(o.schedule, o.epochs * steps_per_epoch);

  // Everything a step touches is allocated here, once.
  Rng rng(o.seed ^ 0x9e3779b97f4a7c15ULL);  // a stream apart from the dropout masks'
  std::vector<Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Index(0));
  Vector<T> g(x.size()), previous(x.size());
  Vector<T> best = o.patience > 0 ? Vector<T>(x) : Vector<T>();

  TrainResult r;
  const auto start = Clock::now();
  Index since_best = 0, processed = 0;
  bool stop = false;
  for (Index epoch = 1; epoch <= o.epochs && !stop; ++epoch) {
    const auto epoch_start = Clock::now();
    data::shuffle(order, rng);
    double loss_sum = 0;
    Index seen = 0;
    StepRecord step;
    for (Index first = 0; first < n; first += batch) {
      const Index count = std::min(batch, n - first);
      const std::span<const Index> rows(order.data() + first, static_cast<std::size_t>(count));
      const T loss = objective.value_and_gradient(x, g, rows);
      const double gradient_norm = double(g.norm());
      step.lr = schedule.lr(o.lr, r.steps);
      if (!std::isfinite(double(loss)) || !std::isfinite(gradient_norm)) {
        r.status = Status::diverged;
        r.diverged_at_step = r.steps + 1;
        r.message = fmt::format("the loss or its gradient is not finite at step {} (epoch {}): loss {}, |g| {}; "
                                "the weights are those before that step",
                                r.steps + 1, epoch, double(loss), gradient_norm);
        stop = true;
        break;
      }
      previous = x;
      stepper.step(x, g, static_cast<T>(step.lr));
      if (!x.allFinite()) {
        x = previous;
        r.status = Status::diverged;
        r.diverged_at_step = r.steps + 1;
        r.message = fmt::format("step {} (epoch {}) made the weights non-finite at learning rate {}; "
                                "the weights are those before that step",
                                r.steps + 1, epoch, step.lr);
        stop = true;
        break;
      }
      ++r.steps;
      loss_sum += double(loss) * double(count);
      seen += count;
      processed += count;
      step.epoch = epoch;
      step.step = r.steps;
      step.loss = double(loss);
      step.gradient_norm = gradient_norm;
      step.update_norm = double((x - previous).norm());
      step.seconds = seconds_since(start);
      if (callback && !callback->on_step(step)) {
        r.status = Status::stopped_by_callback;
        r.message = fmt::format("stopped by a callback at step {}", r.steps);
        stop = true;
        break;
      }
      if (step.seconds > o.time_limit) {
        r.status = Status::time_limit;
        r.message = fmt::format("time limit of {} s reached at step {} (epoch {})", o.time_limit, r.steps, epoch);
        stop = true;
        break;
      }
    }
    if (seen == 0) break;  // diverged on the first step of an epoch

    // The epoch's record, validation and early stopping.
    EpochRecord e;
    e.epoch = epoch;
    e.steps = r.steps;
    e.train_loss = loss_sum / double(seen);
    e.gradient_norm = step.gradient_norm;
    e.update_norm = step.update_norm;
    e.lr = step.lr;
    const double epoch_seconds = seconds_since(epoch_start);
    e.samples_per_second = double(seen) / epoch_seconds;
    if (validation) {
      const Evaluation v = evaluate(model, x, *validation, o.chunk_rows);
      e.validation_loss = v.loss;
      e.validation_accuracy = v.accuracy;
      if (r.best_epoch == 0 || v.loss < r.best_validation_loss) {
        r.best_epoch = epoch;
        r.best_validation_loss = v.loss;
        since_best = 0;
        if (o.patience > 0) best = x;
      } else {
        ++since_best;
      }
    }
    e.seconds = seconds_since(start);
    r.epochs = epoch;
    r.train_loss = e.train_loss;
    r.history.push_back(e);
    if (stop) break;
    if (callback && !callback->on_epoch(e)) {
      r.status = Status::stopped_by_callback;
      r.message = fmt::format("stopped by a callback after epoch {}", epoch);
      break;
    }
    if (o.patience > 0 && since_best >= o.patience) {
      x = best;
      r.status = Status::converged_value;
      r.message = fmt::format("early stopping: the validation loss did not improve for {} epochs; restored the "
                              "weights of epoch {} (validation loss {:.6g})",
                              o.patience, r.best_epoch, r.best_validation_loss);
      break;
    }
  }
  r.seconds = seconds_since(start);
  r.samples_per_second = r.seconds > 0 ? double(processed) / r.seconds : 0;
  if (r.message.empty()) r.message = fmt::format("trained {} epochs ({} steps)", r.epochs, r.steps);
  return r;
}

template <class T>
Result<T> fit_full_batch(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, Method method,
                         const MinimizeOptions& options, double l2, Callback<T>* callback) {
  require(x.size() == model.num_parameters(),
          fmt::format("fit_full_batch: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  const Table<T> table(training);
  // Evaluation mode: a deterministic objective (no dropout; batch norm with
  // its running statistics), as line searches need.
  nn::ModelObjective<T> objective(model, table.x, table.y, training.rows, {.training = false, .l2 = l2});
  auto any = AnyObjective<T>::reference(objective);
  return minimize<T>(any, x, method, options, callback);
}

#define DESCENT_INSTANTIATE(T)                                                                                     \
  template TrainResult fit<T>(nn::Model<T>&, Vector<T>&, const data::Dataset&, const data::Dataset*,              \
                              optim::Stepper<T>&, const TrainOptions&, TrainCallback*);                            \
  template Result<T> fit_full_batch<T>(nn::Model<T>&, Vector<T>&, const data::Dataset&, Method,                   \
                                       const MinimizeOptions&, double, Callback<T>*);                              \
  template Evaluation evaluate<T>(nn::Model<T>&, const Vector<T>&, const data::Dataset&, Index);
DESCENT_INSTANTIATE(float)
DESCENT_INSTANTIATE(double)

}  // namespace descent::train
