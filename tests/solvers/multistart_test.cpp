// multistart: the same minima whatever the thread count, the starts it
// promises, merging, failures, and the global minimum of small multimodal
// functions found with fixed seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "descent/core/any_objective.hpp"
#include "descent/problems/problem.hpp"
#include "descent/solvers/minimize.hpp"
#include "descent/solvers/multistart.hpp"

namespace descent {
namespace {

// A local solve on per-thread copies of a catalogue problem.
struct Local {
  std::vector<std::unique_ptr<problems::Problem>> copies;
  Method method;
  MinimizeOptions options;
  Local(const char* name, int threads, Method m, bool bounded = false) : method(m) {
    for (int t = 0; t < threads; ++t) copies.push_back(problems::make_problem(name));
    if (bounded) options.bounds = copies.front()->domain();
  }
  LocalSolve solve() {
    return [this](Vector<double>& x, int thread) {
      auto any = AnyObjective<double>::reference(*copies[static_cast<std::size_t>(thread)]);
      return minimize<double>(any, x, method, options);
    };
  }
};

TEST(Multistart, GivesTheSameMinimaOnAnyNumberOfThreads) {
  std::vector<GlobalResult> runs;
  for (int threads : {1, 2, 3}) {
    Local local("shubert", threads, Method::lbfgs);
    const auto p = problems::make_problem("shubert");
    runs.push_back(multistart(local.solve(), p->start(), p->domain(), {.starts = 25, .seed = 7, .threads = threads}));
  }
  for (const auto& r : runs) {
    ASSERT_EQ(r.minima.size(), runs[0].minima.size());
    EXPECT_EQ(r.best.value, runs[0].best.value);
    EXPECT_EQ(r.best.x, runs[0].best.x);
    for (std::size_t k = 0; k < r.minima.size(); ++k) {
      EXPECT_EQ(r.minima[k].count, runs[0].minima[k].count);
      EXPECT_EQ(r.minima[k].x, runs[0].minima[k].x);
    }
  }
}

TEST(Multistart, CountsEveryStartOnceAndSortsTheMinima) {
  Local local("six_hump_camel", 2, Method::lbfgs);
  const auto p = problems::make_problem("six_hump_camel");
  const auto g = multistart(local.solve(), p->start(), p->domain(), {.starts = 40, .seed = 3, .threads = 2});
  Index counted = 0;
  for (std::size_t k = 0; k < g.minima.size(); ++k) {
    counted += g.minima[k].count;
    if (k > 0) EXPECT_LE(g.minima[k - 1].value, g.minima[k].value);
  }
  EXPECT_EQ(counted + g.failed + g.outside, 40);
  // Both global minima (+-0.0898, -+0.7126) are found, and they are kept apart.
  EXPECT_NEAR(g.best.value, *p->known_minimum(), 1e-9);
  ASSERT_GE(g.minima.size(), 2u);
  EXPECT_NEAR(g.minima[1].value, *p->known_minimum(), 1e-9);
  EXPECT_NEAR(g.minima[0].x[0], -g.minima[1].x[0], 1e-5);
  EXPECT_NE(g.report().find("reached"), std::string::npos);
}

TEST(Multistart, OneStartIsTheLocalSolveFromX0) {
  Local local("rosenbrock", 1, Method::lbfgs);
  const auto p = problems::make_problem("rosenbrock");
  const auto g = multistart(local.solve(), p->start(), std::nullopt, {.starts = 1});
  Vector<double> x = p->start();
  auto any = AnyObjective<double>::reference(*p);
  const auto r = minimize<double>(any, x, Method::lbfgs, {});
  EXPECT_EQ(g.best.value, r.value);
  EXPECT_EQ(g.best.iterations, r.iterations);
  ASSERT_EQ(g.minima.size(), 1u);
  EXPECT_EQ(g.minima[0].first_start, 0);
}

TEST(Multistart, FindsTheGlobalMinimaOfTheSmallMultimodalFunctionsWithFixedSeeds) {
  struct Case {
    const char* name;
    Index starts;
  };
  for (const Case c : {Case{"six_hump_camel", 20}, Case{"holder_table", 40}, Case{"shubert", 60},
                       Case{"styblinski_tang", 20}, Case{"levy", 20}, Case{"eggholder", 400}}) {
    Local local(c.name, 2, Method::lbfgsb, true);
    const auto p = problems::make_problem(c.name);
    const auto g = multistart(local.solve(), p->start(), p->domain(), {.starts = c.starts, .seed = 1, .threads = 2});
    const double fstar = *p->known_minimum();
    EXPECT_LE(g.best.value - fstar, std::max(1e-6 * std::abs(fstar), 1e-10)) << c.name << "\n" << g.report();
    EXPECT_EQ(g.outside, 0) << c.name;
  }
}

TEST(Multistart, ASolveThatThrowsOrEndsOutsideTheDomainIsNoMinimum) {
  const Vector<double> x0 = Vector<double>::Zero(2);
  Bounds box;
  box.lower = Vector<double>::Constant(2, -1);
  box.upper = Vector<double>::Constant(2, 1);
  const LocalSolve local = [](Vector<double>& x, int) -> Result<double> {
    if (x[0] > 0.5) throw std::runtime_error("no");
    Result<double> r;
    r.x = x[1] > 0.5 ? Vector<double>::Constant(2, 5.0) : Vector<double>(x.array().round());
    r.value = r.x.squaredNorm();
    r.status = Status::converged_gradient;
    return r;
  };
  const auto g = multistart(local, x0, box, {.starts = 200, .seed = 2});
  EXPECT_GT(g.failed, 0);
  EXPECT_GT(g.outside, 0);
  Index counted = 0;
  for (const auto& m : g.minima) counted += m.count;
  EXPECT_EQ(counted + g.failed + g.outside, 200);
  EXPECT_EQ(g.best.value, 0.0);

  EXPECT_THROW(multistart(local, x0, box, {.starts = 0}), invalid_argument);
  EXPECT_THROW(multistart(local, x0, box, {.merge_tolerance = 0}), invalid_argument);
  EXPECT_THROW(multistart(local, x0, std::nullopt, {.perturbation = -1}), invalid_argument);
}

TEST(BasinHopping, FindsTheGlobalMinimaWithTheirUsualSteps) {
  struct Case {
    const char* name;
    double step;
  };
  for (const Case c : {Case{"six_hump_camel", 0.5}, Case{"holder_table", 2.0}, Case{"eggholder", 100.0},
                       Case{"shubert", 2.0}}) {
    Local local(c.name, 1, Method::lbfgsb, true);
    const auto p = problems::make_problem(c.name);
    const auto g = basin_hopping(local.solve(), p->start(), p->domain(), {.hops = 200, .step = c.step, .seed = 1});
    const double fstar = *p->known_minimum();
    EXPECT_LE(g.best.value - fstar, std::max(1e-6 * std::abs(fstar), 1e-10)) << c.name << "\n" << g.report();
    EXPECT_EQ(g.starts, 201);
    Index counted = 0;
    for (const auto& m : g.minima) counted += m.count;
    EXPECT_EQ(counted + g.failed + g.outside, 201) << c.name;
  }
}

TEST(BasinHopping, IsSeededAndAdaptsItsStep) {
  Local local("rastrigin", 1, Method::lbfgs);
  const auto p = problems::make_problem("rastrigin");
  const BasinHoppingOptions o{.hops = 40, .step = 1.0, .interval = 10, .seed = 3};
  const auto a = basin_hopping(local.solve(), p->start(), p->domain(), o);
  const auto b = basin_hopping(local.solve(), p->start(), p->domain(), o);
  EXPECT_EQ(a.best.x, b.best.x);
  EXPECT_EQ(a.accepted, b.accepted);
  // At a temperature far above every difference of f each hop is accepted:
  // four intervals of full acceptance grow the step by 1 / 0.9 four times.
  BasinHoppingOptions hot = o;
  hot.temperature = 1e12;
  const auto h = basin_hopping(local.solve(), p->start(), p->domain(), hot);
  EXPECT_EQ(h.accepted + h.failed + h.outside, 40);
  EXPECT_NEAR(h.final_step, 1.0 / std::pow(0.9, 4), 1e-12);
  // No hops: the local solve from x0.
  const auto none = basin_hopping(local.solve(), p->start(), p->domain(), {.hops = 0});
  Vector<double> x = p->start();
  auto any = AnyObjective<double>::reference(*p);
  EXPECT_EQ(none.best.value, minimize<double>(any, x, Method::lbfgs, {}).value);
  EXPECT_THROW(basin_hopping(local.solve(), p->start(), p->domain(), {.temperature = 0}), invalid_argument);
  EXPECT_THROW(basin_hopping(local.solve(), p->start(), p->domain(), {.step = -1}), invalid_argument);
  EXPECT_THROW(basin_hopping(local.solve(), p->start(), p->domain(), {.factor = 1}), invalid_argument);
}

}  // namespace
}  // namespace descent
