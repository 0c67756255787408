#include "descent/optim/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <ostream>
#include <string>
#include <vector>

#include "descent/core/error.hpp"

namespace descent::optim {

// Failures print the schedule, not its bytes.
[[maybe_unused]] static void PrintTo(const Schedule& s, std::ostream* os) { *os << s.describe(); }

namespace {

struct ScheduleReference {
  const char* spec;
  Index total_steps;
  std::vector<double> lr;
};

struct PlateauReference {
  PlateauOptions options;
  std::vector<double> metrics;
  std::vector<double> lr;
};

#include "optim/schedule_reference.inc"

constexpr double pi = std::numbers::pi;

// |actual - expected| <= 1e-12 |expected|, so an expected 0 must be exactly 0.
::testing::AssertionResult close(double actual, double expected) {
  if (std::abs(actual - expected) <= 1e-12 * std::abs(expected)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << actual << ", expected " << expected << " (relative error "
                                       << std::abs(actual - expected) / std::abs(expected) << ")";
}

// The message of the invalid_argument that parse_schedule throws, or a failure.
std::string schedule_error(std::string_view spec, Index total_steps = 100) {
  try {
    const Schedule s = parse_schedule(spec, total_steps);
    ADD_FAILURE() << "'" << spec << "' parsed as " << s.describe();
  } catch (const invalid_argument& e) {
    return e.what();
  }
  return {};
}

std::string plateau_error(std::string_view spec) {
  try {
    parse_plateau(spec);
    ADD_FAILURE() << "'" << spec << "' parsed";
  } catch (const invalid_argument& e) {
    return e.what();
  }
  return {};
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

// ---------------------------------------------------------------------------
// Against torch

TEST(ScheduleReference, MatchesTorchLrSchedulersStepByStep) {
  for (const auto& c : kScheduleReferences) {
    SCOPED_TRACE(c.spec);
    const Schedule s = parse_schedule(c.spec, c.total_steps);
    for (Index k = 0; k < Index(c.lr.size()); ++k) {
      EXPECT_TRUE(close(s.lr(kReferenceBaseLr, k), c.lr[k])) << "k = " << k;
    }
  }
}

TEST(PlateauReference, MatchesTorchReduceLROnPlateauReportByReport) {
  for (const auto& c : kPlateauReferences) {
    ReduceOnPlateau plateau(kReferenceBaseLr, c.options);
    SCOPED_TRACE(plateau.describe());
    for (std::size_t i = 0; i < c.metrics.size(); ++i) {
      plateau.report(c.metrics[i]);
      EXPECT_TRUE(close(plateau.lr(), c.lr[i])) << "after report " << i + 1;
    }
  }
}

// ---------------------------------------------------------------------------
// Closed forms, boundaries, large k

TEST(Schedule, DefaultsToConstant) {
  const Schedule s;
  EXPECT_EQ(s, Schedule::constant());
  EXPECT_EQ(s.lr(0.5, 0), 0.5);
  EXPECT_EQ(s.lr(0.5, std::numeric_limits<Index>::max()), 0.5);
  EXPECT_EQ(s.describe(), "constant");
}

TEST(Schedule, WarmupRisesLinearlyThenHandsOverToTheInnerScheduleAtZero) {
  const Schedule inner = Schedule::step(3, 0.5);
  const Schedule s = inner.with_warmup(4, 0.2);
  EXPECT_EQ(s.warmup_steps(), 4);
  EXPECT_EQ(s.warmup_start_factor(), 0.2);
  EXPECT_TRUE(close(s.lr(1.0, 0), 0.2));
  EXPECT_TRUE(close(s.lr(1.0, 1), 0.4));
  EXPECT_TRUE(close(s.lr(1.0, 3), 0.8));
  EXPECT_TRUE(close(s.lr(1.0, 4), 1.0));  // inner at 0
  EXPECT_TRUE(close(s.lr(1.0, 6), 1.0));  // inner at 2
  EXPECT_TRUE(close(s.lr(1.0, 7), 0.5));  // inner at 3
  for (Index k = 4; k < 40; ++k) EXPECT_EQ(s.lr(1.0, k), inner.lr(1.0, k - 4));
}

TEST(Schedule, WarmupDefaultsToAThirdAndIsReplacedOrRemovedByWithWarmup) {
  const Schedule s = Schedule::cosine(100).with_warmup(10);
  EXPECT_TRUE(close(s.lr(3.0, 0), 1.0));
  const Schedule replaced = s.with_warmup(5, 0.5);
  EXPECT_EQ(replaced, Schedule::cosine(100).with_warmup(5, 0.5));
  EXPECT_TRUE(close(replaced.lr(1.0, 0), 0.5));
  EXPECT_EQ(s.with_warmup(0), Schedule::cosine(100).with_warmup(0));
  EXPECT_EQ(s.with_warmup(0).lr(1.0, 0), 1.0);
  EXPECT_EQ(s.with_warmup(0).describe(), "cosine(T_max=100, eta_min=0)");
}

TEST(Schedule, DescribesKindParametersAndWarmup) {
  EXPECT_EQ(Schedule::cosine(1000).with_warmup(100, 0.5).describe(),
            "cosine(T_max=1000, eta_min=0) after 100 warm-up steps (start_factor=0.5)");
  EXPECT_EQ(Schedule::step(30).describe(), "step(step_size=30, gamma=0.1)");
  EXPECT_EQ(Schedule::multistep({30, 80}, 0.5).describe(), "multistep(milestones=[30, 80], gamma=0.5)");
  EXPECT_EQ(Schedule::exponential(0.95).describe(), "exponential(gamma=0.95)");
  EXPECT_EQ(Schedule::inverse_time(0.01).describe(), "inverse-time(decay=0.01)");
  EXPECT_EQ(Schedule::polynomial(500, 2).describe(), "polynomial(total=500, power=2)");
  EXPECT_EQ(Schedule::cosine_restarts(10, 2, 1e-5).describe(), "cosine-restarts(T_0=10, T_mult=2, eta_min=1e-05)");
  EXPECT_EQ(Schedule::one_cycle(1000).describe(),
            "one-cycle(total=1000, pct_start=0.3, div_factor=25, final_div_factor=10000)");
}

TEST(Schedule, FiniteSchedulesHoldTheirLastValuePastTheEnd) {
  const Index far = 1'000'000'000'000;
  const Schedule polynomial = Schedule::polynomial(10, 2);
  EXPECT_EQ(polynomial.lr(0.1, 10), 0.0);
  EXPECT_EQ(polynomial.lr(0.1, 11), 0.0);
  EXPECT_EQ(polynomial.lr(0.1, far), 0.0);

  const Schedule cosine = Schedule::cosine(10, 0.01);
  EXPECT_EQ(cosine.lr(0.1, 10), 0.01);
  EXPECT_EQ(cosine.lr(0.1, 11), 0.01);
  EXPECT_EQ(cosine.lr(0.1, far), 0.01);
  EXPECT_GT(cosine.lr(0.1, 9), 0.01);

  const Schedule one_cycle = Schedule::one_cycle(20, 0.3, 10, 100);
  const double minimum = 0.1 / 10 / 100;
  EXPECT_EQ(one_cycle.lr(0.1, 19), minimum);
  EXPECT_EQ(one_cycle.lr(0.1, 20), minimum);
  EXPECT_EQ(one_cycle.lr(0.1, far), minimum);
  EXPECT_GT(one_cycle.lr(0.1, 18), minimum);

  // After a warm-up the end moves by the warm-up's length.
  const Schedule warm = Schedule::cosine(10).with_warmup(5);
  EXPECT_GT(warm.lr(0.1, 14), 0.0);
  EXPECT_EQ(warm.lr(0.1, 15), 0.0);
  EXPECT_EQ(warm.lr(0.1, far), 0.0);
}

TEST(Schedule, OneCycleFollowsItsTwoCosinePhasesWithNonDefaultFactors) {
  // total 10, pct_start 0.25: the peak at step 1.5, the minimum at step 9.
  const Schedule s = Schedule::one_cycle(10, 0.25, 10, 50);
  const double b = 2.0, initial = b / 10, minimum = initial / 50;
  auto anneal = [](double start, double end, double pct) { return end + (start - end) / 2 * (std::cos(pi * pct) + 1); };
  for (Index k = 0; k <= 1; ++k) EXPECT_TRUE(close(s.lr(b, k), anneal(initial, b, k / 1.5))) << k;
  for (Index k = 2; k <= 9; ++k) EXPECT_TRUE(close(s.lr(b, k), anneal(b, minimum, (k - 1.5) / 7.5))) << k;
}

TEST(Schedule, OneCycleWhosePeakIsTheFirstStepStartsThere) {
  // pct_start * total - 1 = 0: torch divides 0 by 0 at k = 0; descent starts at the peak.
  const Schedule s = Schedule::one_cycle(4, 0.25);
  EXPECT_EQ(s.lr(0.1, 0), 0.1);
  EXPECT_LT(s.lr(0.1, 1), 0.1);
  EXPECT_TRUE(close(s.lr(0.1, 3), 0.1 / 25 / 1e4));
}

TEST(Schedule, CosineKeepsItsRelativeAccuracyNearTheEnd) {
  // One step before the end of a long cosine the rate is b sin^2(pi / (2 T)).
  const Index t_max = 1'000'000'000;
  const double expected = std::pow(std::sin(pi / 2 / double(t_max)), 2);
  EXPECT_TRUE(close(Schedule::cosine(t_max).lr(1.0, t_max - 1), expected));
}

TEST(Schedule, EvaluatesAtATrillionStepsWithoutOverflow) {
  const Index k = 1'000'000'000'000;
  EXPECT_EQ(Schedule::step(1, 0.5).lr(0.1, k), 0.0);
  EXPECT_EQ(Schedule::step(1, 1.0).lr(0.1, k), 0.1);
  EXPECT_TRUE(close(Schedule::step(k / 4, 0.5).lr(1.0, k), 1.0 / 16));
  EXPECT_TRUE(close(Schedule::step(k / 4, 0.5).lr(1.0, k - 1), 1.0 / 8));
  EXPECT_TRUE(close(Schedule::multistep({10, k, k + 1}, 0.5).lr(1.0, k), 0.25));
  const Index two40 = Index(1) << 40;  // 1.1e12; gamma = 1 - 2^-40 is exact
  EXPECT_TRUE(close(Schedule::exponential(1 - 0x1p-40).lr(1.0, two40), std::exp(0x1p40 * std::log1p(-0x1p-40))));
  EXPECT_TRUE(close(Schedule::inverse_time(1e-3).lr(1.0, k), 1 / (1 + 1e9)));
  EXPECT_TRUE(close(Schedule::polynomial(4 * k, 1.0).lr(1.0, k), 0.75));
  EXPECT_TRUE(close(Schedule::cosine(2 * k).lr(1.0, k), 0.5));
  EXPECT_TRUE(close(Schedule::one_cycle(4 * k, 0.25).lr(1.0, k - 1), 1.0));
}

TEST(Schedule, CosineRestartsFindTheirPeriodExactlyAtHugeSteps) {
  // T_0 = 1, T_mult = 2: period n covers [2^n - 1, 2^(n+1) - 1).
  const Schedule s = Schedule::cosine_restarts(1, 2, 0.0);
  const Index two40 = Index(1) << 40;
  EXPECT_EQ(s.lr(1.0, two40 - 1), 1.0);  // a restart
  // The last step of period 39: (1 + cos(pi (1 - x))) / 2 = sin^2(pi x / 2) ~ (pi x / 2)^2, x = 2^-39.
  const double half_angle = pi / 2 * 0x1p-39;
  EXPECT_TRUE(close(s.lr(1.0, two40 - 2), half_angle * half_angle));
  EXPECT_TRUE(close(s.lr(1.0, two40 + (two40 >> 1) - 1), 0.5));  // halfway through period 40
  // The last period that fits an Index starts at 2^63 - 1, the largest Index.
  EXPECT_EQ(s.lr(1.0, std::numeric_limits<Index>::max()), 1.0);
  EXPECT_LT(s.lr(1.0, std::numeric_limits<Index>::max() - 1), 1e-30);

  // T_mult = 1 is periodic.
  const Schedule periodic = Schedule::cosine_restarts(7, 1, 0.0);
  EXPECT_TRUE(close(periodic.lr(1.0, 7'000'000'000'003), periodic.lr(1.0, 3)));

  // A large T_mult: periods 1e12, 1e15, 1e18 start at 0, 1e12, 1e12 + 1e15.
  const Schedule steep = Schedule::cosine_restarts(1'000'000'000'000, 1000, 0.0);
  EXPECT_EQ(steep.lr(1.0, 1'001'000'000'000'000), 1.0);
  EXPECT_TRUE(close(steep.lr(1.0, 1'000'000'000'000 + 500'000'000'000'000), 0.5));
  EXPECT_LT(steep.lr(1.0, std::numeric_limits<Index>::max()), 1.0);
}

TEST(Schedule, RejectsANegativeStepAndABadBaseRate) {
  const Schedule s = Schedule::constant();
  EXPECT_THROW(s.lr(0.1, -1), invalid_argument);
  EXPECT_THROW(s.lr(-0.1, 0), invalid_argument);
  EXPECT_THROW(s.lr(std::numeric_limits<double>::quiet_NaN(), 0), invalid_argument);
  EXPECT_THROW(s.lr(std::numeric_limits<double>::infinity(), 0), invalid_argument);
  EXPECT_EQ(s.lr(0.0, 0), 0.0);
}

TEST(Schedule, FactoriesRejectEveryOutOfRangeParameterNamingIt) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  auto message = [](auto make) -> std::string {
    try {
      make();
    } catch (const invalid_argument& e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_EQ(message([] { Schedule::step(0); }), "step schedule: step_size must be >= 1; got 0");
  EXPECT_EQ(message([] { Schedule::step(5, 1.5); }), "step schedule: gamma must be in (0, 1]; got 1.5");
  EXPECT_CONTAINS(message([] { Schedule::step(5, 0); }), "gamma");
  EXPECT_CONTAINS(message([&] { Schedule::step(5, nan); }), "gamma");
  EXPECT_CONTAINS(message([] { Schedule::multistep({}); }), "at least one");
  EXPECT_CONTAINS(message([] { Schedule::multistep({0, 5}); }), "the first milestone must be >= 1; got 0");
  EXPECT_CONTAINS(message([] { Schedule::multistep({5, 5}); }), "strictly increasing; got 5 after 5");
  EXPECT_CONTAINS(message([] { Schedule::multistep({5, 9, 7}); }), "strictly increasing; got 7 after 9");
  EXPECT_CONTAINS(message([] { Schedule::multistep({5}, 2); }), "gamma");
  EXPECT_CONTAINS(message([] { Schedule::exponential(1.01); }), "exponential schedule: gamma");
  EXPECT_CONTAINS(message([] { Schedule::inverse_time(-1); }), "inverse-time schedule: decay");
  EXPECT_CONTAINS(message([&] { Schedule::inverse_time(inf); }), "decay");
  EXPECT_CONTAINS(message([] { Schedule::polynomial(0); }), "polynomial schedule: total must be >= 1");
  EXPECT_CONTAINS(message([] { Schedule::polynomial(10, 0); }), "power");
  EXPECT_CONTAINS(message([] { Schedule::cosine(0); }), "cosine schedule: T_max must be >= 1");
  EXPECT_CONTAINS(message([] { Schedule::cosine(10, -0.1); }), "eta_min");
  EXPECT_CONTAINS(message([] { Schedule::cosine_restarts(0); }), "T_0");
  EXPECT_CONTAINS(message([] { Schedule::cosine_restarts(5, 0); }), "T_mult must be >= 1; got 0");
  EXPECT_CONTAINS(message([&] { Schedule::cosine_restarts(5, 2, nan); }), "eta_min");
  EXPECT_CONTAINS(message([] { Schedule::one_cycle(0); }), "one-cycle schedule: total");
  EXPECT_CONTAINS(message([] { Schedule::one_cycle(10, 0.0); }), "pct_start must be in (0, 1)");
  EXPECT_CONTAINS(message([] { Schedule::one_cycle(10, 1.0); }), "pct_start");
  EXPECT_CONTAINS(message([] { Schedule::one_cycle(10, 0.3, 0.5); }), "div_factor");
  EXPECT_CONTAINS(message([] { Schedule::one_cycle(10, 0.3, 25, 0.5); }), "final_div_factor");
  EXPECT_CONTAINS(message([] { Schedule::constant().with_warmup(-1); }), "warm-up: steps must be >= 0; got -1");
  EXPECT_CONTAINS(message([] { Schedule::constant().with_warmup(5, 0); }), "start_factor must be in (0, 1]");
  EXPECT_CONTAINS(message([] { Schedule::constant().with_warmup(5, 1.5); }), "start_factor");
  EXPECT_CONTAINS(message([] { Schedule::one_cycle(10).with_warmup(5); }), "one-cycle");
  EXPECT_EQ(message([] { Schedule::one_cycle(10).with_warmup(0); }), "(no exception)");
}

// ---------------------------------------------------------------------------
// Specs

TEST(ParseSchedule, ReadsEveryFormIntoTheFactorysSchedule) {
  EXPECT_EQ(parse_schedule("constant", 0), Schedule::constant());
  EXPECT_EQ(parse_schedule("step:30", 0), Schedule::step(30));
  EXPECT_EQ(parse_schedule("step:30:0.5", 0), Schedule::step(30, 0.5));
  EXPECT_EQ(parse_schedule("multistep:100", 0), Schedule::multistep({100}));
  EXPECT_EQ(parse_schedule("multistep:100,150,175:0.2", 0), Schedule::multistep({100, 150, 175}, 0.2));
  EXPECT_EQ(parse_schedule("exponential:0.95", 0), Schedule::exponential(0.95));
  EXPECT_EQ(parse_schedule("inverse-time:1e-3", 0), Schedule::inverse_time(1e-3));
  EXPECT_EQ(parse_schedule("polynomial:2:500", 0), Schedule::polynomial(500, 2));
  EXPECT_EQ(parse_schedule("cosine:1000", 0), Schedule::cosine(1000));
  EXPECT_EQ(parse_schedule("cosine:1000:1e-5", 0), Schedule::cosine(1000, 1e-5));
  EXPECT_EQ(parse_schedule("cosine-restarts:10", 0), Schedule::cosine_restarts(10));
  EXPECT_EQ(parse_schedule("cosine-restarts:10:2", 0), Schedule::cosine_restarts(10, 2));
  EXPECT_EQ(parse_schedule("cosine-restarts:10:2:0.001", 0), Schedule::cosine_restarts(10, 2, 0.001));
  EXPECT_EQ(parse_schedule("one-cycle:0.25:800", 0), Schedule::one_cycle(800, 0.25));
  EXPECT_EQ(parse_schedule("warmup:500+cosine:1000", 0), Schedule::cosine(1000).with_warmup(500));
  EXPECT_EQ(parse_schedule("warmup:500:0.1+step:30", 0), Schedule::step(30).with_warmup(500, 0.1));
  EXPECT_EQ(parse_schedule("warmup:0+exponential:0.9", 0), Schedule::exponential(0.9));
}

TEST(ParseSchedule, TakesFiniteLengthsFromTheHorizonLessTheWarmup) {
  EXPECT_EQ(parse_schedule("cosine", 1000), Schedule::cosine(1000));
  EXPECT_EQ(parse_schedule("polynomial", 1000), Schedule::polynomial(1000));
  EXPECT_EQ(parse_schedule("polynomial:3", 1000), Schedule::polynomial(1000, 3));
  EXPECT_EQ(parse_schedule("one-cycle", 1000), Schedule::one_cycle(1000));
  EXPECT_EQ(parse_schedule("one-cycle:0.1", 1000), Schedule::one_cycle(1000, 0.1));
  EXPECT_EQ(parse_schedule("warmup:100+cosine", 1000), Schedule::cosine(900).with_warmup(100));
  EXPECT_EQ(parse_schedule("warmup:100+polynomial", 1000), Schedule::polynomial(900).with_warmup(100));
  // An explicit length is the inner schedule's own, counted after the warm-up.
  EXPECT_EQ(parse_schedule("warmup:100+cosine:1000", 1000), Schedule::cosine(1000).with_warmup(100));
  // A warm-up as long as the run, or longer, leaves a one-step schedule.
  EXPECT_EQ(parse_schedule("warmup:1000+cosine", 1000), Schedule::cosine(1).with_warmup(1000));
  EXPECT_EQ(parse_schedule("warmup:5000+cosine", 1000), Schedule::cosine(1).with_warmup(5000));
}

TEST(ParseSchedule, LetsAnEmptyOptionalFieldTakeItsDefault) {
  EXPECT_EQ(parse_schedule("cosine::1e-5", 200), Schedule::cosine(200, 1e-5));
  EXPECT_EQ(parse_schedule("polynomial::300", 200), Schedule::polynomial(300));
  EXPECT_EQ(parse_schedule("one-cycle::300", 200), Schedule::one_cycle(300));
  EXPECT_EQ(parse_schedule("cosine-restarts:10::0.01", 0), Schedule::cosine_restarts(10, 1, 0.01));
  EXPECT_EQ(parse_schedule("warmup:10:+cosine:50", 0), Schedule::cosine(50).with_warmup(10));
}

TEST(ParseSchedule, ReadsWholeNumbersInScientificNotationAndExponentsWithPlus) {
  EXPECT_EQ(parse_schedule("step:1e3", 0), Schedule::step(1000));
  EXPECT_EQ(parse_schedule("cosine:2.5e4", 0), Schedule::cosine(25000));
  EXPECT_EQ(parse_schedule("warmup:1e+2+cosine:1e+3:1e-6", 0), Schedule::cosine(1000, 1e-6).with_warmup(100));
  EXPECT_EQ(parse_schedule("cosine:1E+3", 0), Schedule::cosine(1000));
}

TEST(ParseSchedule, RejectsMalformedSpecsQuotingThemAndSayingWhatWasExpected) {
  struct Bad {
    const char* spec;
    const char* says;
  };
  const Bad bad[] = {
      {"", "empty"},
      {"cosin", "unknown schedule 'cosin'; expected one of constant, step"},
      {"Step:10", "unknown schedule 'Step'"},
      {"step", "too few fields; expected step:STEP_SIZE[:GAMMA]"},
      {"step:", "a required field is empty; expected step:STEP_SIZE[:GAMMA]"},
      {"cosine:", "ends with ':' and no field after it; expected cosine[:T_MAX[:ETA_MIN]]"},
      {"step:10:", "ends with ':' and no field after it"},
      {"cosine::", "ends with ':' and no field after it"},
      {"warmup:100+cosine:", "ends with ':' and no field after it; expected cosine[:T_MAX[:ETA_MIN]]"},
      {"exponential", "expected exponential:GAMMA"},
      {"inverse-time", "expected inverse-time:DECAY"},
      {"multistep", "expected multistep:M1,M2,...[:GAMMA]"},
      {"cosine-restarts", "expected cosine-restarts:T_0[:T_MULT[:ETA_MIN]]"},
      {"constant:1", "too many fields; expected constant"},
      {"step:10:0.5:2", "too many fields; expected step:STEP_SIZE[:GAMMA]"},
      {"cosine:10:0:1", "too many fields"},
      {"step:-3", "step_size must be >= 1; got -3"},
      {"step:0", "step_size must be >= 1; got 0"},
      {"step:ten", "STEP_SIZE must be a whole number; got 'ten'"},
      {"step:1.5", "STEP_SIZE must be a whole number; got '1.5'"},
      {"step: 10", "STEP_SIZE must be a whole number; got ' 10'"},
      {"step:10:half", "GAMMA must be a finite number; got 'half'"},
      {"step:10:1.5", "gamma must be in (0, 1]; got 1.5"},
      {"exponential:nan", "GAMMA must be a finite number; got 'nan'"},
      {"exponential:-0.5", "gamma must be in (0, 1]; got -0.5"},
      {"inverse-time:inf", "DECAY must be a finite number; got 'inf'"},
      {"inverse-time:-1", "decay must be finite and >= 0; got -1"},
      {"cosine:100:NaN", "ETA_MIN must be a finite number"},
      {"cosine:-5", "T_max must be >= 1; got -5"},
      {"cosine:0x10", "T_MAX must be a whole number"},
      {"polynomial:-1", "power must be finite and > 0; got -1"},
      {"polynomial:1:0", "total must be >= 1; got 0"},
      {"cosine-restarts:10:1.5", "T_MULT must be a whole number; got '1.5'"},
      {"cosine-restarts:10:0", "T_mult must be >= 1; got 0"},
      {"one-cycle:1.5", "pct_start must be in (0, 1); got 1.5"},
      {"multistep:", "a required field is empty"},
      {"multistep:10,10", "strictly increasing; got 10 after 10"},
      {"multistep:30,20", "strictly increasing; got 20 after 30"},
      {"multistep:10,,20", "a milestone must be a whole number; got ''"},
      {"multistep:10,20,", "a milestone must be a whole number; got ''"},
      {"multistep:0,20", "the first milestone must be >= 1; got 0"},
      {"multistep:-5", "the first milestone must be >= 1; got -5"},
      {"warmup:10", "a warm-up must be followed by '+' and a schedule"},
      {"warmup:10+", "a schedule must follow '+'"},
      {"warmup+cosine", "too few fields; expected warmup:W[:START_FACTOR]+SCHEDULE"},
      {"warmup:ten+cosine", "W must be a whole number; got 'ten'"},
      {"warmup:-1+cosine", "warm-up: steps must be >= 0; got -1"},
      {"warmup:10:0+cosine", "start_factor must be in (0, 1]; got 0"},
      {"warmup:10:2+cosine", "start_factor must be in (0, 1]; got 2"},
      {"warmup:10:0.5:1+cosine", "too many fields; expected warmup:W[:START_FACTOR]+SCHEDULE"},
      {"warmup:10+warmup:10+cosine", "at most one '+'"},
      {"cosine+step:10", "only a warm-up, warmup:W[:START_FACTOR], may come before '+'; got 'cosine'"},
      {"+cosine", "only a warm-up"},
      {"warmup:10:1e+cosine", "a warm-up must be followed by '+' and a schedule"},  // 1e+ reads as an exponent
      {"warmup:10+one-cycle", "one-cycle rises from its own start"},
      {"plateau", "parsed by parse_plateau"},
      {"warmup:10+plateau:5", "parsed by parse_plateau"},
  };
  for (const auto& b : bad) {
    const std::string message = schedule_error(b.spec);
    EXPECT_CONTAINS(message, std::string("schedule spec '") + b.spec + "'");
    EXPECT_CONTAINS(message, b.says);
  }
}

TEST(ParseSchedule, NeedsExplicitLengthsWhenTheHorizonIsUnknown) {
  EXPECT_CONTAINS(schedule_error("cosine", 0), "cosine needs T_MAX when the run's horizon (total steps) is unknown");
  EXPECT_CONTAINS(schedule_error("polynomial:2", 0), "polynomial needs TOTAL");
  EXPECT_CONTAINS(schedule_error("one-cycle", 0), "one-cycle needs TOTAL");
  EXPECT_CONTAINS(schedule_error("constant", -1), "total_steps must be >= 0 (0 = unknown); got -1");
  EXPECT_NO_THROW(parse_schedule("step:10", 0));
}

TEST(ParseSchedule, HelpNamesEveryForm) {
  const std::string help(schedule_spec_help());
  for (const char* form : {"constant", "step:STEP_SIZE", "multistep:M1,M2", "exponential:GAMMA", "inverse-time:DECAY",
                           "polynomial[:POWER[:TOTAL]]", "cosine[:T_MAX[:ETA_MIN]]", "cosine-restarts:T_0",
                           "one-cycle[:PCT_START[:TOTAL]]", "plateau[:PATIENCE[:FACTOR]]", "warmup:W"}) {
    EXPECT_CONTAINS(help, form);
  }
}

// ---------------------------------------------------------------------------
// Reduce-on-plateau

TEST(ParsePlateau, ReadsPatienceAndFactorKeepingOtherDefaults) {
  EXPECT_TRUE(is_plateau_spec("plateau"));
  EXPECT_TRUE(is_plateau_spec("plateau:5:0.5"));
  EXPECT_FALSE(is_plateau_spec("plateaux"));
  EXPECT_FALSE(is_plateau_spec("cosine"));
  EXPECT_FALSE(is_plateau_spec("warmup:5+plateau"));

  const PlateauOptions defaults = parse_plateau("plateau");
  EXPECT_EQ(defaults.patience, 10);
  EXPECT_EQ(defaults.factor, 0.1);
  EXPECT_EQ(defaults.mode, PlateauMode::min);
  EXPECT_EQ(defaults.threshold, 1e-4);
  EXPECT_EQ(defaults.threshold_mode, ThresholdMode::relative);
  EXPECT_EQ(defaults.cooldown, 0);
  EXPECT_EQ(defaults.min_lr, 0.0);
  EXPECT_EQ(defaults.eps, 1e-8);
  EXPECT_EQ(parse_plateau("plateau:5").patience, 5);
  EXPECT_EQ(parse_plateau("plateau:5:0.5").factor, 0.5);
  EXPECT_EQ(parse_plateau("plateau::0.5").patience, 10);
  EXPECT_EQ(parse_plateau("plateau:0").patience, 0);
}

TEST(ParsePlateau, RejectsMalformedSpecsQuotingThem) {
  EXPECT_CONTAINS(plateau_error("plateau:-1"), "schedule spec 'plateau:-1': PlateauOptions::patience must be >= 0");
  EXPECT_CONTAINS(plateau_error("plateau:3:1"), "PlateauOptions::factor must be in [0, 1); got 1");
  EXPECT_CONTAINS(plateau_error("plateau:3:nan"), "FACTOR must be a finite number");
  EXPECT_CONTAINS(plateau_error("plateau:x"), "PATIENCE must be a whole number; got 'x'");
  EXPECT_CONTAINS(plateau_error("plateau:3:0.5:1"), "too many fields; expected plateau[:PATIENCE[:FACTOR]]");
  EXPECT_CONTAINS(plateau_error("plateaux"), "expected plateau[:PATIENCE[:FACTOR]]; got 'plateaux'");
  EXPECT_CONTAINS(plateau_error("plateau:"), "ends with ':' and no field after it");
  EXPECT_CONTAINS(plateau_error("plateau:3:"), "ends with ':' and no field after it");
  EXPECT_CONTAINS(plateau_error("cosine"), "got 'cosine'");
  EXPECT_CONTAINS(plateau_error("warmup:5+plateau"), "schedule spec 'warmup:5+plateau'");
}

TEST(ReduceOnPlateau, ReducesAfterMoreThanPatienceReportsWithoutImprovement) {
  ReduceOnPlateau p(1.0, {.factor = 0.5, .patience = 2});
  EXPECT_FALSE(p.report(1.0));  // best 1
  EXPECT_FALSE(p.report(1.0));  // bad 1
  EXPECT_FALSE(p.report(1.0));  // bad 2
  EXPECT_EQ(p.lr(), 1.0);
  EXPECT_TRUE(p.report(1.0));  // bad 3 > 2
  EXPECT_EQ(p.lr(), 0.5);
  EXPECT_EQ(p.state().bad_reports, 0);
  EXPECT_FALSE(p.report(0.5));  // an improvement resets the count
  EXPECT_FALSE(p.report(0.5));
  EXPECT_FALSE(p.report(0.5));
  EXPECT_TRUE(p.report(0.5));
  EXPECT_EQ(p.lr(), 0.25);
  EXPECT_EQ(p.state().reports, 8);
  EXPECT_EQ(p.state().best, 0.5);
}

TEST(ReduceOnPlateau, IgnoresBadReportsDuringTheCooldown) {
  ReduceOnPlateau p(1.0, {.factor = 0.5, .patience = 0, .cooldown = 2});
  p.report(1.0);
  EXPECT_TRUE(p.report(1.0));  // patience 0: the first bad report reduces
  EXPECT_EQ(p.state().cooldown_left, 2);
  EXPECT_FALSE(p.report(1.0));  // cooling down
  EXPECT_FALSE(p.report(1.0));
  EXPECT_EQ(p.lr(), 0.5);
  EXPECT_TRUE(p.report(1.0));
  EXPECT_EQ(p.lr(), 0.25);
}

TEST(ReduceOnPlateau, CountsOnlyImprovementsBeyondTheThreshold) {
  // Relative in min mode: better means below best * (1 - 0.1).
  ReduceOnPlateau relative(1.0, {.patience = 0, .threshold = 0.1});
  relative.report(10.0);
  EXPECT_TRUE(relative.report(9.5));
  EXPECT_EQ(relative.state().best, 10.0);
  EXPECT_FALSE(relative.report(8.9));
  EXPECT_EQ(relative.state().best, 8.9);

  // Absolute in min mode: better means below best - 0.1.
  ReduceOnPlateau absolute(1.0, {.patience = 0, .threshold = 0.1, .threshold_mode = ThresholdMode::absolute});
  absolute.report(10.0);
  EXPECT_TRUE(absolute.report(9.95));
  EXPECT_FALSE(absolute.report(9.85));
  EXPECT_EQ(absolute.state().best, 9.85);

  // Max mode: better means above best * 1.1 or best + 0.1.
  ReduceOnPlateau max_rel(1.0, {.mode = PlateauMode::max, .patience = 0, .threshold = 0.1});
  max_rel.report(1.0);
  EXPECT_TRUE(max_rel.report(1.05));
  EXPECT_FALSE(max_rel.report(1.2));
  ReduceOnPlateau max_abs(
      1.0, {.mode = PlateauMode::max, .patience = 0, .threshold = 0.1, .threshold_mode = ThresholdMode::absolute});
  max_abs.report(1.0);
  EXPECT_TRUE(max_abs.report(1.05));
  EXPECT_FALSE(max_abs.report(1.15));
  EXPECT_EQ(max_abs.state().best, 1.15);
}

TEST(ReduceOnPlateau, NeverGoesBelowMinLrAndSkipsReductionsSmallerThanEps) {
  ReduceOnPlateau p(1.0, {.factor = 0.1, .patience = 0, .min_lr = 0.05});
  p.report(1.0);
  EXPECT_TRUE(p.report(1.0));
  EXPECT_EQ(p.lr(), 0.1);
  EXPECT_TRUE(p.report(1.0));
  EXPECT_EQ(p.lr(), 0.05);
  EXPECT_FALSE(p.report(1.0));
  EXPECT_EQ(p.lr(), 0.05);

  ReduceOnPlateau coarse(1.0, {.factor = 0.5, .patience = 0, .eps = 0.3});
  coarse.report(1.0);
  EXPECT_TRUE(coarse.report(1.0));  // 1 - 0.5 > 0.3
  EXPECT_FALSE(coarse.report(1.0));  // 0.5 - 0.25 <= 0.3
  EXPECT_EQ(coarse.lr(), 0.5);
}

TEST(ReduceOnPlateau, TreatsANaNMetricAsNoImprovement) {
  ReduceOnPlateau p(1.0, {.patience = 1});
  p.report(1.0);
  p.report(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(p.state().best, 1.0);
  EXPECT_EQ(p.state().bad_reports, 1);
  EXPECT_TRUE(p.report(std::numeric_limits<double>::quiet_NaN()));
}

TEST(ReduceOnPlateau, ContinuesIdenticallyFromARestoredState) {
  const PlateauOptions options{.factor = 0.5, .patience = 1, .threshold = 0.01, .cooldown = 1, .min_lr = 1e-3};
  const std::vector<double> metrics = {5, 4, 4, 4, 3.99, 3.9, 3.9, 3.9, 3.9, 2, 2, 2, 2, 2, 2, 2, 2, 1.5, 1.5, 1.5};
  ReduceOnPlateau original(0.1, options);
  for (std::size_t i = 0; i < 7; ++i) original.report(metrics[i]);
  const ReduceOnPlateau::State saved = original.state();
  EXPECT_EQ(saved.reports, 7);

  ReduceOnPlateau resumed(0.7, options);
  resumed.restore(saved);
  EXPECT_EQ(resumed.state(), saved);
  for (std::size_t i = 7; i < metrics.size(); ++i) {
    EXPECT_EQ(original.report(metrics[i]), resumed.report(metrics[i]));
    EXPECT_EQ(original.state(), resumed.state()) << "after report " << i + 1;
  }
  EXPECT_LT(original.lr(), 0.1);
}

TEST(ReduceOnPlateau, StartsWithTheWorstBestForItsMode) {
  EXPECT_EQ(ReduceOnPlateau(0.1).state().best, std::numeric_limits<double>::infinity());
  EXPECT_EQ(ReduceOnPlateau(0.1, {.mode = PlateauMode::max}).state().best, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(ReduceOnPlateau(0.1).lr(), 0.1);
  EXPECT_EQ(ReduceOnPlateau(0.1).describe(),
            "plateau(mode=min, factor=0.1, patience=10, threshold=0.0001 rel, cooldown=0, min_lr=0, eps=1e-08)");
}

TEST(ReduceOnPlateau, RejectsInvalidOptionsBaseRatesAndStates) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto message = [](const PlateauOptions& o) -> std::string {
    try {
      o.validate();
    } catch (const invalid_argument& e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_EQ(message({}), "(no exception)");
  EXPECT_EQ(message({.factor = 0}), "(no exception)");
  EXPECT_EQ(message({.factor = 1}), "PlateauOptions::factor must be in [0, 1); got 1");
  EXPECT_CONTAINS(message({.factor = -0.1}), "factor");
  EXPECT_CONTAINS(message({.factor = nan}), "factor");
  EXPECT_EQ(message({.patience = -1}), "PlateauOptions::patience must be >= 0; got -1");
  EXPECT_CONTAINS(message({.threshold = -1e-4}), "PlateauOptions::threshold must be finite and >= 0");
  EXPECT_CONTAINS(message({.threshold = 1}), "PlateauOptions::threshold must be < 1 when relative; got 1");
  EXPECT_EQ(message({.threshold = 1, .threshold_mode = ThresholdMode::absolute}), "(no exception)");
  EXPECT_EQ(message({.cooldown = -2}), "PlateauOptions::cooldown must be >= 0; got -2");
  EXPECT_CONTAINS(message({.min_lr = -1}), "PlateauOptions::min_lr");
  EXPECT_CONTAINS(message({.eps = nan}), "PlateauOptions::eps");
  EXPECT_THROW(ReduceOnPlateau(0.1, {.patience = -1}), invalid_argument);
  EXPECT_THROW(ReduceOnPlateau(-0.1), invalid_argument);
  EXPECT_THROW(ReduceOnPlateau(std::numeric_limits<double>::infinity()), invalid_argument);

  ReduceOnPlateau p(0.1);
  const auto good = p.state();
  auto with = [&](auto change) {
    auto s = good;
    change(s);
    return s;
  };
  EXPECT_THROW(p.restore(with([](auto& s) { s.lr = -1; })), invalid_argument);
  EXPECT_THROW(p.restore(with([&](auto& s) { s.best = nan; })), invalid_argument);
  EXPECT_THROW(p.restore(with([](auto& s) { s.bad_reports = -1; })), invalid_argument);
  EXPECT_THROW(p.restore(with([](auto& s) { s.cooldown_left = -1; })), invalid_argument);
  EXPECT_THROW(p.restore(with([](auto& s) { s.reports = -1; })), invalid_argument);
  EXPECT_EQ(p.state(), good);
}

}  // namespace
}  // namespace descent::optim
