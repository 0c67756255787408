// train::fit: epochs of seeded mini-batches with a stepper. The loop below
// is the workflow of gradient descent, a step and an epoch each in one
// screen; what decorates it (checkpoints, the divergence guard, early
// stopping, the schedule, distribution, the caller's callback) is in the
// concerns of loop.hpp, a file each.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "checkpointing.hpp"
#include "distributed.hpp"
#include "divergence_guard.hpp"
#include "early_stopping.hpp"
#include "learning_rate.hpp"
#include "loop.hpp"
#include "observer.hpp"
#include "plateau.hpp"

namespace descent::train {

namespace detail {
namespace {

template <class T>
void check_options(const nn::Model<T>& model, const Vector<T>& x, const data::Dataset& training,
                   const data::Dataset* validation, const TrainOptions& o) {
  DESCENT_REQUIRE(o.epochs >= 1, fmt::format("epochs = {}, expected >= 1", o.epochs));
  DESCENT_REQUIRE(o.batch_size >= 1, fmt::format("batch_size = {}, expected >= 1", o.batch_size));
  DESCENT_REQUIRE(std::isfinite(o.lr) && o.lr >= 0, fmt::format("lr = {}, expected a finite value >= 0", o.lr));
  DESCENT_REQUIRE(o.patience >= 0, fmt::format("patience = {}, expected >= 0", o.patience));
  DESCENT_REQUIRE(o.checkpoint_every >= 0, fmt::format("checkpoint_every = {}, expected >= 0", o.checkpoint_every));
  require(o.patience == 0 || validation != nullptr, "early stopping (patience > 0) needs a validation set");
  DESCENT_REQUIRE(o.divergence_factor == 0 || (std::isfinite(o.divergence_factor) && o.divergence_factor > 1),
          fmt::format("divergence_factor = {}, expected 0 (off) or a finite value > 1", o.divergence_factor));
  DESCENT_REQUIRE(o.max_rollbacks >= 0, fmt::format("max_rollbacks = {}, expected >= 0", o.max_rollbacks));
  DESCENT_REQUIRE(o.snapshot_every >= 1, fmt::format("snapshot_every = {}, expected >= 1", o.snapshot_every));
  DESCENT_REQUIRE(o.plateau_epochs == 0 || o.plateau_epochs >= 2,
                  fmt::format("plateau_epochs = {}, expected 0 (off) or >= 2", o.plateau_epochs));
  DESCENT_REQUIRE(std::isfinite(o.plateau_tolerance) && o.plateau_tolerance > 0,
                  fmt::format("plateau_tolerance = {}, expected a finite value > 0", o.plateau_tolerance));
  DESCENT_REQUIRE(std::isfinite(o.plateau_gradient_tolerance) && o.plateau_gradient_tolerance > 0,
                  fmt::format("plateau_gradient_tolerance = {}, expected a finite value > 0",
                              o.plateau_gradient_tolerance));
  DESCENT_REQUIRE(x.size() == model.num_parameters(),
          fmt::format("fit: {} parameters given, the model has {}", x.size(), model.num_parameters()));
  require_fits(model, training, "training");
  // Rank 0 alone evaluates the validation set: the other ranks of a
  // distributed run may pass one without rows.
  if (validation && (o.communicator == nullptr || o.communicator->rank() == 0))
    require_fits(model, *validation, "validation");
}

Index steps_per_epoch(const DistributedRun& d, const TrainOptions& o) {
  const Index batch = std::min(o.batch_size, d.rows_per_epoch);
  return (d.rows_per_epoch + batch - 1) / batch;
}

template <class T>
class Loop {
 public:
  Loop(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, const data::Dataset* validation,
       optim::Stepper<T>& stepper, const TrainOptions& o, TrainCallback* callback, const DistributedRun& d)
      : run_(model, x, training, validation, stepper, o, callback, d.synchronous()),
        rate_(o, steps_per_epoch(d, o)), guard_(o), checkpointing_(o, guard_), early_stopping_(o.patience),
        plateau_(o) {
    // In local SGD an epoch walks through the rank's own rows, counted as
    // on the smallest shard, so that every rank takes as many steps.
    run_.epoch_rows = d.rows_per_epoch;
    run_.batch = std::min(o.batch_size, run_.epoch_rows);
    if (d.on) sync_.emplace(run_, d);
    if (sync_) concerns_.push_back(&*sync_);
    for (Concern<T>* c : std::initializer_list<Concern<T>*>{&guard_, &checkpointing_, &rate_, &early_stopping_,
                                                            &observer_})
      concerns_.push_back(c);
  }

  TrainResult fit() {
    start();
    LoopState& l = run_.loop;
    while (l.epoch <= run_.options.epochs && !run_.stopped) {
      begin_epoch();
      while (l.position < run_.epoch_rows && !run_.stopped) {
        Step<T> s = next_batch();
        if (take_step(s)) end_step(s);
        if (!run_.stopped) l.position += run_.batch;
      }
      if (!run_.stopped) end_epoch();
      if (!run_.stopped) ++l.epoch;
    }
    finish();
    return std::move(run_.result);
  }

 private:
  // Initialize: the model's weights as given, or a checkpoint's state.
  void start() {
    LoopState& l = run_.loop;
    EarlyStopping<T>::prepare(run_);
    if (!run_.options.resume.empty()) {
      Checkpointing<T>::resume(run_, rate_.plateau());
    } else {
      l.order.resize(static_cast<std::size_t>(sync_ && sync_->local_sgd() ? run_.training.rows : run_.epoch_rows));
      std::iota(l.order.begin(), l.order.end(), Index(0));
    }
    for (Concern<T>* c : concerns_) c->on_run_start(run_);
    TrainResult& r = run_.result;
    r.steps = l.steps;
    r.rollbacks = l.rollbacks;
    r.best_epoch = l.best_epoch;
    if (l.best_epoch > 0) r.best_validation_loss = l.best_validation_loss;
    run_.start = Clock::now();
  }

  void begin_epoch() {
    LoopState& l = run_.loop;
    run_.epoch_start = Clock::now();
    run_.last = StepRecord{};
    if (l.position > 0) return;  // resumed in the middle of the epoch
    data::shuffle(l.order, run_.shuffle);  // the same global order on every rank, or in local SGD each rank's own
    l.loss_sum = 0;
    l.seen = 0;
  }

  Step<T> next_batch() const {
    const LoopState& l = run_.loop;
    const Index n = run_.epoch_rows;
    Step<T> s;
    s.count = std::min(run_.batch, n - l.position);
    // Local SGD: the epoch's last batch takes the rest of the rank's rows.
    if (sync_ && sync_->local_sgd() && l.position + s.count == n) s.count = run_.training.rows - l.position;
    s.rows = std::span<const Index>(l.order.data() + l.position, static_cast<std::size_t>(s.count));
    s.mid_epoch = l.position + s.count < n;
    return s;
  }

  // Forward, loss, gradient, update. Returns whether the step was taken.
  bool take_step(Step<T>& s) {
    if (sync_) {
      sync_->gradient(run_, s);
    } else {
      s.loss = run_.objective.value_and_gradient(run_.x, run_.g, s.rows);
      s.gradient_norm = double(run_.g.norm());
    }
    s.lr = rate_.lr(run_);
    run_.last.lr = s.lr;
    Verdict v = ask(&Concern<T>::on_gradient, s);
    if (v == Verdict::take) {
      update(s);
      v = ask(&Concern<T>::on_update, s);
    }
    if (v == Verdict::skip) return false;
    if (sync_) sync_->after_update(run_, guard_);
    return !run_.stopped;
  }

  void update(Step<T>& s) {
    if (sync_ && sync_->sharded()) return sync_->sharded_update(run_, s);
    run_.previous = run_.x;
    run_.active->step(run_.x, run_.g, static_cast<T>(s.lr));
    s.finite = run_.x.allFinite();
    if (!s.finite) run_.x = run_.previous;
  }

  Verdict ask(Verdict (Concern<T>::*hook)(Run<T>&, Step<T>&), Step<T>& s) {
    for (Concern<T>* c : concerns_)
      if (const Verdict v = (c->*hook)(run_, s); v != Verdict::take) return v;
    return Verdict::take;
  }

  void end_step(const Step<T>& s) {
    LoopState& l = run_.loop;
    run_.result.steps = ++l.steps;
    l.loss_sum += double(s.loss) * double(s.count);
    l.seen += s.count;
    l.processed += s.count;
    plateau_.add_step(s.gradient_norm);
    StepRecord& r = run_.last;
    r.epoch = l.epoch;
    r.step = l.steps;
    r.loss = double(s.loss);
    r.gradient_norm = s.gradient_norm;
    r.update_norm = sync_ && sync_->sharded() ? s.update_norm : double((run_.x - run_.previous).norm());
    r.seconds = seconds_since(run_.start);
    run_.requests = {};
    for (Concern<T>* c : concerns_) c->on_step_end(run_, s);
    settle(s);
  }

  // Check convergence: the stop tests of the step, agreed on by the ranks.
  void settle(const Step<T>& s) {
    LoopState& l = run_.loop;
    StopRequests q = run_.requests;
    q.time = run_.last.seconds > run_.options.time_limit;
    q.interrupt = s.mid_epoch && checkpointing_.interrupted();  // at an epoch's end: its checkpoint first
    if (sync_) q = sync_->agree_step(run_, q, s.mid_epoch);
    if (q.callback) return run_.stop(Status::stopped_by_callback, fmt::format("stopped by a callback at step {}", l.steps));
    if (q.time)
      return run_.stop(Status::time_limit, fmt::format("time limit of {} s reached at step {} (epoch {})",
                                                       run_.options.time_limit, l.steps, l.epoch));
    if (q.interrupt) {
      l.position += s.count;
      Checkpointing<T>::stop_interrupted(run_, l.epoch);
    }
  }

  void end_epoch() {
    LoopState& l = run_.loop;
    if (l.seen == 0) {  // every step of the epoch was rolled back: nothing to report
      l.position = 0;
      return;
    }
    if (sync_) sync_->end_epoch(run_);
    EpochRecord e;
    e.epoch = l.epoch;
    e.steps = l.steps;
    e.train_loss = l.loss_sum / double(l.seen);
    e.gradient_norm = run_.last.gradient_norm;
    e.update_norm = run_.last.update_norm;
    e.lr = run_.last.lr;
    e.samples_per_second = double(l.seen) / seconds_since(run_.epoch_start);
    validate(e);
    run_.result.plateau_since = plateau_.close_epoch(e);
    e.seconds = seconds_since(run_.start);
    run_.result.epochs = l.epoch;
    run_.result.train_loss = e.train_loss;
    run_.result.history.push_back(e);
    l.position = 0;  // the next epoch starts with its shuffle
    for (auto c = concerns_.rbegin(); c != concerns_.rend(); ++c) (*c)->on_epoch_end(run_, e);
  }

  void validate(EpochRecord& e) {
    if (!run_.validation) return;
    Evaluation v;
    if (run_.lead) v = evaluate(run_.model, run_.x, *run_.validation, run_.options.chunk_rows);
    if (sync_) sync_->share_validation(v.loss, v.accuracy);
    e.validation_loss = v.loss;
    e.validation_accuracy = v.accuracy;
  }

  void finish() {
    for (auto c = concerns_.rbegin(); c != concerns_.rend(); ++c) (*c)->on_run_end(run_);
    TrainResult& r = run_.result;
    r.seconds = seconds_since(run_.start);
    r.samples_per_second = r.seconds > 0 ? double(run_.loop.processed) / r.seconds : 0;
    if (r.message.empty())
      r.message = fmt::format("trained {} epoch{} ({} steps)", r.epochs, r.epochs == 1 ? "" : "s", r.steps);
    if (r.plateau_since > 0)
      r.message += fmt::format("; on a plateau since epoch {} (loss and gradient norm flat for {} epochs)",
                               r.plateau_since, r.history.back().plateau_epochs);
    if (r.rollbacks > 0 && r.status != Status::diverged)
      r.message += fmt::format(" after {} rollback{} of the divergence guard (learning rate x{:g})", r.rollbacks,
                               r.rollbacks == 1 ? "" : "s", run_.loop.lr_scale);
  }

  Run<T> run_;
  LearningRate<T> rate_;
  DivergenceGuard<T> guard_;
  Checkpointing<T> checkpointing_;
  EarlyStopping<T> early_stopping_;
  Observer<T> observer_;
  PlateauWatch plateau_;
  std::optional<Synchronization<T>> sync_;
  std::vector<Concern<T>*> concerns_;  // in the order of loop.hpp
};

}  // namespace
}  // namespace detail

template <class T>
TrainResult fit(nn::Model<T>& model, Vector<T>& x, const data::Dataset& training, const data::Dataset* validation,
                optim::Stepper<T>& stepper, const TrainOptions& o, TrainCallback* callback) {
  detail::check_options(model, x, training, validation, o);
  const detail::DistributedRun d = detail::distributed_run(o, training);
  detail::Loop<T> loop(model, x, training, validation, stepper, o, callback, d);
  return loop.fit();
}

template TrainResult fit<float>(nn::Model<float>&, Vector<float>&, const data::Dataset&, const data::Dataset*,
                                optim::Stepper<float>&, const TrainOptions&, TrainCallback*);
template TrainResult fit<double>(nn::Model<double>&, Vector<double>&, const data::Dataset&, const data::Dataset*,
                                 optim::Stepper<double>&, const TrainOptions&, TrainCallback*);

}  // namespace descent::train
