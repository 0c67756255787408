// Internal: the caller's TrainCallback (a Concern of the loop). It sees
// every step and every epoch, and returning false stops the run
// (Status::stopped_by_callback); in a distributed run every rank stops at
// the same step when any rank's callback says so.
#pragma once

#include <fmt/format.h>

#include "distributed.hpp"
#include "loop.hpp"

namespace descent::train::detail {

template <class T>
class Observer final : public Concern<T> {
 public:
  void on_step_end(Run<T>& run, const Step<T>&) override {
    if (run.callback && !run.callback->on_step(run.last)) run.requests.callback = true;
  }

  void on_epoch_end(Run<T>& run, const EpochRecord& e) override {
    bool stop = run.callback && !run.callback->on_epoch(e);
    if (run.sync) stop = run.sync->agree({.callback = stop}).callback;
    if (stop) run.stop(Status::stopped_by_callback, fmt::format("stopped by a callback after epoch {}", e.epoch));
  }
};

}  // namespace descent::train::detail
