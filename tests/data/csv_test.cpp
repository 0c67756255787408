#include "descent/data/csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/loader_support.hpp"
#include "descent/core/error.hpp"
#include "support/temp_dir.hpp"

namespace descent::data {
namespace {

using testing::parse_error_of;

class Csv : public descent::testing::TempDirTest {
 protected:
  std::string file(const std::string& content, const std::string& name = "data.csv") {
    return testing::write_file(dir_ / name, content);
  }
  Dataset load(const std::string& content, const CsvOptions& options = {}) { return load_csv(file(content), options); }
  // The parse_error loading `content` throws; its message must hold each of
  // `parts`.
  parse_error error(const std::string& content, std::int64_t line, const std::vector<std::string>& parts,
                    const CsvOptions& options = {}) {
    const std::string path = file(content);
    auto e = parse_error_of([&] { load_csv(path, options); });
    if (!e) return parse_error(path, -1, "nothing thrown");
    EXPECT_EQ(e->path(), path);
    EXPECT_EQ(e->line(), line) << e->what();
    for (const auto& part : parts) EXPECT_NE(std::string(e->what()).find(part), std::string::npos) << e->what();
    return *e;
  }
};

TEST_F(Csv, ReadsNumbersWithTheLastColumnAsTheLabel) {
  const Dataset d = load("1,2.5,0\n-3,4e2,1\n5, 6 ,2\n");
  EXPECT_EQ(d.rows, 3);
  EXPECT_EQ(d.features, 2);
  EXPECT_EQ(d.targets, 1);
  EXPECT_EQ(d.x, (std::vector<float>{1, 2.5f, -3, 400, 5, 6}));
  EXPECT_EQ(d.y, (std::vector<float>{0, 1, 2}));
  EXPECT_TRUE(d.feature_names.empty());
  EXPECT_EQ(d.source, (dir_ / "data.csv").string());
  EXPECT_EQ(d.classes(), 3);
}

TEST_F(Csv, DetectsAHeaderAndKeepsTheFeatureNames) {
  const Dataset d = load("width,height,kind\n1,2,0\n3,4,1\n");
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"width", "height"}));
  EXPECT_EQ(d.x, (std::vector<float>{1, 2, 3, 4}));
}

TEST_F(Csv, TakesTheLabelColumnByName) {
  CsvOptions options;
  options.label_column = "price";
  const Dataset d = load("rooms,price,age\n3,250.5,10\n4,300,20\n", options);
  EXPECT_EQ(d.y, (std::vector<float>{250.5f, 300}));
  EXPECT_EQ(d.x, (std::vector<float>{3, 10, 4, 20}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"rooms", "age"}));
  EXPECT_EQ(d.classes(), 0);
}

TEST_F(Csv, TakesTheLabelColumnByZeroBasedIndex) {
  CsvOptions options;
  options.label_column = "0";
  const Dataset d = load("1,10,11\n0,20,21\n", options);
  EXPECT_EQ(d.y, (std::vector<float>{1, 0}));
  EXPECT_EQ(d.x, (std::vector<float>{10, 11, 20, 21}));
}

TEST_F(Csv, PrefersAHeaderNameOverAnIndexOfTheSameSpelling) {
  CsvOptions options;
  options.label_column = "0";
  options.header = CsvHeader::yes;
  const Dataset d = load("a,0,b\n1,2,3\n", options);
  EXPECT_EQ(d.y, (std::vector<float>{2}));
}

TEST_F(Csv, HeaderYesReadsANumericFirstRowAsNames) {
  CsvOptions options;
  options.header = CsvHeader::yes;
  const Dataset d = load("1,2,3\n4,5,6\n", options);
  EXPECT_EQ(d.rows, 1);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"1", "2"}));
}

TEST_F(Csv, HeaderNoReadsANamedFirstRowAsBadData) {
  CsvOptions options;
  options.header = CsvHeader::no;
  error("a,b\n1,2\n", 1, {"column 1: expected a number, found 'a'"}, options);
}

TEST_F(Csv, AutomaticHeaderTakesAFirstRowOfNumbersAndMissingValuesAsData) {
  CsvOptions options;
  options.missing = CsvMissing::impute_mean;
  const Dataset d = load("NA,1,0\n4,3,1\n", options);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.x, (std::vector<float>{4, 1, 4, 3}));
}

TEST_F(Csv, ImputesTheColumnMeanOverTheRowsThatHaveIt) {
  CsvOptions options;
  options.missing = CsvMissing::impute_mean;
  const Dataset d = load("a,b,y\n1,NA,0\n,10,1\n3,nan,0\n2,20,1\n4, ,0\n", options);
  ASSERT_EQ(d.rows, 5);
  EXPECT_EQ(d.x, (std::vector<float>{1, 15, 2.5f, 10, 3, 15, 2, 20, 4, 15}));
}

TEST_F(Csv, RejectsAMissingValueByDefaultNamingLineAndColumn) {
  error("a,b,y\n1,2,0\n3,NA,1\n", 3,
        {"column 2 ('b'): expected a number, found the missing value 'NA'", "impute_mean"});
  error("1,2,0\n3,,1\n", 2, {"column 2: expected a number, found the missing value ''"});
}

TEST_F(Csv, NeverImputesTheLabel) {
  CsvOptions options;
  options.missing = CsvMissing::impute_mean;
  error("a,y\n1,0\n2,NA\n", 3, {"column 2 ('y') (the label)", "never imputed"}, options);
}

TEST_F(Csv, RejectsAColumnWithNothingToImputeFrom) {
  CsvOptions options;
  options.missing = CsvMissing::impute_mean;
  error("a,b,y\n1,,0\n2,NA,1\n", 2, {"column 2 ('b')", "every value is missing"}, options);
}

TEST_F(Csv, RejectsANonNumberNamingLineColumnAndWhatWasFound) {
  error("1,2,3\n4,abc,6\n", 2, {"column 2: expected a number, found 'abc'"});
  error("x,y\n\n1,2\n3,4x\n", 4, {"column 2 ('y') (the label): expected a number, found '4x'"});
}

TEST_F(Csv, RejectsInfinitiesAndValuesBeyondFloat32) {
  error("1,2\n1e39,0\n", 2, {"column 1: expected a finite number, found '1e39' (out of float32 range)"});
  error("1,2\ninf,0\n", 2, {"found 'inf' (not finite)"});
  error("1,2\n1e999,0\n", 2, {"out of float32 range"});
  // An underflow is a tiny number, not an error.
  EXPECT_EQ(load("1e-999,0\n").x, std::vector<float>{0.0f});
}

TEST_F(Csv, RejectsARowOfAnotherLengthLikeTheFirst) {
  error("1,2,3,4,5\n1,2,3,4\n", 2, {"expected 5 fields like the first row, found 4"});
  error("a,b\n1,2\n1,2,3\n", 3, {"expected 2 fields like the first row, found 3"});
}

TEST_F(Csv, CountsTrailingDelimitersAsEmptyFields) {
  error("1,2,0\n1,2,0,\n", 2, {"expected 3 fields like the first row, found 4"});
}

TEST_F(Csv, HandlesCrlfMissingFinalNewlineAndBlankLines) {
  const Dataset a = load("x,y\r\n1,0\r\n\r\n   \r\n2,1");
  EXPECT_EQ(a.rows, 2);
  EXPECT_EQ(a.x, (std::vector<float>{1, 2}));
  EXPECT_EQ(a.y, (std::vector<float>{0, 1}));
  // Blank lines still count for line numbers.
  error("x,y\r\n\r\n1,0\r\n\r\n2,oops\r\n", 5, {"found 'oops'"});
}

TEST_F(Csv, SkipsAByteOrderMark) {
  const Dataset d = load("\xEF\xBB\xBFx,y\n1,0\n");
  EXPECT_EQ(d.feature_names, std::vector<std::string>{"x"});
}

TEST_F(Csv, ReadsQuotedFieldsWithEscapedQuotes) {
  const Dataset d = load("\"a \"\"big\"\" one\",\"b, c\",y\n\"1.5\", 2 ,\"0\"\n");
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"a \"big\" one", "b, c"}));
  EXPECT_EQ(d.x, (std::vector<float>{1.5f, 2}));
  EXPECT_EQ(d.y, std::vector<float>{0});
}

TEST_F(Csv, RejectsAnUnterminatedQuoteAndTextAfterAClosingQuote) {
  error("a,y\n\"1,0\n", 2, {"column 1: expected a closing quote, found the end of the line"});
  error("a,y\n\"1\"x,0\n", 2, {"column 1: expected the delimiter ',' after the closing quote, found 'x,0'"});
}

TEST_F(Csv, ReadsOtherDelimiters) {
  CsvOptions options;
  options.delimiter = ';';
  EXPECT_EQ(load("a;b;y\n1.5;2;0\n", options).x, (std::vector<float>{1.5f, 2}));
  options.header = CsvHeader::no;
  error("1,5;2;0\n", 1, {"column 1: expected a number, found '1,5'"}, options);
  options.header = CsvHeader::automatic;
  options.delimiter = '\t';
  const Dataset d = load("a\tb\ty\n 1 \t2\t0\n", options);
  EXPECT_EQ(d.x, (std::vector<float>{1, 2}));
  options.delimiter = '"';
  EXPECT_THROW(load("1\"2\n", options), descent::invalid_argument);
}

TEST_F(Csv, RejectsAnEmptyBlankOrHeaderOnlyFile) {
  error("", 1, {"expected a header or a data row, found an empty file"});
  error("\n  \n\r\n", 3, {"found only blank lines"});
  error("a,b,c\n\n", 2, {"expected data rows after the header, found none"});
}

TEST_F(Csv, RejectsASingleColumn) {
  error("1\n2\n", 1, {"expected at least 2 columns (features and a label), found 1"});
}

TEST_F(Csv, RejectsALabelColumnTheFileDoesNotHave) {
  CsvOptions options;
  options.label_column = "3";
  error("a,b,c\n1,2,3\n", 1, {"label_column = '3' is out of range: the file has 3 columns (0-based indices 0..2)"},
        options);
  options.label_column = "99999999999999999999999";
  error("a,b,c\n1,2,3\n", 1, {"out of range"}, options);
  options.label_column = "price";
  error("a,b,c\n1,2,3\n", 1, {"label_column = 'price' is neither", "'a', 'b', 'c'"}, options);
  error("1,2,3\n", 1, {"no header row"}, options);
  error("price,price\n1,2\n", 1, {"names 2 columns"}, options);
}

TEST_F(Csv, ReportsAFileThatCannotBeOpenedAtLineZeroWithTheReason) {
  const std::string path = (dir_ / "absent.csv").string();
  auto e = parse_error_of([&] { load_csv(path); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 0);
  EXPECT_NE(std::string(e->what()).find("No such file or directory"), std::string::npos) << e->what();
  e = parse_error_of([&] { load_csv(dir_.string()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->line(), 0);
  EXPECT_NE(std::string(e->what()).find("directory"), std::string::npos) << e->what();
}

TEST_F(Csv, ReadsVeryLongLines) {
  constexpr int kColumns = 100000;
  std::string text;
  for (int row = 0; row < 2; ++row) {
    for (int c = 0; c < kColumns; ++c) text += std::to_string(row * kColumns + c) + (c + 1 < kColumns ? "," : "\n");
  }
  const Dataset d = load(text);
  EXPECT_EQ(d.rows, 2);
  EXPECT_EQ(d.features, kColumns - 1);
  EXPECT_EQ(d.row(1)[5], static_cast<float>(kColumns + 5));
  EXPECT_EQ(d.y[1], static_cast<float>(2 * kColumns - 1));
  // A long line of garbage is reported, cut short in the message.
  const auto e = error("1,2\n1," + std::string(50000, 'z') + "\n", 2, {"'zzzz", "'..."});
  EXPECT_LT(std::string(e.what()).size(), 400u);
}

TEST_F(Csv, ShowsControlBytesEscapedInMessages) { error(std::string("1,2\n1,a\0b\n", 10), 2, {"found 'a\\x00b'"}); }

// Five data rows, among blank lines, after a header.
const std::string kFiveRows = "a,b,y\n\n1,2,0\n3,4,1\n  \n5,6,0\r\n7,8,1\n\n9,10,0";

TEST_F(Csv, KeepsTheSelectedRowsCountingDataRowsOnly) {
  const std::vector<Index> rows{1, 3, 4};
  const Dataset all = load(kFiveRows);
  ASSERT_EQ(all.rows, 5);
  testing::RecordingSelector select{.keep = rows};
  CsvOptions options;
  options.rows = select.selector();
  const Dataset some = load(kFiveRows, options);
  EXPECT_EQ(select.calls, 1);
  EXPECT_EQ(select.rows, 5);  // neither the header nor the blank lines
  testing::expect_same_data(some, subset(all, rows));
  EXPECT_EQ(some.x, (std::vector<float>{3, 4, 7, 8, 9, 10}));
  EXPECT_EQ(some.feature_names, (std::vector<std::string>{"a", "b"}));
}

TEST_F(Csv, CountsTheFirstRowWhenItIsData) {
  const std::string text = "\n1,2,0\n3,4,1\n5,6,0\n  \n7,8,1\n9,10,0\n\n";
  const std::vector<Index> rows{0, 3};
  for (const CsvHeader header : {CsvHeader::automatic, CsvHeader::no}) {
    testing::RecordingSelector select{.keep = rows};
    CsvOptions options;
    options.header = header;
    options.rows = select.selector();
    CsvOptions plain;
    plain.header = header;
    testing::expect_same_data(load(text, options), subset(load(text, plain), rows));
    EXPECT_EQ(select.rows, 5);
  }
  // With header = yes the first row names the columns.
  testing::RecordingSelector select{.keep = {0}};
  CsvOptions options;
  options.header = CsvHeader::yes;
  options.rows = select.selector();
  EXPECT_EQ(load(text, options).x, (std::vector<float>{3, 4}));
  EXPECT_EQ(select.rows, 4);
}

TEST_F(Csv, ASelectorKeepingNoRowsGivesAnEmptyDataset) {
  testing::RecordingSelector none;
  CsvOptions options;
  options.rows = none.selector();
  const Dataset d = load(kFiveRows, options);
  EXPECT_EQ(none.rows, 5);
  EXPECT_EQ(d.rows, 0);
  EXPECT_EQ(d.features, 2);
  EXPECT_TRUE(d.x.empty());
  EXPECT_TRUE(d.y.empty());
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_NO_THROW(d.validate());
  // A file without data rows is still an error, the selector having seen 0.
  error("a,b,y\n\n", 2, {"expected data rows after the header, found none"}, options);
  EXPECT_EQ(none.rows, 0);
}

TEST_F(Csv, RejectsAMalformedRowThatIsNotKeptLikeWithoutASelector) {
  testing::RecordingSelector first{.keep = {0}};
  CsvOptions options;
  options.rows = first.selector();
  error("a,b,y\n1,2,0\n3,x,1\n", 3, {"column 2 ('b'): expected a number, found 'x'"}, options);
  error("a,b,y\n1,2,0\n3,4\n", 3, {"expected 3 fields like the first row, found 2"}, options);
  error("a,b,y\n1,2,0\n3,NA,1\n", 3, {"found the missing value 'NA'"}, options);
  options.missing = CsvMissing::impute_mean;
  error("a,b,y\n1,2,0\n3,4,NA\n", 3, {"never imputed"}, options);
}

TEST_F(Csv, ImputesTheWholeFileMeanInTheKeptRows) {
  CsvOptions options;
  options.missing = CsvMissing::impute_mean;
  const std::string text = "a,b,y\n1,NA,0\n,10,1\n3,nan,0\n2,20,1\n4, ,0\n";
  const Dataset all = load(text, options);
  for (const std::vector<Index>& rows : {std::vector<Index>{0, 2}, std::vector<Index>{1, 4}, std::vector<Index>{3}}) {
    testing::RecordingSelector select{.keep = rows};
    options.rows = select.selector();
    // b's mean is (10 + 20) / 2 and a's (1 + 3 + 2 + 4) / 4 whatever is kept.
    testing::expect_same_data(load(text, options), subset(all, rows));
  }
  testing::RecordingSelector select{.keep = {0, 1}};
  options.rows = select.selector();
  EXPECT_EQ(load(text, options).x, (std::vector<float>{1, 15, 2.5f, 10}));
  // A column missing throughout fails even when no row is kept.
  testing::RecordingSelector none;
  options.rows = none.selector();
  error("a,b,y\n1,,0\n2,NA,1\n", 2, {"column 2 ('b')", "every value is missing"}, options);
}

TEST_F(Csv, RejectsASelectorOutOfRangeOrNotIncreasing) {
  const std::string path = file(kFiveRows);
  for (const std::vector<Index>& rows : {std::vector<Index>{0, 5}, std::vector<Index>{-1}, std::vector<Index>{2, 1},
                                         std::vector<Index>{1, 1}}) {
    testing::RecordingSelector bad{.keep = rows};
    CsvOptions options;
    options.rows = bad.selector();
    try {
      load_csv(path, options);
      ADD_FAILURE() << "no descent::invalid_argument thrown";
    } catch (const descent::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST_F(Csv, SelectsLikeSubsetOnMutatedFiles) {
  const std::string valid = "width,\"height\",kind\r\n1.5,2,0\n3,4e1,1\n\n-5,NA,2\n7,8,1\n  \n9,NA,0";
  const std::string path = (dir_ / "fuzz.csv").string();
  for (const CsvHeader header : {CsvHeader::automatic, CsvHeader::no}) {
    CsvOptions options;
    options.header = header;
    options.missing = CsvMissing::impute_mean;
    const int loaded = testing::fuzz_selection(valid, 200, 3, [&](const std::string& content, const RowSelector& rows) {
      testing::write_file(path, content);
      CsvOptions o = options;
      o.rows = rows;
      return load_csv(path, o);
    });
    if (header == CsvHeader::automatic) {
      EXPECT_GT(loaded, 10);
    }
  }
}

TEST_F(Csv, SurvivesMutatedFiles) {
  const std::string valid = "width,\"height\",kind\r\n1.5,2,0\n3,4e1,1\n\n-5,NA,2\n7,8,1";
  CsvOptions options;
  options.missing = CsvMissing::impute_mean;
  ASSERT_EQ(load(valid, options).rows, 4);
  const std::string path = (dir_ / "fuzz.csv").string();
  const int loaded = testing::fuzz(valid, 300, 1, [&](const std::string& content) {
    testing::write_file(path, content);
    return load_csv(path, options);
  });
  EXPECT_GT(loaded, 10);
  EXPECT_LT(loaded, 290);
}

}  // namespace
}  // namespace descent::data
