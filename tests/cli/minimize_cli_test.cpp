// `descent minimize` and `descent bench` run as a user would: exit statuses, messages, JSON.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "descent/core/any_objective.hpp"
#include "descent/problems/problem.hpp"
#include "descent/solvers/minimize.hpp"
#include "support/cli_run.hpp"

namespace {

using descent::testing::run_cli;

TEST(MinimizeCli, JsonReportsEveryRequiredField) {
  auto r = run_cli("minimize --problem rosenbrock --method lbfgs --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  for (const char* field : {"problem", "method", "n", "f", "gradient_norm", "iterations", "function_evaluations",
                            "gradient_evaluations", "status", "message", "seconds", "x"})
    EXPECT_TRUE(j.contains(field)) << field;
  EXPECT_EQ(j["problem"], "rosenbrock");
  EXPECT_EQ(j["method"], "lbfgs");
  EXPECT_EQ(j["n"], 2);
  EXPECT_EQ(j["status"], "converged_gradient");
  EXPECT_LT(j["f"].get<double>(), 1e-10);
  EXPECT_NEAR(j["x"][0].get<double>(), 1.0, 1e-5);
}

TEST(MinimizeCli, SeveralMethodsGiveAnArray) {
  auto r = run_cli("minimize --problem beale --method bfgs --method dogleg --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1]["method"], "dogleg");
}

TEST(MinimizeCli, OmitsXForLargeProblemsAndHonoursDimAndScale) {
  auto r = run_cli("minimize --problem extended_rosenbrock --dim 2000 --x0-scale 0.5 --method lbfgs --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n"], 2000);
  EXPECT_FALSE(j.contains("x"));
}

TEST(MinimizeCli, TextOutputHasAnIterationLogAndASummary) {
  auto r = run_cli("minimize --problem rosenbrock --method newton");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("iter"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("converged_gradient"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("known minimum 0: reached"), std::string::npos) << r.out;
}

TEST(MinimizeCli, UnknownProblemIsAUsageErrorListingTheKnownOnes) {
  auto r = run_cli("minimize --problem rosenbrok --method lbfgs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown problem 'rosenbrok'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("chebyquad"), std::string::npos) << r.out;
}

TEST(MinimizeCli, UnknownMethodIsAUsageError) {
  auto r = run_cli("minimize --problem rosenbrock --method lbgfs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown method 'lbgfs'"), std::string::npos) << r.out;
}

TEST(MinimizeCli, BadDimensionsAreUsageErrors) {
  auto negative = run_cli("minimize --problem quadratic --dim -3 --method lbfgs");
  EXPECT_EQ(negative.status, 2) << negative.out;
  auto fixed = run_cli("minimize --problem rosenbrock --dim 3 --method lbfgs");
  EXPECT_EQ(fixed.status, 2);
  EXPECT_NE(fixed.out.find("fixed dimension 2"), std::string::npos) << fixed.out;
  auto huge = run_cli("minimize --problem quadratic --dim 100000000000 --method lbfgs");
  EXPECT_EQ(huge.status, 2);
  EXPECT_NE(huge.out.find("too large"), std::string::npos) << huge.out;
  auto dense = run_cli("minimize --problem quadratic --dim 10000000 --method newton");
  EXPECT_EQ(dense.status, 2);
  EXPECT_NE(dense.out.find("GiB"), std::string::npos) << dense.out;
  auto odd = run_cli("minimize --problem extended_rosenbrock --dim 7 --method lbfgs");
  EXPECT_EQ(odd.status, 2) << odd.out;
}

TEST(MinimizeCli, MissingOrConflictingChoicesAreUsageErrors) {
  EXPECT_EQ(run_cli("minimize --method lbfgs").status, 2);
  EXPECT_EQ(run_cli("minimize --problem rosenbrock").status, 2);
  EXPECT_EQ(run_cli("minimize --problem rosenbrock --suite mgh --method lbfgs").status, 2);
  EXPECT_EQ(run_cli("minimize --problem rosenbrock --method lbfgs --gtol -1").status, 2);
  EXPECT_EQ(run_cli("minimize --problem rosenbrock --method lbfgs --max-iter abc").status, 2);
  EXPECT_EQ(run_cli("frobnicate").status, 2);
}

TEST(MinimizeCli, PlotWritesAnSvgForTwoDimensionalProblems) {
  const auto path = std::filesystem::temp_directory_path() / "descent_cli_plot_test.svg";
  std::filesystem::remove(path);
  auto r = run_cli("minimize --problem rosenbrock --method lbfgs --method gd-armijo --quiet --plot " + path.string());
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in(path);
  std::stringstream svg;
  svg << in.rdbuf();
  EXPECT_EQ(svg.str().rfind("<svg", 0) == 0 || svg.str().find("<svg") != std::string::npos, true);
  EXPECT_NE(svg.str().find("lbfgs"), std::string::npos);
  EXPECT_NE(svg.str().find("gd-armijo"), std::string::npos);
  std::filesystem::remove(path);

  auto wrong = run_cli("minimize --problem wood --method lbfgs --plot " + path.string());
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.out.find("two-dimensional"), std::string::npos) << wrong.out;
}

TEST(MinimizeCli, SuiteRunsAllThirtyFiveProblemsAndWritesAProfile) {
  const auto path = std::filesystem::temp_directory_path() / "descent_cli_profile_test.svg";
  std::filesystem::remove(path);
  auto r = run_cli("minimize --suite mgh --method lbfgs --method trust-region --json --profile " + path.string());
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 70u);
  EXPECT_TRUE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST(MinimizeCli, VersionAndHelp) {
  auto v = run_cli("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("descent 0."), std::string::npos) << v.out;
  auto h = run_cli("minimize --help");
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("--x0-scale"), std::string::npos);
}

}  // namespace

TEST(MinimizeCli, AStepperTakesExactlyMaxIterStepsFromTheStandardStart) {
  auto r = run_cli("minimize --problem quadratic --dim 10 --method adam --lr 0.01 --max-iter 100 --gtol 0 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "adam");
  EXPECT_EQ(j["iterations"], 100);
  EXPECT_EQ(j["status"], "max_iterations");
  // Adam moves each coordinate by about lr per step while the sign of the
  // gradient holds: from 1, 100 steps of 0.01 end near 0 for every i.
  ASSERT_EQ(j["x"].size(), 10u);
  for (double xi : j["x"]) EXPECT_LT(std::abs(xi), 0.5);
}

TEST(MinimizeCli, TrustScalingChoosesTheRegionsShape) {
  const std::string meyer = "minimize --problem meyer --method trust-region --gtol 1e-10 --max-iter 10000 --quiet";
  auto ball = run_cli(meyer + " --trust-scaling none");
  ASSERT_EQ(ball.status, 0) << ball.out;
  EXPECT_NE(ball.out.find("not reached"), std::string::npos) << ball.out;
  for (const char* scaling : {"", " --trust-scaling when-stalled", " --trust-scaling diagonal"}) {
    auto r = run_cli(meyer + scaling);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("known minimum 87.9458552: reached"), std::string::npos) << scaling << "\n" << r.out;
  }
  auto bad = run_cli("minimize --problem meyer --method trust-region --trust-scaling sphere");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--trust-scaling"), std::string::npos) << bad.out;
}

TEST(MinimizeCli, RestartsListTheMinimaAndFindTheGlobalOne) {
  auto r = run_cli("minimize --problem six_hump_camel --method lbfgs --restarts 30 --seed 4 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["restarts"], 30);
  EXPECT_EQ(j["seed"], 4);
  EXPECT_TRUE(j["solved"].get<bool>()) << r.out;
  EXPECT_GE(j["starts_reaching_known_minimum"].get<int>(), 2);
  ASSERT_GE(j["minima"].size(), 2u);
  int counted = j["failed_starts"].get<int>() + j["starts_outside_domain"].get<int>();
  for (const auto& m : j["minima"]) counted += m["count"].get<int>();
  EXPECT_EQ(counted, 30);
  EXPECT_LE(j["minima"][0]["f"].get<double>(), j["minima"][1]["f"].get<double>());
  // The same seed, the same answer; a method that takes bounds keeps to the domain.
  const auto again = nlohmann::json::parse(
      run_cli("minimize --problem six_hump_camel --method lbfgs --restarts 30 --seed 4 --json").out);
  EXPECT_EQ(again["minima"], j["minima"]);
  EXPECT_EQ(again["x"], j["x"]);
  auto text = run_cli("minimize --problem eggholder --method lbfgsb --restarts 20 --seed 1");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("its domain as bounds"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("distinct minima from 20 starts"), std::string::npos) << text.out;

  EXPECT_EQ(run_cli("minimize --problem rastrigin --method lbfgs --method bfgs --restarts 3").status, 2);
  EXPECT_EQ(run_cli("minimize --problem rastrigin --method adam --restarts 3").status, 2);
  EXPECT_EQ(run_cli("minimize --suite mgh --method lbfgs --restarts 3").status, 2);
  EXPECT_EQ(run_cli("minimize --problem rastrigin --method lbfgs --restarts 0").status, 2);
}

TEST(MinimizeCli, BasinHoppingReportsItsHopsAndFindsTheGlobalMinimum) {
  auto r = run_cli("minimize --problem holder_table --method lbfgsb --global basin-hopping --hops 150 --step 2 "
                   "--seed 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["global"], "basin-hopping");
  EXPECT_EQ(j["hops"], 150);
  EXPECT_EQ(j["local_solves"], 151);
  EXPECT_TRUE(j["domain_as_bounds"].get<bool>());
  EXPECT_TRUE(j["solved"].get<bool>()) << r.out;
  EXPECT_GT(j["accepted_hops"].get<int>(), 0);
  EXPECT_GT(j["final_step"].get<double>(), 0);
  EXPECT_EQ(run_cli("minimize --problem holder_table --method lbfgsb --global annealing").status, 2);
  EXPECT_EQ(run_cli("minimize --problem holder_table --method lbfgsb --global basin-hopping --restarts 4").status, 2);
  EXPECT_EQ(run_cli("minimize --problem holder_table --method lbfgsb --global basin-hopping --step 0").status, 2);
}

TEST(MinimizeCli, StepperHyperparametersSchedulesAndLookahead) {
  auto r = run_cli(
      "minimize --problem rosenbrock --method nesterov --momentum 0.8 --lr 1e-3 --schedule warmup:10+cosine "
      "--lookahead 5,0.5 --clip-norm 10 --max-iter 300 --gtol 0 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["iterations"], 300);
  EXPECT_LT(j["f"].get<double>(), 24.2);  // below f(x0)
  auto bad = run_cli("minimize --problem rosenbrock --method adam --momentum 0.9");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("beta1"), std::string::npos) << bad.out;
  auto bad_schedule = run_cli("minimize --problem rosenbrock --method adam --schedule cosinus");
  EXPECT_EQ(bad_schedule.status, 2);
  EXPECT_NE(bad_schedule.out.find("cosinus"), std::string::npos) << bad_schedule.out;
  auto bad_hp = run_cli("minimize --problem rosenbrock --method adam --hp beta2");
  EXPECT_EQ(bad_hp.status, 2);
}

TEST(BenchCli, StepReportsTheRequiredFields) {
  auto r = run_cli("bench step --optimizer adamw --size 20000 --threads 1 --seconds 0.05 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  for (const char* field : {"optimizer", "size", "threads", "seconds_per_step", "bytes_per_step", "gbps", "triad_gbps"})
    EXPECT_TRUE(j.contains(field)) << field;
  EXPECT_EQ(j["size"], 20000);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_DOUBLE_EQ(j["bytes_per_step"].get<double>(), 20000.0 * 7 * 4);
  EXPECT_GT(j["gbps"].get<double>(), 0.0);
  EXPECT_EQ(run_cli("bench step --optimizer nope --size 10").status, 2);
  EXPECT_EQ(run_cli("bench step --optimizer adam --size 0").status, 2);
  EXPECT_EQ(run_cli("bench step --optimizer adam --size 100000000000000").status, 2);
}

TEST(BenchCli, StepWithABoxCountsTheBytesOfTheStepAlone) {
  auto r = run_cli("bench step --optimizer adam --size 20000 --project box:0,1 --threads 1 --seconds 0.05 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["projection"], "box:0,1");
  EXPECT_DOUBLE_EQ(j["bytes_per_step"].get<double>(), 20000.0 * 7 * 4);  // the box rides in Adam's pass
  auto bad = run_cli("bench step --optimizer adam --size 100 --project cube");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--project: unknown projection 'cube'"), std::string::npos) << bad.out;
}

TEST(BenchCli, ModelReportsTheRequiredFields) {
  for (const char* spec : {"mlp:20-16-4", "cnn:lenet", "logistic:8", "linear:5-2"}) {
    auto r = run_cli(std::string("bench model --model ") + spec +
                     " --batch-size 8 --optimizer adam --threads 1 --seconds 0.05 --json");
    ASSERT_EQ(r.status, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    for (const char* field : {"model", "batch_size", "threads", "ms_per_batch", "samples_per_second"})
      EXPECT_TRUE(j.contains(field)) << spec << ": " << field;
    EXPECT_EQ(j["model"], spec);
    EXPECT_EQ(j["batch_size"], 8);
    EXPECT_EQ(j["optimizer"], "adam");
    EXPECT_GT(j["ms_per_batch"].get<double>(), 0);
    EXPECT_NEAR(j["samples_per_second"].get<double>(), 8 / (j["ms_per_batch"].get<double>() / 1e3), 1e-6 * 8e3);
  }
  auto text = run_cli("bench model --model mlp:10-3 --batch-size 4 --seconds 0.05");
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("ms per batch"), std::string::npos) << text.out;
}

TEST(BenchCli, ModelRejectsBadSpecsAndSizes) {
  auto r = run_cli("bench model --model mlp:784");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("mlp:784"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli("bench model --model cnn:resnet").status, 2);
  EXPECT_EQ(run_cli("bench model --batch-size 0").status, 2);
  EXPECT_EQ(run_cli("bench model --optimizer nope").status, 2);
}

// What the CLI runs is the library's solve: the same iterations, evaluations
// and value, to the bit, whether or not it logs each iteration.
TEST(MinimizeCli, TakesTheLibrarysStepsWithAndWithoutTheIterationLog) {
  auto problem = descent::problems::make_problem("extended_rosenbrock", {.dimension = 1000});
  for (const char* name : {"lbfgs", "cg-hz", "trust-region", "bfgs"}) {
    descent::MinimizeOptions o;
    o.step_size = 1e-3;  // the CLI's defaults for --lr, --memory and --radius
    o.memory = 10;
    o.initial_radius = 1.0;
    descent::Vector<double> x = problem->start();
    auto objective = descent::AnyObjective<double>::reference(*problem);
    const auto library = descent::minimize<double>(objective, x, *descent::parse_method(name), o);
    auto r = run_cli(std::string("minimize --problem extended_rosenbrock --dim 1000 --method ") + name + " --json");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["iterations"].get<descent::Index>(), library.iterations) << name;
    EXPECT_EQ(j["function_evaluations"].get<descent::Index>(), library.value_evaluations) << name;
    EXPECT_EQ(j["gradient_evaluations"].get<descent::Index>(), library.gradient_evaluations) << name;
    EXPECT_EQ(j["f"].get<double>(), library.value) << name;
    // With the iteration log (a callback) the trajectory is the same.
    auto text = run_cli(std::string("minimize --problem extended_rosenbrock --dim 1000 --method ") + name);
    ASSERT_EQ(text.status, 0) << text.out;
    const std::string counts = std::to_string(library.iterations) + " iterations, " +
                               std::to_string(library.value_evaluations) + " f / " +
                               std::to_string(library.gradient_evaluations) + " g";
    EXPECT_NE(text.out.find(counts), std::string::npos)
        << name << "\n" << text.out.substr(text.out.size() > 600 ? text.out.size() - 600 : 0);
  }
}
