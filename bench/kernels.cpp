// bench_kernels: Google Benchmark micro-benchmarks of the kernels an L-BFGS
// solve spends its time in.
//
//   BM_LbfgsDirection/n/m          descent's two-loop recursion, d = -H g, with
//                                  m pairs held (detail::LbfgsDirection)
//   BM_LbfgsppDirection/n/m        LBFGS++'s BFGSMat::apply_Hv on the same pairs
//   BM_ExtendedRosenbrock/n        value_and_gradient of the test problem
//   BM_LbfgsSolveRosenbrock/n/m    a whole descent::lbfgs solve, ||g|| <= 1e-6
//   BM_AffineObjective/rows/F/K/g  nn::AffineObjective on random float32 data:
//                                  value and gradient (g = 1) or value alone
//                                  (g = 0); 60000/784/10 is Fashion-MNIST's
//                                  logistic regression. GFLOPS counts the
//                                  2 rows F K flops of each product.
//
// bytes_per_second counts the least traffic the kernel must move: the 2m
// stored vectors plus g read and d written for a direction (descent fuses its
// passes to m + 1; a textbook recursion makes 2m + 2), and x read plus g
// written for the gradient. Run with --benchmark_filter=... to pick.
#include <random>

#include <benchmark/benchmark.h>

#include "descent/descent.hpp"
#include "descent/problems/problem.hpp"
#include "descent/solvers/lbfgs.hpp"

#ifdef DESCENT_BENCH_HAVE_LBFGSPP
#include <LBFGSpp/BFGSMat.h>
#endif

namespace {

using descent::Index;
using Vec = descent::Vector<double>;

// m curvature pairs (s, y = D s with D diagonal in [1, 10]), so y.s > 0, and
// a gradient, all reproducible.
struct Pairs {
  std::vector<Vec> s, y;
  Vec g;
  Pairs(Index n, Index m) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    Vec diag(n);
    for (Index j = 0; j < n; ++j) diag[j] = 5.5 + 4.5 * u(rng);
    for (Index i = 0; i < m; ++i) {
      Vec si(n);
      for (Index j = 0; j < n; ++j) si[j] = u(rng);
      s.push_back(si);
      y.push_back(diag.cwiseProduct(si));
    }
    g.resize(n);
    for (Index j = 0; j < n; ++j) g[j] = u(rng);
  }
};

void BM_LbfgsDirection(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1);
  const Pairs p(n, m);
  descent::detail::LbfgsDirection<double> direction(n, m);
  // update() takes the pair as x_new - x_old and g_new - g_old.
  const Vec zero = Vec::Zero(n);
  for (Index i = 0; i < m; ++i) direction.update(zero, p.s[i], zero, p.y[i], 0.0, zero);
  Vec x = zero, d(n);
  int unused = 0;
  for (auto _ : state) {
    direction.compute(unused, x, p.g, d);
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(2 * m + 2) * n * int64_t(sizeof(double)));
}

#ifdef DESCENT_BENCH_HAVE_LBFGSPP
void BM_LbfgsppDirection(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1);
  const Pairs p(n, m);
  LBFGSpp::BFGSMat<double> bfgs;
  bfgs.reset(int(n), int(m));
  for (Index i = 0; i < m; ++i) bfgs.add_correction(p.s[i], p.y[i]);
  Vec d(n);
  for (auto _ : state) {
    bfgs.apply_Hv(p.g, -1.0, d);
    benchmark::DoNotOptimize(d.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(2 * m + 2) * n * int64_t(sizeof(double)));
}
#endif

void BM_ExtendedRosenbrock(benchmark::State& state) {
  const Index n = state.range(0);
  auto problem = descent::problems::make_problem("extended_rosenbrock", {.dimension = n});
  const Vec x = problem->start();
  Vec g(n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(problem->value_and_gradient(x, g));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 2 * n * int64_t(sizeof(double)));
}

void BM_LbfgsSolveRosenbrock(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1);
  auto problem = descent::problems::make_problem("extended_rosenbrock", {.dimension = n});
  descent::Result<double> r;
  for (auto _ : state) {
    Vec x = problem->start();
    r = descent::lbfgs(*problem, x, descent::LbfgsOptions{.memory = m, .line_search = {}, .stop = {.gradient_tolerance = 1e-6}});
    benchmark::DoNotOptimize(x.data());
  }
  state.counters["iterations"] = double(r.iterations);
  state.counters["gradient_evals"] = double(r.gradient_evaluations);
  state.counters["converged"] = r.converged() ? 1.0 : 0.0;
}

void BM_AffineObjective(benchmark::State& state) {
  const Index rows = state.range(0), features = state.range(1), classes = state.range(2);
  const bool gradient = state.range(3) != 0;
  auto model = descent::nn::make_model<double>(fmt::format("logistic:{}-{}", features, classes));
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(rows * features)), y(static_cast<std::size_t>(rows));
  for (auto& v : x) v = u(rng);
  for (auto& v : y) v = float(rng() % std::uint64_t(classes));
  descent::nn::AffineObjective<double> f(model, x.data(), y.data(), rows, {.l2 = 1e-4});
  Vec w = Vec::Constant(model.num_parameters(), 1e-3), g(w.size());
  for (auto _ : state) benchmark::DoNotOptimize(gradient ? f.value_and_gradient(w, g) : f.value(w));
  const double flops = 2.0 * double(rows) * double(features) * double(classes) * (gradient ? 2 : 1);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(int64_t(state.iterations()) * rows * features * int64_t(sizeof(float)));
  state.SetLabel(descent::nn::AffineObjective<double>::kernel());
}

}  // namespace

BENCHMARK(BM_LbfgsDirection)->ArgsProduct({{10'000, 1'000'000}, {6, 10}})->Unit(benchmark::kMicrosecond);
#ifdef DESCENT_BENCH_HAVE_LBFGSPP
BENCHMARK(BM_LbfgsppDirection)->ArgsProduct({{10'000, 1'000'000}, {6, 10}})->Unit(benchmark::kMicrosecond);
#endif
BENCHMARK(BM_ExtendedRosenbrock)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LbfgsSolveRosenbrock)->Args({10'000, 6})->Args({10'000, 10})->Unit(benchmark::kMillisecond);

BENCHMARK(BM_AffineObjective)
    ->Args({60'000, 784, 10, 1})
    ->Args({60'000, 784, 10, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
