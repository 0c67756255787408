// `mpirun -np 2 descent train --distributed` run as a user would, on small
// generated CSV files, against `descent train` in one process.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "descent/core/random.hpp"
#include "descent/io/safetensors.hpp"
#include "support/cli_run.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace {

using descent::testing::CliRun;
using descent::testing::run_cli;

// A shell command line, its exit status and its output (stdout and stderr).
// mpirun forwards the ranks' stdout and stderr apart, so their lines may
// come in any order: runs read as JSON keep stdout only.
CliRun run_shell(const std::string& command, bool with_stderr = true) {
  return descent::testing::run_command(command + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

// mpirun's two ranks of `descent ARGS`.
CliRun on_two_ranks(const std::string& args) {
  return run_shell(DESCENT_MPIEXEC " " DESCENT_CLI " " + args, args.find("--json") == std::string::npos);
}

nlohmann::json summary(const CliRun& r) {
  const auto at = r.out.find('{');
  return at == std::string::npos ? nlohmann::json() : nlohmann::json::parse(r.out.substr(at), nullptr, false);
}

// The largest difference between two saved models' tensors, relative to 1
// or the value.
double max_difference(const std::string& a_path, const std::string& b_path) {
  const auto a = descent::io::SafetensorsFile::read(a_path), b = descent::io::SafetensorsFile::read(b_path);
  double worst = 0;
  for (const auto& name : a.names()) {
    const auto x = a.floats(name), y = b.floats(name);
    EXPECT_EQ(x.size(), y.size()) << name;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i)
      worst = std::max(worst, std::abs(double(x[i]) - double(y[i])) / std::max(1.0, std::abs(double(x[i]))));
  }
  return worst;
}

class DistributedCli : public descent::testing::TempDirTest {
 protected:
  // Two blobs: x0, x1, label (0 or 1), with a header.
  std::string blobs(int n, const std::string& name = "blobs.csv") {
    descent::Rng rng(1);
    std::ostringstream s;
    s << "x0,x1,label\n";
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      s << (label ? 1.5 : -1.5) + rng.normal() << ',' << (label ? -1 : 1) + rng.normal() << ',' << label << '\n';
    }
    const auto path = (dir_ / name).string();
    std::ofstream(path) << s.str();
    return path;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
};

TEST_F(DistributedCli, TwoRanksTrainTheWeightsOfOneProcessWithIdenticalReplicas) {
  const std::string common = "train --data " + blobs(501) + " --model mlp:2-8-2 --optimizer adam --lr 0.02 "
                             "--epochs 3 --batch-size 16 --seed 1 --threads 1 --l2 1e-4 --json";
  const auto one = run_cli(common + " --save " + path("one.safetensors"));
  ASSERT_EQ(one.status, 0) << one.out;
  const auto two = on_two_ranks(common + " --distributed --save " + path("two.safetensors"));
  ASSERT_EQ(two.status, 0) << two.out;
  const auto j1 = summary(one), j2 = summary(two);
  EXPECT_EQ(j2["ranks"], 2) << two.out;
  EXPECT_EQ(j2["replicas_identical"], true) << two.out;
  EXPECT_EQ(j2["steps"], j1["steps"]);
  EXPECT_EQ(j2["train_rows"], j1["train_rows"]);
  EXPECT_NEAR(j2["train_loss"].get<double>(), j1["train_loss"].get<double>(), 1e-5);
  EXPECT_NEAR(j2["test_accuracy"].get<double>(), j1["test_accuracy"].get<double>(), 0.01);
  EXPECT_LT(max_difference(path("one.safetensors"), path("two.safetensors")), 1e-4);
  // Rank 0 alone prints: one summary object.
  EXPECT_EQ(two.out.find("\"ranks\"", two.out.find("\"ranks\"") + 1), std::string::npos) << two.out;
}

TEST_F(DistributedCli, ACheckpointWrittenByTwoRanksResumesOnOne) {
  const std::string common = "train --data " + blobs(400) + " --model mlp:2-8-2 --optimizer adam --lr 0.02 "
                             "--batch-size 16 --seed 2 --threads 1 --json";
  ASSERT_EQ(on_two_ranks(common + " --epochs 4 --distributed --save " + path("straight.safetensors")).status, 0);
  const auto first = on_two_ranks(common + " --epochs 2 --distributed --checkpoint " + path("run.ckpt"));
  ASSERT_EQ(first.status, 0) << first.out;
  const auto resumed =
      run_cli(common + " --epochs 4 --resume " + path("run.ckpt") + " --save " + path("resumed.safetensors"));
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_EQ(summary(resumed)["steps"], 4 * 20);  // 320 training rows, batches of 16
  EXPECT_LT(max_difference(path("straight.safetensors"), path("resumed.safetensors")), 1e-4);
  // And a one-process checkpoint resumes on two ranks.
  ASSERT_EQ(run_cli(common + " --epochs 2 --checkpoint " + path("one.ckpt")).status, 0);
  const auto back = on_two_ranks(common + " --epochs 4 --distributed --resume " + path("one.ckpt") + " --save " +
                                 path("back.safetensors"));
  ASSERT_EQ(back.status, 0) << back.out;
  EXPECT_EQ(summary(back)["replicas_identical"], true);
  EXPECT_LT(max_difference(path("straight.safetensors"), path("back.safetensors")), 1e-4);
}

TEST_F(DistributedCli, LbfgsAndLocalSgdRunOnTwoRanks) {
  const auto data = blobs(300);
  const std::string lbfgs = "train --data " + data + " --model logistic --optimizer lbfgs --l2 1e-2 --gtol 1e-9 --json";
  const auto one = run_cli(lbfgs), two = on_two_ranks(lbfgs + " --distributed");
  ASSERT_EQ(two.status, 0) << two.out;
  EXPECT_EQ(summary(two)["status"], "converged_gradient") << two.out;
  EXPECT_NEAR(summary(two)["train_loss"].get<double>(), summary(one)["train_loss"].get<double>(), 1e-10);
  EXPECT_EQ(summary(two)["replicas_identical"], true);

  const auto local = on_two_ranks("train --data " + data + " --model logistic --optimizer sgd --lr 0.1 --epochs 5 "
                                  "--batch-size 8 --seed 1 --distributed --sync-every 4 --sync-state --json");
  ASSERT_EQ(local.status, 0) << local.out;
  EXPECT_EQ(summary(local)["replicas_identical"], true) << local.out;
  EXPECT_GE(summary(local)["test_accuracy"].get<double>(), 0.9) << local.out;
}

// One rank, not mpirun, gets SIGTERM: every rank stops at the same step,
// rank 0 writes the checkpoint and says how to resume, every rank exits
// with 143, and resuming on two ranks gives the uninterrupted run's bits.
TEST_F(DistributedCli, ASignalToOneRankStopsEveryRankWithACheckpointThatResumes) {
  const std::string common = "train --data " + blobs(2000) + " --model mlp:2-32-32-2 --optimizer adam --lr 0.01 "
                             "--epochs 20 --batch-size 4 --seed 3 --threads 1 --distributed";
  ASSERT_EQ(on_two_ranks(common + " --save " + path("straight.safetensors")).status, 0);

  const auto out = path("out.txt"), log = path("run.jsonl"), checkpoint = path("run.ckpt");
  const std::string started = "exec " DESCENT_MPIEXEC " " DESCENT_CLI " " + common + " --checkpoint " + checkpoint +
                              " --log " + log + " --save " + path("resumed.safetensors") + " > " + out + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", started.c_str(), nullptr};
  pid_t mpirun = -1;
  ASSERT_EQ(posix_spawn(&mpirun, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  const auto read_all = [](const std::string& file) {
    std::ifstream in(file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const bool logged = descent::testing::wait_until(
      [&] { return read_all(log).find("\"epoch\"") != std::string::npos; }, descent::testing::patience,
      std::chrono::milliseconds(1));
  if (!logged) ::kill(mpirun, SIGKILL);
  ASSERT_TRUE(logged) << read_all(out);
  // mpirun's children are the ranks; signal rank 1 (rank 0, which writes
  // and reports, must learn of it from the others).
  const auto children = run_shell("pgrep -P " + std::to_string(mpirun), false);
  std::istringstream pids(children.out);
  pid_t rank1 = -1;
  for (pid_t p; pids >> p;) {
    std::string environment = read_all("/proc/" + std::to_string(p) + "/environ");
    std::replace(environment.begin(), environment.end(), '\0', '\n');
    if (environment.find("\nOMPI_COMM_WORLD_RANK=1\n") != std::string::npos) rank1 = p;
  }
  ASSERT_GT(rank1, 0) << children.out;
  ::kill(rank1, SIGTERM);
  int raw = 0;
  ::waitpid(mpirun, &raw, 0);
  const std::string said = read_all(out);
  ASSERT_TRUE(WIFEXITED(raw)) << said;
  EXPECT_EQ(WEXITSTATUS(raw), 143) << said;
  EXPECT_FALSE(std::filesystem::exists(path("resumed.safetensors"))) << said;  // no --save for a stopped run
  EXPECT_NE(said.find("descent: interrupted (another rank received a signal)"), std::string::npos) << said;
  const auto at = said.find("resume with: descent ");
  ASSERT_NE(at, std::string::npos) << said;
  EXPECT_EQ(said.find("resume with:", at + 1), std::string::npos) << "rank 0 alone says it: " << said;
  std::string again = said.substr(at + std::string("resume with: descent ").size());
  again = again.substr(0, again.find('\n'));
  EXPECT_NE(again.find("--resume " + checkpoint), std::string::npos) << again;

  const auto resumed = on_two_ranks(again);
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_EQ(max_difference(path("straight.safetensors"), path("resumed.safetensors")), 0.0);
}

TEST_F(DistributedCli, RanksOnDifferentDataEndWithAMessageNotAHang) {
  const auto a = blobs(200, "a.csv"), b = blobs(150, "b.csv");
  const std::string flags = " --model logistic --optimizer adam --epochs 2 --distributed --json";
  std::string mpmd = DESCENT_MPIEXEC;  // "... -np 2": one rank per data file instead
  mpmd = mpmd.substr(0, mpmd.rfind("-np"));
  const auto r = run_shell("timeout 60 " + mpmd + "-np 1 " DESCENT_CLI " train --data " + a +
                         flags + " : -np 1 " DESCENT_CLI " train --data " + b + flags);
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.status, 124) << "timed out: " << r.out;
  EXPECT_NE(r.out.find("ranks disagree on the training rows in all: rank 0 has 160, rank 1 has 120"),
            std::string::npos)
      << r.out;
}

TEST_F(DistributedCli, SyncFlagsWithoutDistributedAreUsageErrors) {
  const auto data = blobs(40);
  EXPECT_EQ(run_cli("train --data " + data + " --model logistic --sync-every 2").status, 2);
  EXPECT_EQ(run_cli("train --data " + data + " --model logistic --distributed --sync-state").status, 2);
  EXPECT_EQ(run_cli("train --data " + data +
                    " --model logistic --distributed --sync-every 2 --checkpoint c --checkpoint-every 3")
                .status,
            2);
}

// Local SGD writes its checkpoints where the weights were just averaged,
// with each rank's own state: resumed on two ranks it gives the
// uninterrupted run's bits; one process refuses it, saying how to resume.
TEST_F(DistributedCli, ALocalSgdCheckpointResumesOnTwoRanksAndOneProcessRefusesIt) {
  const std::string common = "train --data " + blobs(400) + " --model mlp:2-8-2 --optimizer adam --lr 0.02 "
                             "--batch-size 16 --seed 2 --threads 1 --json";
  const std::string local = common + " --distributed --sync-every 2";
  ASSERT_EQ(on_two_ranks(local + " --epochs 4 --save " + path("straight.safetensors")).status, 0);
  const auto first = on_two_ranks(local + " --epochs 2 --checkpoint " + path("run.ckpt") + " --checkpoint-every 4");
  ASSERT_EQ(first.status, 0) << first.out;
  const auto resumed =
      on_two_ranks(local + " --epochs 4 --resume " + path("run.ckpt") + " --save " + path("resumed.safetensors"));
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_EQ(summary(resumed)["replicas_identical"], true) << resumed.out;
  EXPECT_EQ(max_difference(path("straight.safetensors"), path("resumed.safetensors")), 0.0);
  const auto one = run_cli(common + " --epochs 4 --resume " + path("run.ckpt"));
  EXPECT_NE(one.status, 0);
  EXPECT_NE(one.out.find("written by local SGD on 2 ranks averaging every 2 steps"), std::string::npos) << one.out;
}

// Each rank stores only its shard of the training file, with the held-out
// rows on rank 0 alone; standardized over every rank's shard, the run
// matches one process's.
TEST_F(DistributedCli, RanksStoreTheirShardAndStandardizeOverAllOfThem) {
  const std::string common = "train --data " + blobs(501) + " --model mlp:2-8-2 --optimizer adam --lr 0.02 "
                             "--epochs 3 --batch-size 16 --seed 4 --threads 1 --standardize --val-fraction 0.1 --json";
  const auto one = run_cli(common + " --save " + path("one.safetensors"));
  ASSERT_EQ(one.status, 0) << one.out;
  const auto two = on_two_ranks(common + " --distributed --save " + path("two.safetensors"));
  ASSERT_EQ(two.status, 0) << two.out;
  const auto j1 = summary(one), j2 = summary(two);
  EXPECT_EQ(j2["train_rows"], j1["train_rows"]);
  EXPECT_EQ(j2["validation_rows"], j1["validation_rows"]);
  EXPECT_EQ(j2["test_rows"], j1["test_rows"]);
  EXPECT_EQ(j2["replicas_identical"], true) << two.out;
  const auto rows = j1["train_rows"].get<int>();
  EXPECT_TRUE(j2["shard_rows"] == rows / 2 || j2["shard_rows"] == (rows + 1) / 2) << two.out;
  EXPECT_NEAR(j2["train_loss"].get<double>(), j1["train_loss"].get<double>(), 1e-5);
  EXPECT_LT(max_difference(path("one.safetensors"), path("two.safetensors")), 1e-4);
  // The saved standardization is the whole training set's.
  const auto a = descent::io::SafetensorsFile::read(path("one.safetensors"));
  const auto b = descent::io::SafetensorsFile::read(path("two.safetensors"));
  for (const char* name : {"standardize.mean", "standardize.scale"}) {
    const auto x = a.floats(name), y = b.floats(name);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-6 * std::max(1.0f, std::abs(x[i]))) << name;
  }
}

}  // namespace
