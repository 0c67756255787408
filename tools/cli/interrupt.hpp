// A graceful stop for long runs: while an InterruptGuard lives, the first
// SIGINT or SIGTERM sets its flag, which the trainer and the solvers poll
// between steps, and the second one ends the process at once (the default
// action, restored by the first). The caller reports the signal and exits
// with 128 + its number: 130 for SIGINT, 143 for SIGTERM.
#pragma once

#include <atomic>

namespace descent::cli {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  const std::atomic<bool>& flag() const;
  // The signal that set the flag (SIGINT or SIGTERM), 0 before one came.
  int signal() const;
  // "SIGINT", "SIGTERM".
  const char* signal_name() const;
};

}  // namespace descent::cli
