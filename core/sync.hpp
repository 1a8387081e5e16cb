// sync.hpp -- Go's sync package on the semtable: Mutex, RWMutex, Cond,
// WaitGroup, Once and the bare semaphore behind the public gmp_*_t types.
//
// Every type here is the real layout of one opaque public struct (capi/
// sync.cpp static_asserts size and alignment): plain atomic words whose
// all-zero value is the initial state (unlocked, no readers, no tickets,
// counter 0, not done, no units), so `= {0}` and static storage are ready to
// use. None holds a pointer to a queue: waiters sleep in the semtable
// (sema.hpp), keyed by the address of one of the words. Nothing is allocated.
//
// All of it works from goroutines and plain threads alike; a goroutine that
// blocks parks (its M runs other goroutines), a plain thread sleeps on a
// futex. The designs and invariants are at the top of mutex.cpp (Mutex) and
// sync.cpp (the rest).
#pragma once

#include <stdint.h>

#include <atomic>

#include "g.hpp"
#include "sema.hpp"

namespace gmprt {

// ---------------------------------------------------------------- Mutex

// Mutex state bits (Go's mutexLocked, mutexWoken, mutexStarving) and the
// waiter count above them (state >> kMutexWaiterShift).
inline constexpr int32_t kMutexLocked = 1;
inline constexpr int32_t kMutexWoken = 2;
inline constexpr int32_t kMutexStarving = 4;
inline constexpr int kMutexWaiterShift = 3;
// A waiter that has waited longer than this switches the mutex to starvation
// mode (Go's starvationThresholdNs).
inline constexpr int64_t kStarvationThresholdNs = 1000000;

struct alignas(8) Mutex {
  std::atomic<int32_t> state{0};  // kMutex* bits | waiters << kMutexWaiterShift
  std::atomic<uint32_t> sema{0};  // the semaphore waiters sleep on
};

// mutex_lock_fast: take an unlocked mutex with no waiters; false otherwise.
inline bool mutex_lock_fast(Mutex* m) {
  int32_t unlocked = 0;
  // Acquire on success: pairs with the Release of the previous unlock.
  return m->state.compare_exchange_strong(unlocked, kMutexLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
}

// mutex_lock_slow: lock after mutex_lock_fast failed: spin, then sleep.
void mutex_lock_slow(Mutex* m, WaitReason reason);

// mutex_lock: lock m; reason is shown while the caller sleeps.
inline void mutex_lock(Mutex* m, WaitReason reason) {
  if (!mutex_lock_fast(m)) mutex_lock_slow(m, reason);
}

// mutex_trylock: lock m if that needs no wait; never takes the lock from a
// starving waiter.
bool mutex_trylock(Mutex* m);

// mutex_unlock: 0, or GMP_EPERM when m is not locked (m is then unchanged).
// Any goroutine or thread may unlock a mutex another locked.
int mutex_unlock(Mutex* m);

// mutex_locked: whether m's locked bit is set now (a snapshot).
inline bool mutex_locked(const Mutex* m) {
  // Relaxed: a snapshot; the caller draws no ordering from it.
  return (m->state.load(std::memory_order_relaxed) & kMutexLocked) != 0;
}

// can_spin: whether a lock slow path on its iter-th spin should keep
// spinning rather than sleep (Go's sync_runtime_canSpin); do_spin: one spin.
bool can_spin(int iter);
void do_spin();

// -------------------------------------------------------------- RWMutex

// kRWMutexMaxReaders: Go's rwmutexMaxReaders. A writer subtracts it from the
// reader count, so a negative count means "a writer is pending or holds it".
inline constexpr int32_t kRWMutexMaxReaders = 1 << 30;

struct alignas(8) RWMutex {
  Mutex w;                              // held by the writer, pending or active
  std::atomic<uint32_t> writer_sem{0};  // the writer waits here for departing readers
  std::atomic<uint32_t> reader_sem{0};  // readers wait here for the writer
  // Go's readerCount (high 32 bits, signed) and readerWait (low 32 bits) in
  // one word, so that runlock and unlock can check and update both with one
  // CAS (sync.cpp).
  std::atomic<uint64_t> readers{0};
};

// One reader in RWMutex::readers.
inline constexpr uint64_t kOneReader = uint64_t(1) << 32;

// rwmutex_rlock_fast: count the caller as a reader; true when it holds the
// read lock at once, false when a writer is pending: the caller must then
// call rwmutex_rlock_slow (it is already counted).
inline bool rwmutex_rlock_fast(RWMutex* rw) {
  // Acquire: pairs with the Release CAS of the last writer's unlock.
  uint64_t r = rw->readers.fetch_add(kOneReader, std::memory_order_acquire) + kOneReader;
  return int32_t(uint32_t(r >> 32)) >= 0;
}
void rwmutex_rlock_slow(RWMutex* rw);

inline void rwmutex_rlock(RWMutex* rw) {
  if (!rwmutex_rlock_fast(rw)) rwmutex_rlock_slow(rw);
}

// rwmutex_runlock: 0, or GMP_EPERM (nothing changed) when no reader holds rw.
int rwmutex_runlock(RWMutex* rw);

// rwmutex_lock: wait for the writer's mutex, then for the readers inside to
// leave; new readers wait from the moment the writer is pending.
void rwmutex_lock(RWMutex* rw);

// rwmutex_unlock: 0, or GMP_EPERM (nothing changed) when no writer holds rw.
int rwmutex_unlock(RWMutex* rw);

// ----------------------------------------------------------------- Cond

// cond_wait: Go's Cond.Wait with m as its Locker: take a ticket, unlock m,
// wait for the ticket to be served, lock m. GMP_EPERM (and nothing done)
// when m is not locked.
int cond_wait(NotifyList* c, Mutex* m);

// cond_signal: wake the longest waiter; cond_broadcast: wake all.
inline void cond_signal(NotifyList* c) { notify_list_notify_one(c); }
inline void cond_broadcast(NotifyList* c) { notify_list_notify_all(c); }

// ------------------------------------------------------------ WaitGroup

struct alignas(8) WaitGroup {
  // Go's state: the counter (high 32 bits, never negative) and the number of
  // waiters (low 32 bits).
  std::atomic<uint64_t> state{0};
  std::atomic<uint32_t> sema{0};  // waiters sleep here
  uint32_t pad = 0;
};

// waitgroup_add: 0, or GMP_EINVAL (the counter unchanged) when the counter
// would go below 0 or above INT32_MAX. Reaching 0 wakes every waiter.
int waitgroup_add(WaitGroup* wg, int64_t delta);

// waitgroup_idle: the counter is 0 now. Acquire: a caller that sees 0 sees
// everything published by the adds that brought it there.
inline bool waitgroup_idle(const WaitGroup* wg) {
  // Acquire: pairs with the acq_rel CAS in waitgroup_add.
  return (wg->state.load(std::memory_order_acquire) >> 32) == 0;
}

// waitgroup_wait: return once the counter is 0.
void waitgroup_wait(WaitGroup* wg);

// ----------------------------------------------------------------- Once

struct alignas(8) Once {
  Mutex m;                        // serialises the first callers
  std::atomic<uint32_t> done{0};  // 1 once fn has returned
  uint32_t pad = 0;
};

// once_done: fn has run (and returned). Acquire: the caller then sees its
// effects.
inline bool once_done(const Once* o) {
  // Acquire: pairs with the Release store in once_do_slow.
  return o->done.load(std::memory_order_acquire) != 0;
}

// once_do_slow: run fn(arg) unless it has run; return after it has.
void once_do_slow(Once* o, gmp_fn fn, void* arg);

// ----------------------------------------------------------------- Sema

// Sema: the public semaphore: a count of units.
struct alignas(8) Sema {
  std::atomic<uint32_t> count{0};
  uint32_t pad = 0;
};

}  // namespace gmprt
