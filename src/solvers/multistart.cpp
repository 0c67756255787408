// multistart (solvers/multistart.hpp).
#include "descent/solvers/multistart.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>

#include <fmt/format.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "descent/core/error.hpp"
#include "descent/core/random.hpp"

namespace descent {
namespace {

bool finite_box(const std::optional<Bounds>& domain, Index n) {
  return domain && domain->lower.size() == n && domain->upper.size() == n && domain->lower.allFinite() &&
         domain->upper.allFinite();
}

Vector<double> start_point(Index k, const Vector<double>& x0, const std::optional<Bounds>& domain,
                           const MultistartOptions& o) {
  if (k == 0) return x0;
  const Index n = x0.size();
  Rng rng(o.seed * 0x9E3779B97F4A7C15ULL + std::uint64_t(k) * 0xD1B54A32D192ED03ULL + 1);
  Vector<double> x(n);
  if (finite_box(domain, n)) {
    for (Index i = 0; i < n; ++i) x[i] = rng.uniform(domain->lower[i], domain->upper[i]);
  } else {
    for (Index i = 0; i < n; ++i) x[i] = x0[i] + o.perturbation * std::max(1.0, std::abs(x0[i])) * rng.normal();
  }
  return x;
}

bool outside(const Vector<double>& x, const std::optional<Bounds>& domain) {
  return (x.array() < domain->lower.array()).any() || (x.array() > domain->upper.array()).any();
}

// Counts r's point in the minimum it is within tolerance of, or adds one.
void add_minimum(std::vector<LocalMinimum>& minima, const Result<double>& r, Index k, double tolerance) {
  auto same = std::find_if(minima.begin(), minima.end(), [&](const LocalMinimum& m) {
    return (m.x - r.x).lpNorm<Eigen::Infinity>() <= tolerance * std::max(1.0, m.x.lpNorm<Eigen::Infinity>());
  });
  if (same == minima.end()) {
    minima.push_back({r.x, double(r.value), 1, k});
    return;
  }
  ++same->count;
  if (r.value < same->value) {
    same->value = r.value;
    same->x = r.x;
  }
}

// Files local solve k's result in g: a failure (none, or not finite), a
// point outside a finite domain, or a minimum. True for a minimum.
bool record(GlobalResult& g, const std::optional<Result<double>>& r, Index k, const std::optional<Bounds>& domain,
            bool box, double tolerance) {
  if (r) g.gradient_evaluations += r->gradient_evaluations;
  if (!r || !std::isfinite(r->value) || !r->x.allFinite()) {
    ++g.failed;
    return false;
  }
  if (box && outside(r->x, domain)) {
    ++g.outside;
    return false;
  }
  add_minimum(g.minima, *r, k, tolerance);
  return true;
}

// The minima lowest first, and g.best from the best solve (what describes
// it prefixes its message) or, when no solve gave a minimum, a diverged
// result at x0 saying why.
void finish(GlobalResult& g, const Result<double>* best, const Vector<double>& x0, const std::string& describe,
            const char* solves) {
  std::stable_sort(g.minima.begin(), g.minima.end(),
                   [](const LocalMinimum& a, const LocalMinimum& b) { return a.value < b.value; });
  if (best) {
    g.best = *best;
    g.best.message = fmt::format("{}: {}", describe, g.best.message);
    return;
  }
  g.best.status = Status::diverged;
  g.best.value = NAN;
  g.best.x = x0;
  g.best.message = fmt::format("none of the {} {} ended at a finite point inside the domain ({} failed, {} left the "
                               "domain)",
                               g.starts, solves, g.failed, g.outside);
}

}  // namespace

int multistart_threads(const MultistartOptions& o) {
#ifdef _OPENMP
  const int available = o.threads > 0 ? o.threads : omp_get_max_threads();
#else
  const int available = 1;
#endif
  return int(std::max<Index>(1, std::min<Index>(available, o.starts)));
}

GlobalResult multistart(const LocalSolve& local, const Vector<double>& x0, const std::optional<Bounds>& domain,
                        const MultistartOptions& o) {
  DESCENT_REQUIRE(o.starts >= 1, fmt::format("MultistartOptions::starts must be >= 1; got {}", o.starts));
  DESCENT_REQUIRE(o.perturbation > 0 && std::isfinite(o.perturbation),
                  fmt::format("MultistartOptions::perturbation must be > 0; got {}", o.perturbation));
  DESCENT_REQUIRE(o.merge_tolerance > 0 && std::isfinite(o.merge_tolerance),
                  fmt::format("MultistartOptions::merge_tolerance must be > 0; got {}", o.merge_tolerance));
  DESCENT_REQUIRE(o.threads >= 0, fmt::format("MultistartOptions::threads must be >= 0; got {}", o.threads));
  DESCENT_REQUIRE(x0.size() >= 1, "multistart: the starting point has no variables");
  const auto t0 = std::chrono::steady_clock::now();
  const Index starts = o.starts;
  std::vector<std::optional<Result<double>>> results(static_cast<std::size_t>(starts));
  const int threads = multistart_threads(o);

  // Start k on thread k mod team: one solve per thread at a time. (The team
  // may be smaller than asked for; a start's stream is its own either way.)
  auto run = [&](int thread, int team) {
    for (Index k = thread; k < starts; k += team) {
      Vector<double> x = start_point(k, x0, domain, o);
      try {
        results[static_cast<std::size_t>(k)] = local(x, thread);
      } catch (const std::exception&) {
        results[static_cast<std::size_t>(k)].reset();
      }
    }
  };
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    run(omp_get_thread_num(), omp_get_num_threads());
  } else {
    run(0, 1);
  }
#else
  run(0, 1);
#endif

  GlobalResult g;
  g.starts = starts;
  const bool box = finite_box(domain, x0.size());
  Index best = -1;
  for (Index k = 0; k < starts; ++k) {
    const auto& r = results[static_cast<std::size_t>(k)];
    if (record(g, r, k, domain, box, o.merge_tolerance) &&
        (best < 0 || r->value < results[static_cast<std::size_t>(best)]->value))
      best = k;
  }
  finish(g, best >= 0 ? &*results[static_cast<std::size_t>(best)] : nullptr, x0,
         fmt::format("best of {} starts (start {})", starts, best), "starts");
  g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return g;
}

GlobalResult basin_hopping(const LocalSolve& local, const Vector<double>& x0, const std::optional<Bounds>& domain,
                           const BasinHoppingOptions& o) {
  DESCENT_REQUIRE(o.hops >= 0, fmt::format("BasinHoppingOptions::hops must be >= 0; got {}", o.hops));
  DESCENT_REQUIRE(o.temperature > 0 && std::isfinite(o.temperature),
                  fmt::format("BasinHoppingOptions::temperature must be > 0; got {}", o.temperature));
  DESCENT_REQUIRE(o.step > 0 && std::isfinite(o.step),
                  fmt::format("BasinHoppingOptions::step must be > 0; got {}", o.step));
  DESCENT_REQUIRE(o.interval >= 0, fmt::format("BasinHoppingOptions::interval must be >= 0; got {}", o.interval));
  DESCENT_REQUIRE(o.target_acceptance > 0 && o.target_acceptance < 1,
                  fmt::format("BasinHoppingOptions::target_acceptance must be in (0, 1); got {}", o.target_acceptance));
  DESCENT_REQUIRE(o.factor > 0 && o.factor < 1,
                  fmt::format("BasinHoppingOptions::factor must be in (0, 1); got {}", o.factor));
  DESCENT_REQUIRE(o.merge_tolerance > 0 && std::isfinite(o.merge_tolerance),
                  fmt::format("BasinHoppingOptions::merge_tolerance must be > 0; got {}", o.merge_tolerance));
  DESCENT_REQUIRE(x0.size() >= 1, "basin_hopping: the starting point has no variables");
  const auto t0 = std::chrono::steady_clock::now();
  const Index n = x0.size();
  const bool box = finite_box(domain, n);
  Rng rng(o.seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL);
  GlobalResult g;
  double step = o.step;

  // One local solve; nullopt when it fails, ends non-finite or leaves the domain.
  auto solve = [&](Vector<double> x, Index k) -> std::optional<Result<double>> {
    ++g.starts;
    std::optional<Result<double>> r;
    try {
      r = local(x, 0);
    } catch (const std::exception&) {
      // r stays empty: record counts a failure
    }
    if (!record(g, r, k, domain, box, o.merge_tolerance)) return std::nullopt;
    return r;
  };

  std::optional<Result<double>> current = solve(x0, 0), best = current;
  Index accepted_in_interval = 0;
  for (Index hop = 1; hop <= o.hops; ++hop) {
    // Displace from the current minimum (from x0 while there is none).
    Vector<double> x = current ? current->x : x0;
    for (Index i = 0; i < n; ++i) {
      x[i] += rng.uniform(-step, step);
      if (box) x[i] = std::clamp(x[i], domain->lower[i], domain->upper[i]);
    }
    auto trial = solve(std::move(x), hop);
    bool accept = false;
    if (trial) {
      accept = !current || trial->value < current->value ||
               rng.uniform() < std::exp(-(trial->value - current->value) / o.temperature);
    }
    if (accept) {
      ++g.accepted;
      ++accepted_in_interval;
      if (!best || trial->value < best->value) best = trial;
      current = std::move(trial);
    }
    if (o.interval > 0 && hop % o.interval == 0) {
      const double rate = double(accepted_in_interval) / double(o.interval);
      step = rate > o.target_acceptance ? step / o.factor : step * o.factor;
      accepted_in_interval = 0;
    }
  }
  g.final_step = step;
  finish(g, best ? &*best : nullptr, x0,
         fmt::format("best of {} local solves ({} hops, {} accepted)", g.starts, o.hops, g.accepted), "local solves");
  g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return g;
}

std::string GlobalResult::report() const {
  std::string out = fmt::format("{} distinct minima from {} starts ({} failed, {} left the domain), {} gradient "
                                "evaluations, {:.3f} s\n",
                                minima.size(), starts, failed, outside, gradient_evaluations, seconds);
  constexpr std::size_t kShown = 20;
  for (std::size_t k = 0; k < minima.size(); ++k) {
    if (k == kShown) {
      out += fmt::format("  ... and {} more (the JSON lists them all)\n", minima.size() - kShown);
      break;
    }
    const LocalMinimum& m = minima[k];
    out += fmt::format("  f = {:<16.10g} reached {:>4} times", m.value, m.count);
    if (m.x.size() <= 10) {
      out += "  x = (";
      for (Index i = 0; i < m.x.size(); ++i) out += fmt::format("{}{:.6g}", i ? ", " : "", m.x[i]);
      out += ")";
    }
    out += "\n";
  }
  return out;
}

}  // namespace descent
