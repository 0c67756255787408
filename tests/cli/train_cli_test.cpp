// `descent train` run as a user would, on small generated CSV files.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/cli_run.hpp"
#include "support/process.hpp"

#include "descent/core/random.hpp"
#include "descent/io/safetensors.hpp"
#include "descent/train/checkpoint.hpp"
#include "support/temp_dir.hpp"

namespace {

using descent::testing::read_bytes;
using descent::testing::run_cli;
using descent::testing::start_cli;
using descent::testing::wait_for_exit;
using descent::testing::wait_until;
auto descent_cli(const std::string& args) { return run_cli(args); }

class TrainCli : public descent::testing::TempDirTest {
 protected:
  // Two blobs: x0, x1, label (0 or 1), with a header.
  std::string blobs(int n) {
    descent::Rng rng(1);
    std::ostringstream s;
    s << "x0,x1,label\n";
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      s << (label ? 3 : -3) + rng.normal() << ',' << (label ? -2 : 2) + rng.normal() << ',' << label << '\n';
    }
    return write_file("blobs.csv", s.str());
  }
  // y = 2 a - b + 1 + small noise, the target in the first column.
  std::string line(int n) {
    descent::Rng rng(2);
    std::ostringstream s;
    s << "y,a,b\n";
    for (int i = 0; i < n; ++i) {
      const double a = rng.normal(), b = rng.normal();
      s << 2 * a - b + 1 + 0.01 * rng.normal() << ',' << a << ',' << b << '\n';
    }
    return write_file("line.csv", s.str());
  }
  std::string write_file(const std::string& name, const std::string& content) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }
};

TEST_F(TrainCli, ClassifiesACsvAndReportsTheSummaryFields) {
  const auto r = descent_cli("train --data " + blobs(200) +
                             " --model logistic --optimizer adam --lr 0.05 --epochs 10 --batch-size 16 --seed 1 "
                             "--val-fraction 0.2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  for (const char* field : {"model", "optimizer", "epochs", "train_loss", "test_loss", "test_accuracy",
                            "samples_per_second", "seconds", "status"})
    EXPECT_TRUE(j.contains(field)) << field;
  EXPECT_EQ(j["model"], "logistic:2");
  EXPECT_EQ(j["epochs"], 10);
  EXPECT_EQ(j["status"], "max_iterations");
  EXPECT_GE(j["test_accuracy"].get<double>(), 0.95);
}

TEST_F(TrainCli, RegressesWithAChosenLabelColumnAndStandardization) {
  const auto r = descent_cli("train --data " + line(300) +
                             " --label-column y --standardize --model linear --optimizer lbfgs --gtol 1e-8 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["model"], "linear:2");
  EXPECT_EQ(j["status"], "converged_gradient");
  EXPECT_GT(j["test_r2"].get<double>(), 0.999);
  EXPECT_LT(j["test_mse"].get<double>(), 1e-3);
}

TEST_F(TrainCli, TheLogStartsWithTheConfigurationAndSaveWritesSafetensors) {
  const auto log = (dir_ / "run.jsonl").string(), weights = (dir_ / "model.safetensors").string();
  const auto r = descent_cli("train --data " + blobs(100) + " --model mlp:2-8-2 --optimizer sgd --momentum 0.9 --lr 0.05 "
                             "--epochs 3 --batch-size 10 --seed 7 --log " + log + " --save " + weights);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("epoch   3"), std::string::npos) << r.out;  // one line per epoch off a terminal
  std::ifstream in(log);
  std::string first, line;
  std::getline(in, first);
  const auto config = nlohmann::json::parse(first);
  EXPECT_EQ(config["seed"], 7);
  EXPECT_EQ(config["optimizer"], "sgd");
  EXPECT_EQ(config["hyperparameters"]["momentum"], 0.9);
  // Defaults are recorded too, so the log alone repeats the run.
  EXPECT_EQ(config["hyperparameters"]["dampening"], 0.0);
  EXPECT_EQ(config["hyperparameters"]["weight_decay"], 0.0);
  EXPECT_EQ(config["loss"], "cross_entropy");
  EXPECT_GE(config["threads"].get<int>(), 1);
  EXPECT_TRUE(config.contains("descent"));
  int epochs = 0;
  while (std::getline(in, line)) epochs += nlohmann::json::parse(line).contains("epoch");
  EXPECT_EQ(epochs, 3);
  const auto file = descent::io::SafetensorsFile::read(weights);
  EXPECT_TRUE(file.contains("0.weight"));
  EXPECT_EQ(file.shape("0.weight"), (std::vector<std::int64_t>{8, 2}));
}

TEST_F(TrainCli, ProjectKeepsTheChosenSegmentsInTheirSetsAndIsRecorded) {
  const auto log = (dir_ / "run.jsonl").string(), weights = (dir_ / "model.safetensors").string();
  const auto data = blobs(200);
  for (const std::string optimizer : {"adam", "lbfgsb"}) {
    const auto r = descent_cli("train --data " + data + " --model mlp:2-8-2 --optimizer " + optimizer +
                               " --lr 0.05 --epochs 5 --batch-size 16 --max-iter 50 --seed 3 --project '*.weight=box:0,0.5'"
                               " --project 2.bias=simplex --json --log " + log + " --save " + weights);
    ASSERT_EQ(r.status, optimizer == "adam" ? 0 : 2) << r.out;
    if (optimizer != "adam") {  // a simplex is for the steppers, projected-gd and spg
      EXPECT_NE(r.out.find("projected-gd or spg"), std::string::npos) << r.out;
      continue;
    }
    const auto file = descent::io::SafetensorsFile::read(weights);
    for (const char* name : {"0.weight", "2.weight"})
      for (float w : file.floats(name)) EXPECT_TRUE(w >= 0 && w <= 0.5f) << name << " " << w;
    const auto bias = file.floats("2.bias");
    double sum = 0;
    for (float b : bias) {
      EXPECT_GE(b, 0) << "2.bias";
      sum += b;
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    std::ifstream in(log);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(nlohmann::json::parse(first)["project"][0], "*.weight=box:0,0.5");
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    EXPECT_NE(j["projection"].get<std::string>().find("simplex(1)"), std::string::npos) << j.dump();
  }
  // A box goes to L-BFGS-B as bounds.
  const auto r = descent_cli("train --data " + data + " --model logistic --optimizer lbfgsb --max-iter 50 "
                             "--project '*.weight=box:-0.1,0.1' --json --save " + weights);
  ASSERT_EQ(r.status, 0) << r.out;
  for (double w : descent::io::SafetensorsFile::read(weights).doubles("0.weight")) EXPECT_LE(std::abs(w), 0.1);
  // A pattern that matches nothing names the segments.
  const auto none = descent_cli("train --data " + data + " --model mlp:2-8-2 --project '*.gamma=nonneg'");
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.out.find("the segments are 0.weight, 0.bias, 2.weight, 2.bias"), std::string::npos) << none.out;
  const auto overlap = descent_cli("train --data " + data + " --model mlp:2-8-2 --project nonneg --project 0.bias=simplex");
  EXPECT_EQ(overlap.status, 2);
  EXPECT_NE(overlap.out.find("overlap"), std::string::npos) << overlap.out;
}

TEST_F(TrainCli, BinaryCrossEntropyOverKOutputsGetsOneHotLabels) {
  const auto r = descent_cli("train --data " + blobs(200) + " --model mlp:2-8-2 --loss bce --optimizer adam "
                             "--lr 0.02 --epochs 20 --batch-size 16 --seed 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_GT(j["test_accuracy"].get<double>(), 0.95) << r.out;
  // Three classes do not fit two outputs.
  const auto three = write_file("three.csv", "a,b,label\n0,1,0\n1,0,1\n1,1,2\n0,0,1\n1,2,0\n");
  const auto bad = descent_cli("train --data " + three + " --model mlp:2-4-2 --loss bce --epochs 1");
  EXPECT_EQ(bad.status, 2) << bad.out;
  EXPECT_NE(bad.out.find("2 outputs"), std::string::npos) << bad.out;
}

TEST_F(TrainCli, TheSameSeedGivesTheSameResult) {
  const auto data = blobs(120);
  const std::string args = "train --data " + data + " --model mlp:2-6-2 --optimizer adam --epochs 2 --batch-size 8 "
                           "--seed 3 --threads 1 --json";
  const auto a = descent_cli(args), b = descent_cli(args);
  ASSERT_EQ(a.status, 0) << a.out;
  const auto ja = nlohmann::json::parse(a.out.substr(a.out.find('{')));
  const auto jb = nlohmann::json::parse(b.out.substr(b.out.find('{')));
  EXPECT_EQ(ja["train_loss"], jb["train_loss"]);
  EXPECT_EQ(ja["test_loss"], jb["test_loss"]);
}

TEST_F(TrainCli, ADivergingRunExitsWithStatusOneAndSaysWhere) {
  const auto r = descent_cli("train --data " + line(100) + " --label-column 0 --model linear --optimizer sgd --lr 1e20 "
                             "--epochs 50 --batch-size 10 --json");
  EXPECT_EQ(r.status, 1) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_GT(j["diverged_at_step"].get<int>(), 0);
}

TEST_F(TrainCli, BadArgumentsAndFilesAreUsageErrors) {
  const auto data = blobs(20);
  EXPECT_EQ(descent_cli("train --model logistic").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data).status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --optimizer nope").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --val-fraction 1").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --early-stopping 3").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model mlp:5-3-2").status, 2);  // 2 features, not 5
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --loss nope").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --epochs 0").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --time-limit 0").status, 2);
  EXPECT_EQ(descent_cli("train --data " + data + " --model logistic --optimizer lbfgs --checkpoint c.ckpt").status, 2);
  const auto missing = descent_cli("train --data " + (dir_ / "none.csv").string() + " --model logistic");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.out.find("none.csv"), std::string::npos) << missing.out;
  const auto bad = write_file("bad.csv", "a,b,label\n1,2,0\n3,oops,1\n");
  const auto malformed = descent_cli("train --data " + bad + " --model logistic");
  EXPECT_EQ(malformed.status, 2);
  EXPECT_NE(malformed.out.find("bad.csv:3"), std::string::npos) << malformed.out;
  EXPECT_EQ(descent_cli("train --data data.xyz --model logistic").status, 2);
}

}  // namespace

namespace {

TEST_F(TrainCli, PlotOverlaysTheLoggedRuns) {
  const auto data = blobs(60);
  const auto a = (dir_ / "adam.jsonl").string(), b = (dir_ / "sgd.jsonl").string();
  ASSERT_EQ(descent_cli("train --data " + data + " --model logistic --optimizer adam --epochs 3 --val-fraction 0.2 "
                        "--log " + a).status, 0);
  ASSERT_EQ(descent_cli("train --data " + data + " --model logistic --optimizer sgd --lr 0.1 --epochs 3 --log " + b)
                .status,
            0);
  const auto svg = (dir_ / "curves.svg").string();
  const auto r = descent_cli("plot " + a + " " + b + " -o " + svg);
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("adam (adam)"), std::string::npos);
  EXPECT_NE(text.find("sgd (sgd)"), std::string::npos);
  EXPECT_NE(text.find("adam (adam), validation"), std::string::npos);
  EXPECT_TRUE(std::ifstream((dir_ / "curves-accuracy.svg").string()).good());  // adam logged a validation accuracy

  const auto broken = write_file("broken.jsonl", "{\"command\": \"train\"}\n{not json\n");
  const auto bad = descent_cli("plot " + broken + " -o " + svg);
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("broken.jsonl:2"), std::string::npos) << bad.out;
  EXPECT_EQ(descent_cli("plot").status, 2);
}

TEST_F(TrainCli, PlotDrawsAPerformanceProfileFromACostsTable) {
  // b is best on two of three problems, a on one; c fails two.
  const auto costs = write_file("costs.csv",
                                "problem,solver a,solver b,solver c\n"
                                "p1, 10, 5, 40\n"
                                "p2, 3, 6, -\n"
                                "p3, 8, 8, inf\n");
  const auto svg = (dir_ / "profile.svg").string();
  const auto r = descent_cli("plot --profile " + costs + " --cost evaluations -o " + svg);
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* name : {"solver a", "solver b", "solver c", "evaluations", "3 problems"})
    EXPECT_NE(text.find(name), std::string::npos) << name;

  // Bad tables are refused with the file, line and what was expected.
  const auto short_row = write_file("short.csv", "problem,a,b\np1,1,2\np2,3\n");
  auto bad = descent_cli("plot --profile " + short_row + " -o " + svg);
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("short.csv:3"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("expected 3 fields"), std::string::npos) << bad.out;
  const auto negative = write_file("negative.csv", "problem,a\np1,-4\n");
  bad = descent_cli("plot --profile " + negative + " -o " + svg);
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("negative.csv:2"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("expected a positive cost"), std::string::npos) << bad.out;
  const auto header_only = write_file("header.csv", "problem,a\n");
  EXPECT_EQ(descent_cli("plot --profile " + header_only + " -o " + svg).status, 2);
  EXPECT_EQ(descent_cli("plot --profile " + costs + " " + costs + " -o " + svg).status, 2);  // logs and a profile
  EXPECT_EQ(descent_cli("plot --profile " + costs + " -o " + costs).status, 2);  // would overwrite its input
}

}  // namespace

namespace {

TEST_F(TrainCli, EvaluateReproducesTheTestFiguresOfASavedModel) {
  const auto train_file = line(200);
  std::string test_text = "y,a,b\n1,0,0\n3,1,0\n0,0,1\n2.5,0.5,-0.5\n";
  const auto test_file = write_file("test.csv", test_text);
  for (const char* optimizer : {"adam --epochs 30 --batch-size 20 --lr 0.05", "lbfgs"}) {
    const auto weights = (dir_ / "m.safetensors").string();
    const auto trained = descent_cli("train --data " + train_file + " --test " + test_file +
                                     " --label-column y --standardize --model linear --optimizer " + optimizer +
                                     " --seed 2 --json --save " + weights);
    ASSERT_EQ(trained.status, 0) << trained.out;
    const auto t = nlohmann::json::parse(trained.out.substr(trained.out.find('{')));
    const auto evaluated = descent_cli("evaluate --model " + weights + " --data " + test_file + " --label-column y --json");
    ASSERT_EQ(evaluated.status, 0) << evaluated.out;
    const auto e = nlohmann::json::parse(evaluated.out);
    EXPECT_EQ(e["rows"], 4);
    EXPECT_DOUBLE_EQ(e["mse"].get<double>(), t["test_mse"].get<double>()) << optimizer;
    EXPECT_DOUBLE_EQ(e["r2"].get<double>(), t["test_r2"].get<double>()) << optimizer;
  }
  const auto classes = (dir_ / "c.safetensors").string();
  ASSERT_EQ(descent_cli("train --data " + blobs(80) + " --model logistic --epochs 5 --save " + classes).status, 0);
  const auto text = descent_cli("evaluate --model " + classes + " --data " + (dir_ / "blobs.csv").string());
  ASSERT_EQ(text.status, 0) << text.out;
  EXPECT_NE(text.out.find("confusion"), std::string::npos) << text.out;
  EXPECT_EQ(descent_cli("evaluate --model " + test_file + " --data " + test_file).status, 2);  // not safetensors
  EXPECT_EQ(descent_cli("evaluate --data " + test_file).status, 2);
}

TEST_F(TrainCli, ARunKilledMidEpochResumesFromItsCheckpointBitForBit) {
  const auto data = blobs(3000);
  const std::string common = "train --data " + data + " --model mlp:2-32-32-2 --optimizer adam --lr 0.01 --epochs 3 "
                             "--batch-size 4 --seed 5 --threads 1 --val-fraction 0.1 --json";
  const auto straight = (dir_ / "straight.safetensors").string();
  ASSERT_EQ(descent_cli(common + " --save " + straight).status, 0);

  // The same run, killed with SIGKILL once it has written a checkpoint.
  const auto checkpoint = (dir_ / "ckpt.safetensors").string(), out = (dir_ / "out.txt").string();
  const pid_t pid = start_cli(common + " --checkpoint " + checkpoint + " --checkpoint-every 50", out);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(checkpoint); })) << read_bytes(out);
  ::kill(pid, SIGKILL);
  wait_for_exit(pid);

  const auto resumed = (dir_ / "resumed.safetensors").string();
  const auto r = descent_cli(common + " --resume " + checkpoint + " --save " + resumed);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto a = descent::io::SafetensorsFile::read(straight), b = descent::io::SafetensorsFile::read(resumed);
  for (const auto& name : a.names()) {
    const auto x = a.raw(name), y = b.raw(name);
    EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << name;
  }
  EXPECT_EQ(descent_cli(common + " --resume " + data).status, 2);  // not a checkpoint
  EXPECT_EQ(descent_cli(common + " --checkpoint-every 5").status, 2);  // needs --checkpoint
}

// Waits for the log to show an epoch, signals the run, returns its exit
// status. The runs it is given last many epochs, so the signal lands
// mid-run however slowly the machine goes.
int interrupt_after_an_epoch(pid_t pid, const std::string& log, int signo) {
  EXPECT_TRUE(wait_until([&] { return read_bytes(log).find("\"epoch\"") != std::string::npos; },
                         descent::testing::patience, std::chrono::milliseconds(1)))
      << "the run logged no epoch";
  ::kill(pid, signo);
  return wait_for_exit(pid);
}

TEST_F(TrainCli, SigintWritesACheckpointSaysHowToResumeAndExitsWith130) {
  const auto data = blobs(2000);
  const std::string common = "train --data " + data + " --model mlp:2-32-32-2 --optimizer adam --lr 0.01 --epochs 30 "
                             "--batch-size 4 --seed 5 --threads 1 --val-fraction 0.1";
  const auto straight = (dir_ / "straight.safetensors").string();
  ASSERT_EQ(descent_cli(common + " --save " + straight).status, 0);

  const auto out = (dir_ / "out.txt").string(), log = (dir_ / "run.jsonl").string();
  const auto resumed = (dir_ / "resumed.safetensors").string();
  const pid_t pid = start_cli(common + " --save " + resumed + " --log " + log, out);
  ASSERT_GT(pid, 0);
  const int status = interrupt_after_an_epoch(pid, log, SIGINT);
  const std::string said = read_bytes(out);
  ASSERT_EQ(status, 130) << said;
  EXPECT_NE(said.find("interrupted by SIGINT"), std::string::npos) << said;
  EXPECT_FALSE(std::filesystem::exists(resumed));  // no --save for an interrupted run
  // Without --checkpoint the state goes to descent-interrupted.ckpt in the
  // working directory (the test's, here), and the message gives the command.
  const auto at = said.find("resume with: descent ");
  ASSERT_NE(at, std::string::npos) << said;
  std::string again = said.substr(at + std::string("resume with: descent ").size());
  again = again.substr(0, again.find('\n'));
  EXPECT_NE(again.find("--resume descent-interrupted.ckpt"), std::string::npos) << again;
  const auto r = descent_cli(again);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto a = descent::io::SafetensorsFile::read(straight), b = descent::io::SafetensorsFile::read(resumed);
  for (const auto& name : a.names()) {
    const auto x = a.raw(name), y = b.raw(name);
    EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << name;
  }
  std::filesystem::remove("descent-interrupted.ckpt");
}

TEST_F(TrainCli, SigtermStopsARunWithItsCheckpointAndExitsWith143) {
  const auto data = blobs(2000);
  const auto out = (dir_ / "out.txt").string(), log = (dir_ / "run.jsonl").string();
  const auto checkpoint = (dir_ / "run.ckpt").string();
  const pid_t pid = start_cli("train --data " + data + " --model mlp:2-32-2 --optimizer sgd --epochs 1000 "
                              "--batch-size 4 --threads 1 --json --log " + log + " --checkpoint " + checkpoint,
                              out);
  ASSERT_GT(pid, 0);
  const int status = interrupt_after_an_epoch(pid, log, SIGTERM);
  const std::string said = read_bytes(out);
  ASSERT_EQ(status, 143) << said;
  const auto j = nlohmann::json::parse(said.substr(said.find('{'), said.rfind('}') - said.find('{') + 1));
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_EQ(j["checkpoint"], checkpoint);
  EXPECT_NE(said.find("--resume " + checkpoint), std::string::npos) << said;
  EXPECT_NE(read_bytes(log).find("\"interrupted\":\"SIGTERM\""), std::string::npos);
}

TEST_F(TrainCli, RollbackRecoversADivergingRunAndLogsEachRollback) {
  const auto log = (dir_ / "run.jsonl").string();
  const std::string args = "train --data " + line(200) + " --label-column 0 --model linear --optimizer sgd --lr 16 "
                           "--epochs 30 --batch-size 10 --json --log " + log;
  EXPECT_EQ(descent_cli(args).status, 1);  // stop, the default
  const auto r = descent_cli(args + " --on-divergence rollback --max-rollbacks 10 --divergence-factor 10");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["status"], "max_iterations");
  EXPECT_GE(j["rollbacks"].get<int>(), 1);
  EXPECT_GT(j["test_r2"].get<double>(), 0.99);
  std::istringstream lines(read_bytes(log));
  int logged = 0;
  for (std::string l; std::getline(lines, l);)
    if (nlohmann::json::parse(l).contains("rollback")) ++logged;
  EXPECT_EQ(logged, j["rollbacks"].get<int>());
  EXPECT_EQ(descent_cli(args + " --on-divergence maybe").status, 2);
  EXPECT_EQ(descent_cli(args + " --divergence-factor 0.5").status, 2);
  EXPECT_EQ(descent_cli(args + " --max-rollbacks -1").status, 2);
  EXPECT_EQ(descent_cli("train --data " + line(20) + " --label-column 0 --model linear --optimizer lbfgs "
                        "--on-divergence rollback").status, 2);
}

TEST_F(TrainCli, AWriteThatFailsIsReportedAndLeavesThePreviousFileIntact) {
  const auto data = blobs(200);
  const std::string args = "train --data " + data + " --model mlp:2-64-2 --optimizer adam --epochs 1 --batch-size 8 "
                           "--threads 1";
  const auto model = (dir_ / "model.safetensors").string();
  ASSERT_EQ(descent_cli(args + " --save " + model).status, 0);
  const std::string before = read_bytes(model);
  // A file-size limit of 1 KiB (ulimit -f counts 512-byte blocks in sh):
  // the new model cannot be written.
  const std::string limited = "sh -c 'ulimit -f 2; exec " + std::string(DESCENT_CLI) + " " + args + " --seed 9 --save " +
                              model + "' 2>&1";
  FILE* pipe = popen(limited.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string said;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) said.append(buffer.data(), n);
  const int raw = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(raw)) << said;
  EXPECT_EQ(WEXITSTATUS(raw), 1) << said;
  EXPECT_NE(said.find("cannot write '" + model + "'"), std::string::npos) << said;
  EXPECT_NE(said.find("File too large"), std::string::npos) << said;
  EXPECT_EQ(read_bytes(model), before);
  EXPECT_EQ(descent_cli("evaluate --model " + model + " --data " + data).status, 0);
}

TEST_F(TrainCli, DamagedOrForeignFilesAreRefusedByEvaluateAndResume) {
  const auto data = blobs(200);
  const std::string args = "train --data " + data + " --model mlp:2-8-2 --optimizer adam --epochs 1 --batch-size 8 "
                           "--threads 1";
  const auto model = (dir_ / "model.safetensors").string(), checkpoint = (dir_ / "run.ckpt").string();
  ASSERT_EQ(descent_cli(args + " --save " + model + " --checkpoint " + checkpoint).status, 0);
  const std::string bytes = read_bytes(model);
  const auto damaged = (dir_ / "damaged.safetensors").string();
  auto refused = [&](const std::string& cmd, const std::string& why) {
    const auto r = descent_cli(cmd);
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find(why), std::string::npos) << cmd << "\n" << r.out;
  };
  std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 5);
  refused("evaluate --model " + damaged + " --data " + data, damaged);
  std::string flipped = bytes;
  flipped[flipped.size() - 6] = char(flipped[flipped.size() - 6] ^ 1);  // a bit of a weight
  std::ofstream(damaged, std::ios::binary | std::ios::trunc) << flipped;
  refused("evaluate --model " + damaged + " --data " + data, "damaged");
  refused("evaluate --model " + checkpoint + " --data " + data, "a training checkpoint, not a saved model");
  refused("evaluate --model " + data + " --data " + data, data);
  refused(args + " --resume " + model, "not a descent training checkpoint");
  refused("train --data " + data + " --model mlp:2-4-2 --optimizer adam --epochs 2 --batch-size 8 --resume " +
              checkpoint, "another model");
  refused("train --data " + data + " --model mlp:2-8-2 --optimizer sgd --epochs 2 --batch-size 8 --resume " +
              checkpoint, "optimizer adam; this run uses sgd");
}

// SIGKILL inside checkpoint writes: the checkpoint that remains always
// loads, never goes back, and killed writes leave no pile of temporaries.
// The test waits for what it needs, not for a time: each kill is aimed
// inside a write by waiting for the write's temporary file to appear, then
// a random part of the time one write takes (measured here). Kills go on
// until 8 have landed inside a write (a temporary was left behind), which
// takes a dozen or two on any machine; the bound of 200 only ends a run
// whose writes are never seen.
TEST_F(TrainCli, SigkillInsideCheckpointWritesAlwaysLeavesALoadableCheckpoint) {
  // A checkpoint after every step, about 0.8 MB each: most of the run is
  // spent writing one.
  const auto data = blobs(400);
  const auto checkpoint = (dir_ / "run.ckpt").string(), out = (dir_ / "out.txt").string();
  const std::string args = "train --data " + data + " --model mlp:2-256-256-2 --optimizer adam --epochs 1000 "
                           "--batch-size 4 --threads 1 --checkpoint " + checkpoint + " --checkpoint-every 1";
  // write_file_atomically's temporaries for run.ckpt: .run.ckpt.tmp-XXXXXX.
  const auto temporaries = [&] {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_))
      if (entry.path().filename().string().starts_with(".run.ckpt.tmp-")) names.push_back(entry.path().string());
    return names;
  };
  const auto a_new_temporary = [&](const std::vector<std::string>& stale) {
    std::string seen;
    const bool found = wait_until(
        [&] {
          for (const auto& name : temporaries())
            if (std::find(stale.begin(), stale.end(), name) == stale.end()) seen = name;
          return !seen.empty();
        },
        descent::testing::patience, std::chrono::microseconds(50));
    return found ? seen : std::string();
  };

  descent::Rng rng(11);
  std::chrono::steady_clock::duration write_time{};
  int kills = 0, inside = 0;
  descent::Index last_steps = -1;
  while (inside < 8 && kills < 200) {
    const bool resume = std::filesystem::exists(checkpoint);
    const auto stale = temporaries();
    const pid_t pid = start_cli(args + (resume ? " --resume " + checkpoint : ""), out);
    ASSERT_GT(pid, 0);
    if (kills == 0) {
      // The first run measures how long one write takes: the longest life
      // of 5 temporaries, from when each is first seen to when it is gone.
      for (int write = 0; write < 5; ++write) {
        const auto temporary = a_new_temporary(stale);
        ASSERT_FALSE(temporary.empty()) << "no checkpoint write seen: " << read_bytes(out);
        const auto seen = std::chrono::steady_clock::now();
        ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(temporary); }, descent::testing::patience,
                               std::chrono::microseconds(50)));
        write_time = std::max(write_time, std::chrono::steady_clock::now() - seen);
      }
    }
    ASSERT_FALSE(a_new_temporary(stale).empty()) << "no checkpoint write seen: " << read_bytes(out);
    std::this_thread::sleep_for(write_time * rng.uniform());
    ::kill(pid, SIGKILL);
    ASSERT_EQ(wait_for_exit(pid), -SIGKILL) << read_bytes(out);
    ++kills;
    const auto left = temporaries();
    EXPECT_LE(left.size(), 1u) << "stale temporaries pile up";
    inside += !left.empty();
    ASSERT_TRUE(std::filesystem::exists(checkpoint)) << "killed inside the first write, with none before it?";
    const auto info = descent::train::inspect_checkpoint(checkpoint);  // throws if torn or damaged
    EXPECT_GE(info.steps, last_steps) << "a resumed run went back";
    last_steps = info.steps;
  }
  EXPECT_GE(inside, 8) << kills << " kills";
  EXPECT_GT(last_steps, 0);
  std::cout << "[ info     ] " << kills << " kills, " << inside << " inside a checkpoint write of about "
            << std::chrono::duration<double, std::milli>(write_time).count() << " ms\n";
}

TEST_F(TrainCli, AModelTooLargeForMemoryIsRefusedBeforeAllocating) {
  const auto r = descent_cli("train --data " + blobs(20) + " --model mlp:2-100000-100000-100000-2 --epochs 1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("GiB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("20000"), std::string::npos) << r.out;  // the parameter count, 20,000,700,002
}

}  // namespace
