// Background runs of the command-line tool, for the tests that signal one,
// and waiting for what such a test needs to see (a file, a log line) rather
// than for a time: a test that sleeps a fixed time before a signal passes or
// fails with the machine's speed.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

extern char** environ;

namespace descent::testing {

// The whole content of a file ("" when it cannot be opened).
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// How long wait_until waits before it gives up. It fails a test only when
// what it waits for never comes at all (a hang, a crash, a broken
// feature), so it is far longer than any run needs on a slow machine.
inline constexpr std::chrono::seconds patience{300};

// Polls `ready` until it returns true (then returns true) or `limit` has
// passed (then false). The pause between polls grows from 50 us to
// `longest_pause`, so a short event is seen soon and a long wait costs little.
template <class Ready>
bool wait_until(Ready&& ready, std::chrono::steady_clock::duration limit = patience,
                std::chrono::microseconds longest_pause = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto pause = std::min(std::chrono::microseconds(50), longest_pause);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, longest_pause);
  }
  return true;
}

#ifdef DESCENT_CLI
// `descent ARGS > OUT 2>&1` started in the background (the shell execs the
// tool, so the pid is the tool's own); -1 when it could not be started.
inline pid_t start_cli(const std::string& args, const std::string& out) {
  const std::string command = "exec " + std::string(DESCENT_CLI) + " " + args + " > " + out + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return -1;
  return pid;
}
#endif

// Waits for a child to end; its exit status, or minus the signal that ended it.
inline int wait_for_exit(pid_t pid) {
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -WTERMSIG(raw);
}

}  // namespace descent::testing
