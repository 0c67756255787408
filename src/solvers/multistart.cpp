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

  // Start k on thread k mod threads: one solve per thread at a time.
  auto run = [&](int thread) {
    for (Index k = thread; k < starts; k += threads) {
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
    run(omp_get_thread_num());
  } else {
    run(0);
  }
#else
  run(0);
#endif

  GlobalResult g;
  g.starts = starts;
  const bool box = finite_box(domain, x0.size());
  Index best = -1;
  for (Index k = 0; k < starts; ++k) {
    const auto& r = results[static_cast<std::size_t>(k)];
    if (!r || !std::isfinite(r->value) || !r->x.allFinite()) {
      ++g.failed;
      if (r) g.gradient_evaluations += r->gradient_evaluations;
      continue;
    }
    g.gradient_evaluations += r->gradient_evaluations;
    if (box && ((r->x.array() < domain->lower.array()).any() || (r->x.array() > domain->upper.array()).any())) {
      ++g.outside;
      continue;
    }
    if (best < 0 || r->value < results[static_cast<std::size_t>(best)]->value) best = k;
    auto same = std::find_if(g.minima.begin(), g.minima.end(), [&](const LocalMinimum& m) {
      return (m.x - r->x).lpNorm<Eigen::Infinity>() <= o.merge_tolerance * std::max(1.0, m.x.lpNorm<Eigen::Infinity>());
    });
    if (same == g.minima.end()) {
      g.minima.push_back({r->x, double(r->value), 1, k});
    } else {
      ++same->count;
      if (r->value < same->value) {
        same->value = r->value;
        same->x = r->x;
      }
    }
  }
  std::stable_sort(g.minima.begin(), g.minima.end(),
                   [](const LocalMinimum& a, const LocalMinimum& b) { return a.value < b.value; });
  if (best >= 0) {
    g.best = *results[static_cast<std::size_t>(best)];
    g.best.message = fmt::format("best of {} starts (start {}): {}", starts, best, g.best.message);
  } else {
    g.best.status = Status::diverged;
    g.best.message = fmt::format("none of the {} starts ended at a finite point inside the domain ({} failed, {} "
                                 "left the domain)",
                                 starts, g.failed, g.outside);
    g.best.value = NAN;
    g.best.x = x0;
  }
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
