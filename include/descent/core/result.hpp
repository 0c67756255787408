// The outcome of every solver run.
#pragma once

#include <string>
#include <vector>

#include "descent/core/status.hpp"
#include "descent/core/types.hpp"

namespace descent {

template <class T>
struct Result {
  Vector<T> x;                   // final iterate (the best point reached)
  T value = T(0);                // f(x)
  T gradient_norm = T(0);        // ||grad f(x)||_2; for the bounded and projected methods
                                 // the projected gradient ||P(x - g) - x||_inf
  Index iterations = 0;          // accepted iterations
  Index value_evaluations = 0;   // evaluations of f (a value_and_gradient call counts one)
  Index gradient_evaluations = 0;  // evaluations of the gradient
  Index hessian_evaluations = 0;   // dense Hessians and Hessian-vector products
  double seconds = 0.0;          // wall-clock time of the run
  Status status = Status::max_iterations;
  std::string message;           // why it stopped, in numbers
  Index diverged_at = -1;        // iteration at which f or g became non-finite, or -1
  // Bounded methods (lbfgsb, and the projected ones under a box): the
  // variables that end at their lower and at their upper bound.
  std::vector<Index> active_lower, active_upper;

  bool converged() const { return is_converged(status); }

  // One line: status, f, gradient norm, iterations and evaluations.
  std::string brief_report() const;
  // Several lines: everything in brief_report plus the message and timing.
  std::string full_report() const;
};

extern template struct Result<float>;
extern template struct Result<double>;

}  // namespace descent
