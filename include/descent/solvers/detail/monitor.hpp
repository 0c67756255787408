// Internal: the bookkeeping every solver shares. It applies the stopping
// tests of StopOptions, calls the callback, tracks time, and assembles the
// Result with a message that says why the run stopped, in numbers.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "descent/core/callback.hpp"
#include "descent/core/result.hpp"
#include "descent/core/stopping.hpp"

namespace descent::detail {

struct Counts {
  Index value = 0, gradient = 0, hessian = 0;
};

template <class T>
class Monitor {
 public:
  Monitor(std::string_view method, const StopOptions& stop, Callback<T>* callback, Index n)
      : stop_(stop), callback_(callback), begin_(std::chrono::steady_clock::now()) {
    stop_.validate();
    if (callback_) callback_->on_begin(RunInfo{method, n});
  }

  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  }

  // At the starting point: diverged if f or g is non-finite, converged if the
  // gradient is already small enough.
  std::optional<Status> start(const Vector<T>& x, T f, T gnorm, Counts c) {
    g0_norm_ = gnorm;
    if (!std::isfinite(f) || !std::isfinite(gnorm)) {
      reason_ = fmt::format("f or its gradient is non-finite at the starting point (f = {}, |g| = {})",
                            double(f), double(gnorm));
      diverged_at_ = 0;
      return Status::diverged;
    }
    if (auto s = report(0, x, f, gnorm, T(0), T(0), c)) return s;
    return gradient_test(gnorm);
  }

  // After accepted iteration k, which moved x by step_norm with step length alpha.
  std::optional<Status> iterate(Index k, const Vector<T>& x, T f_prev, T f, T gnorm, T alpha,
                                T step_norm, Counts c) {
    if (!std::isfinite(f) || !std::isfinite(gnorm)) {
      reason_ = fmt::format("f or its gradient became non-finite at iteration {} (f = {}, |g| = {})", k,
                            double(f), double(gnorm));
      diverged_at_ = k;
      return Status::diverged;
    }
    if (auto s = report(k, x, f, gnorm, alpha, step_norm, c)) return s;
    if (auto s = gradient_test(gnorm)) return s;
    // A non-monotone step (f rose) says nothing about convergence.
    if (stop_.value_tolerance > 0 && f <= f_prev) {
      const double reduction = double(f_prev - f) / std::max({std::abs(double(f_prev)), std::abs(double(f)), 1.0});
      if (reduction <= stop_.value_tolerance) {
        reason_ = fmt::format("relative reduction of f {:.3g} <= value tolerance {:.3g}", reduction,
                              stop_.value_tolerance);
        return Status::converged_value;
      }
    }
    if (stop_.step_tolerance > 0) {
      const double bound = stop_.step_tolerance * std::max(1.0, double(x.norm()));
      if (double(step_norm) <= bound) {
        reason_ = fmt::format("step norm {:.3g} <= step tolerance {:.3g} * max(1, |x|)", double(step_norm),
                              stop_.step_tolerance);
        return Status::converged_step;
      }
    }
    if (k >= stop_.max_iterations) {
      reason_ = fmt::format("reached the iteration limit of {}", stop_.max_iterations);
      return Status::max_iterations;
    }
    return budget(c);
  }

  // The evaluation and time budgets alone; solvers call this inside long
  // inner loops too.
  std::optional<Status> budget(Counts c) {
    if (stop_.max_evaluations > 0 && c.gradient >= stop_.max_evaluations) {
      reason_ = fmt::format("reached the evaluation limit of {} ({} gradient evaluations)", stop_.max_evaluations,
                            c.gradient);
      return Status::max_evaluations;
    }
    if (std::isfinite(stop_.time_limit) && seconds() >= stop_.time_limit) {
      reason_ = fmt::format("reached the time limit of {} s", stop_.time_limit);
      return Status::time_limit;
    }
    return std::nullopt;
  }

  // Records the reason for a stop the solver decided itself (line search
  // failure, non-finite trial points, and so on).
  void set_reason(std::string reason) { reason_ = std::move(reason); }
  void set_diverged_at(Index k) { diverged_at_ = k; }
  // What the gradient norm measures, for messages: "projected gradient"
  // for the bounded and projected methods.
  void set_gradient_label(std::string_view label) { gradient_label_ = label; }

  Result<T> finish(Status status, const Vector<T>& x, T f, T gnorm, Index iterations, Counts c) {
    Result<T> r;
    r.x = x;
    r.value = f;
    r.gradient_norm = gnorm;
    r.iterations = iterations;
    r.value_evaluations = c.value;
    r.gradient_evaluations = c.gradient;
    r.hessian_evaluations = c.hessian;
    r.status = status;
    r.message = reason_.empty() ? std::string(to_string(status)) : reason_;
    if (points_left_ > 0) r.message += "; " + fmt::format(fmt::runtime(leave_noun_), points_left_);
    r.diverged_at = status == Status::diverged ? std::max<Index>(diverged_at_, 0) : -1;
    r.seconds = seconds();
    if (callback_) callback_->on_end(r);
    return r;
  }

  const StopOptions& stop() const { return stop_; }

  // Where the gradient test passes, asks `leave` whether the point is one
  // the solver will leave (a saddle with negative curvature, or one a
  // perturbation is to test): true goes on. `note` is appended to the
  // result's message with {} for how many times it went on ("left {} saddle
  // point(s) along negative curvature").
  void set_stationary_check(std::function<bool()> leave, std::string note) {
    leave_ = std::move(leave);
    leave_noun_ = std::move(note);
  }
  Index points_left() const { return points_left_; }

 private:
  std::optional<Status> gradient_test(T gnorm) {
    auto status = stationary_test(gnorm);
    if (status && leave_ && leave_()) {
      ++points_left_;
      reason_.clear();
      return std::nullopt;
    }
    return status;
  }

  std::optional<Status> stationary_test(T gnorm) {
    if (double(gnorm) <= stop_.gradient_tolerance) {
      reason_ = fmt::format("{} {:.3g} <= tolerance {:.3g}", gradient_label_, double(gnorm), stop_.gradient_tolerance);
      return Status::converged_gradient;
    }
    if (stop_.relative_gradient_tolerance > 0 &&
        double(gnorm) <= stop_.relative_gradient_tolerance * double(g0_norm_)) {
      reason_ = fmt::format("{0} {1:.3g} <= {2:.3g} * initial {0} {3:.3g}", gradient_label_, double(gnorm),
                            stop_.relative_gradient_tolerance, double(g0_norm_));
      return Status::converged_gradient;
    }
    return std::nullopt;
  }

  std::optional<Status> report(Index k, const Vector<T>& x, T f, T gnorm, T alpha, T step_norm, Counts c) {
    if (!callback_) return std::nullopt;
    IterationReport<T> rep{k, f, gnorm, alpha, step_norm, c.value, c.gradient, c.hessian, seconds(), &x};
    switch (callback_->on_iteration(rep)) {
      case Control::proceed: return std::nullopt;
      case Control::stop_converged:
        reason_ = fmt::format("a callback asked to stop at iteration {}", k);
        return Status::stopped_by_callback;
      case Control::stop_failed:
        reason_ = fmt::format("a callback aborted the run at iteration {}", k);
        return Status::aborted_by_callback;
    }
    return std::nullopt;
  }

  StopOptions stop_;
  Callback<T>* callback_;
  std::chrono::steady_clock::time_point begin_;
  T g0_norm_ = T(0);
  std::string reason_;
  Index diverged_at_ = -1;
  std::string_view gradient_label_ = "gradient norm";
  std::function<bool()> leave_;
  std::string leave_noun_;
  Index points_left_ = 0;
};

}  // namespace descent::detail
