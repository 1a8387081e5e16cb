// futex.hpp -- the Linux futex calls the runtime sleeps on.
//
// Blocks the M (the OS thread). Used only by note.hpp, lock.hpp and the
// plain-thread parker; nothing else in core/ sleeps on a futex directly.
#pragma once

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace gmprt {

// futex_wait: sleep while *addr == val, at most ns nanoseconds (ns < 0:
// forever). Returns early on a wakeup, a signal or a spurious wakeup: callers
// re-check their condition in a loop.
inline void futex_wait(std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) {
  struct timespec ts;
  struct timespec* tsp = nullptr;
  if (ns >= 0) {
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    tsp = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, tsp, nullptr, 0);
}

// futex_wake: wake at most n threads sleeping on addr.
inline void futex_wake(std::atomic<uint32_t>* addr, int n) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

// nanotime: CLOCK_MONOTONIC in nanoseconds.
inline int64_t nanotime() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// nanotime_coarse: CLOCK_MONOTONIC_COARSE in nanoseconds: a few ns to read
// (no hardware clock access), a few ms of resolution. For statistics that
// hot paths record (a G's waitsince), never for deadlines.
inline int64_t nanotime_coarse() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace gmprt
