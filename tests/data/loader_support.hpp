// Shared by the loader tests: writing files, catching a parse_error, and a
// deterministic fuzz loop of mutated files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <typeinfo>

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

}  // namespace descent::data::testing
