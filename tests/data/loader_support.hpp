// Shared by the loader tests: writing files, catching a parse_error, and a
// deterministic fuzz loop of mutated files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "descent/core/error.hpp"
#include "descent/core/random.hpp"
#include "descent/data/dataset.hpp"

namespace descent::data::testing {

// (An existing file is removed first: truncating one makes ext4 flush it to
// disk, some milliseconds each time, which the fuzz loops would feel.)
inline std::string write_file(const std::filesystem::path& path, const std::string& content) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  std::ofstream out(path, std::ios::binary);
  out << content;
  out.close();
  return path.string();
}

// The whole content of a file.
inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The parse_error `load` throws (a failure if it throws nothing or another
// type).
inline std::optional<parse_error> parse_error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const parse_error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected descent::parse_error, caught " << typeid(e).name() << ": " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << "expected descent::parse_error, nothing was thrown";
  return std::nullopt;
}

// A RowSelector (dataset.hpp) that keeps `keep` and records how often it
// was called and with what row count. It must outlive the selector.
struct RecordingSelector {
  std::vector<Index> keep;
  Index rows = -1;  // the count of the last call
  int calls = 0;
  RowSelector selector() {
    return [this](Index n) {
      rows = n;
      ++calls;
      return keep;
    };
  }
};

// `got` holds what `want` holds: the same shape, values, names and source.
inline void expect_same_data(const Dataset& got, const Dataset& want) {
  EXPECT_NO_THROW(got.validate());
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.features, want.features);
  EXPECT_EQ(got.targets, want.targets);
  EXPECT_EQ(got.x, want.x);
  EXPECT_EQ(got.y, want.y);
  EXPECT_EQ(got.feature_names, want.feature_names);
  EXPECT_EQ(got.source, want.source);
}

// `text` with one random change: cut short, a byte replaced (often by a
// character that matters to the format), a byte inserted or removed, or a
// stretch repeated.
inline std::string mutate(std::string text, Rng& rng) {
  static const std::string kSpecial = std::string(",:;\"#\n\r\t .-+eE0019nNaA") + '\0' + "\xff\x80";
  const auto n = static_cast<Index>(text.size());
  auto at = [&](Index size) { return static_cast<std::size_t>(size > 0 ? rng.below(size) : 0); };
  auto some_byte = [&] {
    return rng.below(2) == 0 ? kSpecial[static_cast<std::size_t>(rng.below(static_cast<Index>(kSpecial.size())))]
                             : static_cast<char>(rng.below(256));
  };
  switch (rng.below(6)) {
    case 0:  // truncate
      text.resize(at(n + 1));
      break;
    case 1:  // flip one byte
    case 2:
      if (n > 0) text[at(n)] = some_byte();
      break;
    case 3:  // insert a byte
      text.insert(text.begin() + static_cast<std::ptrdiff_t>(at(n + 1)), some_byte());
      break;
    case 4:  // remove a byte
      if (n > 0) text.erase(at(n), 1);
      break;
    default: {  // repeat a stretch
      if (n == 0) break;
      const std::size_t from = at(n);
      const std::size_t length = std::min<std::size_t>(text.size() - from, at(64) + 1);
      text.insert(at(n + 1), text.substr(from, length));
    }
  }
  return text;
}

// Runs `load` on `runs` mutations of `valid` (seeded, so a failure repeats):
// each either returns a Dataset that validates or throws parse_error or
// invalid_argument. Returns how many loaded, so that a test can check the
// loop exercised both outcomes.
inline int fuzz(const std::string& valid, int runs, std::uint64_t seed,
                const std::function<Dataset(const std::string& content)>& load) {
  Rng rng(seed);
  int loaded = 0;
  for (int run = 0; run < runs; ++run) {
    std::string content = mutate(valid, rng);
    if (rng.below(3) == 0) content = mutate(std::move(content), rng);  // some get two changes
    try {
      const Dataset d = load(content);
      d.validate();
      ++loaded;
    } catch (const parse_error&) {
    } catch (const descent::invalid_argument&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "run " << run << ": " << typeid(e).name() << ": " << e.what();
    }
  }
  return loaded;
}

// Runs `load` on `runs` mutations of `valid` (seeded) with and without a
// selector that keeps every other row from the second: either both throw
// the same error (same type and message), or the selection is exactly
// subset() of the whole. Returns how many loaded.
inline int fuzz_selection(const std::string& valid, int runs, std::uint64_t seed,
                          const std::function<Dataset(const std::string& content, const RowSelector& rows)>& load) {
  Rng rng(seed);
  int loaded = 0;
  auto outcome = [&](const std::string& content, const RowSelector& rows, Dataset& d) -> std::string {
    try {
      d = load(content, rows);
      return {};
    } catch (const parse_error& e) {
      return std::string("parse_error: ") + e.what();
    } catch (const std::exception& e) {
      return std::string(typeid(e).name()) + ": " + e.what();
    }
  };
  std::vector<Index> kept;
  const RowSelector every_other = [&](Index n) {
    kept.clear();
    for (Index i = 1; i < n; i += 2) kept.push_back(i);
    return kept;
  };
  for (int run = 0; run < runs; ++run) {
    std::string content = mutate(valid, rng);
    if (rng.below(3) == 0) content = mutate(std::move(content), rng);
    Dataset all, some;
    const std::string plain = outcome(content, {}, all);
    const std::string selected = outcome(content, every_other, some);
    EXPECT_EQ(selected, plain) << "run " << run;
    if (!plain.empty() || !selected.empty()) continue;
    SCOPED_TRACE("run " + std::to_string(run));
    expect_same_data(some, subset(all, kept));
    ++loaded;
  }
  return loaded;
}

}  // namespace descent::data::testing
