// The run-time entry point minimize(), compiled once per scalar type.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "descent/solvers/bfgs.hpp"
#include "descent/solvers/conjugate_gradient.hpp"
#include "descent/solvers/gradient_descent.hpp"
#include "descent/solvers/lbfgs.hpp"
#include "descent/solvers/lbfgsb.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/solvers/newton.hpp"
#include "descent/solvers/newton_cg.hpp"
#include "descent/solvers/projected.hpp"
#include "descent/solvers/trust_region.hpp"

namespace descent {
namespace {

struct Named {
  Method method;
  std::string_view name;
};

constexpr std::array<Named, 17> kMethods{{
    {Method::gd, "gd"},
    {Method::gd_armijo, "gd-armijo"},
    {Method::gd_bb, "gd-bb"},
    {Method::cg_fr, "cg-fr"},
    {Method::cg_pr, "cg-pr"},
    {Method::cg_hs, "cg-hs"},
    {Method::cg_dy, "cg-dy"},
    {Method::cg_hz, "cg-hz"},
    {Method::bfgs, "bfgs"},
    {Method::lbfgs, "lbfgs"},
    {Method::newton, "newton"},
    {Method::newton_cg, "newton-cg"},
    {Method::trust_region, "trust-region"},
    {Method::dogleg, "dogleg"},
    {Method::lbfgsb, "lbfgsb"},
    {Method::projected_gd, "projected-gd"},
    {Method::spg, "spg"},
}};

constexpr std::array<Method, kMethods.size()> kAll = [] {
  std::array<Method, kMethods.size()> a{};
  for (std::size_t i = 0; i < kMethods.size(); ++i) a[i] = kMethods[i].method;
  return a;
}();

}  // namespace

std::string_view to_string(Method m) {
  for (const auto& e : kMethods)
    if (e.method == m) return e.name;
  return "unknown";
}

std::optional<Method> parse_method(std::string_view name) {
  for (const auto& e : kMethods)
    if (e.name == name) return e.method;
  return std::nullopt;
}

std::span<const Method> all_methods() { return kAll; }

std::string method_names() {
  std::string s;
  for (const auto& e : kMethods) {
    if (!s.empty()) s += ", ";
    s += e.name;
  }
  return s;
}

bool needs_dense_matrix(Method m) { return m == Method::bfgs || m == Method::newton || m == Method::dogleg; }

bool accepts_bounds(Method m) { return m == Method::lbfgsb || m == Method::projected_gd || m == Method::spg; }

bool accepts_projection(Method m) { return m == Method::projected_gd || m == Method::spg; }

namespace {

// Refuses constraints the method cannot honour, naming those that can.
void check_constraints(Method method, const MinimizeOptions& o) {
  DESCENT_REQUIRE(!o.bounds || accepts_bounds(method),
          fmt::format("method {} does not take bounds; use lbfgsb, projected-gd or spg", to_string(method)));
  DESCENT_REQUIRE(o.projection.empty() || accepts_projection(method),
          fmt::format("method {} does not take a projection; use projected-gd or spg{}", to_string(method),
                      o.projection.is_box() ? " (or lbfgsb with bounds)" : ""));
  require(!o.bounds || o.projection.empty(),
          "give either bounds or a projection, not both (a box can be a piece of the projection)");
}

// The set a projected method works on: the projection, or the bounds as one.
Projection constraint_set(const MinimizeOptions& o) {
  return o.bounds ? Projection::bounds(*o.bounds) : o.projection;
}

}  // namespace

template <class T>
Result<T> minimize(AnyObjective<T>& f, VectorRef<T> x, Method method, const MinimizeOptions& o, Callback<T>* cb) {
  auto cg = [&](CgUpdate u) {
    ConjugateGradientOptions c;
    c.update = u;
    c.stop = o.stop;
    return conjugate_gradient(f, x, c, cb);
  };
  auto gd = [&](GradientStep step) {
    GradientDescentOptions g;
    g.step = step;
    g.step_size = o.step_size;
    g.stop = o.stop;
    return gradient_descent(f, x, g, cb);
  };
  check_constraints(method, o);
  auto with_active_bounds = [&](Result<T> r) {
    if (o.bounds) {
      ActiveBounds active = active_bounds(*o.bounds, r.x);
      r.active_lower = std::move(active.lower);
      r.active_upper = std::move(active.upper);
    }
    return r;
  };
  switch (method) {
    case Method::lbfgsb: {
      LbfgsbOptions l;
      l.memory = o.memory;
      l.stop = o.stop;
      return lbfgsb(f, x, o.bounds ? *o.bounds : Bounds::none(x.size()), l, cb);
    }
    case Method::projected_gd: {
      if (o.bounds) o.bounds->validate(x.size());
      ProjectedGradientOptions p;
      p.stop = o.stop;
      return with_active_bounds(projected_gradient(f, x, constraint_set(o), p, cb));
    }
    case Method::spg: {
      if (o.bounds) o.bounds->validate(x.size());
      SpgOptions p;
      p.stop = o.stop;
      return with_active_bounds(spg(f, x, constraint_set(o), p, cb));
    }
    case Method::gd: return gd(GradientStep::fixed);
    case Method::gd_armijo: return gd(GradientStep::armijo);
    case Method::gd_bb: return gd(GradientStep::barzilai_borwein);
    case Method::cg_fr: return cg(CgUpdate::fletcher_reeves);
    case Method::cg_pr: return cg(CgUpdate::polak_ribiere_plus);
    case Method::cg_hs: return cg(CgUpdate::hestenes_stiefel);
    case Method::cg_dy: return cg(CgUpdate::dai_yuan);
    case Method::cg_hz: return cg(CgUpdate::hager_zhang);
    case Method::bfgs: return bfgs(f, x, BfgsOptions{.stop = o.stop}, cb);
    case Method::lbfgs: return lbfgs(f, x, LbfgsOptions{.memory = o.memory, .stop = o.stop}, cb);
    case Method::newton: {
      NewtonOptions newton_options{.stop = o.stop};
      newton_options.saddle.enabled = o.escape_saddles;
      return newton(f, x, newton_options, cb);
    }
    case Method::newton_cg: return newton_cg(f, x, NewtonCgOptions{.stop = o.stop}, cb);
    case Method::trust_region:
    case Method::dogleg: {
      TrustRegionOptions t;
      t.subproblem = method == Method::dogleg ? TrustRegionSubproblem::dogleg : TrustRegionSubproblem::steihaug_cg;
      t.initial_radius = o.initial_radius;
      t.scaling = o.trust_scaling;
      t.saddle.enabled = o.escape_saddles;
      t.max_radius = std::max(t.max_radius, o.initial_radius);
      t.stop = o.stop;
      return trust_region(f, x, t, cb);
    }
  }
  throw invalid_argument("unknown method");
}

template Result<float> minimize(AnyObjective<float>&, VectorRef<float>, Method, const MinimizeOptions&,
                                Callback<float>*);
template Result<double> minimize(AnyObjective<double>&, VectorRef<double>, Method, const MinimizeOptions&,
                                 Callback<double>*);

}  // namespace descent
