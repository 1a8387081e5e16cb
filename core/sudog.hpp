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
#include "list.hpp"
#include "time.hpp"

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

// WaitQ: a FIFO of Sudogs linked through next/prev (Go's waitq), guarded by
// the lock of the object it belongs to (a channel, a poll descriptor).
struct WaitQ {
  Sudog* first = nullptr;
  Sudog* last = nullptr;

  void enqueue(Sudog* s);
  // dequeue: the first waiter that may proceed: select Sudogs another case
  // (or the timeout) has claimed are dropped on the way.
  Sudog* dequeue();
  // remove: take s out if it is still queued (a select's other cases).
  void remove(Sudog* s);
};

// SudogDeadline: the deadline of a goroutine's claimable wait (select, an fd
// wait): a timer that claims the lead Sudog and wakes it when it fires.
// Armed before any lock of the objects waited on is taken (the timer heap's
// lock is never taken under theirs, time.hpp), so until the Sudogs are
// queued nothing else can claim: a wait that proceeds without blocking
// finds the timer either stopped in time or fired, with its wakeup to
// absorb (sudog_deadline_disarm). Plain threads need none: their deadline
// is the futex wait's (sudog_block_until).
struct SudogDeadline {
  Timer timer;
  bool armed = false;
  WaitReason reason = WaitReason::select;  // of the wait, for the absorbing park
};

// sudog_deadline_arm: from now on, `deadline` (nanotime) times out the wait
// led by lead. Without memory for the timer the wait has no deadline (rare
// enough to accept over failing calls that have no error for it).
void sudog_deadline_arm(SudogDeadline* d, Sudog* lead, int64_t deadline, WaitReason reason);

// sudog_deadline_disarm: stop the timer. parked: the waiter has parked once
// since arming (a fired timer's wakeup ended that park); otherwise a fired
// timer's wakeup is still owed to this goroutine and is absorbed here.
void sudog_deadline_disarm(SudogDeadline* d, bool parked);

G* current_g();  // sched.hpp

// sudog_init: prepare s for the calling goroutine or thread. Inline: on a
// freshly constructed Sudog the compiler drops the stores that repeat its
// member initializers.
inline void sudog_init(Sudog* s) {
  s->g = current_g();
  // Relaxed: s is private until it is queued under the object's lock.
  s->woken.store(0, std::memory_order_relaxed);
  s->select_done.store(0, std::memory_order_relaxed);
  s->lead = s;
  s->param = nullptr;
  s->next = s->prev = s->waitlink = nullptr;
  s->elem = s->c = nullptr;
  s->ticket = 0;
  s->is_select = s->success = false;
}

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

// sudog_served: record on s's lead that s completed (success: the operation
// happened; false: the object closed). The caller holds the object's lock
// and has won s (dequeue).
inline void sudog_served(Sudog* s, bool success) {
  s->success = success;
  s->lead->param = s;
}

// sudog_wake: wake the waiter of s (callable from any thread). The caller
// must not touch s afterwards: its owner may return at once. With a batch,
// a goroutine waiter is made runnable and appended to it instead of being
// queued (ready_into): the caller queues the batch.
void sudog_wake(Sudog* s, GQueue* batch = nullptr);

}  // namespace gmprt
