// sema.hpp -- the runtime's semaphores keyed by address (Go's runtime/sema.go)
// and the ticket-based notify list behind gmp_cond_t (Go's notifyList).
//
// A semaphore is any 32-bit word: its value is the number of units. Sleeping
// and waking go through a fixed table of buckets (the semtable) indexed by a
// hash of the word's address, so the word itself needs no room for a queue
// and its all-zero value is ready to use. sema.cpp has the design; the
// contracts are here.
//
// Waiters are Sudogs (sudog.hpp): every call below works from goroutines and
// plain threads alike, and may be called on any thread.
#pragma once

#include <stdint.h>

#include <atomic>

#include "g.hpp"
#include "lock.hpp"

namespace gmprt {

struct Sudog;

// cansemacquire: take one unit of *addr if there is one, without blocking.
// Acquire on success: the caller sees what the releaser of that unit wrote
// before semrelease.
inline bool cansemacquire(std::atomic<uint32_t>* addr) {
  // Relaxed first read: the CAS below re-validates it.
  uint32_t v = addr->load(std::memory_order_relaxed);
  while (v != 0) {
    // Acquire on success: pairs with the releasing fetch_add in semrelease.
    if (addr->compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
      return true;
  }
  return false;
}

// semacquire: take one unit of *addr, sleeping until one is released. Waiters
// on one address are served first in, first out; lifo queues the caller at
// the head instead (sync.Mutex does so for a waiter that was woken and lost
// the race). reason is what dumps and the deadlock report show.
void semacquire(std::atomic<uint32_t>* addr, bool lifo, WaitReason reason);

// semrelease: add one unit to *addr and wake the longest waiter, if any.
// handoff: the unit is taken on the waiter's behalf before it runs, so no
// caller arriving meanwhile can take it first (sync.Mutex's starvation mode,
// gmp_sema_t). Never blocks.
void semrelease(std::atomic<uint32_t>* addr, bool handoff);

// sema_nwait: the number of waiters queued on addr now (a snapshot, for
// tests and dumps).
int sema_nwait(const std::atomic<uint32_t>* addr);

// NotifyList: the wait queue of a condition variable (Go's notifyList). Its
// all-zero value is an empty list. Waiters take a ticket (notify_list_add),
// then wait for it (notify_list_wait); tickets are served in order, so
// notify_list_notify_one always wakes the oldest ticket not yet served. 32
// bytes: exactly the public gmp_cond_t.
struct NotifyList {
  // wait: the next ticket to hand out. notify: the next ticket to serve.
  // Both wrap; they never drift more than 2^31 apart (fewer waiters exist).
  std::atomic<uint32_t> wait{0};
  std::atomic<uint32_t> notify{0};  // written under lock, read without it
  Lock lock;
  Sudog* head = nullptr;  // parked waiters, guarded by lock; in queue order,
  Sudog* tail = nullptr;  // which may differ slightly from ticket order
};

// notify_list_add: take the next ticket. The caller must then call
// notify_list_wait with it (Cond: while still holding the user's mutex).
uint32_t notify_list_add(NotifyList* l);

// notify_list_wait: return once ticket t has been served (at once if it
// already has). No spurious wakeups.
void notify_list_wait(NotifyList* l, uint32_t t, WaitReason reason);

// notify_list_notify_one: serve the oldest ticket not yet served; nothing
// when every ticket has been served.
void notify_list_notify_one(NotifyList* l);

// notify_list_notify_all: serve every ticket handed out so far.
void notify_list_notify_all(NotifyList* l);

}  // namespace gmprt
