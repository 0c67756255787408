// Why a run stopped, in a form a program can act on.
#pragma once

#include <string_view>

namespace descent {

enum class Status {
  converged_gradient,   // gradient norm below the absolute or relative tolerance
  converged_value,      // relative change of f below the value tolerance
  converged_step,       // step length below the step tolerance
  max_iterations,       // iteration limit reached
  max_evaluations,      // evaluation limit reached
  time_limit,           // wall-clock limit reached
  line_search_failed,   // no acceptable step along a descent direction
  diverged,             // f or the gradient became non-finite and could not recover
  stopped_by_callback,  // a callback asked to stop as converged
  aborted_by_callback,  // a callback asked to stop as failed
  interrupted,          // a signal (SIGINT, SIGTERM) asked the run to stop; it can be resumed
};

// Lowercase, stable names used in JSON output and logs.
constexpr std::string_view to_string(Status s) {
  switch (s) {
    case Status::converged_gradient: return "converged_gradient";
    case Status::converged_value: return "converged_value";
    case Status::converged_step: return "converged_step";
    case Status::max_iterations: return "max_iterations";
    case Status::max_evaluations: return "max_evaluations";
    case Status::time_limit: return "time_limit";
    case Status::line_search_failed: return "line_search_failed";
    case Status::diverged: return "diverged";
    case Status::stopped_by_callback: return "stopped_by_callback";
    case Status::aborted_by_callback: return "aborted_by_callback";
    case Status::interrupted: return "interrupted";
  }
  return "unknown";
}

// True when the run ended at a point the caller asked for: one of the
// convergence tests held, or a callback declared convergence.
constexpr bool is_converged(Status s) {
  return s == Status::converged_gradient || s == Status::converged_value ||
         s == Status::converged_step || s == Status::stopped_by_callback;
}

}  // namespace descent
