// Observing and steering a run from outside.
//
// A callback is a small interface whose hooks all default to doing nothing.
// Hooks run once per iteration, so the virtual call is free next to an
// evaluation. The library never owns a callback it did not create.
#pragma once

#include <string_view>
#include <vector>

#include "descent/core/result.hpp"
#include "descent/core/types.hpp"

namespace descent {

// What a callback asks of the run after an iteration.
enum class Control {
  proceed,         // keep going
  stop_converged,  // stop and report Status::stopped_by_callback
  stop_failed,     // stop and report Status::aborted_by_callback
};

struct RunInfo {
  std::string_view method;  // e.g. "lbfgs"
  Index dimension = 0;      // n
};

template <class T>
struct IterationReport {
  Index iteration = 0;            // 0 is the starting point
  T value = T(0);                 // f(x_k)
  T gradient_norm = T(0);         // ||g_k||_2
  T step_length = T(0);           // line-search step alpha_k (or trust radius)
  T step_norm = T(0);             // ||x_k - x_{k-1}||_2
  Index value_evaluations = 0;
  Index gradient_evaluations = 0;
  Index hessian_evaluations = 0;
  double seconds = 0.0;
  const Vector<T>* x = nullptr;   // the current iterate, valid during the call only
};

template <class T>
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_begin(const RunInfo&) {}
  virtual Control on_iteration(const IterationReport<T>&) { return Control::proceed; }
  virtual void on_end(const Result<T>&) {}
};

// Forwards each hook to several callbacks; the first non-proceed answer wins.
template <class T>
class CallbackList final : public Callback<T> {
 public:
  void add(Callback<T>& c) { list_.push_back(&c); }
  bool empty() const { return list_.empty(); }
  void on_begin(const RunInfo& info) override {
    for (auto* c : list_) c->on_begin(info);
  }
  Control on_iteration(const IterationReport<T>& r) override {
    Control answer = Control::proceed;
    for (auto* c : list_) {
      Control a = c->on_iteration(r);
      if (answer == Control::proceed) answer = a;
    }
    return answer;
  }
  void on_end(const Result<T>& r) override {
    for (auto* c : list_) c->on_end(r);
  }

 private:
  std::vector<Callback<T>*> list_;
};

}  // namespace descent
