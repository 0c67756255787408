// Runs the descent command-line tool as a user would, for the CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace descent::testing {

struct CliRun {
  int status;
  std::string out;  // stdout and stderr together
};

// A shell command line as given, its exit status and what it printed on
// stdout (add 2>&1 to the command for stderr too).
inline CliRun run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, ""};
  std::string out;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int raw = pclose(pipe);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

// `descent ARGS` through the shell (DESCENT_CLI is the binary's path).
inline CliRun run_cli(const std::string& args) { return run_command(std::string(DESCENT_CLI) + " " + args + " 2>&1"); }

// `sh -c 'SETUP; exec descent ARGS'`: the tool under a limit that SETUP
// sets (ulimit -f, ulimit -v), its stdout and stderr together.
inline CliRun run_shell_cli(const std::string& setup, const std::string& args) {
  const std::string script = setup + "; exec " + std::string(DESCENT_CLI) + " " + args + " 2>&1";
  std::string quoted = "'";
  for (const char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return run_command("sh -c " + quoted + "'");
}

}  // namespace descent::testing
