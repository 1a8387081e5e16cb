// sigquit.cpp -- GMP_DEBUG=sigquit=1: SIGQUIT (Ctrl-\) prints every
// goroutine to stderr and exits with status 2, as a Go program does.
//
// Opt-in, because a library must not take a signal its host may use: without
// the flag SIGQUIT keeps whatever disposition the program gave it. With it,
// the handler is installed once per process at runtime start-up (a later
// gmp_shutdown leaves it: the process asked for it) and replaces any
// earlier handler.
//
// The handler runs on whichever thread the signal lands on, possibly one
// that holds a runtime lock. It therefore only writes (traceback.cpp's Out),
// tries sched.allg_lock for a bounded time instead of waiting for it
// (AllgLock::try_only; without it only the interrupted goroutine is shown),
// and ends with _exit(2): no atexit handlers, no destructors, nothing that
// could wait on a lock the interrupted code holds. The output is what
// gmp_dump writes, after Go's first line ("SIGQUIT: quit").
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

#include "debug.hpp"
#include "env.hpp"
#include "traceback.hpp"

namespace gmprt {

namespace {

std::atomic<bool> installed{false};

void sigquit_handler(int) {
  static const char head[] = "SIGQUIT: quit\n\n";
  ssize_t w = write(2, head, sizeof head - 1);
  (void)w;
  dump_goroutines(2, AllgLock::try_only);
  _exit(2);
}

}  // namespace

void sigquit_install() {
  if (!debug_vars.sigquit) return;
  // Relaxed: only the flag's own value matters (one installer wins); the
  // sigaction below is the synchronisation that counts, done by the kernel.
  if (installed.exchange(true, std::memory_order_relaxed)) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigquit_handler;
  sigfillset(&sa.sa_mask);  // no other signal handler runs in the middle of the dump
  sa.sa_flags = SA_ONSTACK | SA_RESTART;
  sigaction(SIGQUIT, &sa, nullptr);
}

}  // namespace gmprt
