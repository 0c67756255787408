// `descent lr-find`, `descent train --lr auto` and the plateau report, run
// as a user would on small generated CSV files.
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

class LrFindCli : public descent::testing::TempDirTest {
 protected:
  // Two overlapping blobs: x0, x1, label (0 or 1), with a header.
  std::string blobs(int n) {
    descent::Rng rng(1);
    std::ostringstream s;
    s << "x0,x1,label\n";
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      s << (label ? 1 : -1) + rng.normal() << ',' << (label ? -0.5 : 0.5) + rng.normal() << ',' << label << '\n';
    }
    const auto path = (dir_ / "blobs.csv").string();
    std::ofstream(path) << s.str();
    return path;
  }
};

TEST_F(LrFindCli, PrintsTheSuggestionAndTheTrainCommandThatUsesIt) {
  const auto svg = (dir_ / "lr.svg").string();
  const auto r = run_cli("lr-find --data " + blobs(600) + " --model logistic --optimizer sgd --batch-size 16 --seed 2 "
                         "--plot " + svg);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("suggested lr"), std::string::npos) << r.out;
  const auto at = r.out.find("train with: descent train --data ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string command = r.out.substr(at, r.out.find('\n', at) - at);
  EXPECT_EQ(command.find("--plot"), std::string::npos) << command;
  EXPECT_NE(command.find("--optimizer sgd --batch-size 16 --seed 2 --lr "), std::string::npos) << command;
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("smoothed loss"), std::string::npos);
  EXPECT_NE(text.find("suggested lr"), std::string::npos);
}

TEST_F(LrFindCli, JsonHoldsTheCurveAndTrainLrAutoTrainsWithTheSuggestion) {
  const auto data = blobs(600);
  const std::string common = " --data " + data + " --model logistic --optimizer adam --batch-size 16 --seed 3";
  const auto found = run_cli("lr-find" + common + " --json");
  ASSERT_EQ(found.status, 0) << found.out;
  const auto j = nlohmann::json::parse(found.out.substr(found.out.find('{')));
  const double suggestion = j["suggestion"];
  EXPECT_DOUBLE_EQ(suggestion, j["minimum_lr"].get<double>() / 10);
  ASSERT_EQ(j["curve"].size(), j["steps"].get<std::size_t>());
  EXPECT_LT(j["curve"][0]["lr"].get<double>(), j["curve"][1]["lr"].get<double>());
  const auto trained = run_cli("train" + common + " --lr auto --epochs 2 --json");
  ASSERT_EQ(trained.status, 0) << trained.out;
  const auto t = nlohmann::json::parse(trained.out.substr(trained.out.find('{')));
  EXPECT_DOUBLE_EQ(t["lr"].get<double>(), suggestion);
  const auto said = run_cli("train" + common + " --lr auto --epochs 1");
  ASSERT_EQ(said.status, 0) << said.out;
  EXPECT_NE(said.out.find("lr-find: "), std::string::npos) << said.out;
}

TEST_F(LrFindCli, MisuseIsAUsageError) {
  const auto data = blobs(50);
  auto r = run_cli("lr-find --data " + data + " --model logistic --optimizer lbfgs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("lr-find takes a stepper"), std::string::npos) << r.out;
  r = run_cli("lr-find --data " + data + " --model logistic --lr-min 1 --lr-max 0.5");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--lr-max 0.5 must be above --lr-min 1"), std::string::npos) << r.out;
  r = run_cli("train --data " + data + " --model logistic --optimizer lbfgs --lr auto");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--lr auto is for the steppers"), std::string::npos) << r.out;
  r = run_cli("train --data " + data + " --model logistic --lr fast");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--lr: must be a finite number"), std::string::npos) << r.out;
  r = run_cli("lr-find --data " + data + " --model logistic --plot " + data);
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST_F(LrFindCli, APlateauIsReportedInTheProgressTheLogAndTheSummary) {
  const auto log = (dir_ / "run.jsonl").string();
  const auto r = run_cli("train --data " + blobs(100) + " --model logistic --optimizer sgd --lr 0 --epochs 4 "
                         "--batch-size 100 --plateau-epochs 2 --log " + log);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("plateau: flat for 2 epochs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("on a plateau since epoch 1"), std::string::npos) << r.out;
  std::ifstream in(log);
  int flagged = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    flagged += j.contains("epoch") && j.contains("plateau_epochs");
  }
  EXPECT_EQ(flagged, 3);  // epochs 2, 3 and 4
  EXPECT_EQ(run_cli("train --data x.csv --model logistic --plateau-epochs 1").status, 2);
}

}  // namespace
