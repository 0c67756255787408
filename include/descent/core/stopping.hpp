// When a full-batch solver stops. Shared by every solver's options.
#pragma once

#include <limits>

#include "descent/core/types.hpp"

namespace descent {

struct StopOptions {
  // Converged when ||g||_2 <= gradient_tolerance. Range: >= 0 (0 disables).
  double gradient_tolerance = 1e-6;
  // Converged when ||g||_2 <= relative_gradient_tolerance * ||g_0||_2.
  // Range: [0, 1) (0 disables).
  double relative_gradient_tolerance = 0.0;
  // Converged when (f_{k-1} - f_k) <= value_tolerance * max(|f_{k-1}|, |f_k|, 1),
  // the test of scipy's L-BFGS-B. Range: >= 0 (0 disables).
  double value_tolerance = 0.0;
  // Converged when ||x_k - x_{k-1}||_2 <= step_tolerance * max(1, ||x_k||_2).
  // Range: >= 0 (0 disables).
  double step_tolerance = 0.0;
  // Iteration limit. Range: >= 0.
  Index max_iterations = 1000;
  // Limit on gradient evaluations (value-only evaluations count too).
  // Range: >= 0 (0 means unlimited).
  Index max_evaluations = 0;
  // Wall-clock limit in seconds. Range: > 0.
  double time_limit = std::numeric_limits<double>::infinity();

  // Throws descent::invalid_argument naming the first field out of range.
  void validate() const;
};

}  // namespace descent
