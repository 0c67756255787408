// bench_lbfgsb_peers: descent's L-BFGS-B against LBFGS++'s LBFGSBSolver
// (Yixuan Qiu's header-only L-BFGS-B on Eigen) on the bound-constrained set.
//
//   bench_lbfgsb_peers [--n N ...] [--only NAME ...] [--m M] [--repeats R]
//                      [--json-out FILE]
//
// The set is the one bench/scipy_bounded.py runs: the catalogue's
// Hock–Schittkowski problems (fixed n), and at every --n MINPACK-2's three
// grids (n must be a perfect square) and four variants of unconstrained
// problems with bounds that become active (see variant() below).
//
// Both sides minimize the same descent::problems::Problem object from the
// same start (projected onto the box), with the same memory m and the same
// stopping rules as scipy's defaults: the projected gradient's infinity norm
// <= pgtol = 1e-5, or a relative reduction of f <= ftol = 2.2e-9 over one
// iteration (LBFGS++: epsilon = pgtol, epsilon_rel = 0, past = 1, delta =
// ftol), and both use a Moré–Thuente search with c1 = 1e-3, c2 = 0.9 (the
// Fortran code's; LBFGS++'s ftol and wolfe). Every call to the objective is
// counted by a thin wrapper. The sides run alternately after one untimed
// warm-up each; the table gives the medians.
//
// "converged": the side stopped on its own test (descent: a converged
// status; LBFGS++: returned without an exception before max_iterations).
// "f ok": f within 1e-8 relative of the other side's, or lower.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <LBFGSB.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "descent/descent.hpp"
#include "descent/problems/problem.hpp"

#include "counted_objective.hpp"

namespace {

using descent::Bounds;
using descent::Index;
using descent::problems::Problem;
using Clock = std::chrono::steady_clock;

constexpr double kPgtol = 1e-5;
constexpr double kFtol = 2.220446049250313e-09;
constexpr double kInf = Bounds::inf;

// The objective, counted (counted_objective.hpp).
using descent::bench::CountedObjective;
using descent::bench::LbfgsppObjective;

// --- the set --------------------------------------------------------------------

struct Case {
  std::string name;
  bool sized = false;  // runs at every --n
  std::unique_ptr<Problem> problem;
  Eigen::VectorXd start;
  Bounds bounds;
};

Case catalogue(const std::string& name, std::optional<Index> n) {
  Case c{name, n.has_value(), descent::problems::make_problem(name, {.dimension = n}), {}, {}};
  c.start = c.problem->start();
  c.bounds = *c.problem->bounds();
  return c;
}

// The variants of scipy_bounded.py, with the same bounds and starts.
Case variant(const std::string& name, Index n) {
  auto make = [&](const char* base) { return descent::problems::make_problem(base, {.dimension = n}); };
  Case c{name, true, nullptr, {}, Bounds::none(n)};
  if (name == "rosenbrock_upper") {  // x_i <= 0.8 for every even i (0-based)
    c.problem = make("extended_rosenbrock");
    for (Index i = 0; i < n; i += 2) c.bounds.upper[i] = 0.8;
  } else if (name == "quadratic_lower") {  // x_i >= 0.5 on the first half
    c.problem = make("quadratic");
    for (Index i = 0; i < n / 2; ++i) c.bounds.lower[i] = 0.5;
  } else if (name == "boundary_box") {  // x in [-0.1, 0]
    c.problem = make("discrete_boundary_value");
    c.bounds = Bounds::uniform(n, -0.1, 0.0);
  } else if (name == "illcond_box") {  // start 1, x_i in [0.1, 2] on every third i
    c.problem = make("ill_conditioned_quadratic");
    for (Index i = 0; i < n; i += 3) {
      c.bounds.lower[i] = 0.1;
      c.bounds.upper[i] = 2.0;
    }
  }
  c.start = name == "illcond_box" ? Eigen::VectorXd::Ones(n) : c.problem->start();
  return c;
}

const std::vector<std::string> kGrids{"torsion", "journal_bearing", "minimal_surface_obstacle"};
const std::vector<std::string> kVariants{"rosenbrock_upper", "quadratic_lower", "boundary_box", "illcond_box"};

// --- one run of one side --------------------------------------------------------

struct Run {
  bool converged = false;
  double value = NAN;
  Index iterations = 0;
  Index evaluations = 0;  // every call to the objective, value-only ones included
  double seconds = 0;
  std::string status;
};

Eigen::VectorXd projected_start(const Case& c) {
  return c.start.cwiseMax(c.bounds.lower).cwiseMin(c.bounds.upper);
}

Run run_descent(const Case& c, Index m) {
  CountedObjective f{*c.problem};
  Eigen::VectorXd x = projected_start(c);
  descent::LbfgsbOptions o;
  o.memory = m;
  o.stop.gradient_tolerance = kPgtol;
  o.stop.value_tolerance = kFtol;
  o.stop.max_iterations = 15000;
  const auto t0 = Clock::now();
  const descent::Result<double> r = descent::lbfgsb(f, x, c.bounds, o);
  Run run;
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.value = r.value;
  run.iterations = r.iterations;
  run.evaluations = f.value_and_gradient_calls + f.value_calls;
  run.status = std::string(descent::to_string(r.status));
  run.converged = r.converged();
  return run;
}

Run run_lbfgspp(const Case& c, Index m) {
  LBFGSpp::LBFGSBParam<double> param;
  param.m = int(m);
  param.epsilon = kPgtol;
  param.epsilon_rel = 0;
  param.past = 1;
  param.delta = kFtol;
  param.max_iterations = 15000;
  param.ftol = 1e-3;
  param.wolfe = 0.9;
  LbfgsppObjective f{*c.problem};
  Eigen::VectorXd x = projected_start(c);
  double fx = NAN;
  Run run;
  const auto t0 = Clock::now();
  try {
    LBFGSpp::LBFGSBSolver<double> solver(param);
    run.iterations = solver.minimize(f, x, fx, c.bounds.lower, c.bounds.upper);
    run.converged = run.iterations < param.max_iterations;
    run.status = run.converged ? "ok" : "max_iterations";
  } catch (const std::exception& e) {
    run.status = std::string("exception: ") + e.what();
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // f at the returned point, uncounted and untimed (on an exception x is
  // wherever the solver left it).
  Eigen::VectorXd g(x.size());
  run.value = c.problem->value_and_gradient(x, g);
  run.evaluations = f.calls;
  return run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size();
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

bool within(double f, double other) { return f <= other + 1e-8 * std::max(1.0, std::abs(other)); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<Index> sizes;
  std::vector<std::string> only;
  Index m = 10;
  int repeats = 3;
  std::string json_out;
  CLI::App app{"descent L-BFGS-B vs LBFGS++'s LBFGSBSolver on the bound-constrained set"};
  app.add_option("--n", sizes, "Dimension of the sized problems, a perfect square; repeat (default 10^4 and 10^6)");
  app.add_option("--only", only, "Run only this problem; repeat");
  app.add_option("--m", m, "Memory m, both sides")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--repeats", repeats, "Timed runs per side (alternating)")->capture_default_str()->check(
      CLI::Range(1, 1000));
  app.add_option("--json-out", json_out, "Also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  if (sizes.empty()) sizes = {10000, 1000000};
  for (Index n : sizes) {
    const auto k = Index(std::llround(std::sqrt(double(n))));
    if (n < 4 || k * k != n) {
      fmt::print(stderr, "--n {}: the grids need a perfect square >= 4 (e.g. 10000, 99856, 1000000)\n", n);
      return 2;
    }
  }
  auto wanted = [&](const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };

  std::vector<Case> cases;
  try {
    for (const auto& name : descent::problems::bounded_problem_names())
      if (std::find(kGrids.begin(), kGrids.end(), name) == kGrids.end() && wanted(name))
        cases.push_back(catalogue(name, std::nullopt));
    for (Index n : sizes) {
      for (const auto& name : kGrids)
        if (wanted(name)) cases.push_back(catalogue(name, n));
      for (const auto& name : kVariants)
        if (wanted(name)) cases.push_back(variant(name, n));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  }

  fmt::print("descent lbfgsb vs LBFGS++ LBFGSBSolver: m = {}, pgtol = {:g}, ftol = {:.3g}; median of {} alternating "
             "runs\n", m, kPgtol, kFtol, repeats);
  fmt::print("{:<26} {:>8} {:>17} {:>17} {:>8} {:>8} {:>10} {:>10} {:>8}\n", "problem", "n", "f descent", "f LBFGS++",
             "evals d", "evals L", "s descent", "s LBFGS++", "speedup");
  nlohmann::json rows = nlohmann::json::array();
  Index total_d = 0, total_l = 0, both = 0, fewer_evals = 0, faster = 0, d_where_l = 0, l_converged = 0;
  for (const Case& c : cases) {
    (void)run_descent(c, m);
    (void)run_lbfgspp(c, m);
    std::vector<double> td, tl;
    Run d, l;
    for (int r = 0; r < repeats; ++r) {
      d = run_descent(c, m);
      td.push_back(d.seconds);
      l = run_lbfgspp(c, m);
      tl.push_back(l.seconds);
    }
    const double sd = median(td), sl = median(tl);
    const Index n = c.problem->dimension();
    const bool d_ok = d.converged && (!l.converged || within(d.value, l.value));
    const bool l_ok = l.converged && (!d.converged || within(l.value, d.value));
    std::string mark;
    if (!d.converged) mark += " descent: " + d.status;
    if (!l.converged) mark += " LBFGS++: " + l.status;
    if (d.converged && l.converged && !within(d.value, l.value)) mark += " f!";
    fmt::print("{:<26} {:>8} {:>17.10g} {:>17.10g} {:>8} {:>8} {:>10.3g} {:>10.3g} {:>8.2f}{}\n", c.name, n, d.value,
               l.value, d.evaluations, l.evaluations, sd, sl, sl / sd, mark);
    std::fflush(stdout);
    total_d += d.evaluations;
    total_l += l.evaluations;
    if (l_ok) {
      ++l_converged;
      if (d_ok) ++d_where_l;
    }
    if (d_ok && l_ok) {
      ++both;
      if (d.evaluations <= l.evaluations) ++fewer_evals;
      if (sd <= sl) ++faster;
    }
    rows.push_back({{"problem", c.name},
                    {"n", n},
                    {"sized", c.sized},
                    {"f_descent", d.value},
                    {"f_lbfgspp", l.value},
                    {"evaluations_descent", d.evaluations},
                    {"evaluations_lbfgspp", l.evaluations},
                    {"iterations_descent", d.iterations},
                    {"iterations_lbfgspp", l.iterations},
                    {"status_descent", d.status},
                    {"status_lbfgspp", l.status},
                    {"converged_descent", d_ok},
                    {"converged_lbfgspp", l_ok},
                    {"seconds_descent", sd},
                    {"seconds_lbfgspp", sl},
                    {"speedup", sl / sd}});
  }
  fmt::print("evaluations over the set: descent {}, LBFGS++ {}; where both converge ({}): descent needs no more "
             "evaluations on {} and no more time on {}; descent converges on {} of the {} LBFGS++ converges on\n",
             total_d, total_l, both, fewer_evals, faster, d_where_l, l_converged);
  for (Index n : sizes) {
    std::vector<double> ratios;
    for (const auto& r : rows)
      if (r["sized"].get<bool>() && r["n"].get<Index>() == n) ratios.push_back(r["speedup"].get<double>());
    if (!ratios.empty())
      fmt::print("n = {}: speedup median {:.2f}x, min {:.2f}x\n", n, median(ratios),
                 *std::min_element(ratios.begin(), ratios.end()));
  }
  if (!json_out.empty()) {
    std::ofstream out(json_out);
    out << nlohmann::json{{"benchmark", "lbfgsb_peers"}, {"m", m}, {"repeats", repeats}, {"rows", rows}}.dump(2)
        << "\n";
    if (!out) {
      fmt::print(stderr, "cannot write {}\n", json_out);
      return 1;
    }
  }
  return 0;
}
