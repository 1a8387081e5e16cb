// mutex.cpp -- Go's sync.Mutex: a word of state plus a semaphore to sleep on.
//
// State (Mutex::state): kMutexLocked, kMutexWoken (a locker is awake --
// spinning, or woken by unlock -- so unlock need not wake another),
// kMutexStarving, and above them the number of sleepers on Mutex::sema.
// Every change is a CAS (or an add by the one thread entitled to it), so the
// bits and the count always agree.
//
// Normal mode. Sleepers queue first in, first out, but a woken sleeper does
// not own the lock: it competes with lockers that are running right now,
// which usually win (they are on a CPU already). A loser sleeps again at the
// head of the queue. A locker spins a little first (can_spin) while the
// holder is likely running on another CPU, and sets kMutexWoken while it
// spins so that unlock does not wake a sleeper needlessly. Throughput is high
// but a sleeper can lose again and again.
//
// Starvation mode. A sleeper that has waited more than kStarvationThresholdNs
// sets kMutexStarving at its next attempt. From then on unlock hands the lock
// straight to the head sleeper (the semaphore's handoff): the locked bit
// stays clear while the lock is in transit, newcomers neither take it nor
// spin, they queue at the tail, and the woken sleeper sets the locked bit
// for itself. The sleeper leaves starvation mode when it is the last one or
// waited less than the threshold.
//
// Differences from Go. unlock of an unlocked mutex returns GMP_EPERM instead
// of a fatal error; to change nothing then, unlock is a CAS loop that checks
// the locked bit before clearing it (Go's is one add, checked afterwards).
// Plain threads lock and unlock like goroutines, and may spin.
#include <unistd.h>

#include "../capi/include/gmprt.h"
#include "atomic.hpp"
#include "fatal.hpp"
#include "futex.hpp"
#include "runq.hpp"
#include "sched.hpp"
#include "sync.hpp"

namespace gmprt {

namespace {

// ncpu_cached: the number of online CPUs, 0 until first read.
std::atomic<int32_t> ncpu_cached{0};

int32_t ncpu() {
  // Relaxed: every thread computes the same value; no other data depends on it.
  int32_t n = ncpu_cached.load(std::memory_order_relaxed);
  if (n == 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c < 1 ? 1 : int32_t(c);
    ncpu_cached.store(n, std::memory_order_relaxed);  // Relaxed: as above
  }
  return n;
}

int32_t waiters(int32_t state) { return state >> kMutexWaiterShift; }

// unlock_slow: after clearing the locked bit (state is the new value), wake
// a sleeper if one should be woken (normal mode) or hand the lock to the
// head sleeper (starvation mode).
void unlock_slow(Mutex* m, int32_t state) {
  if (state & kMutexStarving) {
    semrelease(&m->sema, true);
    return;
  }
  int32_t old = state;
  for (;;) {
    // Nobody to wake, or somebody else takes care of it: it is locked again,
    // a locker is awake already, or it went into starvation mode meanwhile.
    if (waiters(old) == 0 || (old & (kMutexLocked | kMutexWoken | kMutexStarving))) return;
    // Relaxed: this only grants a wakeup; the unlock CAS already released
    // the critical section, and the semaphore orders the sleeper after us.
    if (m->state.compare_exchange_weak(old, (old - (1 << kMutexWaiterShift)) | kMutexWoken,
                                       std::memory_order_relaxed, std::memory_order_relaxed)) {
      semrelease(&m->sema, false);
      return;
    }
  }
}

// take_handed_lock: a sleeper woken in starvation mode owns the lock: set
// the locked bit, leave the waiter count, and leave starvation mode if it is
// the last sleeper or did not starve itself.
void take_handed_lock(Mutex* m, int32_t old, bool starving) {
  GMP_ASSERT((old & (kMutexLocked | kMutexWoken)) == 0 && waiters(old) != 0);
  int32_t delta = kMutexLocked - (1 << kMutexWaiterShift);
  if (!starving || waiters(old) == 1) delta -= kMutexStarving;
  // Acquire: as every lock; the previous holder's Release CAS in unlock is
  // also ordered before us by the semaphore that woke us.
  m->state.fetch_add(delta, std::memory_order_acquire);
}

}  // namespace

bool can_spin(int iter) {
  // Go's conditions: a few rounds only, a multi-core machine, and another P
  // running (the holder may be on it) besides the caller's. Relaxed loads:
  // heuristics, a stale value costs at most a wasted spin or an early sleep.
  if (iter >= kLockActiveSpin || ncpu() <= 1) return false;
  int32_t busy = sched.npidle.load(std::memory_order_relaxed) +
                 sched.nmspinning.load(std::memory_order_relaxed) + 1;
  if (gomaxprocs.load(std::memory_order_relaxed) <= busy) return false;
  // And no goroutine waiting on the caller's own P: it had better run.
  M* mp = current_m();
  if (mp && mp->p && !runq_empty_owner(&mp->p->runq)) return false;
  return true;
}

void do_spin() { procyield(kLockActiveSpinCount); }

void mutex_lock_slow(Mutex* m, WaitReason reason) {
  int64_t wait_start = 0;  // when we first went to sleep; 0: not yet
  bool starving = false;
  bool awoke = false;  // we hold kMutexWoken (set while spinning, or by unlock for us)
  int iter = 0;
  // Relaxed: every use below is validated by a CAS.
  int32_t old = m->state.load(std::memory_order_relaxed);
  for (;;) {
    // Spin while it is locked in normal mode and spinning makes sense.
    if ((old & (kMutexLocked | kMutexStarving)) == kMutexLocked && can_spin(iter)) {
      // Tell unlock not to wake a sleeper: we will take the lock. Relaxed:
      // a hint that publishes nothing.
      if (!awoke && !(old & kMutexWoken) && waiters(old) != 0 &&
          m->state.compare_exchange_strong(old, old | kMutexWoken, std::memory_order_relaxed,
                                           std::memory_order_relaxed))
        awoke = true;
      do_spin();
      iter++;
      old = m->state.load(std::memory_order_relaxed);  // Relaxed: as above
      continue;
    }
    int32_t next = old;
    if (!(old & kMutexStarving)) next |= kMutexLocked;  // never take it from a starving sleeper
    if (old & (kMutexLocked | kMutexStarving)) next += 1 << kMutexWaiterShift;  // we will sleep
    if (starving && (old & kMutexLocked)) next |= kMutexStarving;
    if (awoke) {
      GMP_ASSERT(next & kMutexWoken);
      next &= ~kMutexWoken;  // we are about to take it or sleep: give the bit back
    }
    // Acquire on success: when this takes the lock, pairs with the Release
    // of the previous unlock. On failure old is reloaded; retry.
    if (!m->state.compare_exchange_weak(old, next, std::memory_order_acquire,
                                        std::memory_order_relaxed))
      continue;
    if (!(old & (kMutexLocked | kMutexStarving))) return;  // the CAS took the lock
    bool lifo = wait_start != 0;  // woken before and lost: back to the head
    if (!lifo) wait_start = nanotime();
    semacquire(&m->sema, lifo, reason);
    starving = starving || nanotime() - wait_start > kStarvationThresholdNs;
    old = m->state.load(std::memory_order_relaxed);  // Relaxed: as above
    if (old & kMutexStarving) {
      take_handed_lock(m, old, starving);
      return;
    }
    awoke = true;  // unlock set kMutexWoken for us
    iter = 0;
  }
}

bool mutex_trylock(Mutex* m) {
  // Relaxed: the CAS validates it.
  int32_t old = m->state.load(std::memory_order_relaxed);
  if (old & (kMutexLocked | kMutexStarving)) return false;
  // Acquire on success: as mutex_lock_fast. A failed CAS (a racing change)
  // gives up, as Go's TryLock does.
  return m->state.compare_exchange_strong(old, old | kMutexLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
}

int mutex_unlock(Mutex* m) {
  int32_t old = kMutexLocked;
  // Release: publishes the critical section to the next locker. The common
  // case: locked, nobody waiting or spinning.
  if (m->state.compare_exchange_strong(old, 0, std::memory_order_release,
                                       std::memory_order_relaxed))
    return 0;
  for (;;) {
    if (!(old & kMutexLocked)) return GMP_EPERM;  // unchanged
    // Release: as above.
    if (m->state.compare_exchange_weak(old, old - kMutexLocked, std::memory_order_release,
                                       std::memory_order_relaxed))
      break;
  }
  unlock_slow(m, old - kMutexLocked);
  return 0;
}

}  // namespace gmprt
