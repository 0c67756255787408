// Loading a Dataset from a CSV file of numbers: one sample per line, one
// column of it the target, the rest features.
//
//   data::CsvOptions options;
//   options.label_column = "price";              // or "4", or "" (the last column)
//   options.missing = data::CsvMissing::impute_mean;
//   auto d = data::load_csv("houses.csv", options);
//
// The format:
// - Fields are separated by `delimiter`; spaces and tabs around a field
//   (other than the delimiter) are ignored. A field may be quoted ("..."),
//   with "" standing for one quote inside it; a quoted field cannot span
//   lines.
// - Lines end in "\n", "\r\n" or a lone "\r"; the last may lack one. Blank lines are
//   skipped. A UTF-8 byte order mark at the start is skipped.
// - Every row has as many fields as the first (the header when there is one).
// - Values are decimal numbers (finite, within float32's range); class
//   labels are numbers too (0..K-1), not names. An empty field, "NA" or
//   "nan" (any case) is a missing value.
//
// Every problem in the file is a descent::parse_error naming the path, the
// 1-based line, the 1-based column and what was expected and found; a file
// that cannot be read is one with line 0 and the OS reason.
#pragma once

#include <functional>
#include <string>

#include "descent/data/dataset.hpp"

namespace descent::data {

enum class CsvHeader {
  automatic,  // a header when the first row has a field that is not a number
              // (nor a missing value)
  yes,        // the first row names the columns
  no,         // every row is data
};

enum class CsvMissing {
  reject,       // a missing feature value is a parse_error
  impute_mean,  // it becomes the mean of its column over the rows that have it
};

struct CsvOptions {
  CsvHeader header = CsvHeader::automatic;
  // The target column: a name from the header, or a 0-based column index
  // (a header name that matches wins over an index); empty = the last column.
  std::string label_column;
  // Any character but '"', '\r' and '\n' (else descent::invalid_argument).
  // With ' ' or '\t' as the delimiter, each one separates two fields (two
  // in a row enclose an empty, missing, field).
  char delimiter = ',';
  // A missing target is always a parse_error: the label column is never
  // imputed.
  CsvMissing missing = CsvMissing::reject;
  // Which data rows to keep (0-based, the header and blank lines not
  // counted): see RowSelector in dataset.hpp. Every row is still parsed and
  // checked, and impute_mean's means are over every row of the file. Empty =
  // every row.
  RowSelector rows;
  // Called with a message about something the file holds that is likely a
  // mistake but not an error: a first row read as a header (automatic)
  // although some of its fields are numbers, as in a data row with a typo
  // ("1.0,2.o,0"), which is then not trained on. Null: say nothing.
  std::function<void(const std::string&)> warn;
};

// rows = the data lines (those options.rows keeps), features = the columns
// but the label one (at least one), targets = 1. feature_names holds the
// header's names (without the label's) when there is a header, and source
// the path. A file without data rows (empty, blank or header only) is a
// parse_error, even when the selector would keep none; so is a label_column
// that the file has no column for. A selector may keep no rows: the result
// then has rows = 0.
Dataset load_csv(const std::string& path, const CsvOptions& options = {});

}  // namespace descent::data
