#include "descent/data/bounds_file.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "descent/core/error.hpp"
#include "text.hpp"

namespace descent::data {
std::optional<double> parse_bound(std::string_view text) {
  if (text == "inf" || text == "+inf" || text == "Inf" || text == "infinity") return Bounds::inf;
  if (text == "-inf" || text == "-Inf" || text == "-infinity") return -Bounds::inf;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || std::isnan(v)) return std::nullopt;
  return v;
}

Bounds read_bounds_file(const std::string& path, Index n) {
  const std::string text = detail::read_file(path);
  Bounds b = Bounds::none(n);
  Index count = 0;
  std::size_t pos = 0;
  std::string_view line;
  std::int64_t line_number = 0;
  while (detail::next_line(text, pos, line)) {
    ++line_number;
    const std::string_view row = detail::trim(line);
    if (row.empty() || row.front() == '#') continue;
    // Two fields separated by a comma or by spaces and tabs.
    std::size_t cut = row.find(',');
    std::string_view lo_text, hi_text;
    if (cut != std::string_view::npos) {
      lo_text = detail::trim(row.substr(0, cut));
      hi_text = detail::trim(row.substr(cut + 1));
    } else {
      cut = row.find_first_of(" \t");
      if (cut != std::string_view::npos) {
        lo_text = row.substr(0, cut);
        hi_text = detail::trim(row.substr(cut + 1));
      }
    }
    const auto lo = parse_bound(lo_text), hi = parse_bound(hi_text);
    if (!lo || !hi)
      throw parse_error(path, line_number,
                        fmt::format("expected two bounds 'LO HI' or 'LO,HI' (numbers, inf or -inf), found {}",
                                    detail::shown(row)));
    if (*lo > *hi || *lo == Bounds::inf || *hi == -Bounds::inf)
      throw parse_error(path, line_number, fmt::format("the bounds of variable {} are empty: [{}, {}]", count, *lo, *hi));
    if (count == n)
      throw parse_error(path, line_number, fmt::format("more pairs than the problem's {} variables", n));
    b.lower[count] = *lo;
    b.upper[count] = *hi;
    ++count;
  }
  if (count != n)
    throw parse_error(path, line_number, fmt::format("found {} pairs of bounds; the problem has {} variables", count, n));
  return b;
}

}  // namespace descent::data
