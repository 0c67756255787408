// descent minimize: the full-batch solvers and the stochastic steppers (on
// the exact gradient) on the test problems.
//
//   descent minimize --problem NAME [--dim N] [--x0-scale S] --method M [--method M2 ...]
//                    [--gtol --rel-gtol --ftol --xtol --max-iter --max-evals --time-limit]
//                    [--lr --memory --radius --trust-scaling none|diagonal|when-stalled]
//                    [--bounds LO,HI | --bounds-file F | --project SPEC] [--json] [--quiet] [--plot FILE.svg]
//                    [--momentum --beta1 --beta2 --eps --weight-decay --nesterov --hp K=V
//                     --lookahead K,ALPHA --schedule SPEC --clip-norm --l1]   (steppers)
//   descent minimize --problem NAME --method SOLVER --restarts N [--seed S] [--json]   (multistart)
//   descent minimize --problem NAME --method SOLVER --global basin-hopping [--hops K --temperature T --step S]
//   descent minimize --suite mgh|bounded --method M|all [--profile FILE.svg] [--json]
//
// A bound-constrained problem of the catalogue (hs*, torsion, journal_bearing,
// minimal_surface_obstacle) brings its own bounds; --bounds, --bounds-file or
// --project replace them.
#include <cerrno>

#include <algorithm>
#include <cmath>
#include <memory>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "paths.hpp"
#include "ranges.hpp"
#include "stepper_flags.hpp"
#include "descent/core/any_objective.hpp"
#include "descent/data/bounds_file.hpp"
#include "descent/io/file.hpp"
#include "descent/io/performance_profile.hpp"
#include "descent/io/svg.hpp"
#include "descent/problems/problem.hpp"
#include "descent/optim/factory.hpp"
#include "descent/optim/run.hpp"
#include "descent/optim/schedule.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/solvers/multistart.hpp"

namespace descent::cli {
namespace {

using problems::Problem;

struct Flags {
  std::string problem;
  std::string suite;
  std::vector<std::string> methods;
  std::optional<Index> dim;
  double condition = 1e6;
  double x0_scale = 1.0;
  std::optional<double> gtol, rel_gtol, ftol, xtol, time_limit;
  std::optional<Index> max_iter, max_evals;
  double lr = 1e-3;
  StepperFlags stepper;  // hyper-parameters named as in torch.optim
  std::string schedule;  // learning-rate schedule spec
  Index memory = 10;
  double radius = 1.0;
  std::string trust_scaling = "when-stalled";
  bool no_saddle_escape = false;
  std::string bounds;       // --bounds LO,HI
  std::string bounds_file;  // --bounds-file FILE
  std::string project;      // --project SPEC
  bool json = false;
  bool quiet = false;
  std::string plot;
  std::string profile;
  Index restarts = 0;      // --restarts N: multistart with N starts
  std::string global;      // --global basin-hopping
  Index hops = 100;
  double temperature = 1.0, step = 0.5;
  std::uint64_t seed = 0;  // of the restarts' starts and the hops
};

// Prints the iteration log: every iteration up to 10, then 20, 30, ..., 100,
// 200, ... (log-spaced), and the last one.
class IterationLog final : public Callback<double> {
 public:
  void on_begin(const RunInfo&) override {
    fmt::print("{:>6} {:>22} {:>12} {:>11} {:>8}\n", "iter", "f", "|g|", "step", "g-evals");
  }
  Control on_iteration(const IterationReport<double>& r) override {
    last_ = r;
    printed_last_ = false;
    Index every = 1;
    while (every * 10 <= r.iteration) every *= 10;
    if (r.iteration <= 10 || r.iteration % every == 0) print(r);
    return Control::proceed;
  }
  void on_end(const Result<double>&) override {
    if (!printed_last_) print(last_);
  }

 private:
  void print(const IterationReport<double>& r) {
    fmt::print("{:>6} {:>22.15g} {:>12.5e} {:>11.4e} {:>8}\n", r.iteration, r.value, r.gradient_norm,
               r.step_length, r.gradient_evaluations);
    printed_last_ = true;
  }
  IterationReport<double> last_;
  bool printed_last_ = true;
};

// Records the iterates of a two-dimensional run for --plot.
class PathRecorder final : public Callback<double> {
 public:
  Control on_iteration(const IterationReport<double>& r) override {
    if (r.x && r.x->size() == 2) points.push_back({(*r.x)[0], (*r.x)[1]});
    return Control::proceed;
  }
  std::vector<std::array<double, 2>> points;
};

// A method of the command line: a full-batch solver or a stochastic stepper.
struct Choice {
  std::string name;
  std::optional<Method> solver;  // empty for a stepper
};

std::string all_method_names() {
  return method_names() + ", " + fmt::format("{}", fmt::join(optim::stepper_names(), ", "));
}

// 'all' names every solver, or with `bounded_only` those that take bounds.
std::vector<Choice> parse_methods(const std::vector<std::string>& names, bool bounded_only = false) {
  if (names.empty()) throw usage_error("--method is required; methods: " + all_method_names() + " (or 'all' with --suite)");
  std::vector<Choice> choices;
  for (const auto& name : names) {
    if (name == "all") {
      for (Method m : all_methods())
        if (!bounded_only || accepts_bounds(m)) choices.push_back({std::string(to_string(m)), m});
      continue;
    }
    if (auto m = parse_method(name)) {
      choices.push_back({name, *m});
    } else if (optim::is_stepper_name(name)) {
      choices.push_back({name, std::nullopt});
    } else {
      throw usage_error(fmt::format("unknown method '{}'; methods: {}", name, all_method_names()));
    }
  }
  return choices;
}

// Runs one choice from x.
Result<double> run_choice(const Choice& c, const Flags& flags, AnyObjective<double>& objective, Vector<double>& x,
                          const MinimizeOptions& options, Callback<double>* callback) {
  if (c.solver) return minimize<double>(objective, x, *c.solver, options, callback);
  std::unique_ptr<optim::Stepper<double>> stepper;
  const auto hp = flags.stepper.hyperparameters_map();
  // The constraint as a projection after each step, from a start inside it.
  const Projection constraint = options.bounds ? Projection::bounds(*options.bounds) : options.projection;
  constraint.apply(x);
  try {
    stepper = optim::make_stepper<double>(c.name, Layout::single(x.size()), x, hp, flags.stepper.regularization());
    stepper->set_projection(constraint);
  } catch (const invalid_argument& e) {
    throw usage_error(e.what());
  }
  optim::StepperRunOptions run;
  run.stop = options.stop;
  run.stop.step_tolerance = 0;  // a stepper's step says nothing about convergence
  run.lr = flags.lr;
  if (!flags.schedule.empty()) {
    if (optim::is_plateau_spec(flags.schedule))
      throw usage_error("--schedule plateau needs a validation metric per epoch; use it with descent train");
    optim::Schedule schedule;
    try {
      schedule = optim::parse_schedule(flags.schedule, run.stop.max_iterations);
    } catch (const invalid_argument& e) {
      throw usage_error(e.what());
    }
    const double base = flags.lr;
    run.schedule = [schedule, base](Index k) { return schedule.lr(base, k); };
  }
  Result<double> r = optim::minimize_with_stepper<double>(objective, x, *stepper, run, callback);
  if (options.bounds) {
    ActiveBounds active = active_bounds(*options.bounds, r.x);
    r.active_lower = std::move(active.lower);
    r.active_upper = std::move(active.upper);
  }
  return r;
}

MinimizeOptions options_from(const Flags& f, const MinimizeOptions& defaults) {
  MinimizeOptions o = defaults;
  if (f.gtol) o.stop.gradient_tolerance = *f.gtol;
  if (f.rel_gtol) o.stop.relative_gradient_tolerance = *f.rel_gtol;
  if (f.ftol) o.stop.value_tolerance = *f.ftol;
  if (f.xtol) o.stop.step_tolerance = *f.xtol;
  if (f.max_iter) o.stop.max_iterations = *f.max_iter;
  if (f.max_evals) o.stop.max_evaluations = *f.max_evals;
  if (f.time_limit) o.stop.time_limit = *f.time_limit;
  if (!(f.lr > 0)) throw usage_error(fmt::format("--lr must be > 0; got {}", f.lr));
  o.step_size = f.lr;
  o.memory = f.memory;
  o.initial_radius = f.radius;
  o.trust_scaling = *parse_trust_region_scaling(f.trust_scaling);  // checked by the flag
  o.escape_saddles = !f.no_saddle_escape;
  o.stop.validate();
  return o;
}

// --bounds LO,HI for every variable, or --bounds-file with a pair per line.
std::optional<Bounds> bounds_from(const Flags& f, Index n) {
  if (!f.bounds.empty() && !f.bounds_file.empty()) throw usage_error("give --bounds or --bounds-file, not both");
  if (!f.bounds_file.empty()) {
    Bounds b = data::read_bounds_file(f.bounds_file, n);
    return b;
  }
  if (f.bounds.empty()) return std::nullopt;
  const auto comma = f.bounds.find(',');
  const std::string_view spec = f.bounds;
  const auto lo = comma == std::string::npos ? std::nullopt : data::parse_bound(spec.substr(0, comma));
  const auto hi = comma == std::string::npos ? std::nullopt : data::parse_bound(spec.substr(comma + 1));
  if (!lo || !hi)
    throw usage_error(fmt::format("--bounds expects LO,HI (numbers, inf or -inf), e.g. 0,1 or -inf,5; got '{}'", f.bounds));
  if (*lo > *hi || *lo == Bounds::inf || *hi == -Bounds::inf)
    throw usage_error(fmt::format("--bounds {}: the interval is empty", f.bounds));
  return Bounds::uniform(n, *lo, *hi);
}

// Puts the constraints of the flags into the options, or else the problem's
// own bounds, refusing those the chosen methods cannot honour before anything
// runs. Returns whether the problem's own bounds are the constraint (its known
// minimum is then the one to reach).
bool constrain(const Flags& f, const Problem& problem, const std::vector<Choice>& methods, MinimizeOptions& o) {
  const Index n = problem.dimension();
  o.bounds = bounds_from(f, n);
  if (!f.project.empty()) {
    if (o.bounds) throw usage_error("give --bounds or --project, not both (a box is --project box:LO,HI)");
    try {
      o.projection = Projection::parse(f.project);
      o.projection.validate(n);
    } catch (const invalid_argument& e) {
      throw usage_error(fmt::format("--project: {}", e.what()));
    }
  }
  const bool own = !o.bounds && o.projection.empty() && problem.bounds();
  if (own) o.bounds = problem.bounds();
  for (const Choice& c : methods) {
    if (!c.solver) continue;  // a stepper projects after each step (Stepper::set_projection)
    if (own && !accepts_bounds(*c.solver))
      throw usage_error(fmt::format("{} is bound-constrained and method {} does not take bounds; use lbfgsb, "
                                    "projected-gd, spg or a stepper",
                                    problem.name(), c.name));
    if (o.bounds && !accepts_bounds(*c.solver))
      throw usage_error(fmt::format("method {} does not take bounds; use lbfgsb, projected-gd or spg", c.name));
    if (!o.projection.empty() && !accepts_projection(*c.solver))
      throw usage_error(fmt::format("method {} does not take --project; use projected-gd or spg{}", c.name,
                                    o.projection.is_box() ? ", or lbfgsb with --bounds" : ""));
  }
  return own;
}

// Refuses a run whose vectors (and dense matrix, for bfgs, newton, dogleg)
// cannot fit in this machine's memory, before allocating anything.
void check_memory(Index n, const Choice& c, Index memory) {
  const double vectors = c.solver == Method::lbfgs ? 2.0 * double(memory) + 12 : 16;
  double bytes = vectors * double(n) * sizeof(double);
  if (c.solver && needs_dense_matrix(*c.solver)) bytes += 3.0 * double(n) * double(n) * sizeof(double);
  require_memory(bytes, 1.0, fmt::format("{} on n = {}", c.name, n));
}

// `known`: the problem's known minimum holds for this run's constraints;
// `bounded`: the run had bounds, whose active sets are reported.
nlohmann::json to_json(const Problem& p, const Choice& c, const Result<double>& r, bool known, bool bounded) {
  nlohmann::json j;
  j["problem"] = std::string(p.name());
  j["method"] = c.name;
  j["n"] = p.dimension();
  j["f"] = r.value;
  j["gradient_norm"] = r.gradient_norm;
  j["iterations"] = r.iterations;
  j["function_evaluations"] = r.value_evaluations;
  j["gradient_evaluations"] = r.gradient_evaluations;
  j["hessian_evaluations"] = r.hessian_evaluations;
  j["status"] = std::string(to_string(r.status));
  j["converged"] = r.converged();
  j["message"] = r.message;
  j["seconds"] = r.seconds;
  if (auto fstar = p.known_minimum(); fstar && known) j["known_minimum"] = *fstar;
  if (r.diverged_at >= 0) j["diverged_at"] = r.diverged_at;
  if (r.x.size() <= 1000) j["x"] = std::vector<double>(r.x.data(), r.x.data() + r.x.size());
  if (bounded || (c.solver && accepts_bounds(*c.solver))) {
    j["active_lower_count"] = r.active_lower.size();
    j["active_upper_count"] = r.active_upper.size();
    if (r.x.size() <= 1000) {
      j["active_lower"] = r.active_lower;
      j["active_upper"] = r.active_upper;
    }
  }
  return j;
}

// f within 1e-6 relative or 1e-10 absolute of the known minimum (or below it).
bool at_minimum(double value, double fstar) {
  return std::isfinite(value) && value - fstar <= std::max(1e-6 * std::abs(fstar), 1e-10);
}

bool solved(const Problem& p, const Result<double>& r) {
  if (!std::isfinite(r.value)) return false;
  if (auto fstar = p.known_minimum()) return at_minimum(r.value, *fstar);
  return r.converged();
}

// --restarts N: the one solver from N seeded starts in parallel, each thread
// on its own copy of the problem; --global basin-hopping: one chain of hops.
// The distinct minima and the best.
void run_global(const Flags& flags, const Problem& problem, const std::vector<Choice>& methods,
                MinimizeOptions options, bool constrained) {
  const bool hopping = !flags.global.empty();
  const std::string what = hopping ? "--global basin-hopping" : "--restarts";
  if (hopping && flags.restarts > 0) throw usage_error("give --restarts N or --global basin-hopping, not both");
  if (methods.size() != 1 || !methods[0].solver)
    throw usage_error(what + " takes one full-batch solver (--method lbfgs, trust-region, lbfgsb, ...)");
  if (!flags.plot.empty()) throw usage_error(what + " draws no --plot; run one start to plot its path");
  const Choice& m = methods[0];
  // A method that takes bounds keeps every solve in a test function's domain.
  const bool domain_as_bounds =
      accepts_bounds(*m.solver) && !options.bounds && options.projection.empty() && problem.domain().has_value();
  if (domain_as_bounds) options.bounds = problem.domain();
  MultistartOptions mo{.starts = std::max<Index>(1, flags.restarts), .seed = flags.seed};
  const int threads = hopping ? 1 : multistart_threads(mo);
  std::vector<std::unique_ptr<Problem>> copies;
  for (int t = 0; t < threads; ++t)
    copies.push_back(problems::make_problem(flags.problem, {.dimension = flags.dim, .condition = flags.condition}));
  const LocalSolve local = [&](Vector<double>& x, int thread) {
    auto any = AnyObjective<double>::reference(*copies[static_cast<std::size_t>(thread)]);
    return minimize<double>(any, x, *m.solver, options, nullptr);
  };
  // Starts are drawn from the constraint's box, else the test function's domain.
  const std::optional<Bounds> where = options.bounds ? options.bounds : problem.domain();
  const Vector<double> x0 = flags.x0_scale * problem.start();
  const GlobalResult g =
      hopping ? basin_hopping(local, x0, where,
                              {.hops = flags.hops, .temperature = flags.temperature, .step = flags.step, .seed = flags.seed})
              : multistart(local, x0, where, mo);
  const auto fstar = constrained ? std::nullopt : problem.known_minimum();
  auto at_known = [&](double value) { return fstar && at_minimum(value, *fstar); };
  Index reached = 0;
  for (const LocalMinimum& lm : g.minima)
    if (at_known(lm.value)) reached += lm.count;
  if (flags.json) {
    nlohmann::json j = to_json(problem, m, g.best, !constrained, options.bounds.has_value());
    if (hopping) {
      j["global"] = "basin-hopping";
      j["hops"] = flags.hops;
      j["accepted_hops"] = g.accepted;
      j["final_step"] = g.final_step;
      j["local_solves"] = g.starts;
    } else {
      j["restarts"] = g.starts;
    }
    j["domain_as_bounds"] = domain_as_bounds;
    j["seed"] = flags.seed;
    j["failed_starts"] = g.failed;
    j["starts_outside_domain"] = g.outside;
    j["total_gradient_evaluations"] = g.gradient_evaluations;
    j["total_seconds"] = g.seconds;
    if (fstar) {
      j["starts_reaching_known_minimum"] = reached;
      j["solved"] = at_known(g.best.value);
    }
    j["minima"] = nlohmann::json::array();
    for (const LocalMinimum& lm : g.minima) {
      nlohmann::json e = {{"f", lm.value}, {"count", lm.count}, {"first_start", lm.first_start}};
      if (lm.x.size() <= 1000) e["x"] = std::vector<double>(lm.x.data(), lm.x.data() + lm.x.size());
      j["minima"].push_back(e);
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  if (hopping)
    fmt::print("{} (n = {}) with {}, basin hopping: {} hops at temperature {:g}, step {:g} (seed {}){}\n",
               problem.name(), problem.dimension(), m.name, flags.hops, flags.temperature, flags.step, flags.seed,
               domain_as_bounds ? ", its domain as bounds" : "");
  else
    fmt::print("{} (n = {}) with {} from {} starts (seed {}, {} threads){}\n", problem.name(), problem.dimension(),
               m.name, g.starts, flags.seed, threads, domain_as_bounds ? ", its domain as bounds" : "");
  fmt::print("{}", g.report());
  fmt::print("best: {}\n  {}\n", g.best.message, g.best.brief_report());
  if (fstar)
    fmt::print("  known minimum {:.9g}: {} ({} of {} {})\n", *fstar, at_known(g.best.value) ? "reached" : "not reached",
               reached, g.starts, hopping ? "local solves" : "starts");
}

void run_problem(const Flags& flags) {
  const auto methods = parse_methods(flags.methods);
  auto problem = problems::make_problem(flags.problem, {.dimension = flags.dim, .condition = flags.condition});
  const Index n = problem->dimension();
  for (const Choice& m : methods) check_memory(n, m, flags.memory);
  if (!flags.plot.empty() && n != 2)
    throw usage_error(fmt::format("--plot draws two-dimensional problems; '{}' has n = {}", flags.problem, n));
  if (!(std::isfinite(flags.x0_scale)))
    throw usage_error(fmt::format("--x0-scale must be finite; got {}", flags.x0_scale));
  MinimizeOptions options = options_from(flags, {});
  const bool own_bounds = constrain(flags, *problem, methods, options);
  // The catalogue's known minimum holds for the problem's own constraints
  // (none, or its bounds), not for those of the flags.
  const bool constrained = !own_bounds && (options.bounds || !options.projection.empty());

  if (flags.restarts > 0 || !flags.global.empty()) return run_global(flags, *problem, methods, options, constrained);

  auto objective = AnyObjective<double>::reference(*problem);
  nlohmann::json all = nlohmann::json::array();
  std::vector<io::PlotPath> paths;
  for (const Choice& m : methods) {
    Vector<double> x = flags.x0_scale * problem->start();
    IterationLog log;
    PathRecorder path;
    CallbackList<double> callbacks;
    const bool verbose = !flags.json && !flags.quiet;
    if (verbose) {
      fmt::print("{} (n = {}) with {}\n", problem->name(), n, m.name);
      callbacks.add(log);
    }
    if (!flags.plot.empty()) {
      path.points.push_back({x[0], x[1]});
      callbacks.add(path);
    }
    // No callback at all when nothing listens: a solver then skips the work
    // of its per-iteration report.
    const Result<double> r = run_choice(m, flags, objective, x, options, callbacks.empty() ? nullptr : &callbacks);
    if (flags.json) {
      all.push_back(to_json(*problem, m, r, !constrained, options.bounds.has_value()));
    } else {
      fmt::print("{}: {}\n", m.name, r.message);
      fmt::print("  {}\n", r.brief_report());
      if (options.bounds)
        fmt::print("  active bounds: {} at lower, {} at upper, {} free\n", r.active_lower.size(), r.active_upper.size(),
                   n - Index(r.active_lower.size() + r.active_upper.size()));
      if (auto fstar = problem->known_minimum(); fstar && !constrained)
        fmt::print("  known minimum {:.9g}: {}\n", *fstar, solved(*problem, r) ? "reached" : "not reached");
      fmt::print("  {:.6f} s\n", r.seconds);
      if (verbose && methods.size() > 1) fmt::print("\n");
    }
    if (!flags.plot.empty()) paths.push_back({m.name, std::move(path.points)});
  }
  if (flags.json) fmt::print("{}\n", all.size() == 1 ? all[0].dump(2) : all.dump(2));

  if (!flags.plot.empty()) {
    io::ContourPlotOptions plot = io::fit_box(paths, 0.15);
    plot.title = fmt::format("{}: {}", problem->name(), fmt::join(flags.methods, ", "));
    auto f = [&](double a, double b) {
      Vector<double> p(2);
      p << a, b;
      return problem->value(p);
    };
    io::write_file_atomically(flags.plot, io::contour_plot_svg(f, paths, plot));
    if (!flags.json) fmt::print("wrote {}\n", flags.plot);
  }
}

bool variable_dimension(const std::string& name) {
  for (const auto& info : problems::problem_catalog())
    if (info.name == name) return info.variable_dimension;
  return false;
}

void run_suite(const Flags& flags) {
  if (flags.suite != "mgh" && flags.suite != "bounded")
    throw usage_error(fmt::format("unknown suite '{}'; suites: mgh, bounded", flags.suite));
  const bool bounded = flags.suite == "bounded";
  if (flags.restarts > 0 || !flags.global.empty())
    throw usage_error("--restarts and --global run one --problem, not a --suite");
  const auto methods = parse_methods(flags.methods, bounded);
  MinimizeOptions defaults;
  // Bounded: of the projected gradient, which on the grids reaches rounding
  // level near 1e-9.
  defaults.stop.gradient_tolerance = bounded ? 1e-8 : 1e-10;
  defaults.stop.max_iterations = 10000;
  MinimizeOptions options = options_from(flags, defaults);
  const auto names = bounded ? problems::bounded_problem_names() : problems::mgh_problem_names();
  const std::string title = bounded ? "Bound-constrained set (Hock–Schittkowski; MINPACK-2 at n = " +
                                          std::to_string(flags.dim.value_or(2500)) + ")"
                                    : "Moré–Garbow–Hillstrom set";

  std::size_t width = 27;  // the problem column: the longest "name (n)", a dimension of up to 7 digits
  for (const auto& name : names) width = std::max(width, name.size() + 10);
  Eigen::MatrixXd costs(Index(names.size()), Index(methods.size()));
  std::vector<int> solved_count(methods.size(), 0);
  nlohmann::json all = nlohmann::json::array();
  if (!flags.json) {
    const std::string starts =
        flags.x0_scale == 1.0 ? "the standard starts" : fmt::format("{:g} x the standard starts", flags.x0_scale);
    fmt::print("{} from {}: gradient + Hessian evaluations when solved\n", title, starts);
    fmt::print("(f within 1e-6 relative or 1e-10 absolute of the known minimum, or converged where none is\n"
               "known); (final f) when not.\n\n");
    fmt::print("{:<{}}", "problem", width);
    for (const Choice& m : methods) fmt::print(" {:>12}", m.name);
    fmt::print("\n");
  }
  for (std::size_t p = 0; p < names.size(); ++p) {
    auto problem = problems::make_problem(names[p], {.dimension = variable_dimension(names[p]) ? flags.dim : std::nullopt});
    if (bounded) constrain(flags, *problem, methods, options);
    auto objective = AnyObjective<double>::reference(*problem);
    if (!flags.json) fmt::print("{:<{}}", fmt::format("{} ({})", names[p], problem->dimension()), width);
    for (std::size_t s = 0; s < methods.size(); ++s) {
      Vector<double> x = flags.x0_scale * problem->start();
      const Result<double> r = run_choice(methods[s], flags, objective, x, options, nullptr);
      const bool ok = solved(*problem, r);
      const double cost = double(r.gradient_evaluations + r.hessian_evaluations);
      costs(Index(p), Index(s)) = ok ? std::max(cost, 1.0) : std::numeric_limits<double>::infinity();
      solved_count[s] += ok;
      if (flags.json) {
        auto j = to_json(*problem, methods[s], r, true, options.bounds.has_value());
        j["solved"] = ok;
        j.erase("x");
        all.push_back(j);
      } else {
        fmt::print(" {:>12}", ok ? fmt::format("{}", r.gradient_evaluations + r.hessian_evaluations)
                                 : fmt::format("({:.3g})", double(r.value)));
        std::fflush(stdout);
      }
    }
    if (!flags.json) fmt::print("\n");
  }
  if (flags.json) {
    fmt::print("{}\n", all.dump(2));
  } else {
    fmt::print("{:<{}}", "solved", width);
    for (std::size_t s = 0; s < methods.size(); ++s)
      fmt::print(" {:>12}", fmt::format("{}/{}", solved_count[s], names.size()));
    fmt::print("\n");
  }
  if (!flags.profile.empty()) {
    std::vector<std::string> labels;
    for (const Choice& m : methods) labels.emplace_back(m.name);
    const auto profile = io::performance_profile(costs, labels);
    io::write_file_atomically(
        flags.profile, io::performance_profile_svg(profile, title + ", standard starts",
                                                   "gradient + Hessian evaluations"));
    if (!flags.json) fmt::print("wrote {}\n", flags.profile);
  }
}

}  // namespace

void add_minimize(CLI::App& app) {
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("minimize", "Minimize a test problem with the full-batch solvers or the steppers");
  cmd->add_option("--problem", flags->problem,
                  "Test problem (rosenbrock, ..., quadratic, ill_conditioned_quadratic; bound-constrained: "
                  "hs1, ..., torsion, journal_bearing, minimal_surface_obstacle, which bring their bounds)");
  cmd->add_option("--suite", flags->suite, "Run a whole problem set: mgh, or bounded (with the methods that take bounds)");
  cmd->add_option("--method", flags->methods, "Method(s): " + all_method_names() + "; 'all' (the solvers)")->take_all();
  cmd->add_option("--dim", flags->dim, "Dimension of a variably sized problem (with --suite bounded: of the grids)")
      ->transform(integer_in<Index>(1, Index(1) << 40));
  cmd->add_option("--condition", flags->condition, "Condition number of ill_conditioned_quadratic")
      ->capture_default_str()
      ->check(number_in(1, infinity));
  cmd->add_option("--x0-scale", flags->x0_scale, "Start from S times the standard start")->capture_default_str()
      ->check(number_in(-infinity, infinity));
  cmd->add_option("--gtol", flags->gtol, "Stop when |g| <= gtol (default 1e-6; 1e-10 for --suite mgh, 1e-8 for bounded)")
      ->check(number_in(0, infinity));
  cmd->add_option("--rel-gtol", flags->rel_gtol, "Stop when |g| <= rel-gtol * |g0|")
      ->check(number_in(0, infinity));
  cmd->add_option("--ftol", flags->ftol, "Stop when the relative reduction of f <= ftol")
      ->check(number_in(0, infinity));
  cmd->add_option("--xtol", flags->xtol, "Stop when the step <= xtol * max(1, |x|)")
      ->check(number_in(0, infinity));
  cmd->add_option("--max-iter", flags->max_iter, "Iteration limit (default 1000; 10000 for --suite)")
      ->transform(integer_in<Index>(0, Index(1) << 40));
  cmd->add_option("--max-evals", flags->max_evals, "Gradient evaluation limit (0 = none)")
      ->transform(integer_in<Index>(0, Index(1) << 40));
  cmd->add_option("--time-limit", flags->time_limit, "Wall-clock limit in seconds")
      ->check(number_in(0, infinity, true));
  cmd->add_option("--lr,--step-size", flags->lr, "Fixed step of gd; learning rate of the steppers")
      ->capture_default_str()
      ->check(number_in(0, infinity));
  flags->stepper.add_to(cmd);
  cmd->add_option("--schedule", flags->schedule,
                  "Steppers: learning-rate schedule over --max-iter steps, e.g. cosine, step:100:0.5, "
                  "warmup:50+cosine");
  cmd->add_option("--memory", flags->memory, "L-BFGS memory m")->capture_default_str()
      ->transform(integer_in<Index>(1, 100'000));
  cmd->add_option("--radius", flags->radius, "Initial trust radius")->capture_default_str()
      ->check(number_in(0, infinity, true));
  cmd->add_option("--trust-scaling", flags->trust_scaling,
                  "Trust region's shape: none (a ball), diagonal (Moré's scaling by the Hessian's diagonal), "
                  "when-stalled (a ball until its radius falls below rounding, then scaled)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "diagonal", "when-stalled"}));
  cmd->add_flag("--no-saddle-escape", flags->no_saddle_escape,
                "Newton and trust region: stop at any point with a small gradient, even a saddle (by default they "
                "test the Hessian for negative curvature there and step along it)");
  cmd->add_option("--bounds", flags->bounds, "Bounds LO,HI on every variable (inf allowed): lbfgsb, projected-gd, spg and the steppers");
  cmd->add_option("--bounds-file", flags->bounds_file,
                  "Bounds per variable: one 'LO HI' pair per line (inf allowed, # comments)");
  cmd->add_option("--project", flags->project,
                  "Projected-gd, spg and the steppers: constrain x to nonneg, box:LO,HI, simplex[:R], l1:R or l2:R");
  cmd->add_option("--restarts", flags->restarts,
                  "Multistart: the one solver from N seeded starts in parallel (x0, then uniform in the problem's "
                  "domain or bounds, else Gaussian around x0); prints the distinct minima")
      ->transform(integer_in<Index>(1, 1'000'000));
  cmd->add_option("--global", flags->global,
                  "basin-hopping: the one solver inside Wales–Doye basin hopping (random displacement, local solve, "
                  "Metropolis acceptance, adaptive step); prints the distinct minima")
      ->check(CLI::IsMember({"basin-hopping"}));
  cmd->add_option("--hops", flags->hops, "Basin hopping: hops after the first local solve")
      ->capture_default_str()
      ->transform(integer_in<Index>(0, 100'000'000));
  cmd->add_option("--temperature", flags->temperature, "Basin hopping: the Metropolis temperature, in units of f")
      ->capture_default_str()
      ->check(number_in(0, infinity, true));
  cmd->add_option("--step", flags->step, "Basin hopping: initial half-width of the random displacement")
      ->capture_default_str()
      ->check(number_in(0, infinity, true));
  cmd->add_option("--seed", flags->seed, "Seed of the --restarts starts and the basin-hopping displacements")
      ->capture_default_str()
      ->transform(integer_in<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()));
  cmd->add_flag("--json", flags->json, "Print one JSON object (an array for several methods)");
  cmd->add_flag("--quiet", flags->quiet, "Print only the summary");
  cmd->add_option("--plot", flags->plot, "Write an SVG of the contours and each method's path (n = 2)");
  cmd->add_option("--profile", flags->profile, "With --suite: write the Dolan–Moré performance profile as SVG");
  cmd->callback([flags] {
    if (flags->problem.empty() == flags->suite.empty())
      throw usage_error("give exactly one of --problem NAME or --suite mgh|bounded");
    check_paths({{"--bounds-file", flags->bounds_file}}, {{"--plot", flags->plot}, {"--profile", flags->profile}});
    if (!flags->suite.empty()) {
      if (!flags->plot.empty()) throw usage_error("--plot is for a single --problem");
      if (!flags->bounds.empty() || !flags->bounds_file.empty() || !flags->project.empty())
        throw usage_error("--bounds, --bounds-file and --project are for a single --problem");
      run_suite(*flags);
    } else {
      if (!flags->profile.empty()) throw usage_error("--profile is for --suite");
      run_problem(*flags);
    }
  });
}

}  // namespace descent::cli
