// lock.hpp -- the runtime's internal mutex (Go's lock_futex.go).
//
// Blocks the M, never only the G: a goroutine that takes a Lock keeps its
// thread while it waits. So a Lock is held only for short critical sections
// and never across a context switch (the park commit callback is the one
// place a lock taken on a goroutine is released on g0).
//
// States of key: 0 unlocked, 1 locked, 2 locked with possible sleepers.
// lock(): exchange to 1; if it was unlocked we own it. Otherwise spin a
// little (the owner is probably running on another CPU), then exchange to 2
// and sleep on the futex while the value is 2. unlock(): exchange to 0; if
// it was 2 somebody may sleep, wake one. The woken thread re-takes the lock
// with state 2 (it cannot know whether others still sleep).
#pragma once

#include <sched.h>
#include <stdint.h>

#include <atomic>

#include "atomic.hpp"
#include "config.hpp"
#include "futex.hpp"

namespace gmprt {

class Lock {
 public:
  void lock() {
    // Acquire: the critical section's reads see the previous holder's writes
    // (pairs with the Release exchange in unlock).
    uint32_t v = key_.exchange(1, std::memory_order_acquire);
    if (v == 0) return;
    lock_slow(v);
  }

  bool try_lock() {
    uint32_t expected = 0;
    // Acquire on success, as in lock(); a failed try observes nothing.
    return key_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed);
  }

  void unlock() {
    // Release: publishes the critical section to the next owner.
    if (key_.exchange(0, std::memory_order_release) == 2) futex_wake(&key_, 1);
  }

  bool held() const { return key_.load(std::memory_order_relaxed) != 0; }

 private:
  void lock_slow(uint32_t wait) {
    // wait is 1 or 2: the state to restore if we take the lock while spinning
    // (2 if we ever slept, since others may sleep too).
    for (;;) {
      for (int i = 0; i < kLockActiveSpin; i++) {
        while (key_.load(std::memory_order_relaxed) == 0) {
          uint32_t expected = 0;
          // Acquire on success: as in lock().
          if (key_.compare_exchange_weak(expected, wait, std::memory_order_acquire,
                                         std::memory_order_relaxed))
            return;
        }
        procyield(kLockActiveSpinCount);
      }
      for (int i = 0; i < kLockPassiveSpin; i++) {
        while (key_.load(std::memory_order_relaxed) == 0) {
          uint32_t expected = 0;
          if (key_.compare_exchange_weak(expected, wait, std::memory_order_acquire,
                                         std::memory_order_relaxed))
            return;
        }
        sched_yield();
      }
      // Announce a sleeper. Acquire: if the exchange finds it unlocked we own it.
      if (key_.exchange(2, std::memory_order_acquire) == 0) return;
      wait = 2;
      futex_wait(&key_, 2, -1);
    }
  }
  std::atomic<uint32_t> key_{0};
};

// LockGuard: scope-bound Lock ownership.
class LockGuard {
 public:
  explicit LockGuard(Lock& l) : l_(l) { l_.lock(); }
  ~LockGuard() { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& l_;
};

}  // namespace gmprt
