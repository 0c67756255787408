// `descent tune` run as a user would, on a small generated CSV file.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "descent/core/random.hpp"
#include "support/cli_run.hpp"
#include "support/temp_dir.hpp"

namespace {

using descent::testing::run_cli;

class TuneCli : public descent::testing::TempDirTest {
 protected:
  // Two overlapping blobs in three features, label last.
  std::string data(int n) {
    descent::Rng rng(4);
    std::ostringstream s;
    s << "a,b,c,label\n";
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      for (int j = 0; j < 3; ++j) s << (label ? 0.7 : -0.7) + rng.normal() << ',';
      s << label << '\n';
    }
    const auto path = (dir_ / "three.csv").string();
    std::ofstream(path) << s.str();
    return path;
  }
};

TEST_F(TuneCli, AshaPrintsTheTrialsTheBestAndTheTrainCommandThatRepeatsIt) {
  const auto log = (dir_ / "trials.jsonl").string(), svg = (dir_ / "trials.svg").string();
  const auto r = run_cli("tune --data " + data(400) + " --model logistic --batch-size 16 --seed 1 "
                         "--space lr=log:1e-3..1 --space optimizer=choice:sgd,adam --trials 9 --max-epochs 9 "
                         "--log " + log + " --plot " + svg);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("rungs at 1, 3, 9 epochs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("9 trials, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" promotions; best: trial "), std::string::npos) << r.out;
  const auto at = r.out.find("train with: descent train --data ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string command = r.out.substr(at, r.out.find('\n', at) - at);
  for (const char* gone : {"--space", "--trials", "--log", "--plot", "--max-epochs"})
    EXPECT_EQ(command.find(gone), std::string::npos) << gone << ": " << command;
  EXPECT_NE(command.find(" --lr "), std::string::npos) << command;
  EXPECT_NE(command.find(" --optimizer "), std::string::npos) << command;
  EXPECT_NE(command.find(" --epochs "), std::string::npos) << command;
  std::ifstream in(log);
  int jobs = 0;
  nlohmann::json last;
  for (std::string line; std::getline(in, line);) {
    last = nlohmann::json::parse(line);
    jobs += last.contains("promoted");
  }
  EXPECT_EQ(last["trials"], 9);
  EXPECT_GE(last["promotions"].get<int>(), 4);  // at least the best third of rung 0 and of rung 1
  EXPECT_EQ(jobs, 9 + last["promotions"].get<int>());
  EXPECT_TRUE(last.contains("command"));
  std::ifstream plot(svg);
  const std::string text((std::istreambuf_iterator<char>(plot)), {});
  EXPECT_NE(text.find("<svg"), std::string::npos);
}

TEST_F(TuneCli, JsonListsEveryTrialAndTheSameSeedRepeatsTheSearch) {
  const std::string args = "tune --data " + data(300) + " --model logistic --batch-size 32 --seed 3 "
                           "--space lr=log:1e-3..1 --space momentum=uniform:0.5..0.95 --optimizer momentum "
                           "--trials 6 --max-epochs 4 --min-epochs 1 --eta 2 --sampler tpe --json";
  const auto a = run_cli(args), b = run_cli(args);
  ASSERT_EQ(a.status, 0) << a.out;
  auto ja = nlohmann::json::parse(a.out.substr(a.out.find('{'))),
             jb = nlohmann::json::parse(b.out.substr(b.out.find('{')));
  ASSERT_EQ(ja["all"].size(), 6u);
  EXPECT_EQ(ja["rung_epochs"], (nlohmann::json{1, 2, 4}));
  for (auto* j : {&ja, &jb})
    for (auto& t : (*j)["all"]) t.erase("seconds");
  EXPECT_EQ(ja["all"], jb["all"]);
  EXPECT_TRUE(ja["best"]["config"].contains("momentum"));
  EXPECT_NE(ja["command"].get<std::string>().find("--momentum "), std::string::npos) << ja["command"];
}

TEST_F(TuneCli, MisuseIsAUsageError) {
  const auto csv = data(40);
  const std::string base = "tune --data " + csv + " --model logistic ";
  auto r = run_cli(base);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--space is required"), std::string::npos) << r.out;
  r = run_cli(base + "--space lr=log:0..1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("needs LO > 0"), std::string::npos) << r.out;
  r = run_cli(base + "--space optimizer=choice:adam,lbfgs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("'lbfgs' is not a stepper"), std::string::npos) << r.out;
  r = run_cli(base + "--space lr=log:1e-3..1 --min-epochs 5 --max-epochs 2");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(run_cli(base + "--space lr=log:1e-3..1 --scheduler grid").status, 2);
}

}  // namespace
