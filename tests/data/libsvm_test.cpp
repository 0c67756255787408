#include "descent/data/libsvm.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/loader_support.hpp"
#include "descent/core/error.hpp"
#include "support/temp_dir.hpp"

namespace descent::data {
namespace {

using testing::parse_error_of;

class Libsvm : public descent::testing::TempDirTest {
 protected:
  std::string file(const std::string& content) { return testing::write_file(dir_ / "data.svm", content); }
  Dataset load(const std::string& content, const LibsvmOptions& options = {}) {
    return load_libsvm(file(content), options);
  }
  void error(const std::string& content, std::int64_t line, const std::vector<std::string>& parts,
             const LibsvmOptions& options = {}) {
    const std::string path = file(content);
    auto e = parse_error_of([&] { load_libsvm(path, options); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->path(), path);
    EXPECT_EQ(e->line(), line) << e->what();
    for (const auto& part : parts) EXPECT_NE(std::string(e->what()).find(part), std::string::npos) << e->what();
  }
};

TEST_F(Libsvm, ReadsSparseRowsIntoDenseOnes) {
  const Dataset d = load("1 1:0.5 3:2\n0 2:-1.5e1   # a comment\n2\n");
  EXPECT_EQ(d.rows, 3);
  EXPECT_EQ(d.features, 3);
  EXPECT_EQ(d.x, (std::vector<float>{0.5f, 0, 2, 0, -15, 0, 0, 0, 0}));
  EXPECT_EQ(d.y, (std::vector<float>{1, 0, 2}));
  EXPECT_EQ(d.classes(), 3);
  EXPECT_EQ(d.source, (dir_ / "data.svm").string());
}

TEST_F(Libsvm, ReadsSignedLabelsAndTabs) {
  const Dataset d = load("+1\t1:1\n-1 2:1\t\n");
  EXPECT_EQ(d.y, (std::vector<float>{1, -1}));
  EXPECT_EQ(d.classes(), 0);
}

TEST_F(Libsvm, PadsToAGivenFeatureCountAndRejectsIndicesBeyondIt) {
  const Dataset d = load("1 2:1\n", {.features = 5});
  EXPECT_EQ(d.features, 5);
  EXPECT_EQ(d.x, (std::vector<float>{0, 1, 0, 0, 0}));
  error("1 2:1\n0 6:1\n", 2, {"token 2 ('6:1'): index 6 exceeds LibsvmOptions::features = 5"}, {.features = 5});
  EXPECT_THROW(load("1 1:1\n", {.features = -1}), descent::invalid_argument);
}

TEST_F(Libsvm, HandlesCrlfMissingFinalNewlineBlankAndCommentLines) {
  const Dataset d = load("# header comment\r\n\r\n1 1:1\r\n   \r\n0 2:2");
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.x, (std::vector<float>{1, 0, 0, 2}));
  error("# c\r\n\r\n1 1:1\r\n0 2:x\r\n", 4, {"token 2 ('2:x'): expected a number after ':', found 'x'"});
}

TEST_F(Libsvm, RejectsIndicesOutOfOrderOrRepeated) {
  error("1 3:1 2:1\n", 1, {"token 3 ('2:1'): expected indices in strictly increasing order, found 2 after 3"});
  error("1 3:1 3:2\n", 1, {"found 3 after 3"});
}

TEST_F(Libsvm, RejectsIndexZeroAndIndicesThatAreNotPositiveIntegers) {
  error("1 0:1\n", 1, {"token 2 ('0:1'): expected a 1-based index (>= 1), found 0"});
  error("1 -2:1\n", 1, {"expected a positive integer index before ':', found '-2'"});
  error("1 1.5:1\n", 1, {"found '1.5'"});
  error("1 :1\n", 1, {"found ''"});
  error("1 99999999999999999999999:1\n", 1, {"is too large"});
  error("1 2147483648:1\n", 1, {"is too large"});
}

TEST_F(Libsvm, RejectsMalformedTokens) {
  error("1 1:1\n1 2\n", 2, {"token 2 ('2'): expected index:value, found no ':'"});
  error("1 1:\n", 1, {"expected a number after ':', found ''"});
  error("1 1:1e999\n", 1, {"out of float32 range"});
  error("abc 1:1\n", 1, {"token 1 ('abc'): expected a label (a number)"});
  error("1:1 2:2\n", 1, {"found an index:value pair"});
  error("1,2 1:1\n", 1, {"multi-label"});
  error("1 qid:3 1:1\n", 1, {"qid"});
  error("nan 1:1\n", 1, {"expected a finite label"});
}

TEST_F(Libsvm, RejectsAFileWithoutSamples) {
  error("", 1, {"expected samples, found an empty file"});
  error("# only\n\n# comments\n", 3, {"only blank or comment lines"});
}

TEST_F(Libsvm, RefusesADenseMatrixBeyond2To31ValuesBeforeAllocatingIt) {
  std::string text;
  for (int i = 0; i < 4; ++i) text += "1 1:1 2000000000:1\n";
  error(text, 4, {"the dense matrix would hold 4 rows x 2000000000 features, more than 2^31 values"});
}

TEST_F(Libsvm, RefusesADenseMatrixFarLargerThanTheFileBeforeAllocatingIt) {
  // 15 bytes claiming 2^31 - 5 features, 8 GiB as float (found by fuzzing).
  error("1 2147483643:1\n", 1, {"the dense matrix would hold 1 rows x 2147483643 features", "1024 values per byte"});
  error("1 1:1\n0 16777216:1\n", 2, {"2 rows x 16777216 features"});
  error("1 2:1\n", 1, {"1 rows x 16777217 features"}, {.features = 16777217});
  // Up to 2^24 values are read whatever the file's size.
  const Dataset d = load("1 1:1\n0 8388608:1\n");
  EXPECT_EQ(d.features, 8388608);
  EXPECT_EQ(d.x[8388608 + 8388607], 1.0f);
}

TEST_F(Libsvm, ReportsAFileThatCannotBeOpenedAtLineZero) {
  const std::string path = (dir_ / "absent.svm").string();
  auto e = parse_error_of([&] { load_libsvm(path); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 0);
  EXPECT_NE(std::string(e->what()).find("No such file or directory"), std::string::npos) << e->what();
}

// Five samples among comment and blank lines; the largest index, 7, is in
// row 2.
const std::string kFiveSamples = "# a header comment\n1 1:0.5 3:2\n\n0 2:-1.5  # c\n2 7:1\r\n   # c\n1\n0 1:1 4:4";

TEST_F(Libsvm, KeepsTheSelectedRowsCountingSamplesOnly) {
  const std::vector<Index> rows{1, 3, 4};
  const Dataset all = load(kFiveSamples);
  ASSERT_EQ(all.rows, 5);
  testing::RecordingSelector select{.keep = rows};
  const Dataset some = load(kFiveSamples, {.rows = select.selector()});
  EXPECT_EQ(select.calls, 1);
  EXPECT_EQ(select.rows, 5);  // neither comment nor blank lines
  testing::expect_same_data(some, subset(all, rows));
  EXPECT_EQ(some.y, (std::vector<float>{0, 1, 0}));
  // With a given feature count too.
  testing::expect_same_data(load(kFiveSamples, {.features = 9, .rows = select.selector()}),
                            subset(load(kFiveSamples, {.features = 9}), rows));
}

TEST_F(Libsvm, TakesTheLargestIndexOfTheWholeFileWhateverIsKept) {
  testing::RecordingSelector select{.keep = {0, 1, 3, 4}};  // not row 2, which holds 7:1
  const Dataset d = load(kFiveSamples, {.rows = select.selector()});
  EXPECT_EQ(d.features, 7);
  EXPECT_EQ(d.rows, 4);
  testing::expect_same_data(d, subset(load(kFiveSamples), select.keep));
}

TEST_F(Libsvm, ASelectorKeepingNoRowsGivesAnEmptyDataset) {
  testing::RecordingSelector none;
  const Dataset d = load(kFiveSamples, {.rows = none.selector()});
  EXPECT_EQ(none.rows, 5);
  EXPECT_EQ(d.rows, 0);
  EXPECT_EQ(d.features, 7);
  EXPECT_TRUE(d.x.empty());
  EXPECT_TRUE(d.y.empty());
  EXPECT_NO_THROW(d.validate());
  // A file without samples is still an error, the selector having seen 0.
  error("# only\n\n# comments\n", 3, {"only blank or comment lines"}, {.rows = none.selector()});
  EXPECT_EQ(none.rows, 0);
}

TEST_F(Libsvm, RejectsAMalformedLineThatIsNotKeptLikeWithoutASelector) {
  testing::RecordingSelector first{.keep = {0}};
  const LibsvmOptions options{.rows = first.selector()};
  error("1 1:1\n1 2\n", 2, {"token 2 ('2'): expected index:value, found no ':'"}, options);
  error("1 1:1\n1 3:1 2:1\n", 2, {"found 2 after 3"}, options);
  error("1 1:1\nabc 1:1\n", 2, {"token 1 ('abc'): expected a label (a number)"}, options);
  error("1 2:1\n0 6:1\n", 2, {"index 6 exceeds LibsvmOptions::features = 5"},
        {.features = 5, .rows = first.selector()});
}

TEST_F(Libsvm, GuardsTheDenseSizeOfTheKeptRows) {
  std::string text;
  for (int i = 0; i < 4; ++i) text += "1 1:1 2000000000:1\n";
  // One kept row is under 2^31 values, but far more than the file's bytes
  // allow; none kept allocates nothing.
  testing::RecordingSelector one{.keep = {2}};
  error(text, 4, {"the dense matrix would hold 1 rows x 2000000000 features", "1024 values per byte"},
        {.rows = one.selector()});
  testing::RecordingSelector none;
  const Dataset d = load(text, {.rows = none.selector()});
  EXPECT_EQ(d.rows, 0);
  EXPECT_EQ(d.features, 2000000000);
  EXPECT_TRUE(d.x.empty());
}

TEST_F(Libsvm, RejectsASelectorOutOfRangeOrNotIncreasing) {
  for (const std::vector<Index>& rows : {std::vector<Index>{0, 5}, std::vector<Index>{-1}, std::vector<Index>{2, 1},
                                         std::vector<Index>{1, 1}}) {
    testing::RecordingSelector bad{.keep = rows};
    EXPECT_THROW(load(kFiveSamples, {.rows = bad.selector()}), descent::invalid_argument);
  }
}

TEST_F(Libsvm, SelectsLikeSubsetOnMutatedFiles) {
  const std::string valid = "# c\n1 1:0.5 3:2 # c\n0 2:-1.5e1\r\n\n-1 1:1 2:2 3:3 4:4\n+1 4:0.25\n0 6:1";
  const std::string path = (dir_ / "fuzz.svm").string();
  const int loaded = testing::fuzz_selection(valid, 300, 9, [&](const std::string& content, const RowSelector& rows) {
    testing::write_file(path, content);
    return load_libsvm(path, {.rows = rows});
  });
  EXPECT_GT(loaded, 10);
}

TEST_F(Libsvm, SurvivesMutatedFiles) {
  const std::string valid = "1 1:0.5 3:2 # c\n0 2:-1.5e1\r\n\n-1 1:1 2:2 3:3 4:4\n+1 4:0.25";
  ASSERT_EQ(load(valid).rows, 4);
  const std::string path = (dir_ / "fuzz.svm").string();
  const int loaded = testing::fuzz(valid, 300, 7, [&](const std::string& content) {
    testing::write_file(path, content);
    return load_libsvm(path);
  });
  EXPECT_GT(loaded, 10);
  EXPECT_LT(loaded, 290);
}

}  // namespace
}  // namespace descent::data
