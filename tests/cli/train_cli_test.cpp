// `descent train` run as a user would, on small generated CSV files.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/cli_run.hpp"

#include "descent/core/random.hpp"
#include "descent/io/safetensors.hpp"
#include "support/temp_dir.hpp"

namespace {

using descent::testing::run_cli;
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

}  // namespace

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(TrainCli, ARunKilledMidEpochResumesFromItsCheckpointBitForBit) {
  const auto data = blobs(3000);
  const std::string common = "train --data " + data + " --model mlp:2-32-32-2 --optimizer adam --lr 0.01 --epochs 3 "
                             "--batch-size 4 --seed 5 --threads 1 --val-fraction 0.1 --json";
  const auto straight = (dir_ / "straight.safetensors").string();
  ASSERT_EQ(descent_cli(common + " --save " + straight).status, 0);

  // The same run, killed with SIGKILL once it has written a checkpoint.
  const auto checkpoint = (dir_ / "ckpt.safetensors").string(), pid_file = (dir_ / "pid").string();
  const std::string background = std::string(DESCENT_CLI) + " " + common + " --checkpoint " + checkpoint +
                                 " --checkpoint-every 50 >/dev/null 2>&1 & echo $! > " + pid_file;
  ASSERT_EQ(std::system(background.c_str()), 0);
  for (int i = 0; i < 2000 && !std::filesystem::exists(checkpoint); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(std::filesystem::exists(checkpoint));
  const pid_t pid = std::stoi(read_bytes(pid_file));
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 400 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));

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

}  // namespace
