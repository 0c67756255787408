// `descent minimize` with bounds and projections: the flags, the bounds
// file's errors, the refusals, and the active bounds in the report.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/cli_run.hpp"
#include "support/temp_dir.hpp"

namespace {

using descent::testing::run_cli;

class MinimizeBoundsCli : public descent::testing::TempDirTest {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = path(name);
    std::ofstream(p) << text;
    return p;
  }
};

TEST_F(MinimizeBoundsCli, BoundsPutRosenbrocksMinimumOnABound) {
  // x_1 <= 0.5: the minimum is (0.5, 0.25) with f = 0.25, x_1 at its upper bound.
  for (const char* method : {"lbfgsb", "spg", "projected-gd"}) {
    auto r = run_cli(std::string("minimize --problem rosenbrock --method ") + method +
                     " --bounds -inf,0.5 --gtol 1e-7 --max-iter 100000 --json");
    ASSERT_EQ(r.status, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["status"], "converged_gradient") << method;
    EXPECT_NEAR(j["f"].get<double>(), 0.25, 1e-9) << method;
    EXPECT_EQ(j["x"][0].get<double>(), 0.5) << method;
    EXPECT_EQ(j["active_upper"], nlohmann::json::array({0})) << method;
    EXPECT_EQ(j["active_lower_count"], 0) << method;
    EXPECT_FALSE(j.contains("known_minimum")) << "the catalogue's minimum is the unconstrained one";
  }
}

TEST_F(MinimizeBoundsCli, ABoundsFileGivesEachVariableItsPair) {
  const std::string file = write("b.txt", "# lower upper\n2, inf\n\n-inf 0.5\n");
  auto r = run_cli("minimize --problem rosenbrock --method lbfgsb --bounds-file " + file + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["x"][0].get<double>(), 2.0);
  EXPECT_EQ(j["x"][1].get<double>(), 0.5);
  EXPECT_EQ(j["active_lower"], nlohmann::json::array({0}));
  EXPECT_EQ(j["active_upper"], nlohmann::json::array({1}));
}

TEST_F(MinimizeBoundsCli, BadBoundsFilesNameTheFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"0 1\nx 2\n", ":2: expected two bounds"},
      {"0 1\n3 2\n", ":2: the bounds of variable 1 are empty"},
      {"0 1\n", "found 1 pairs of bounds; the problem has 2 variables"},
      {"0 1\n0 1\n0 1\n", ":3: more pairs than the problem's 2 variables"},
      {"0 nan\n0 1\n", ":1: expected two bounds"},
  };
  for (const auto& c : cases) {
    const std::string file = write("bad.txt", c.text);
    auto r = run_cli("minimize --problem rosenbrock --method lbfgsb --bounds-file " + file);
    EXPECT_NE(r.status, 0) << c.text;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << r.out;
  }
  auto r = run_cli("minimize --problem rosenbrock --method lbfgsb --bounds-file " + path("missing.txt"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("missing.txt"), std::string::npos) << r.out;
}

TEST_F(MinimizeBoundsCli, MethodsThatCannotHonourConstraintsRefuseThem) {
  auto r = run_cli("minimize --problem rosenbrock --method bfgs --bounds 0,1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bfgs does not take bounds; use lbfgsb, projected-gd or spg"), std::string::npos) << r.out;
  r = run_cli("minimize --problem rosenbrock --method lbfgsb --project simplex");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("use projected-gd or spg"), std::string::npos) << r.out;
  for (const char* bad : {"--bounds 1,0", "--bounds 0", "--bounds a,b", "--project cube", "--bounds 0,1 --project simplex"}) {
    r = run_cli(std::string("minimize --problem rosenbrock --method spg ") + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.out;
  }
  r = run_cli("minimize --suite mgh --method lbfgsb --bounds 0,1");
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST_F(MinimizeBoundsCli, SteppersProjectAfterEveryStep) {
  // Rosenbrock with x <= 0.5: the minimum is (0.5, 0.25), as L-BFGS-B finds.
  auto r = run_cli("minimize --problem rosenbrock --method adam --lr 0.01 --max-iter 20000 --gtol 0 "
                   "--bounds -inf,0.5 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  const auto& x = j["x"];
  EXPECT_LE(x[0].get<double>(), 0.5);
  EXPECT_NEAR(x[0].get<double>(), 0.5, 1e-3) << r.out;
  EXPECT_NEAR(x[1].get<double>(), 0.25, 1e-2) << r.out;
  r = run_cli("minimize --problem quadratic --dim 4 --method sgd --lr 0.1 --max-iter 2000 --gtol 0 --project simplex --json");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  double sum = 0;
  for (const auto& xi : j["x"]) sum += xi.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-12);
  // 0.5 sum i x_i^2 on the simplex: x_i proportional to 1 / i.
  EXPECT_NEAR(j["x"][0].get<double>(), 1.0 / (1 + 0.5 + 1.0 / 3 + 0.25), 1e-6) << r.out;
}

TEST_F(MinimizeBoundsCli, SpgOnTheSimplex) {
  // 0.5 sum i x_i^2 on the simplex: x_i proportional to 1 / i.
  auto r = run_cli("minimize --problem quadratic --dim 4 --method spg --project simplex --gtol 1e-10 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  const double h = 1.0 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(j["x"][i].get<double>(), 1.0 / (i + 1) / h, 1e-8);
}

TEST_F(MinimizeBoundsCli, ABoundedProblemBringsItsOwnBounds) {
  // Hock-Schittkowski 45: 2 - x1 x2 x3 x4 x5 / 120 on 0 <= x_i <= i, minimum 1 at the upper bounds.
  auto r = run_cli("minimize --problem hs45 --method lbfgsb --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["f"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(j["known_minimum"].get<double>(), 1.0) << "the known minimum is the bounded problem's";
  EXPECT_EQ(j["active_upper"], nlohmann::json::array({0, 1, 2, 3, 4}));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(j["x"][i].get<double>(), i + 1.0);

  // A stepper projects onto them too, and reports the active ones: hs3 is
  // x2 + 1e-5 (x2 - x1)^2 with x2 >= 0.
  r = run_cli("minimize --problem hs3 --method adam --lr 0.1 --max-iter 500 --gtol 0 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["x"][1].get<double>(), 0.0) << r.out;
  EXPECT_EQ(j["active_lower"], nlohmann::json::array({1})) << r.out;

  // The flags' bounds replace the problem's, and its known minimum no longer applies.
  r = run_cli("minimize --problem hs3 --method lbfgsb --bounds 1,2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["f"].get<double>(), 1.0, 1e-12);
  EXPECT_FALSE(j.contains("known_minimum"));

  r = run_cli("minimize --problem torsion --dim 400 --method bfgs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("torsion is bound-constrained and method bfgs does not take bounds; use lbfgsb, "
                       "projected-gd, spg or a stepper"),
            std::string::npos)
      << r.out;
}

TEST_F(MinimizeBoundsCli, TheBoundedSuiteRunsTheMethodsThatTakeBounds) {
  auto r = run_cli("minimize --suite bounded --method all --dim 400 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u * 12u) << "lbfgsb, projected-gd and spg on the 12 problems";
  int spg_solved = 0;
  for (const auto& row : j) {
    const std::string method = row["method"];
    EXPECT_TRUE(method == "lbfgsb" || method == "projected-gd" || method == "spg") << method;
    if (method == "spg") spg_solved += row["solved"].get<bool>();
    if (row["problem"] == "torsion" && method == "lbfgsb") {
      EXPECT_EQ(row["n"], 400);
      EXPECT_TRUE(row["solved"].get<bool>());
      EXPECT_GT(row["active_upper_count"].get<int>(), 0);
    }
  }
  EXPECT_EQ(spg_solved, 12);
  r = run_cli("minimize --suite bounded --method bfgs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("hs1 is bound-constrained and method bfgs does not take bounds"), std::string::npos) << r.out;
}

}  // namespace
