#include "descent/data/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "descent/core/error.hpp"
#include "text.hpp"

namespace descent::data {
namespace {

using detail::shown;

bool is_blank(char c, char delimiter) { return (c == ' ' || c == '\t') && c != delimiter; }

std::string_view trim_blanks(std::string_view s, char delimiter) {
  while (!s.empty() && is_blank(s.front(), delimiter)) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back(), delimiter)) s.remove_suffix(1);
  return s;
}

bool is_missing(std::string_view field) {
  auto lower_equals = [&](std::string_view word) {
    return field.size() == word.size() && std::equal(field.begin(), field.end(), word.begin(), [](char a, char b) {
             return (a >= 'A' && a <= 'Z' ? char(a - 'A' + 'a') : a) == b;
           });
  };
  return field.empty() || lower_equals("na") || lower_equals("nan");
}

// The fields of one line. Views point into `line`, or into `storage` for a
// quoted field with "" escapes (a deque: its elements never move).
class Splitter {
 public:
  Splitter(const std::string& path, char delimiter) : path_(path), delimiter_(delimiter) {}

  const std::vector<std::string_view>& split(std::string_view line, std::int64_t line_number) {
    fields_.clear();
    storage_.clear();
    std::size_t pos = 0;
    const std::size_t n = line.size();
    for (;;) {
      const auto column = fields_.size() + 1;
      std::size_t start = pos;
      while (start < n && is_blank(line[start], delimiter_)) ++start;
      if (start < n && line[start] == '"') {
        std::size_t at = start + 1;
        std::string unescaped;
        bool escaped = false;
        std::size_t close = 0;
        for (;;) {
          const std::size_t quote = line.find('"', at);
          if (quote == std::string_view::npos)
            throw parse_error(path_, line_number,
                              fmt::format("column {}: expected a closing quote, found the end of the line "
                                          "(a quoted field cannot span lines)",
                                          column));
          if (quote + 1 < n && line[quote + 1] == '"') {  // "" stands for one quote
            unescaped.append(line.substr(at, quote + 1 - at));
            escaped = true;
            at = quote + 2;
            continue;
          }
          unescaped.append(line.substr(at, quote - at));
          close = quote;
          break;
        }
        if (escaped) {
          storage_.push_back(std::move(unescaped));
          fields_.push_back(storage_.back());
        } else {
          fields_.push_back(line.substr(start + 1, close - start - 1));
        }
        pos = close + 1;
        while (pos < n && is_blank(line[pos], delimiter_)) ++pos;
        if (pos == n) break;
        if (line[pos] != delimiter_)
          throw parse_error(path_, line_number,
                            fmt::format("column {}: expected the delimiter {} after the closing quote, found {}",
                                        column, shown(std::string_view(&delimiter_, 1)), shown(line.substr(pos, 20))));
        ++pos;
      } else {
        const std::size_t end = line.find(delimiter_, start);
        const std::size_t stop = end == std::string_view::npos ? n : end;
        fields_.push_back(trim_blanks(line.substr(start, stop - start), delimiter_));
        if (end == std::string_view::npos) break;
        pos = end + 1;
      }
      if (pos == n) {  // a delimiter at the end: one more, empty, field
        fields_.push_back({});
        break;
      }
    }
    return fields_;
  }

 private:
  const std::string& path_;
  char delimiter_;
  std::vector<std::string_view> fields_;
  std::deque<std::string> storage_;
};

bool looks_numeric_or_missing(std::string_view field) {
  if (is_missing(field)) return true;
  const char* why = nullptr;
  // A value out of range or infinite still reads as a number, not a name.
  return detail::parse_float(field, &why).has_value() || why != nullptr;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (k == 12) {
      out += fmt::format(", ... ({} in all)", names.size());
      break;
    }
    if (k > 0) out += ", ";
    out += shown(names[k]);
  }
  return out;
}

struct Row {
  std::string_view line;
  std::int64_t number = 0;
};

}  // namespace

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  DESCENT_REQUIRE(options.delimiter != '"' && options.delimiter != '\r' && options.delimiter != '\n',
                  fmt::format("CsvOptions::delimiter = {}, must not be a quote or a line break",
                              shown(std::string_view(&options.delimiter, 1))));
  const std::string text = detail::read_file(path);
  std::string_view rest = text;
  if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);  // UTF-8 byte order mark
  if (rest.empty()) throw parse_error(path, 1, "expected a header or a data row, found an empty file");

  Splitter splitter(path, options.delimiter);
  std::size_t pos = 0;
  std::int64_t line_number = 0;
  // The next line that is not blank.
  auto next_row = [&](Row& row) {
    std::string_view line;
    while (detail::next_line(rest, pos, line)) {
      ++line_number;
      if (!trim_blanks(line, options.delimiter).empty()) {
        row = {line, line_number};
        return true;
      }
    }
    return false;
  };

  Row first;
  if (!next_row(first)) throw parse_error(path, line_number, "expected a header or a data row, found only blank lines");
  const std::vector<std::string_view>& first_fields = splitter.split(first.line, first.number);
  const auto columns = static_cast<Index>(first_fields.size());

  bool has_header = options.header == CsvHeader::yes;
  if (options.header == CsvHeader::automatic) {
    has_header = !std::all_of(first_fields.begin(), first_fields.end(), looks_numeric_or_missing);
    // Names are rarely numbers: a "header" holding some is more likely a
    // data row with a typo in it.
    const auto numbers = std::count_if(first_fields.begin(), first_fields.end(), [](std::string_view field) {
      return !is_missing(field) && looks_numeric_or_missing(field);
    });
    if (has_header && numbers > 0 && options.warn) {
      const auto odd = std::find_if_not(first_fields.begin(), first_fields.end(), looks_numeric_or_missing);
      options.warn(fmt::format("{}:{}: the first row is read as a header, but {} of its {} fields are numbers; if it "
                               "is a data row with a typo ({} in column {}), fix the file: a header is not trained on",
                               path, first.number, numbers, first_fields.size(), shown(*odd),
                               odd - first_fields.begin() + 1));
    }
  }
  std::vector<std::string> names;
  if (has_header) names.assign(first_fields.begin(), first_fields.end());

  if (columns < 2)
    throw parse_error(path, first.number,
                      fmt::format("expected at least 2 columns (features and a label), found {}", columns));

  // The label column.
  Index label = columns - 1;
  if (!options.label_column.empty()) {
    const std::string& wanted = options.label_column;
    std::vector<Index> matches;
    for (Index c = 0; c < static_cast<Index>(names.size()); ++c)
      if (names[static_cast<std::size_t>(c)] == wanted) matches.push_back(c);
    if (matches.size() > 1)
      throw parse_error(path, first.number,
                        fmt::format("label_column = {} names {} columns of the header (columns {} and {})",
                                    shown(wanted), matches.size(), matches[0] + 1, matches[1] + 1));
    if (matches.size() == 1) {
      label = matches[0];
    } else if (all_digits(wanted)) {
      const bool fits = wanted.size() <= 18;
      const Index index = fits ? static_cast<Index>(std::stoll(wanted)) : std::numeric_limits<Index>::max();
      if (index >= columns)
        throw parse_error(path, first.number,
                          fmt::format("label_column = {} is out of range: the file has {} columns "
                                      "(0-based indices 0..{})",
                                      shown(wanted), columns, columns - 1));
      label = index;
    } else if (has_header) {
      throw parse_error(path, first.number,
                        fmt::format("label_column = {} is neither a 0-based column index nor a name in the "
                                    "header; the header names {}",
                                    shown(wanted), list_names(names)));
    } else {
      throw parse_error(path, first.number,
                        fmt::format("label_column = {} is not a 0-based column index, and the file has no "
                                    "header row to name it",
                                    shown(wanted)));
    }
  }

  auto column_name = [&](Index c) {
    std::string s = fmt::format("column {}", c + 1);
    if (has_header) s += fmt::format(" ({})", shown(names[static_cast<std::size_t>(c)]));
    if (c == label) s += has_header ? " (the label)" : " (label)";
    return s;
  };

  Dataset d;
  d.features = columns - 1;
  d.targets = 1;
  d.source = path;
  if (has_header) {
    for (Index c = 0; c < columns; ++c)
      if (c != label) d.feature_names.push_back(names[static_cast<std::size_t>(c)]);
  }

  // The rows to keep (options.rows), chosen from the count of data rows
  // before any is stored: a cheap pass over the rest of the text counts the
  // lines that are not blank (as next_row does), plus the first row when it
  // is data. Without a selector, every row is kept and nothing is counted.
  const bool selecting = static_cast<bool>(options.rows);
  std::vector<Index> kept;
  if (selecting) {
    Index data_rows = has_header ? 0 : 1;
    std::size_t at = pos;
    std::string_view line;
    while (detail::next_line(rest, at, line))
      if (!trim_blanks(line, options.delimiter).empty()) ++data_rows;
    kept = select_rows(options.rows, data_rows, path);
  }
  Index seen = 0;       // the data rows read so far, kept or not
  std::size_t next = 0;  // the first entry of `kept` not yet read

  // Imputation bookkeeping, per feature: the sum and count of the present
  // values and the first line with a missing one, over every row (kept or
  // not, so that the means are the whole file's), and where the missing
  // ones of the kept rows are.
  std::vector<double> sum(static_cast<std::size_t>(d.features), 0.0);
  std::vector<std::int64_t> present(static_cast<std::size_t>(d.features), 0);
  std::vector<std::int64_t> first_missing_line(static_cast<std::size_t>(d.features), 0);
  std::vector<std::size_t> missing_slots;
  bool any_missing = false;

  // Parses and checks every row; stores the values of the kept ones.
  auto read_data_row = [&](const Row& row, const std::vector<std::string_view>& fields) {
    const bool keep = !selecting || (next < kept.size() && kept[next] == seen);
    if (static_cast<Index>(fields.size()) != columns)
      throw parse_error(path, row.number,
                        fmt::format("expected {} fields like the first row, found {}", columns, fields.size()));
    for (Index c = 0; c < columns; ++c) {
      const std::string_view field = fields[static_cast<std::size_t>(c)];
      const Index feature = c < label ? c : c - 1;
      if (is_missing(field)) {
        if (c == label)
          throw parse_error(path, row.number,
                            fmt::format("{}: expected a number, found the missing value {} "
                                        "(the label column is never imputed)",
                                        column_name(c), shown(field)));
        if (options.missing == CsvMissing::reject)
          throw parse_error(path, row.number,
                            fmt::format("{}: expected a number, found the missing value {} "
                                        "(CsvOptions::missing = impute_mean would fill it in)",
                                        column_name(c), shown(field)));
        const auto f = static_cast<std::size_t>(feature);
        if (first_missing_line[f] == 0) first_missing_line[f] = row.number;
        any_missing = true;
        if (keep) {
          missing_slots.push_back(d.x.size());
          d.x.push_back(0.0f);
        }
        continue;
      }
      const char* why = nullptr;
      const std::optional<float> value = detail::parse_float(field, &why);
      if (!value)
        throw parse_error(path, row.number,
                          fmt::format("{}: expected a {}number, found {}{}", column_name(c), why ? "finite " : "",
                                      shown(field), why ? fmt::format(" ({})", why) : std::string()));
      if (c == label) {
        if (keep) d.y.push_back(*value);
      } else {
        sum[static_cast<std::size_t>(feature)] += *value;
        ++present[static_cast<std::size_t>(feature)];
        if (keep) d.x.push_back(*value);
      }
    }
    ++seen;
    if (keep) {
      ++d.rows;
      ++next;
    }
  };

  if (!has_header) read_data_row(first, first_fields);
  Row row;
  while (next_row(row)) read_data_row(row, splitter.split(row.line, row.number));

  // A file without data rows is an error; a selector that keeps none of
  // them is not.
  if (seen == 0) throw parse_error(path, line_number, "expected data rows after the header, found none");

  // Checked when any row misses a value, kept or not, so that a column
  // that is missing throughout fails alike whatever is kept.
  if (any_missing) {
    std::vector<float> mean(static_cast<std::size_t>(d.features), 0.0f);
    for (std::size_t f = 0; f < mean.size(); ++f) {
      if (first_missing_line[f] == 0) continue;
      if (present[f] == 0) {
        const Index c = static_cast<Index>(f) < label ? static_cast<Index>(f) : static_cast<Index>(f) + 1;
        throw parse_error(path, first_missing_line[f],
                          fmt::format("{}: every value is missing, so there is no mean to impute", column_name(c)));
      }
      mean[f] = static_cast<float>(sum[f] / static_cast<double>(present[f]));
    }
    for (const std::size_t slot : missing_slots) d.x[slot] = mean[slot % static_cast<std::size_t>(d.features)];
  }
  d.validate();
  return d;
}

}  // namespace descent::data
