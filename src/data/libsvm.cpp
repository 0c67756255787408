#include "descent/data/libsvm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "descent/core/error.hpp"
#include "text.hpp"

namespace descent::data {
namespace {

using detail::shown;

// The most values the dense result may hold (8 GiB as float).
constexpr std::uint64_t kMaxValues = std::uint64_t{1} << 31;
// The largest index read (any more could not fit a dense row anyway).
constexpr std::uint64_t kMaxIndex = (std::uint64_t{1} << 31) - 1;
// A dense matrix beyond kFreeValues may take at most kValuesPerByte values
// per byte of the file, so that a line with one large index cannot claim
// gigabytes. Real sparse sets stay far below: rcv1, read dense, takes tens
// of values per byte.
constexpr std::uint64_t kFreeValues = std::uint64_t{1} << 24;
constexpr std::uint64_t kValuesPerByte = 1024;

bool is_space(char c) { return c == ' ' || c == '\t'; }

// The next space-separated token of `line` from `pos`, or false at its end.
bool next_token(std::string_view line, std::size_t& pos, std::string_view& token) {
  while (pos < line.size() && is_space(line[pos])) ++pos;
  if (pos >= line.size()) return false;
  const std::size_t start = pos;
  while (pos < line.size() && !is_space(line[pos])) ++pos;
  token = line.substr(start, pos - start);
  return true;
}

}  // namespace

Dataset load_libsvm(const std::string& path, const LibsvmOptions& options) {
  DESCENT_REQUIRE(
      options.features >= 0,
      fmt::format("LibsvmOptions::features = {}, must be >= 0 (0 = the largest index in the file)", options.features));
  DESCENT_REQUIRE(static_cast<std::uint64_t>(options.features) <= kMaxIndex,
                  fmt::format("LibsvmOptions::features = {}, must be at most 2^31 - 1", options.features));
  const std::string text = detail::read_file(path);
  std::string_view all = text;

  // The rows to keep (options.rows), chosen from the count of samples before
  // any is stored: a cheap pass counts the lines with a token before any
  // '#' (as the parse below does). Without a selector, every row is kept and
  // nothing is counted.
  const bool selecting = static_cast<bool>(options.rows);
  std::vector<Index> kept;
  if (selecting) {
    Index samples = 0;
    std::size_t at = 0;
    std::string_view line;
    while (detail::next_line(all, at, line)) {
      const std::size_t stop = std::min(line.find('#'), line.size());
      for (std::size_t k = 0; k < stop; ++k) {
        if (!is_space(line[k])) {
          ++samples;
          break;
        }
      }
    }
    kept = select_rows(options.rows, samples, path);
  }
  Index seen = 0;        // the samples read so far, kept or not
  std::size_t next = 0;  // the first entry of `kept` not yet read

  // The kept samples, sparse: row k's entries are entries[begin[k] .. begin[k+1]).
  std::vector<float> labels;
  std::vector<std::size_t> begin{0};
  std::vector<std::uint32_t> indices;  // 0-based
  std::vector<float> values;
  std::uint64_t largest = 0;  // the largest 1-based index seen, in every row

  std::size_t pos = 0;
  std::string_view line;
  std::int64_t line_number = 0;
  while (detail::next_line(all, pos, line)) {
    ++line_number;
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::size_t at = 0;
    std::string_view token;
    if (!next_token(line, at, token)) continue;  // blank or comment only

    auto fail = [&](int token_number, std::string_view tok, const std::string& message) {
      throw parse_error(path, line_number, fmt::format("token {} ({}): {}", token_number, shown(tok), message));
    };

    // The label.
    const char* why = nullptr;
    const std::optional<float> label = detail::parse_float(token, &why);
    if (!label) {
      if (token.find(',') != std::string_view::npos)
        fail(1, token, "expected a label (one number), found a multi-label list, which is not supported");
      if (token.find(':') != std::string_view::npos)
        fail(1, token, "expected a label (a number) first on the line, found an index:value pair");
      fail(1, token,
           why ? fmt::format("expected a finite label within float32's range ({})", why)
               : std::string("expected a label (a number)"));
    }
    // Every line is parsed and checked; only a kept one is stored.
    const bool keep = !selecting || (next < kept.size() && kept[next] == seen);
    ++seen;
    if (keep) labels.push_back(*label);

    std::uint64_t previous = 0;
    int token_number = 1;
    while (next_token(line, at, token)) {
      ++token_number;
      const std::size_t colon = token.find(':');
      if (colon == std::string_view::npos) fail(token_number, token, "expected index:value, found no ':'");
      const std::string_view index_text = token.substr(0, colon);
      const std::string_view value_text = token.substr(colon + 1);
      if (index_text == "qid")
        fail(token_number, token, "expected index:value, found a ranking qid, which is not supported");
      std::uint64_t index = 0;
      const auto [stop, error] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
      if (index_text.empty() || stop != index_text.data() + index_text.size() ||
          (error != std::errc() && error != std::errc::result_out_of_range))
        fail(token_number, token,
             fmt::format("expected a positive integer index before ':', found {}", shown(index_text)));
      if (error == std::errc::result_out_of_range || index > kMaxIndex)
        fail(token_number, token, fmt::format("index {} is too large: at most 2^31 - 1", shown(index_text)));
      if (index == 0) fail(token_number, token, "expected a 1-based index (>= 1), found 0");
      if (index <= previous)
        fail(token_number, token,
             fmt::format("expected indices in strictly increasing order, found {} after {}", index, previous));
      if (options.features > 0 && index > static_cast<std::uint64_t>(options.features))
        fail(token_number, token,
             fmt::format("index {} exceeds LibsvmOptions::features = {}", index, options.features));
      const std::optional<float> value = detail::parse_float(value_text, &why);
      if (!value)
        fail(token_number, token,
             why ? fmt::format("expected a finite value within float32's range after ':', found {} ({})",
                               shown(value_text), why)
                 : fmt::format("expected a number after ':', found {}", shown(value_text)));
      previous = index;
      largest = std::max(largest, index);
      if (keep) {
        indices.push_back(static_cast<std::uint32_t>(index - 1));
        values.push_back(*value);
      }
    }
    if (keep) {
      begin.push_back(indices.size());
      ++next;
    }
  }

  // A file without samples is an error; a selector that keeps none of them
  // is not.
  if (seen == 0)
    throw parse_error(path, line_number == 0 ? 1 : line_number,
                      line_number == 0 ? "expected samples, found an empty file"
                                       : "expected samples, found only blank or comment lines");

  Dataset d;
  d.rows = static_cast<Index>(labels.size());
  d.features = options.features > 0 ? options.features : static_cast<Index>(largest);
  d.targets = 1;
  d.source = path;
  // The guards are on what is allocated: the kept rows x features.
  const auto rows = static_cast<std::uint64_t>(d.rows);
  if (d.features > 0 && rows > kMaxValues / static_cast<std::uint64_t>(d.features))
    throw parse_error(
        path, line_number,
        fmt::format("the dense matrix would hold {} rows x {} features, more than 2^31 values", d.rows, d.features));
  const auto dense = rows * static_cast<std::uint64_t>(d.features);
  if (dense > kFreeValues && dense > kValuesPerByte * text.size())
    throw parse_error(path, line_number,
                      fmt::format("the dense matrix would hold {} rows x {} features, more than {} values per "
                                  "byte of this {}-byte file: is an index (or LibsvmOptions::features) wrong?",
                                  d.rows, d.features, kValuesPerByte, text.size()));
  d.x.assign(static_cast<std::size_t>(dense), 0.0f);
  for (Index i = 0; i < d.rows; ++i) {
    float* row = d.x.data() + i * d.features;
    for (std::size_t k = begin[static_cast<std::size_t>(i)]; k < begin[static_cast<std::size_t>(i) + 1]; ++k)
      row[indices[k]] = values[k];
  }
  d.y = std::move(labels);
  d.validate();
  return d;
}

}  // namespace descent::data
