#include "descent/io/performance_profile.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "descent/core/error.hpp"
#include "descent/core/types.hpp"
#include "io/well_formed_xml.hpp"

namespace descent::io {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Eigen::MatrixXd matrix(std::initializer_list<std::initializer_list<double>> rows) {
  Eigen::MatrixXd m(static_cast<Index>(rows.size()), static_cast<Index>(rows.begin()->size()));
  Index p = 0;
  for (const auto& row : rows) {
    Index s = 0;
    for (double v : row) m(p, s++) = v;
    ++p;
  }
  return m;
}

TEST(PerformanceRatios, DivideEachCostByTheBestOnItsProblem) {
  const Eigen::MatrixXd r = performance_ratios(matrix({{10, 20, 40}, {30, 15, kNaN}, {kInf, kNaN, kInf}}));
  EXPECT_EQ(r(0, 0), 1.0);
  EXPECT_EQ(r(0, 1), 2.0);
  EXPECT_EQ(r(0, 2), 4.0);
  EXPECT_EQ(r(1, 0), 2.0);
  EXPECT_EQ(r(1, 1), 1.0);
  EXPECT_EQ(r(1, 2), kInf);
  for (Index s = 0; s < 3; ++s) EXPECT_EQ(r(2, s), kInf) << "a problem all solvers failed";
}

TEST(PerformanceProfile, MatchesAHandComputedExampleWithAFailure) {
  // Ratios: p0 (1, 2), p1 (2, 1), p2 (1, inf).
  const PerformanceProfile profile =
      performance_profile(matrix({{10, 20}, {30, 15}, {5, kInf}}), {"A", "B"});
  EXPECT_EQ(profile.solvers, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(profile.problems, 3);
  EXPECT_EQ(profile.tau, (std::vector<double>{1.0, 2.0}));
  ASSERT_EQ(profile.rho.size(), 2u);
  EXPECT_EQ(profile.rho[0], (std::vector<double>{2.0 / 3, 1.0}));
  EXPECT_EQ(profile.rho[1], (std::vector<double>{1.0 / 3, 2.0 / 3}));
}

TEST(PerformanceProfile, TiesCountAsBestForEverySolverInvolved) {
  // Ratios: p0 (1, 1, 1.5), p1 (1, 3, 1), p2 (1.25, 1, 1).
  const PerformanceProfile profile =
      performance_profile(matrix({{7, 7, 10.5}, {4, 12, 4}, {5, 4, 4}}), {"a", "b", "c"});
  EXPECT_EQ(profile.tau, (std::vector<double>{1.0, 1.25, 1.5, 3.0}));
  EXPECT_EQ(profile.rho[0], (std::vector<double>{2.0 / 3, 1.0, 1.0, 1.0}));
  EXPECT_EQ(profile.rho[1], (std::vector<double>{2.0 / 3, 2.0 / 3, 2.0 / 3, 1.0}));
  EXPECT_EQ(profile.rho[2], (std::vector<double>{2.0 / 3, 2.0 / 3, 1.0, 1.0}));
}

TEST(PerformanceProfile, AProblemEverySolverFailedCountsAsAFailureForAll) {
  // p1 is failed by both (NaN and +inf), so no solver reaches rho = 1.
  const PerformanceProfile profile =
      performance_profile(matrix({{1, 2}, {kNaN, kInf}, {3, 3}, {8, 2}}), {"x", "y"});
  EXPECT_EQ(profile.problems, 4);
  EXPECT_EQ(profile.tau, (std::vector<double>{1.0, 2.0, 4.0}));
  EXPECT_EQ(profile.rho[0], (std::vector<double>{0.5, 0.5, 0.75}));
  EXPECT_EQ(profile.rho[1], (std::vector<double>{0.5, 0.75, 0.75}));
}

TEST(PerformanceProfile, EveryoneFailingEverythingGivesZeroAtTauOne) {
  const PerformanceProfile profile = performance_profile(matrix({{kNaN, kInf}, {kInf, kInf}}), {"x", "y"});
  EXPECT_EQ(profile.tau, (std::vector<double>{1.0}));
  EXPECT_EQ(profile.rho, (std::vector<std::vector<double>>{{0.0}, {0.0}}));
  // One solver alone is best wherever it succeeds.
  const PerformanceProfile alone = performance_profile(matrix({{3}, {kNaN}, {9}}), {"only"});
  EXPECT_EQ(alone.tau, (std::vector<double>{1.0}));
  EXPECT_EQ(alone.rho[0], (std::vector<double>{2.0 / 3}));
}

TEST(PerformanceProfile, IsNondecreasingAndStartsWithTheShareOfWins) {
  Eigen::MatrixXd costs(20, 3);
  for (Index p = 0; p < 20; ++p)
    for (Index s = 0; s < 3; ++s) costs(p, s) = 1.0 + static_cast<double>((p * 7 + s * 13) % 11);
  costs(4, 1) = kInf;
  const PerformanceProfile profile = performance_profile(costs, {"a", "b", "c"});
  ASSERT_EQ(profile.tau.front(), 1.0);
  for (std::size_t k = 1; k < profile.tau.size(); ++k) EXPECT_LT(profile.tau[k - 1], profile.tau[k]);
  double wins = 0.0;
  for (const auto& rho : profile.rho) {
    for (std::size_t k = 1; k < rho.size(); ++k) EXPECT_LE(rho[k - 1], rho[k]);
    wins += rho.front();
  }
  EXPECT_GE(wins, 1.0) << "every problem is won by at least one solver";
  EXPECT_EQ(profile.rho[0].back(), 1.0);
  EXPECT_EQ(profile.rho[1].back(), 19.0 / 20);
}

TEST(PerformanceProfile, RejectsMismatchedOrInvalidInput) {
  EXPECT_THROW(performance_profile(matrix({{1, 2}}), {"only one"}), invalid_argument);
  EXPECT_THROW(performance_profile(Eigen::MatrixXd(0, 2), {"a", "b"}), invalid_argument);
  EXPECT_THROW(performance_profile(Eigen::MatrixXd(3, 0), {}), invalid_argument);
  EXPECT_THROW(performance_profile(matrix({{1, 0}}), {"a", "b"}), invalid_argument);
  EXPECT_THROW(performance_profile(matrix({{1, -2}}), {"a", "b"}), invalid_argument);
  EXPECT_THROW(performance_profile(matrix({{1, -kInf}}), {"a", "b"}), invalid_argument);
  try {
    performance_ratios(matrix({{1, 2}, {3, -4}}));
    ADD_FAILURE() << "expected descent::invalid_argument";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("costs(1, 1)"), std::string::npos) << e.what();
  }
}

TEST(PerformanceProfileSvg, DrawsOneStepFunctionPerSolverOnALog2Axis) {
  const PerformanceProfile profile =
      performance_profile(matrix({{10, 20, 15}, {30, 15, kNaN}, {5, kInf, 90}}), {"lbfgs", "cg <PR+>", "gd"});
  const std::string svg = performance_profile_svg(profile, "MGH & friends", "function evaluations");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(testing::xml_problem(svg), "");
  EXPECT_EQ(testing::count_of(svg, "class=\"series\" stroke="), 3);
  EXPECT_NE(svg.find("cg &lt;PR+&gt;"), std::string::npos);
  EXPECT_NE(svg.find("MGH &amp; friends"), std::string::npos);
  EXPECT_NE(svg.find("function evaluations"), std::string::npos);
  for (const char* tick : {">1<", ">2<", ">4<", ">8<", ">16<"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;

  PerformanceProfile broken = profile;
  broken.rho[1].pop_back();
  EXPECT_THROW(performance_profile_svg(broken, "", ""), invalid_argument);
}

}  // namespace
}  // namespace descent::io
