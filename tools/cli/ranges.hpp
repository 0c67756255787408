// Range checks for the numeric flags. CLI11 alone saturates an integer
// beyond its type (an epoch count of 10^21 became 2^63 - 1), wraps a
// negative value into an unsigned one and takes "nan" for a double; each
// numeric flag instead gets one of these validators, which reads the whole
// text as a number of the flag's kind and refuses it, naming the flag and
// the range, unless it lies within the range:
//
//   cmd->add_option("--epochs", f.epochs, "...")->transform(integer_in<Index>(1, 1'000'000'000));
//   cmd->add_option("--lr", f.lr, "...")->check(number_in(0, infinity));
//
// (integer_in is a transform: it rewrites "1e6" as "1000000" for CLI11.)
//
// tests/cli/flag_range_test.cpp feeds every numeric flag of every
// subcommand (read from --help) values beyond any range.
#pragma once

#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace descent::cli {

// The most threads --threads may ask for. Far above the cores of any one
// machine; beyond some thousands the OpenMP runtime fails to create its
// threads and ends the process.
inline constexpr int max_threads = 1024;

inline constexpr double infinity = std::numeric_limits<double>::infinity();

namespace range_detail {

// A bound for a message: 1000000000 rather than 1e+09, "no limit" for infinity.
inline std::string bound(double v) {
  if (std::isinf(v)) return v > 0 ? "infinity" : "-infinity";
  if (v == std::floor(v) && std::abs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

// The whole text as a finite double, or false.
inline bool whole_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace range_detail

// An integer from lo to hi. The text is an integer ("5000") or a number
// written with an exponent that is a whole number ("1e6"); nothing else.
template <std::integral T>
CLI::Validator integer_in(T lo, T hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        const auto range = fmt::format("must be a whole number from {} to {}", lo, hi);
        T value{};
        const char* first = text.data() + (text.starts_with('+') ? 1 : 0);
        const char* last = text.data() + text.size();
        const auto [at, error] = std::from_chars(first, last, value);
        if (error == std::errc() && at == last && first != last) {
          if (value < lo || value > hi) return fmt::format("{}; got {}", range, text);
          return "";
        }
        double d = 0;
        if (error != std::errc::result_out_of_range && range_detail::whole_double(text, d) && d == std::floor(d) &&
            d >= double(lo) && d <= double(hi) && std::abs(d) <= 0x1p53) {
          text = fmt::format("{:.0f}", d);  // CLI11 then reads it exactly
          return "";
        }
        return fmt::format("{}; got '{}'", range, text);
      },
      fmt::format("{}..{}", lo, hi), "integer_in");
}

// A finite number from lo to hi (a bound that is infinite leaves that side
// open but the value must still be finite); with `above_lo`, greater than lo.
inline CLI::Validator number_in(double lo, double hi, bool above_lo = false) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const auto range =
            std::isinf(hi)
                ? fmt::format("must be a finite number {} {}", above_lo ? ">" : ">=", range_detail::bound(lo))
                : fmt::format("must be a finite number from {} to {}{}", range_detail::bound(lo), range_detail::bound(hi),
                              above_lo ? fmt::format(" (not {})", range_detail::bound(lo)) : "");
        double value = 0;
        if (!range_detail::whole_double(text, value) || value < lo || value > hi || (above_lo && value == lo))
          return fmt::format("{}; got '{}'", range, text);
        return "";
      },
      std::isinf(hi) ? fmt::format("{}{}", above_lo ? ">" : ">=", range_detail::bound(lo))
                     : fmt::format("{}..{}", range_detail::bound(lo), range_detail::bound(hi)),
      "number_in");
}

// `inner`, or the one word `word` ("auto").
inline CLI::Validator or_word(CLI::Validator inner, std::string word) {
  const std::string description = fmt::format("{} or {}", inner.get_description(), word);
  return CLI::Validator(
      [inner, word](std::string& text) -> std::string { return text == word ? std::string() : inner(text); },
      description, "or_word");
}

// --threads: 0 (the default: OMP_NUM_THREADS or every core) up to max_threads.
inline CLI::Validator thread_count() { return integer_in<int>(0, max_threads); }

}  // namespace descent::cli
