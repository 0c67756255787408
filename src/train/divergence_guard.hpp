// Internal: the divergence guard (a Concern of the loop). A step diverges
// when its loss or gradient is not finite, when it makes the weights
// non-finite, or (divergence_factor > 0) when the smoothed loss exceeds
// divergence_factor times the lowest so far. The step is not taken: the
// run stops with Status::diverged, or (rollback) the last good snapshot
// comes back at half the learning rate and the run goes on with the next
// batch, at most max_rollbacks times (TrainOptions::on_divergence).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "loop.hpp"

namespace descent::train::detail {

template <class T>
class Snapshot final : public optim::StateVisitor<T> {
 public:
  void capture(const Vector<T>& x, optim::Stepper<T>& stepper, const Vector<T>& buffers, Index step) {
    x_ = x;
    buffers_ = buffers;
    restoring_ = false;
    visit(stepper);
    step_ = step;
  }
  void restore(Vector<T>& x, optim::Stepper<T>& stepper, Vector<T>& buffers) {
    x = x_;
    buffers = buffers_;
    restoring_ = true;
    visit(stepper);
  }
  Index step() const { return step_; }

  void vector(std::string_view, Vector<T>& v) override {
    if (restoring_) {
      v = vectors_[next_vector_];
    } else if (next_vector_ == vectors_.size()) {
      vectors_.push_back(v);
    } else {
      vectors_[next_vector_] = v;
    }
    ++next_vector_;
  }
  void scalar(std::string_view, double& v) override { slot(scalars_, next_scalar_++, v); }
  void counter(std::string_view, std::int64_t& v) override { slot(counters_, next_counter_++, v); }

 private:
  void visit(optim::Stepper<T>& stepper) {
    next_vector_ = next_scalar_ = next_counter_ = 0;
    stepper.visit_state(*this);
  }
  template <class V>
  void slot(std::vector<V>& store, std::size_t i, V& v) {
    if (restoring_) {
      v = store[i];
    } else if (i == store.size()) {
      store.push_back(v);
    } else {
      store[i] = v;
    }
  }

  Vector<T> x_, buffers_;
  std::vector<Vector<T>> vectors_;
  std::vector<double> scalars_;
  std::vector<std::int64_t> counters_;
  std::size_t next_vector_ = 0, next_scalar_ = 0, next_counter_ = 0;
  bool restoring_ = false;
  Index step_ = 0;
};

template <class T>
class DivergenceGuard final : public Concern<T> {
 public:
  explicit DivergenceGuard(const TrainOptions& o)
      : options_(o), rollback_(o.on_divergence == TrainOptions::OnDivergence::rollback) {}

  // The state a resumed run starts from, or a checkpoint was just taken
  // of: the next rollback comes back to it.
  void capture(Run<T>& run) {
    if (rollback_) snapshot_.capture(run.x, *run.active, run.model.buffers(), run.loop.steps);
  }

  void on_run_start(Run<T>& run) override { capture(run); }

  Verdict on_gradient(Run<T>& run, Step<T>& s) override {
    if (!std::isfinite(double(s.loss)) || !std::isfinite(s.gradient_norm))
      return diverge(run, fmt::format("the loss or its gradient is not finite at step {} (epoch {}): loss {}, |g| {}",
                                      run.loop.steps + 1, run.loop.epoch, double(s.loss), s.gradient_norm));
    return options_.divergence_factor > 0 ? check_smoothed(run, double(s.loss)) : Verdict::take;
  }

  Verdict on_update(Run<T>& run, Step<T>& s) override {
    if (s.finite) return Verdict::take;
    return diverge(run, fmt::format("step {} (epoch {}) made the weights non-finite at learning rate {}",
                                    run.loop.steps + 1, run.loop.epoch, s.lr));
  }

  void on_step_end(Run<T>& run, const Step<T>&) override {
    if (run.loop.steps % options_.snapshot_every == 0) capture(run);
  }

  // The run's end for a run stopped elsewhere (local SGD: another rank
  // diverged): the same record as a divergence here.
  void diverged_elsewhere(Run<T>& run, std::string why) { diverge(run, std::move(why)); }

 private:
  // (refused in local SGD, whose ranks see different losses)
  Verdict check_smoothed(Run<T>& run, double loss) {
    LoopState& l = run.loop;
    const double smoothed = l.smoothed_steps == 0 ? loss : 0.9 * l.smoothed_loss + 0.1 * loss;
    if (l.smoothed_steps > 0 && l.best_smoothed_loss > 0 && smoothed > options_.divergence_factor * l.best_smoothed_loss)
      return diverge(run, fmt::format("the loss is exploding at step {} (epoch {}): its moving average {:.6g} is over "
                                      "{} times the lowest so far, {:.6g}",
                                      l.steps + 1, l.epoch, smoothed, options_.divergence_factor,
                                      l.best_smoothed_loss));
    l.best_smoothed_loss = l.smoothed_steps == 0 ? smoothed : std::min(l.best_smoothed_loss, smoothed);
    l.smoothed_loss = smoothed;
    ++l.smoothed_steps;
    return Verdict::take;
  }

  // A diverging step is not taken. It ends the run, or (rollback) puts
  // back the last good snapshot at half the learning rate.
  Verdict diverge(Run<T>& run, std::string why) {
    LoopState& l = run.loop;
    if (rollback_ && l.rollbacks < options_.max_rollbacks) {
      snapshot_.restore(run.x, *run.active, run.model.buffers());
      ++l.rollbacks;
      l.lr_scale *= 0.5;
      l.smoothed_steps = 0;  // the smoothed loss starts again from the restored weights
      run.result.rollbacks = l.rollbacks;
      if (run.callback)
        run.callback->on_rollback({.rollback = l.rollbacks, .epoch = l.epoch, .step = l.steps + 1,
                                   .restored_step = snapshot_.step(), .lr_scale = l.lr_scale, .reason = why});
      return Verdict::skip;
    }
    run.result.diverged_at_step = l.steps + 1;
    if (rollback_) {
      snapshot_.restore(run.x, *run.active, run.model.buffers());
      why += fmt::format(" after {} rollback{}; the weights are those of the last good snapshot (step {})",
                         l.rollbacks, l.rollbacks == 1 ? "" : "s", snapshot_.step());
    } else {
      why += "; the weights are those before that step";
    }
    run.stop(Status::diverged, std::move(why));
    return Verdict::stop;
  }

  const TrainOptions& options_;
  bool rollback_;
  Snapshot<T> snapshot_;
};

}  // namespace descent::train::detail
