// Test problems with known minima: the Moré–Garbow–Hillstrom set, the
// quadratics, the multimodal functions of global optimization, and the
// bound-constrained set (Hock–Schittkowski's bounded
// versions of MGH problems and others, and MINPACK-2's elastic-plastic
// torsion, journal bearing and minimal surface with an obstacle), as run-time
// objects the CLI, the tests and the benchmarks share.
//
// A Problem models the objective concepts of core/objective.hpp in double
// precision (value_and_gradient, value, hessian, hessian_vector, with the
// run-time has_hessian / has_hessian_vector queries), and adds its name, its
// standard starting point, its known minimum value where one is published,
// and, for a bound-constrained problem, its bounds.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "descent/core/bounds.hpp"
#include "descent/core/types.hpp"

namespace descent::problems {

class Problem {
 public:
  virtual ~Problem() = default;

  virtual std::string_view name() const = 0;
  // n, the number of variables.
  virtual Index dimension() const = 0;
  // The standard starting point x0 of the published problem.
  virtual Vector<double> start() const = 0;
  // The minimum value f* where the literature gives one for this dimension.
  // For a bound-constrained problem, the minimum over its bounds.
  virtual std::optional<double> known_minimum() const { return std::nullopt; }
  // The simple bounds of a bound-constrained problem; nullopt for an
  // unconstrained one. The published start may lie outside them (the bounded
  // solvers project it).
  virtual std::optional<Bounds> bounds() const { return std::nullopt; }
  // The search domain of a global-optimization test function: where a
  // global search samples its starts and where the global minimum lies. Not
  // a constraint (bounds() stays empty); nullopt for the other problems.
  virtual std::optional<Bounds> domain() const { return std::nullopt; }

  virtual double value_and_gradient(ConstVectorRef<double> x, VectorRef<double> g) const = 0;
  // f(x) alone. The default evaluates the gradient into scratch space.
  virtual double value(ConstVectorRef<double> x) const;

  // The dense Hessian. Problems provide it analytically; has_hessian() is
  // false when n is too large for an n x n matrix (see kMaxDenseDimension).
  virtual void hessian(ConstVectorRef<double> x, MatrixRef<double> h) const = 0;
  virtual bool has_hessian() const { return dimension() <= kMaxDenseDimension; }
  // out = H(x) v. The default forms the dense Hessian; large separable
  // problems override it with an O(n) product.
  virtual void hessian_vector(ConstVectorRef<double> x, ConstVectorRef<double> v,
                              VectorRef<double> out) const;
  virtual bool has_hessian_vector() const { return has_hessian(); }

  static constexpr Index kMaxDenseDimension = 4096;

 private:
  mutable Vector<double> scratch_g_;
  mutable Matrix<double> scratch_h_;
};

// What make_problem needs beyond the name.
struct ProblemOptions {
  std::optional<Index> dimension;  // n for variably sized problems; default: the paper's
  double condition = 1e6;          // ill_conditioned_quadratic: cond(H) = condition
};

// One entry of the catalogue.
struct ProblemInfo {
  std::string name;
  std::string description;    // one line, with the paper's problem number
  Index default_dimension;    // n when --dim is not given
  bool variable_dimension;    // accepts --dim
  bool in_mgh_set;            // one of the 35 Moré–Garbow–Hillstrom problems
  bool bounded = false;       // has bounds(): solve it with lbfgsb, projected-gd or spg
  bool multimodal = false;    // a global-optimization test function with a domain()
};

// Every problem, the 35 MGH problems first in the paper's order.
std::span<const ProblemInfo> problem_catalog();
// The 35 MGH names in the paper's order.
std::vector<std::string> mgh_problem_names();
// The bound-constrained problems, the small Hock–Schittkowski ones first.
std::vector<std::string> bounded_problem_names();
// The multimodal test functions of global optimization (Ackley ...
// Michalewicz), each with its domain() and global minimum.
std::vector<std::string> multimodal_problem_names();

// Builds a problem by name. Throws descent::invalid_argument for an unknown
// name (listing the known ones), a dimension the problem does not accept
// (saying which it accepts), or a dimension too large for memory.
std::unique_ptr<Problem> make_problem(std::string_view name, const ProblemOptions& options = {});

}  // namespace descent::problems
