// The objective both sides of a peer benchmark see, counted: what descent
// calls (value_and_gradient, value) and the functor LBFGS++ documents,
// f(x, grad) -> f, on the same descent::problems::Problem.
#pragma once

#include <Eigen/Core>

#include "descent/core/types.hpp"
#include "descent/problems/problem.hpp"

namespace descent::bench {

struct CountedObjective {
  const problems::Problem& problem;
  Index value_and_gradient_calls = 0;
  Index value_calls = 0;

  double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) {
    ++value_and_gradient_calls;
    return problem.value_and_gradient(x, g);
  }
  double value(ConstVectorRef<double> x) {
    ++value_calls;
    return problem.value(x);
  }
};

struct LbfgsppObjective {
  const problems::Problem& problem;
  Index calls = 0;

  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    ++calls;
    return problem.value_and_gradient(x, g);
  }
};

}  // namespace descent::bench
