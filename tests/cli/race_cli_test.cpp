// `descent race` run as a user would, on a small generated CSV file.
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

class RaceCli : public descent::testing::TempDirTest {
 protected:
  std::string data(int n) {
    descent::Rng rng(6);
    std::ostringstream s;
    s << "a,b,label\n";
    for (int i = 0; i < n; ++i) {
      const int label = i % 2;
      s << (label ? 0.8 : -0.8) + rng.normal() << ',' << (label ? -0.4 : 0.4) + rng.normal() << ',' << label << '\n';
    }
    const auto path = (dir_ / "two.csv").string();
    std::ofstream(path) << s.str();
    return path;
  }
};

TEST_F(RaceCli, TheTableHasEveryColumnAndItsFiguresAreConsistent) {
  const auto svg = (dir_ / "race.svg").string();
  const std::string args = "race --data " + data(400) + " --model logistic --batch-size 16 --epochs 3 --seeds 2 "
                           "--variants sgd,adam,lion --plot " + svg;
  const auto r = run_cli(args + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  ASSERT_EQ(j["variants"].size(), 3u);
  double best = INFINITY;
  for (const auto& v : j["variants"]) {
    for (const char* field : {"variant", "lr", "train_loss", "validation_loss", "seed_spread", "last_epoch_noise",
                              "seconds_to_target", "epochs_to_target", "state_bytes_per_parameter", "seconds",
                              "diverged", "seeds"})
      EXPECT_TRUE(v.contains(field)) << field;
    EXPECT_EQ(v["seeds"], 2);
    EXPECT_EQ(v["diverged"], 0);
    EXPECT_GT(v["lr"].get<double>(), 0);
    EXPECT_GE(v["seed_spread"].get<double>(), 0);
    best = std::min(best, v["validation_loss"].get<double>());
    if (!v["epochs_to_target"].is_null()) EXPECT_LE(v["epochs_to_target"].get<double>(), 3);
  }
  // The target is 1.1 times the best median final loss, so the best variant reached it.
  EXPECT_NEAR(j["target"].get<double>(), 1.1 * best, 1e-12);
  EXPECT_EQ(j["variants"][0]["state_bytes_per_parameter"], 0);  // sgd keeps nothing
  EXPECT_EQ(j["variants"][1]["state_bytes_per_parameter"], 8);  // adam: two float32 moments
  EXPECT_TRUE(std::filesystem::exists(svg));
  EXPECT_TRUE(std::filesystem::exists((dir_ / "race-time.svg").string()));
  const auto table = run_cli(args);
  ASSERT_EQ(table.status, 0) << table.out;
  for (const char* column : {"variant", "lr", "train", "val", "seeds±", "noise", "to target", "B/par", "diverged"})
    EXPECT_NE(table.out.find(column), std::string::npos) << column;
  EXPECT_NE(table.out.find("\nlion "), std::string::npos) << table.out;
}

TEST_F(RaceCli, AnUnknownVariantIsAUsageError) {
  const auto r = run_cli("race --data " + data(20) + " --model logistic --variants sgd,lbfgs");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("'lbfgs' is not a stepper"), std::string::npos) << r.out;
}

}  // namespace
