// Loading a Dataset from a LIBSVM (SVMlight) sparse text file, made dense.
//
//   auto d = data::load_libsvm("a9a.txt", {.features = 123});
//
// The format: one sample per line,
//   label index:value index:value ...   # an optional comment
// separated by spaces or tabs. Indices are 1-based and strictly increasing
// within a line; absent indices are 0. Labels and values are decimal numbers
// (finite, within float32's range). Lines end in "\n" or "\r\n"; blank and
// comment-only lines are skipped. Multi-label lines ("1,3 ...") and ranking
// files (qid:) are not read.
//
// Every problem in the file is a descent::parse_error naming the path, the
// 1-based line and the token (1-based, the label being token 1) with what
// was expected and found; a file that cannot be read is one with line 0 and
// the OS reason.
#pragma once

#include <string>

#include "descent/data/dataset.hpp"

namespace descent::data {

struct LibsvmOptions {
  // The number of features, >= 0: 0 = the largest index in the file. An
  // index above a positive count is a parse_error (a test file read with its
  // training file's count must not grow columns).
  Index features = 0;
  // Which samples to keep (0-based, blank and comment lines not counted):
  // see RowSelector in dataset.hpp. Every line is still parsed and checked,
  // and features = 0 still means the largest index in the whole file. Empty
  // = every sample.
  RowSelector rows;
};

// rows = the samples (those options.rows keeps), targets = 1 (the label),
// source = the path. Column j of x is index j + 1 of the file. A file
// without samples is a parse_error (even when the selector would keep none);
// so is one whose dense matrix (the kept rows x features) would exceed 2^31
// values, or 2^24 values and 1024 values per byte of the file (a few lines
// with one large index do not get gigabytes; real sparse sets hold far fewer
// zeros).
Dataset load_libsvm(const std::string& path, const LibsvmOptions& options = {});

}  // namespace descent::data
