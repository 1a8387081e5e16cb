// wait_until.hpp -- bounded polling for the black-box tests.
//
// No test passes or fails on timing. A test waits for a condition that must
// become true (liveness) with wait_until(pred), whose bound is generous (tens
// of seconds; four times longer under sanitizers) and only there so that a
// hang fails one assertion instead of the whole run. Never assert that
// something happened "within N ms".
//
// wait_until works on goroutines and on plain threads: on a goroutine it
// polls with gmp_yield (so the goroutine gives its P to others and a test
// with GOMAXPROCS=1 still makes progress); on a plain thread it backs off
// from sched_yield to short sleeps.
#pragma once

#include <gmprt.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <thread>

namespace gmprt_test {

#if defined(GMPRT_TEST_SANITIZED)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

#if defined(GMPRT_TSAN)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif

// sized: a goroutine count for a test, smaller under TSan, which counts
// every goroutine (fiber) as a thread and dies past 8128 live ones.
constexpr int sized(int normal, int under_tsan) { return kTsan ? under_tsan : normal; }

// kLiveness: how long a test waits for something that must happen.
inline constexpr std::chrono::milliseconds kLiveness{kSanitized ? 120000 : 30000};

// wait_until: poll pred() until it returns true or timeout passes; returns
// the last value of pred(). Liveness only: never use it to measure time.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout = kLiveness) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool on_goroutine = gmp_self() != nullptr;
  for (unsigned i = 0;; i++) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    if (on_goroutine) {
      gmp_yield();
    } else if (i < 64) {
      sched_yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(i < 1024 ? 100 : 1000));
    }
  }
}

// spin_until: like wait_until, but never yields the P or the thread. Used
// by tests that must keep their thread busy (for example to force another P
// to steal work); only for conditions that other threads make true.
template <class Pred>
bool spin_until(Pred&& pred, std::chrono::milliseconds timeout = kLiveness) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (unsigned i = 0;; i++) {
    if (pred()) return true;
    if ((i & 1023) == 0 && std::chrono::steady_clock::now() >= deadline) return pred();
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

}  // namespace gmprt_test
