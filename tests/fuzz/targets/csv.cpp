// data::load_csv on the input as a file, under several option sets: the
// defaults, and each other header mode, delimiter, missing-value policy and
// kind of label column.
#include <array>

#include "descent/core/error.hpp"
#include "descent/data/csv.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using descent::data::CsvHeader;
using descent::data::CsvMissing;
using descent::data::CsvOptions;

const std::array<CsvOptions, 4> kOptionSets{{
    {},
    {.header = CsvHeader::yes, .label_column = "0", .missing = CsvMissing::impute_mean},
    {.header = CsvHeader::no, .label_column = "1", .delimiter = ';', .missing = CsvMissing::impute_mean},
    {.header = CsvHeader::automatic, .label_column = "y", .delimiter = '\t'},
}};

}  // namespace

DESCENT_FUZZ_TARGET(csv) {
  const std::string path = descent::fuzz::write_scratch("input.csv", descent::fuzz::as_text(data, size));
  for (const CsvOptions& options : kOptionSets) {
    try {
      descent::data::load_csv(path, options).validate();
    } catch (const descent::parse_error&) {
    }
  }
  return 0;
}
