// Exceptions for misuse and bad input. The outcome of a run is never an
// exception: it is a Result with a Status (see result.hpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace descent {

// Misuse at the API boundary: an invalid option or mismatched sizes. The
// message names the field, its value and the constraint it breaks.
class invalid_argument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A file that cannot be read as what it claims to be. The message names the
// path, the line (or byte offset), what was expected and what was found.
class parse_error : public std::runtime_error {
 public:
  parse_error(std::string path, std::int64_t line, const std::string& what_happened)
      : std::runtime_error(path + ":" + std::to_string(line) + ": " + what_happened),
        path_(std::move(path)),
        line_(line) {}
  const std::string& path() const noexcept { return path_; }
  std::int64_t line() const noexcept { return line_; }

 private:
  std::string path_;
  std::int64_t line_;
};

// Throws descent::invalid_argument with `message` unless `condition` holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw invalid_argument(message);
}

}  // namespace descent

// require() for hot paths: the message is built only when the check fails, so
// a passing check allocates nothing.
#define DESCENT_REQUIRE(condition, message)                                      \
  do {                                                                           \
    if (!(condition)) throw ::descent::invalid_argument(message);                \
  } while (false)

// Internal invariants: checked in debug and sanitizer builds, free in release.
#if !defined(NDEBUG) || defined(DESCENT_ENABLE_ASSERTS)
#include <cstdio>
#include <cstdlib>
#define DESCENT_ASSERT(cond)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: descent internal error: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)
#else
#define DESCENT_ASSERT(cond) ((void)0)
#endif
