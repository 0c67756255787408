// The fuzz targets, built without libFuzzer, run on every input of their
// seed corpora (tests/fuzz/corpus/TARGET/) and regression corpora
// (tests/fuzz/regressions/TARGET/: inputs that once crashed or hung a target,
// each since fixed). A target returns for each, or the test crashes or fails
// with what escaped it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace descent::fuzz {
namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*run)(const std::uint8_t* data, std::size_t size);
};

// For test names and messages: the target's name.
void PrintTo(const Target& target, std::ostream* out) { *out << target.name; }

#define DESCENT_FUZZ_ENTRY(name) Target{#name, &run_##name},
const Target kTargets[] = {DESCENT_FUZZ_TARGETS(DESCENT_FUZZ_ENTRY)};
#undef DESCENT_FUZZ_ENTRY

// The files of `dir` in name order; none when there is no such directory.
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replay(const Target& target, const std::vector<fs::path>& inputs) {
  for (const fs::path& input : inputs) {
    SCOPED_TRACE(input.string());
    const std::string bytes = read_bytes(input);
    EXPECT_NO_THROW(EXPECT_EQ(target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0));
  }
}

class Replay : public ::testing::TestWithParam<Target> {
 protected:
  fs::path dir(const char* kind) const { return fs::path(DESCENT_FUZZ_DIR) / kind / GetParam().name; }
};

TEST_P(Replay, RunsEverySeed) {
  const auto seeds = files_in(dir("corpus"));
  EXPECT_GE(seeds.size(), 5u) << "a target needs seeds in " << dir("corpus");
  replay(GetParam(), seeds);
}

TEST_P(Replay, RunsEveryRegression) { replay(GetParam(), files_in(dir("regressions"))); }

INSTANTIATE_TEST_SUITE_P(Fuzz, Replay, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace descent::fuzz
