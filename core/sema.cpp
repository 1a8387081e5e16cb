// sema.cpp -- semaphores keyed by address (Go's semacquire / semrelease) and
// the notify list of condition variables (Go's notifyList).
//
// The semtable. kSemTabSize buckets (a prime, so that user addresses with a
// common stride spread out), each a SemaRoot on its own cache line: a Lock,
// the waiters of every address that hashes to the bucket, and nwait, how many
// waiters the bucket holds. Go keeps a treap of distinct addresses per bucket;
// we keep a singly linked list of them (few addresses are contended at once),
// each with its own queue:
//
//   root->head -> s1 (addr A) --waitlink--> s4 (addr B) --waitlink--> null
//                 s1 <-> s2 <-> s3 (circular)   s4 (circular, alone)
//
// A queue is a circular doubly linked list through next/prev; its head is
// the longest waiter and head->prev the newest, so FIFO append, LIFO insert
// and removal of the head are all O(1). Only heads are on the address list
// (through waitlink); s->c is the address a Sudog waits on. All of it is
// guarded by root->lock.
//
// The missed-wakeup argument. semacquire, under the bucket lock, increments
// nwait and then tries the word once more before it queues; semrelease
// increments the word and then reads nwait without the lock, and looks for a
// waiter only when nwait is nonzero. Both pairs are sequentially consistent,
// so at least one side sees the other: either the waiter finds the unit, or
// the releaser finds nwait > 0, takes the lock (which the waiter holds until
// it is queued and committed to sleeping) and wakes a waiter. A release that
// finds no waiter pays one atomic add and one load: no lock.
//
// Tickets. A waiter woken with s->ticket set owns a unit already: the
// releaser took it on its behalf (handoff). A waiter woken without one tries
// the word; if a caller that arrived meanwhile took the unit first, it queues
// again -- at the head, since it was the longest waiter (Go re-queues at the
// tail; the head keeps gmp_sema_t first in, first out).
//
// The notify list. Tickets, not queue positions, decide who is woken: a
// waiter takes a ticket (an atomic add, while still holding the user's mutex)
// before it releases that mutex and queues, so "oldest ticket" is exactly
// "longest waiter" even when waiters reach the queue out of order. A waiter
// that finds its ticket already served does not sleep at all; a notifier
// that finds the served ticket's waiter not queued yet simply moves on (that
// waiter will see it was served).
#include "sema.hpp"

#include <stddef.h>

#include "sudog.hpp"

namespace gmprt {

namespace {

// kSemTabSize: a prime, as Go's semTabSize.
constexpr size_t kSemTabSize = 251;

struct alignas(64) SemaRoot {
  Lock lock;
  // nwait: waiters queued in this bucket (all addresses). Changed only under
  // lock; read without it by semrelease's fast path.
  std::atomic<uint32_t> nwait{0};
  Sudog* head = nullptr;  // the first queue's head (guarded by lock)
};

SemaRoot semtable[kSemTabSize];

SemaRoot* root_for(const void* addr) {
  // Words are 4-byte aligned, and callers' words are usually 8-byte aligned
  // members of larger structs: drop the low bits that carry no information.
  return &semtable[(reinterpret_cast<uintptr_t>(addr) >> 3) % kSemTabSize];
}

void unlock_root(void* root) { static_cast<SemaRoot*>(root)->lock.unlock(); }
void unlock_lock(void* l) { static_cast<Lock*>(l)->unlock(); }

// cansemacquire_sc: cansemacquire whose first read is sequentially
// consistent: the waiter's half of the missed-wakeup argument (top of file).
bool cansemacquire_sc(std::atomic<uint32_t>* addr) {
  // seq_cst: ordered after the seq_cst increment of nwait (see the top).
  uint32_t v = addr->load(std::memory_order_seq_cst);
  while (v != 0) {
    // Acquire on success: pairs with the releasing fetch_add in semrelease.
    if (addr->compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
      return true;
  }
  return false;
}

// ring_insert_before: put s into the circular queue just before t (at the
// tail when t is the head).
void ring_insert_before(Sudog* t, Sudog* s) {
  s->next = t;
  s->prev = t->prev;
  t->prev->next = s;
  t->prev = s;
}

// root_queue: add s (waiting on addr) to root: at the tail of addr's queue,
// or at its head when lifo. Called with root->lock held.
void root_queue(SemaRoot* root, const void* addr, Sudog* s, bool lifo) {
  s->c = const_cast<void*>(addr);
  s->waitlink = nullptr;
  for (Sudog** pp = &root->head; Sudog* t = *pp; pp = &t->waitlink) {
    if (t->c != addr) continue;
    ring_insert_before(t, s);
    if (lifo) {  // s becomes the head: it takes t's place on the address list
      s->waitlink = t->waitlink;
      t->waitlink = nullptr;
      *pp = s;
    }
    return;
  }
  // A new address: a queue of one, at the front of the address list.
  s->next = s->prev = s;
  s->waitlink = root->head;
  root->head = s;
}

// root_dequeue: remove and return the head of addr's queue, or null. Called
// with root->lock held.
Sudog* root_dequeue(SemaRoot* root, const void* addr) {
  for (Sudog** pp = &root->head; Sudog* s = *pp; pp = &s->waitlink) {
    if (s->c != addr) continue;
    if (s->next == s) {
      *pp = s->waitlink;
    } else {
      Sudog* n = s->next;  // the next longest waiter becomes the head
      n->prev = s->prev;
      s->prev->next = n;
      n->waitlink = s->waitlink;
      *pp = n;
    }
    s->next = s->prev = s->waitlink = nullptr;
    return s;
  }
  return nullptr;
}

// less: a < b for ticket numbers that wrap (their distance is below 2^31).
bool less(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

}  // namespace

void semacquire(std::atomic<uint32_t>* addr, bool lifo, WaitReason reason) {
  if (cansemacquire(addr)) return;
  SemaRoot* root = root_for(addr);
  Sudog s;
  for (;;) {
    root->lock.lock();
    // seq_cst: announces the waiter before the word is read again (the
    // missed-wakeup argument at the top of the file).
    root->nwait.fetch_add(1, std::memory_order_seq_cst);
    if (cansemacquire_sc(addr)) {
      // Relaxed: nwait changes only under root->lock, which we hold.
      root->nwait.fetch_sub(1, std::memory_order_relaxed);
      root->lock.unlock();
      return;
    }
    sudog_init(&s);
    root_queue(root, addr, &s, lifo);
    // semrelease dequeues s and decrements nwait for us before waking us.
    sudog_block(&s, unlock_root, root, reason);
    if (s.ticket != 0 || cansemacquire(addr)) return;
    lifo = true;  // we were the longest waiter: keep our place
  }
}

void semrelease(std::atomic<uint32_t>* addr, bool handoff) {
  SemaRoot* root = root_for(addr);
  // seq_cst: publishes the unit (Release, for the acquirer's CAS) and is
  // ordered before the nwait read below (the missed-wakeup argument).
  addr->fetch_add(1, std::memory_order_seq_cst);
  // seq_cst: see above. Zero: every waiter that might come will see the unit.
  if (root->nwait.load(std::memory_order_seq_cst) == 0) return;
  root->lock.lock();
  // Relaxed: under root->lock, which guards every change of nwait. Zero
  // now: the waiters took the unit themselves.
  if (root->nwait.load(std::memory_order_relaxed) == 0) {
    root->lock.unlock();
    return;
  }
  Sudog* s = root_dequeue(root, addr);
  // Relaxed: under root->lock.
  if (s) root->nwait.fetch_sub(1, std::memory_order_relaxed);
  root->lock.unlock();
  if (!s) return;  // the waiters in this bucket wait on other words
  // Take the unit back for s, so that nobody arriving now can take it first.
  // (It may be gone already; s then competes for the next one at the head.)
  if (handoff && cansemacquire(addr)) s->ticket = 1;
  sudog_wake(s);  // s belongs to its owner from here on
}

int sema_nwait(const std::atomic<uint32_t>* addr) {
  SemaRoot* root = root_for(addr);
  LockGuard guard(root->lock);
  for (Sudog* h = root->head; h; h = h->waitlink) {
    if (h->c != addr) continue;
    int n = 1;
    for (Sudog* s = h->next; s != h; s = s->next) n++;
    return n;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// The notify list.

uint32_t notify_list_add(NotifyList* l) {
  // seq_cst, as Go's: the notifiers' lock-free check (wait == notify) must
  // see this ticket once the caller's mutex has passed to them.
  return l->wait.fetch_add(1, std::memory_order_seq_cst);
}

void notify_list_wait(NotifyList* l, uint32_t t, WaitReason reason) {
  l->lock.lock();
  // Relaxed: notify is written only under l->lock, which we hold.
  if (less(t, l->notify.load(std::memory_order_relaxed))) {
    l->lock.unlock();  // served while we were on our way here
    return;
  }
  Sudog s;
  sudog_init(&s);
  s.ticket = t;
  s.c = l;
  if (l->tail)
    l->tail->next = &s;
  else
    l->head = &s;
  l->tail = &s;
  sudog_block(&s, unlock_lock, &l->lock, reason);
}

void notify_list_notify_one(NotifyList* l) {
  // seq_cst loads: pair with notify_list_add's add and the store of notify.
  // Equal: no ticket is waiting to be served, no lock needed.
  if (l->wait.load(std::memory_order_seq_cst) == l->notify.load(std::memory_order_seq_cst)) return;
  l->lock.lock();
  // Relaxed: notify is written only under the lock we hold. seq_cst for
  // wait: as above.
  uint32_t t = l->notify.load(std::memory_order_relaxed);
  if (t == l->wait.load(std::memory_order_seq_cst)) {
    l->lock.unlock();
    return;
  }
  // seq_cst: read by notifiers' fast paths; a waiter holding ticket t that
  // has not queued yet reads it under the lock and does not sleep.
  l->notify.store(t + 1, std::memory_order_seq_cst);
  Sudog* prev = nullptr;
  for (Sudog* s = l->head; s; prev = s, s = s->next) {
    if (s->ticket != t) continue;
    Sudog* n = s->next;
    if (prev)
      prev->next = n;
    else
      l->head = n;
    if (!n) l->tail = prev;
    s->next = nullptr;
    l->lock.unlock();
    sudog_wake(s);
    return;
  }
  l->lock.unlock();  // ticket t's waiter has not queued yet: it will not sleep
}

void notify_list_notify_all(NotifyList* l) {
  // seq_cst loads: as in notify_list_notify_one.
  if (l->wait.load(std::memory_order_seq_cst) == l->notify.load(std::memory_order_seq_cst)) return;
  l->lock.lock();
  Sudog* s = l->head;
  l->head = l->tail = nullptr;
  // seq_cst: as in notify_list_notify_one. Every ticket up to wait is served:
  // its waiter is on the list we took, or will see this and not sleep.
  l->notify.store(l->wait.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
  l->lock.unlock();
  while (s) {
    Sudog* next = s->next;  // read before the wake: s may vanish after it
    s->next = nullptr;
    sudog_wake(s);
    s = next;
  }
}

}  // namespace gmprt
