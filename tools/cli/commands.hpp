// The subcommands of the descent tool. Each file turns flags into the
// library's options structs and prints results; nothing more.
#pragma once

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "descent/core/memory.hpp"

namespace descent::cli {

// A mistake in the command line: reported with exit status 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Ends the program with this exit status after a command has reported
// its outcome (a training run that diverged exits with 1).
struct exit_status {
  int code;
};

// Refuses, before anything is allocated, a run that needs more than
// `fraction` of this machine's physical memory: "WHAT needs about X GiB;
// this machine has Y GiB".
inline void require_memory(double bytes, double fraction, const std::string& what) {
  const double available = descent::detail::memory_limit_bytes();
  if (bytes > fraction * available)
    throw usage_error(fmt::format("{} needs about {:.1f} GiB; this machine has {:.1f} GiB", what,
                                  bytes / double(1ull << 30), available / double(1ull << 30)));
}

// The command line as given, argv[0] first (main records it), for messages
// that tell the user what to run next.
// A warning on stderr: the run goes on.
inline void warn(const std::string& message) { fmt::print(stderr, "descent: warning: {}\n", message); }

inline std::vector<std::string>& command_line() {
  static std::vector<std::string> words;
  return words;
}

// A word of a command line as a POSIX shell reads it back: as it is when
// it holds no character the shell treats specially, else in single quotes.
inline std::string shell_word(const std::string& w) {
  const bool plain = !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789-_=.,:/+@%") == std::string::npos;
  if (plain) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + '\'';
}

// Registers `descent minimize` on app; the returned callable runs it after parsing.
void add_minimize(CLI::App& app);
// Registers `descent bench step` and `descent bench model`.
void add_bench(CLI::App& app);
// Registers `descent train` and `descent evaluate`.
void add_train(CLI::App& app);
void add_evaluate(CLI::App& app);
// Registers `descent plot`.
void add_plot(CLI::App& app);
// Registers `descent lr-find`.
void add_lr_find(CLI::App& app);
// Registers `descent tune`.
void add_tune(CLI::App& app);
// Registers `descent race`.
void add_race(CLI::App& app);

}  // namespace descent::cli
