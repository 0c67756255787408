// Every numeric flag of every subcommand, read from its --help, refuses
// values beyond any range with exit status 2 and a message naming the flag
// (tools/cli/ranges.hpp): integers beyond their type, negative counts,
// NaN and infinity. A flag added without a range check fails here.
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/cli_run.hpp"

namespace {

using descent::testing::run_cli;

struct NumericFlag {
  std::string name, type;  // "--epochs", "INT" | "UINT" | "FLOAT"
};

std::vector<NumericFlag> numeric_flags(const std::string& subcommand) {
  const auto help = run_cli(subcommand + " --help");
  EXPECT_EQ(help.status, 0) << help.out;
  std::vector<NumericFlag> flags;
  const std::regex option(R"(^\s+(?:-[a-z],)?(--[a-z0-9-]+)(?:,--[a-z0-9-]+)*\s+(INT|UINT|FLOAT)\b)");
  std::istringstream lines(help.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option)) flags.push_back({m[1], m[2]});
  }
  return flags;
}

TEST(FlagRanges, EveryNumericFlagRefusesValuesBeyondAnyRangeNamingTheFlag) {
  const std::vector<std::string> subcommands = {"minimize", "train", "lr-find", "tune", "race", "evaluate", "plot", "bench step", "bench model",
                                                "bench allreduce"};
  int checked = 0;
  for (const auto& subcommand : subcommands) {
    for (const auto& flag : numeric_flags(subcommand)) {
      const std::vector<std::string> bad =
          flag.type == "FLOAT" ? std::vector<std::string>{"1e999", "nan", "12abc"}
                               : std::vector<std::string>{"99999999999999999999999", "-99999999999999999999999", "0.5"};
      for (const auto& value : bad) {
        const auto r = run_cli(subcommand + " " + flag.name + " " + value);
        EXPECT_EQ(r.status, 2) << subcommand << " " << flag.name << " " << value << "\n" << r.out;
        EXPECT_NE(r.out.find(flag.name + ": must be a "), std::string::npos)
            << subcommand << " " << flag.name << " " << value << "\n" << r.out;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);  // the flags of today: a --help that lists none would pass vacuously
}

TEST(FlagRanges, IntegersBeyondTheirTypeAreRefusedNotSaturated) {
  auto r = run_cli("train --data x.csv --model logistic --epochs 1000000000000000000000");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--epochs: must be a whole number from 1 to 1000000000; got '1000000000000000000000'"),
            std::string::npos)
      << r.out;
  r = run_cli("train --data x.csv --model logistic --seed -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--seed: must be a whole number from 0 to 18446744073709551615"), std::string::npos) << r.out;
}

TEST(FlagRanges, ThreadCountsAreCappedAtTheDocumentedMaximum) {
  for (const char* subcommand : {"train --data x.csv --model logistic", "bench step", "bench model"}) {
    const auto r = run_cli(std::string(subcommand) + " --threads 100000");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("--threads: must be a whole number from 0 to 1024"), std::string::npos) << r.out;
  }
}

TEST(FlagRanges, AWholeNumberWithAnExponentIsAccepted) {
  const auto r = run_cli("bench step --optimizer sgd --size 1e4 --threads 1 --seconds 0.01 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"size\": 10000,"), std::string::npos) << r.out;
  EXPECT_EQ(run_cli("bench step --size 1.5e0").status, 2);
}

}  // namespace
