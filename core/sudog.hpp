// sudog.hpp -- Sudog, the one waiter type every blocking object queues (Go's
// sudog, plus a parker for plain threads).
//
// A Sudog stands for one waiter on one wait queue: a goroutine (g set) or a
// plain thread (g null, sleeping on the futex word `woken`). Channels,
// select, timers and the semaphore table all queue Sudogs and wake them with
// sudog_wake, so every blocking call works from goroutines and plain threads
// alike. A Sudog lives on the waiter's own stack for as long as it waits: the
// waiter cannot return while it is queued, and the waker touches it only
// until sudog_wake.
//
// Protocol, for an object guarded by lock L:
//   waiter: lock L; check; enqueue s; sudog_block(s, unlock L)  -> returns when woken
//   waker:  lock L; dequeue s; fill s (elem, success); unlock L; sudog_wake(s)
// sudog_block releases L only after the waiter is committed to sleeping (a
// goroutine is marked waiting; a thread is about to wait on `woken`), so a
// waker that dequeues s always finds the waiter ready to be woken.
//
// One waiter, several Sudogs (select). Every Sudog of a waiter points to a
// lead (the first one; a single wait is its own lead), and waking any of
// them wakes the waiter through the lead. Which wake counts is decided by
// one CAS on lead->select_done (Go's g.selectDone): a waker that finds a
// select Sudog on its queue must win it (sudog_claim) before it may
// complete the operation; a timeout must win it too. The winner records the
// Sudog that completed in lead->param (null for a timeout).
#pragma once

#include <stdint.h>

#include <atomic>

#include "g.hpp"

namespace gmprt {

struct Sudog {
  G* g = nullptr;                        // the waiting goroutine; null for a plain thread
  std::atomic<uint32_t> woken{0};        // plain thread (lead only): futex word, 1 once woken
  Sudog* lead = this;                    // the Sudog that wakes the waiter (see above)
  std::atomic<uint32_t> select_done{0};  // lead only: 1 once a wake or timeout won
  Sudog* param = nullptr;                // lead only: the Sudog that completed, null: timeout
  Sudog* next = nullptr;                 // wait-queue links, guarded by the object's lock
  Sudog* prev = nullptr;
  void* elem = nullptr;       // data element (channels)
  void* c = nullptr;          // the object waited on (select: which channel)
  Sudog* waitlink = nullptr;  // g's other Sudogs (select)
  uint32_t ticket = 0;        // semaphore hand-off
  bool is_select = false;
  bool success = false;  // woken by a value rather than a close
};

// sudog_init: prepare s for the calling goroutine or thread.
void sudog_init(Sudog* s);

// sudog_block: sleep until sudog_wake(s). unlock(arg) releases the lock that
// guards the queue s is on; it runs once the caller is committed to sleeping.
// On a plain thread the sleep counts as blocked for deadlock detection.
void sudog_block(Sudog* s, void (*unlock)(void* arg), void* arg, WaitReason reason);

// sudog_block_until: sudog_block for select Sudogs of a plain thread that
// gives up at `deadline` (nanotime; < 0: never) if it wins
// sudog_claim(lead) then: the thread returns with lead->param null. If a
// waker won the claim first, the wait goes on until its sudog_wake (which
// follows at once). Only a wait with no deadline counts the thread as
// blocked. A goroutine's deadline is a timer its select arms before taking
// any lock (select.cpp): here a goroutine ignores `deadline`.
void sudog_block_until(Sudog* s, void (*unlock)(void* arg), void* arg, WaitReason reason,
                       int64_t deadline);

// sudog_claim: win the right to complete a select Sudog (or to time it
// out). Always true for a Sudog that is not part of a select.
inline bool sudog_claim(Sudog* s) {
  if (!s->is_select) return true;
  uint32_t zero = 0;
  // acq_rel: the winner sees the waiter's setup and publishes what it does
  // next (param, elem copy) together with the wake's Release.
  return s->lead->select_done.compare_exchange_strong(zero, 1, std::memory_order_acq_rel,
                                                      std::memory_order_relaxed);
}

// sudog_wake: wake the waiter of s (callable from any thread). The caller
// must not touch s afterwards: its owner may return at once.
void sudog_wake(Sudog* s);

}  // namespace gmprt
