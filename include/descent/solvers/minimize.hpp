// Choosing a full-batch solver at run time, by the names the CLI uses.
// The templates of the individual solver headers stay the fast path; this
// entry point is compiled once, for AnyObjective<float> and <double>.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "descent/core/any_objective.hpp"
#include "descent/core/bounds.hpp"
#include "descent/core/callback.hpp"
#include "descent/core/projection.hpp"
#include "descent/core/result.hpp"
#include "descent/core/stopping.hpp"
#include "descent/solvers/trust_region_scaling.hpp"

namespace descent {

enum class Method {
  gd, gd_armijo, gd_bb,
  cg_fr, cg_pr, cg_hs, cg_dy, cg_hz,
  bfgs, lbfgs,
  newton, newton_cg,
  trust_region, dogleg,
  lbfgsb, projected_gd, spg,
};

// "gd", "gd-armijo", ..., "trust-region", "dogleg".
std::string_view to_string(Method m);
std::optional<Method> parse_method(std::string_view name);
std::span<const Method> all_methods();
// All names, comma separated, for error messages and --help.
std::string method_names();
// Methods that form an n x n matrix (bfgs, newton, dogleg).
bool needs_dense_matrix(Method m);
// Methods that honour MinimizeOptions::bounds (lbfgsb, projected-gd, spg).
bool accepts_bounds(Method m);
// Methods that honour MinimizeOptions::projection (projected-gd, spg).
bool accepts_projection(Method m);

// The settings the methods share, plus the few each needs. Defaults as in
// each method's own options struct.
struct MinimizeOptions {
  StopOptions stop;
  double step_size = 1e-3;        // gd: the fixed step
  Index memory = 10;              // lbfgs: pairs kept
  double initial_radius = 1.0;    // trust-region, dogleg: delta_0
  TrustRegionScaling trust_scaling = TrustRegionScaling::when_stalled;  // trust-region, dogleg
  // newton, trust-region, dogleg: at a stationary point, step along the
  // Hessian's negative curvature instead of stopping (SaddleEscape).
  bool escape_saddles = true;
  // Simple bounds lower <= x <= upper, for lbfgsb, projected-gd and spg;
  // the other methods refuse them, naming those three.
  std::optional<Bounds> bounds;
  // Any convex set with a projection, for projected-gd and spg. Not
  // together with bounds (put the box in the projection instead).
  Projection projection;
};

template <class T>
Result<T> minimize(AnyObjective<T>& f, VectorRef<T> x, Method method, const MinimizeOptions& options = {},
                   Callback<T>* callback = nullptr);

extern template Result<float> minimize(AnyObjective<float>&, VectorRef<float>, Method, const MinimizeOptions&,
                                       Callback<float>*);
extern template Result<double> minimize(AnyObjective<double>&, VectorRef<double>, Method, const MinimizeOptions&,
                                        Callback<double>*);

}  // namespace descent
