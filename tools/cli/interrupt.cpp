#include "interrupt.hpp"

#include <signal.h>

namespace descent::cli {
namespace {

std::atomic<bool> interrupted{false};
volatile sig_atomic_t received = 0;
struct sigaction previous_int {}, previous_term {};

static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");

extern "C" void on_signal(int signo) {
  received = signo;
  interrupted.store(true, std::memory_order_relaxed);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  interrupted.store(false);
  received = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: the first signal puts back the default action, so a
  // second one ends a process that is slow to stop.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

const std::atomic<bool>& InterruptGuard::flag() const { return interrupted; }

int InterruptGuard::signal() const { return received; }

const char* InterruptGuard::signal_name() const {
  switch (received) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace descent::cli
