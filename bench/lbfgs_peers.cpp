// bench_lbfgs_peers: descent's L-BFGS against LBFGS++ (Yixuan Qiu's
// header-only L-BFGS on Eigen) on extended Rosenbrock, or LBFGS++ alone on
// the Moré–Garbow–Hillstrom set (--suite mgh, for bench/mgh_profiles.py).
//
//   bench_lbfgs_peers [--n N] [--m M ...] [--tol EPS] [--repeats R]
//                     [--linesearch NAME ...] [--max-iter K] [--json] [--json-out FILE]
//   bench_lbfgs_peers --suite mgh [--x0-scale S] [--m M] [--linesearch NAME ...] [--repeats R]
//                     [--tol EPS] [--json] [--json-out FILE]
//
// The suite mode solves each of the 35 problems from S times its standard
// start with each line search (tol 1e-10 and m = 10 unless given, as
// `descent minimize --suite mgh`), times the median of R runs, and reports
// the problems solved as the CLI does: f within 1e-6 relative or 1e-10
// absolute of the known minimum.
//
// Both sides minimize the same descent::problems::Problem object from the
// same start, with the same memory m and the same absolute test on the
// 2-norm of the gradient (LBFGS++: epsilon = tol, epsilon_rel = 0, past = 0),
// and both use strong Wolfe line searches with c1 = 1e-4, c2 = 0.9. Every
// call to the objective is counted on both sides by a thin wrapper. The
// sides run alternately (descent, LBFGS++ variants, descent, ...) after one
// untimed warm-up each; the report gives the median, min and max wall time.
//
// LBFGS++ line searches (all with LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE):
//   nocedal-wright  LineSearchNocedalWright, documented as "a line search
//                   algorithm for the strong Wolfe condition" (N&W Alg. 3.5/3.6)
//   more-thuente    LineSearchMoreThuente, the same algorithm family as
//                   descent's. In LBFGS++ it serves L-BFGS-B (it takes an
//                   LBFGSBParam and a maximum step), so an adapter below
//                   copies the parameters and passes max_step.
//   backtracking    LineSearchBacktracking: halving/doubling until the
//                   strong Wolfe conditions hold
//   bracketing      LineSearchBracketing: bisection of a bracket until the
//                   strong Wolfe conditions hold
//   armijo          LBFGS++'s default (Armijo-only backtracking); not a strong
//                   Wolfe search, known to fail on this problem; opt-in only.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <LBFGS.h>
#include <LBFGSpp/LineSearchMoreThuente.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "descent/descent.hpp"
#include "descent/problems/problem.hpp"

#include "counted_objective.hpp"

namespace {

using descent::Index;
using descent::problems::Problem;
using Clock = std::chrono::steady_clock;

// The objective, counted (counted_objective.hpp).
using descent::bench::CountedObjective;
using descent::bench::LbfgsppObjective;

// LBFGS++'s Moré–Thuente search, which it ships for L-BFGS-B, in the shape
// LBFGSSolver expects of a line search.
template <class Scalar>
class MoreThuenteForLbfgs {
 public:
  template <class Foo>
  static void LineSearch(Foo& f, Scalar& fx, Eigen::Matrix<Scalar, -1, 1>& x, Eigen::Matrix<Scalar, -1, 1>& grad,
                         Scalar& step, const Eigen::Matrix<Scalar, -1, 1>& drt,
                         const Eigen::Matrix<Scalar, -1, 1>& xp, const LBFGSpp::LBFGSParam<Scalar>& p) {
    LBFGSpp::LBFGSBParam<Scalar> b;
    b.m = p.m;
    b.epsilon = p.epsilon;
    b.epsilon_rel = p.epsilon_rel;
    b.past = p.past;
    b.delta = p.delta;
    b.max_iterations = p.max_iterations;
    b.max_linesearch = p.max_linesearch;
    b.min_step = p.min_step;
    b.max_step = p.max_step;
    b.ftol = p.ftol;
    b.wolfe = p.wolfe;
    step = std::min(step, p.max_step);
    LBFGSpp::LineSearchMoreThuente<Scalar>::LineSearch(f, fx, x, grad, step, p.max_step, drt, xp, b);
  }
};

// --- one run of one side --------------------------------------------------------

struct Run {
  bool ok = false;          // finished without an exception and with ||g|| <= tol
  double value = NAN;       // f at the returned point
  double gradient_norm = NAN;
  Index iterations = 0;
  Index gradient_evaluations = 0;  // value_and_gradient calls
  Index value_evaluations = 0;     // value-only calls (descent's line search may make them)
  double seconds = 0;
  std::string status;
};

struct Options {
  Index n = 10000;
  std::vector<Index> memories{6, 10};
  double tol = 1e-6;
  int repeats = 7;
  int warmup = 1;
  Index max_iterations = 10000;
  std::vector<std::string> line_searches{"nocedal-wright", "more-thuente", "backtracking", "bracketing"};
  bool json = false;
  std::string json_out;
  std::string suite;      // "mgh", or empty for extended Rosenbrock
  double x0_scale = 1.0;  // start from x0_scale * the standard start
};

Run run_descent(const Problem& problem, const Options& o, Index m) {
  CountedObjective f{problem};
  descent::Vector<double> x = o.x0_scale * problem.start();
  const auto t0 = Clock::now();
  const descent::Result<double> r = descent::lbfgs(
      f, x,
      descent::LbfgsOptions{.memory = m,
                            .line_search = {},
                            .stop = {.gradient_tolerance = o.tol, .max_iterations = o.max_iterations}});
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Run run;
  run.seconds = seconds;
  run.value = r.value;
  run.gradient_norm = r.gradient_norm;
  run.iterations = r.iterations;
  run.gradient_evaluations = f.value_and_gradient_calls;
  run.value_evaluations = f.value_calls;
  run.status = std::string(descent::to_string(r.status));
  run.ok = r.converged() && r.gradient_norm <= o.tol;
  if (r.gradient_evaluations != f.value_and_gradient_calls)
    run.status += fmt::format(" (descent reports {} gradient evaluations, the wrapper counted {})",
                              r.gradient_evaluations, f.value_and_gradient_calls);
  return run;
}

template <template <class> class LineSearch>
Run run_lbfgspp_with(const Problem& problem, const Options& o, Index m, int condition) {
  LBFGSpp::LBFGSParam<double> param;
  param.m = int(m);
  param.epsilon = o.tol;
  param.epsilon_rel = 0;
  param.past = 0;
  param.delta = 0;
  param.max_iterations = int(o.max_iterations);
  param.linesearch = condition;
  param.ftol = 1e-4;  // c1, as descent
  param.wolfe = 0.9;  // c2, as descent
  LbfgsppObjective f{problem};
  Eigen::VectorXd x = o.x0_scale * problem.start();
  double fx = NAN;
  Run run;
  const auto t0 = Clock::now();
  try {
    LBFGSpp::LBFGSSolver<double, LineSearch> solver(param);
    run.iterations = solver.minimize(f, x, fx);
    run.status = "ok";
  } catch (const std::exception& e) {
    run.status = std::string("exception: ") + e.what();
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // The solver's gradient lives inside it; evaluate once more, uncounted and untimed.
  Eigen::VectorXd g(x.size());
  run.value = problem.value_and_gradient(x, g);
  run.gradient_norm = g.norm();
  run.gradient_evaluations = f.calls;
  run.ok = run.status == "ok" && run.gradient_norm <= o.tol;
  if (run.status == "ok" && !run.ok)
    run.status = run.iterations >= o.max_iterations ? "max_iterations" : "stopped with ||g|| > tol";
  return run;
}

using Solve = std::function<Run(const Problem&, const Options&, Index)>;

std::optional<Solve> lbfgspp_solver(const std::string& name) {
  const int strong = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
  if (name == "nocedal-wright")
    return [=](const Problem& p, const Options& o, Index m) {
      return run_lbfgspp_with<LBFGSpp::LineSearchNocedalWright>(p, o, m, strong);
    };
  if (name == "more-thuente")
    return [=](const Problem& p, const Options& o, Index m) {
      return run_lbfgspp_with<MoreThuenteForLbfgs>(p, o, m, strong);
    };
  if (name == "backtracking")
    return [=](const Problem& p, const Options& o, Index m) {
      return run_lbfgspp_with<LBFGSpp::LineSearchBacktracking>(p, o, m, strong);
    };
  if (name == "bracketing")
    return [=](const Problem& p, const Options& o, Index m) {
      return run_lbfgspp_with<LBFGSpp::LineSearchBracketing>(p, o, m, strong);
    };
  if (name == "armijo")
    return [](const Problem& p, const Options& o, Index m) {
      return run_lbfgspp_with<LBFGSpp::LineSearchBacktracking>(p, o, m,
                                                               LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_ARMIJO);
    };
  return std::nullopt;
}

// --- statistics and report --------------------------------------------------------

struct Side {
  std::string name;  // "descent" or "lbfgspp/<line search>"
  Solve solve;
  std::vector<Run> runs;

  std::vector<double> sorted_seconds() const {
    std::vector<double> s;
    for (const Run& r : runs) s.push_back(r.seconds);
    std::sort(s.begin(), s.end());
    return s;
  }
  double median() const {
    auto s = sorted_seconds();
    const std::size_t k = s.size();
    return k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
  }
  double min() const { return sorted_seconds().front(); }
  double max() const { return sorted_seconds().back(); }
  const Run& last() const { return runs.back(); }
  bool all_ok() const {
    return std::all_of(runs.begin(), runs.end(), [](const Run& r) { return r.ok; });
  }
  // f at the minimum is 0; "solved" as the CLI's suite: within 1e-10 absolute.
  bool reached_minimum(double fstar) const { return all_ok() && last().value - fstar <= 1e-10; }
};

nlohmann::json side_json(const Side& s, double fstar) {
  const Run& r = s.last();
  return {{"side", s.name},
          {"converged", s.all_ok()},
          {"reached_minimum", s.reached_minimum(fstar)},
          {"status", r.status},
          {"iterations", r.iterations},
          {"gradient_evaluations", r.gradient_evaluations},
          {"value_evaluations", r.value_evaluations},
          {"f", r.value},
          {"gradient_norm", r.gradient_norm},
          {"seconds_median", s.median()},
          {"seconds_min", s.min()},
          {"seconds_max", s.max()},
          {"repeats", s.runs.size()}};
}


// Writes the report to --json-out, if given; false (and a message) when it cannot.
bool write_json_out(const nlohmann::json& report, const std::string& path) {
  if (path.empty()) return true;
  std::ofstream out(path);
  out << report.dump(2) << "\n";
  if (out) return true;
  fmt::print(stderr, "cannot write {}\n", path);
  return false;
}

// --- the MGH suite, LBFGS++ alone ---------------------------------------------------

int run_mgh_suite(const Options& o) {
  const Index m = o.memories.back();
  nlohmann::json report = {{"benchmark", "lbfgspp_mgh"},
                           {"x0_scale", o.x0_scale},
                           {"m", m},
                           {"tol", o.tol},
                           {"max_iterations", o.max_iterations},
                           {"repeats", o.repeats},
                           {"results", nlohmann::json::array()}};
  std::vector<int> solved(o.line_searches.size(), 0);
  const auto names = descent::problems::mgh_problem_names();
  if (!o.json) {
    fmt::print("LBFGS++ on the Moré–Garbow–Hillstrom set from {:g} x the standard starts, m = {}, ||g||_2 <= {:g}: "
               "gradient evaluations when solved, (final f) when not\n\n{:<32}",
               o.x0_scale, m, o.tol, "problem");
    for (const auto& ls : o.line_searches) fmt::print(" {:>15}", ls);
    fmt::print("\n");
  }
  for (const auto& name : names) {
    const auto problem = descent::problems::make_problem(name);
    const double fstar = *problem->known_minimum();
    if (!o.json) fmt::print("{:<32}", fmt::format("{} ({})", name, problem->dimension()));
    for (std::size_t k = 0; k < o.line_searches.size(); ++k) {
      const auto solve = lbfgspp_solver(o.line_searches[k]);
      std::vector<Run> runs;
      for (int r = 0; r < o.repeats; ++r) runs.push_back((*solve)(*problem, o, m));
      std::vector<double> seconds;
      for (const Run& r : runs) seconds.push_back(r.seconds);
      std::sort(seconds.begin(), seconds.end());
      const Run& r = runs.back();
      const bool ok = std::isfinite(r.value) && r.value - fstar <= std::max(1e-6 * std::abs(fstar), 1e-10);
      solved[k] += ok;
      report["results"].push_back({{"problem", name},
                                   {"n", problem->dimension()},
                                   {"method", "lbfgspp/" + o.line_searches[k]},
                                   {"known_minimum", fstar},
                                   {"f", r.value},
                                   {"gradient_norm", r.gradient_norm},
                                   {"iterations", r.iterations},
                                   {"gradient_evaluations", r.gradient_evaluations},
                                   {"status", r.status},
                                   {"solved", ok},
                                   {"seconds", seconds[seconds.size() / 2]}});
      if (!o.json)
        fmt::print(" {:>15}", ok ? fmt::format("{}", r.gradient_evaluations) : fmt::format("({:.3g})", r.value));
    }
    if (!o.json) fmt::print("\n");
  }
  nlohmann::json counts;
  for (std::size_t k = 0; k < o.line_searches.size(); ++k) counts["lbfgspp/" + o.line_searches[k]] = solved[k];
  report["solved"] = counts;
  if (!o.json) {
    fmt::print("{:<32}", "solved");
    for (int c : solved) fmt::print(" {:>15}", fmt::format("{}/{}", c, names.size()));
    fmt::print("\n");
  } else {
    fmt::print("{}\n", report.dump(2));
  }
  if (!write_json_out(report, o.json_out)) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"descent L-BFGS vs LBFGS++ on extended Rosenbrock"};
  app.add_option("--n", o.n, "Dimension (even)")->capture_default_str();
  app.add_option("--m", o.memories, "L-BFGS memory m; repeat for several")->capture_default_str();
  app.add_option("--tol", o.tol, "Absolute tolerance on ||g||_2, both sides")->capture_default_str();
  app.add_option("--repeats", o.repeats, "Timed runs per side (alternating)")->capture_default_str();
  app.add_option("--warmup", o.warmup, "Untimed runs per side first")->capture_default_str();
  app.add_option("--max-iter", o.max_iterations, "Iteration limit, both sides")->capture_default_str();
  app.add_option("--linesearch", o.line_searches,
                 "LBFGS++ line search(es): nocedal-wright, more-thuente, backtracking, bracketing, armijo")
      ->capture_default_str();
  app.add_option("--suite", o.suite, "mgh: LBFGS++ alone on the Moré–Garbow–Hillstrom set");
  app.add_option("--x0-scale", o.x0_scale, "With --suite: start from S times the standard starts")
      ->capture_default_str();
  app.add_flag("--json", o.json, "Print one JSON object instead of the table");
  app.add_option("--json-out", o.json_out, "Also write the JSON object to this file");
  CLI11_PARSE(app, argc, argv);
  if (!o.suite.empty()) {
    if (o.suite != "mgh" || o.repeats < 1 || !std::isfinite(o.x0_scale)) {
      fmt::print(stderr, "--suite takes mgh, with --repeats >= 1 and a finite --x0-scale\n");
      return 2;
    }
    for (const auto& ls : o.line_searches)
      if (!lbfgspp_solver(ls)) {
        fmt::print(stderr, "unknown --linesearch '{}'\n", ls);
        return 2;
      }
    if (app.count("--tol") == 0) o.tol = 1e-10;
    if (app.count("--m") == 0) o.memories = {10};
    if (app.count("--repeats") == 0) o.repeats = 3;
    return run_mgh_suite(o);
  }
  if (o.repeats < 1 || o.warmup < 0 || o.n < 2 || o.n % 2 || !(o.tol > 0) || o.memories.empty()) {
    fmt::print(stderr, "need --repeats >= 1, --warmup >= 0, an even --n >= 2, --tol > 0 and at least one --m\n");
    return 2;
  }

  std::unique_ptr<Problem> problem;
  try {
    problem = descent::problems::make_problem("extended_rosenbrock", {.dimension = o.n});
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  }
  const double fstar = problem->known_minimum().value_or(0.0);

  nlohmann::json report = {{"benchmark", "lbfgs_peers"},
                           {"problem", "extended_rosenbrock"},
                           {"n", o.n},
                           {"tol", o.tol},
                           {"repeats", o.repeats},
                           {"line_search_c1", 1e-4},
                           {"line_search_c2", 0.9},
                           {"results", nlohmann::json::array()}};
  int failures = 0;
  for (Index m : o.memories) {
    std::vector<Side> sides;
    sides.push_back({"descent", [](const Problem& p, const Options& opt, Index mm) { return run_descent(p, opt, mm); },
                     {}});
    for (const auto& ls : o.line_searches) {
      auto solve = lbfgspp_solver(ls);
      if (!solve) {
        fmt::print(stderr, "unknown --linesearch '{}'\n", ls);
        return 2;
      }
      sides.push_back({"lbfgspp/" + ls, *solve, {}});
    }

    for (int w = 0; w < o.warmup; ++w)
      for (Side& s : sides) (void)s.solve(*problem, o, m);
    for (int r = 0; r < o.repeats; ++r)
      for (Side& s : sides) s.runs.push_back(s.solve(*problem, o, m));

    const Side& d = sides.front();
    nlohmann::json block = {{"m", m}, {"sides", nlohmann::json::array()}};
    for (const Side& s : sides) {
      auto j = side_json(s, fstar);
      if (&s != &d) {
        j["ratio_gradient_evaluations"] =
            double(d.last().gradient_evaluations + d.last().value_evaluations) /
            double(std::max<Index>(1, s.last().gradient_evaluations));
        j["ratio_seconds"] = d.median() / s.median();
      }
      block["sides"].push_back(j);
    }

    if (!o.json) {
      fmt::print("extended_rosenbrock n = {}, m = {}, ||g||_2 <= {:g}, {} timed runs per side (alternating)\n", o.n,
                 m, o.tol, o.repeats);
      fmt::print("{:<24} {:>6} {:>7} {:>6} {:>11} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}\n", "side", "iter",
                 "g-evals", "f-only", "f", "|g|", "median s", "min s", "max s", "evals d/x", "time d/x");
      for (const Side& s : sides) {
        const Run& r = s.last();
        std::string ratios = fmt::format("{:>8} {:>8}", "", "");
        if (&s != &d)
          ratios = fmt::format("{:>8.3f} {:>8.3f}",
                               double(d.last().gradient_evaluations + d.last().value_evaluations) /
                                   double(std::max<Index>(1, r.gradient_evaluations)),
                               d.median() / s.median());
        fmt::print("{:<24} {:>6} {:>7} {:>6} {:>11.3e} {:>10.3e} {:>10.6f} {:>10.6f} {:>10.6f} {}\n", s.name,
                   r.iterations, r.gradient_evaluations, r.value_evaluations, r.value, r.gradient_norm, s.median(),
                   s.min(), s.max(), ratios);
      }
    }
    for (const Side& s : sides) {
      if (s.reached_minimum(fstar)) continue;
      ++failures;
      const Run& r = s.last();
      auto warning = fmt::format("WARNING: {} (m = {}) did not converge to the minimum: {}, f = {:.3e}, |g| = {:.3e}",
                                 s.name, m, r.status, r.value, r.gradient_norm);
      fmt::print(stderr, "{}\n", warning);
      block["warnings"].push_back(warning);
    }
    report["results"].push_back(block);
    if (!o.json) fmt::print("(evals d/x: descent's gradient + value-only evaluations over the peer's; "
                            "time d/x: median over median; < 1 means descent is cheaper)\n\n");
  }
  if (o.json) fmt::print("{}\n", report.dump(2));
  if (!write_json_out(report, o.json_out)) return 1;
  // Convergence failures are warnings, not errors: the figures remain useful.
  if (failures && !o.json) fmt::print("{} side(s) did not reach the minimum; see the warnings above\n", failures);
  return 0;
}
