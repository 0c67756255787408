// optim::parse_schedule and optim::parse_plateau on the input as a spec
// ("warmup:500+cosine", "plateau:5:0.5", ...), for an unknown, a short and
// the longest horizon. A schedule it builds is evaluated at steps from the
// first to the largest Index: every rate must be finite and >= 0, as a
// stepper refuses anything else mid-run.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

#include "descent/core/error.hpp"
#include "descent/optim/schedule.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using descent::Index;
using descent::optim::Schedule;

constexpr Index kLargest = std::numeric_limits<Index>::max();

void check_rate(double lr, Index k) {
  if (std::isfinite(lr) && lr >= 0) return;
  std::fprintf(stderr, "fuzz schedule: lr(1, %lld) = %g\n", static_cast<long long>(k), lr);
  std::abort();
}

// k - 1, k and k + 1, those of them in [0, kLargest].
std::vector<Index> around(Index k) {
  std::vector<Index> ks;
  if (k > 0) ks.push_back(k - 1);
  if (k >= 0) ks.push_back(k);
  if (k >= 0 && k < kLargest) ks.push_back(k + 1);
  return ks;
}

void evaluate(const Schedule& s, Index horizon) {
  (void)s.describe();
  std::vector<Index> ks{0, 2, 10, 1000, kLargest / 2, kLargest - 1, kLargest};
  for (const Index k : around(s.warmup_steps())) ks.push_back(k);
  for (const Index k : around(horizon)) ks.push_back(k);
  for (const Index k : ks) check_rate(s.lr(1.0, k), k);
}

void plateau(std::string_view spec) {
  try {
    const auto options = descent::optim::parse_plateau(spec);
    descent::optim::ReduceOnPlateau p(1.0, options);
    for (const double metric : {1.0, 1.0, 0.5, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0})
      p.report(metric);
    (void)p.describe();
  } catch (const descent::invalid_argument&) {
  }
}

}  // namespace

DESCENT_FUZZ_TARGET(schedule) {
  const std::string_view spec = descent::fuzz::as_text(data, size);
  if (descent::optim::is_plateau_spec(spec)) plateau(spec);
  for (const Index horizon : {Index{0}, Index{100}, kLargest}) {
    try {
      evaluate(descent::optim::parse_schedule(spec, horizon), horizon);
    } catch (const descent::invalid_argument&) {
    }
  }
  return 0;
}
