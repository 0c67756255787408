// Multistart: a local method from many seeded starts, run in parallel over
// threads, and the distinct local minima it found (merged within a
// tolerance) with how often each was reached; the best is the result.
//
//   auto local = [&](Vector<double>& x, int thread) {   // thread-safe: one objective per thread
//     auto any = AnyObjective<double>::reference(*problems[thread]);
//     return minimize<double>(any, x, Method::lbfgs, {});
//   };
//   GlobalResult g = multistart(local, x0, problem->domain(), {.starts = 50, .seed = 1});
//   // g.best: the lowest minimum; g.minima: every distinct one, lowest first
//
// Starts: the first is x0 itself; the others are uniform in the domain where
// one is given (each side finite), otherwise x0 + perturbation * max(1, |x0_i|)
// * N(0, 1) per coordinate. Start k draws from a stream seeded by (seed, k),
// and each thread's results are kept by start index, so the result depends
// on the seed alone, never on the thread count or timing.
//
// With a finite domain, a solve that ends outside it is counted in
// `outside` and is not a minimum: a test function's global minimum holds
// over its domain, and an unconstrained method may leave it (holder_table
// and schwefel fall without bound outside theirs). Give a bounded method
// the domain as bounds to keep every solve inside.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "descent/core/bounds.hpp"
#include "descent/core/result.hpp"

namespace descent {

struct MultistartOptions {
  // Number of starts, x0 included. Range: >= 1.
  Index starts = 20;
  std::uint64_t seed = 0;
  // Scale of the Gaussian starts when there is no domain. Range: > 0.
  double perturbation = 1.0;
  // Two minima are one when their points are within tolerance * max(1, |x|)
  // in the infinity norm. Range: > 0.
  double merge_tolerance = 1e-4;
  // Threads solving at once; 0: the OpenMP default. Range: >= 0.
  int threads = 0;
};

struct LocalMinimum {
  Vector<double> x;   // the lowest point of those merged into it
  double value = 0;   // f there
  Index count = 0;    // starts that ended here
  Index first_start = 0;
};

// Basin hopping (Wales & Doye, J. Phys. Chem. A 101, 1997; the algorithm
// of scipy.optimize.basinhopping): from the local minimum at x, a random
// displacement uniform in [-step, step] per coordinate (clipped to a finite
// domain), a local solve, and a Metropolis test at the temperature: the new
// minimum replaces x if lower, or with probability exp(-(f_new - f) / T).
// Every `interval` hops the step grows by 1 / factor when more than
// target_acceptance of them were accepted, and shrinks by factor otherwise.
struct BasinHoppingOptions {
  // Hops after the first local solve. Range: >= 0.
  Index hops = 100;
  // Range: > 0.
  double temperature = 1.0;
  // Initial displacement half-width. Range: > 0.
  double step = 0.5;
  // Hops between step adjustments (0: never adjust). Range: >= 0.
  Index interval = 50;
  // Range: (0, 1).
  double target_acceptance = 0.5;
  // Range: (0, 1).
  double factor = 0.9;
  std::uint64_t seed = 0;
  // As MultistartOptions::merge_tolerance. Range: > 0.
  double merge_tolerance = 1e-4;
};

struct GlobalResult {
  Result<double> best;               // the local solve that found the lowest minimum
  std::vector<LocalMinimum> minima;  // distinct minima, lowest first
  Index starts = 0;                  // local solves (basin hopping: hops + 1)
  Index accepted = 0;                // basin hopping: hops accepted by the Metropolis test
  double final_step = 0;             // basin hopping: the displacement after its adjustments
  Index failed = 0;                  // starts whose solve threw or ended non-finite
  Index outside = 0;                 // starts that ended outside a finite domain (not minima of it)
  Index gradient_evaluations = 0;    // over all starts
  double seconds = 0;                // wall time of the whole search
  // The minima as lines, the lowest 20: value, count and (n <= 10) the point.
  std::string report() const;
};

// local(x, thread) runs a local method from x in place and returns its
// result; it is called concurrently with distinct thread indices in
// [0, threads). A solve that throws counts as failed; the search goes on.
using LocalSolve = std::function<Result<double>(Vector<double>& x, int thread)>;

// The number of threads multistart will use for these options.
int multistart_threads(const MultistartOptions& options);

GlobalResult multistart(const LocalSolve& local, const Vector<double>& x0, const std::optional<Bounds>& domain,
                        const MultistartOptions& options = {});

// One chain, on the calling thread (local is called with thread 0).
GlobalResult basin_hopping(const LocalSolve& local, const Vector<double>& x0, const std::optional<Bounds>& domain,
                           const BasinHoppingOptions& options = {});

}  // namespace descent
