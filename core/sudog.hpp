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
#pragma once

#include <stdint.h>

#include <atomic>

#include "g.hpp"

namespace gmprt {

struct Sudog {
  G* g = nullptr;                  // the waiting goroutine; null for a plain thread
  std::atomic<uint32_t> woken{0};  // plain thread: futex word, 1 once woken
  Sudog* next = nullptr;           // wait-queue links, guarded by the object's lock
  Sudog* prev = nullptr;
  void* elem = nullptr;            // data element (channels)
  void* c = nullptr;               // the object waited on (select: which channel)
  Sudog* waitlink = nullptr;       // g's other Sudogs (select)
  uint32_t ticket = 0;             // semaphore hand-off
  bool is_select = false;
  bool success = false;            // woken by a value rather than a close
};

// sudog_init: prepare s for the calling goroutine or thread.
void sudog_init(Sudog* s);

// sudog_block: sleep until sudog_wake(s). unlock(arg) releases the lock that
// guards the queue s is on; it runs once the caller is committed to sleeping.
// On a plain thread the sleep counts as blocked for deadlock detection.
void sudog_block(Sudog* s, void (*unlock)(void* arg), void* arg, WaitReason reason);

// sudog_wake: wake the waiter of s (callable from any thread). The caller
// must not touch s afterwards: its owner may return at once.
void sudog_wake(Sudog* s);

}  // namespace gmprt
