// park.cpp -- parking and readying goroutines (Go's gopark / park_m /
// goready), the primitive every blocking object is built on.
//
// The commit protocol. park(commit, arg) switches to g0 and there, off the
// goroutine's stack: (1) sets the status running -> waiting, (2) calls
// commit(g, arg), (3) leaves g parked if commit returned nonzero, or resumes
// it at once if it returned 0. The usual commit releases the lock guarding
// the wait queue g was put on. A waker that finds g on that queue must have
// taken the lock after the commit released it, so it always sees g waiting;
// it then CASes waiting -> runnable, which makes it g's owner, and queues g.
//
// Early wakeups. gmp_ready may also reach a goroutine that is not parked yet
// (user code is free to publish its handle before parking). Then ready leaves
// a wake token in g and the park in progress, or the next one, consumes it and
// returns at once. The token is a Dekker handshake: ready stores the token
// then loads the status; park_m stores the status then exchanges the token;
// both sequentially consistent, so at least one sees the other, and the CAS
// waiting -> runnable decides who queues g when both do.
//
// What blocks what: park blocks only the G; ready blocks nothing.
#include "../capi/include/gmprt.h"
#include "sched.hpp"
#include "sudog.hpp"

namespace gmprt {

namespace {

// park_m: the g0 half of park.
G* park_m(G* g) {
  M* m = current_m();
  auto commit = m->park_commit;
  void* arg = m->park_arg;
  m->park_commit = nullptr;
  m->park_arg = nullptr;
  P* p = m->p;
  // Relaxed: a statistic written only by p's owner.
  p->npark.store(p->npark.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // seq_cst: the store of waiting must precede the token exchange below in
  // the single total order (the Dekker handshake with ready).
  g->status.store(GStatus::waiting, std::memory_order_seq_cst);
  bool stay = commit ? commit(g, arg) != 0 : true;
  // An early wakeup is consumed by this park whether or not commit keeps g.
  bool token = g->wake_token.exchange(0, std::memory_order_seq_cst) != 0;
  if (stay && !token) return nullptr;
  // Resume g ourselves, unless a waker has already queued it.
  GStatus waiting = GStatus::waiting;
  // Acquire: pairs with nothing new (we are g's last owner); acq_rel keeps the
  // same ordering as every other status CAS.
  if (g->status.compare_exchange_strong(waiting, GStatus::runnable, std::memory_order_acq_rel))
    return g;
  return nullptr;
}

// enqueue: queue a runnable g: on the caller's P (runnext when next) or, on a
// thread without a P, the global queue; then make sure somebody runs it.
void enqueue(G* g, bool next) {
  M* m = current_m();
  if (m && m->p) {
    runq_put_p(m->p, g, next);
  } else {
    LockGuard guard(sched.lock);
    globrunq_put(g);
  }
  wakep();
}

}  // namespace

void park(int (*commit)(G* g, void* arg), void* arg, WaitReason reason) {
  M* m = current_m();
  G* g = m->curg;
  g->waitreason = reason;
  m->park_commit = commit;
  m->park_arg = arg;
  mcall(park_m);
  g->waitreason = WaitReason::none;
}

void ready(G* g, bool next) {
  for (;;) {
    // Acquire: see the parked G's state as its parker left it.
    GStatus s = g->status.load(std::memory_order_acquire);
    if (s == GStatus::waiting) {
      // acq_rel: we become g's owner (Acquire) and publish our writes to
      // whoever runs it (Release, together with the run queue's).
      if (g->status.compare_exchange_weak(s, GStatus::runnable, std::memory_order_acq_rel)) {
        enqueue(g, next);
        return;
      }
      continue;
    }
    // Not parked: leave a token (Dekker with park_m; both seq_cst).
    g->wake_token.store(1, std::memory_order_seq_cst);
    if (g->status.load(std::memory_order_seq_cst) != GStatus::waiting) return;
    // It parked meanwhile. Whoever takes the token back owns this wakeup.
    if (g->wake_token.exchange(0, std::memory_order_seq_cst) == 0) return;
    // We own it. If the CAS fails, g was resumed or readied by someone else,
    // which subsumes this wakeup.
    s = GStatus::waiting;
    // acq_rel: as above.
    if (g->status.compare_exchange_strong(s, GStatus::runnable, std::memory_order_acq_rel))
      enqueue(g, next);
    return;
  }
}

// ---------------------------------------------------------------------------
// Sudogs: the same protocol for goroutines and plain threads.

namespace {

struct UnlockCommit {
  void (*unlock)(void*);
  void* arg;
};

int unlock_commit(G*, void* arg) {
  auto* c = static_cast<UnlockCommit*>(arg);
  c->unlock(c->arg);
  return 1;
}

}  // namespace

void sudog_init(Sudog* s) {
  s->g = current_g();
  // Relaxed: s is private until it is queued under the object's lock.
  s->woken.store(0, std::memory_order_relaxed);
  s->next = s->prev = s->waitlink = nullptr;
  s->elem = s->c = nullptr;
  s->ticket = 0;
  s->is_select = s->success = false;
}

void sudog_block(Sudog* s, void (*unlock)(void*), void* arg, WaitReason reason) {
  if (s->g) {
    UnlockCommit c{unlock, arg};
    park(unlock_commit, &c, reason);
    return;
  }
  // A plain thread: count it blocked (it may be the last possible waker, so
  // check for deadlock), release the queue's lock, sleep.
  plain_thread_enter();
  sched.lock.lock();
  sched.nplain_blocked++;
  check_dead();
  sched.lock.unlock();
  unlock(arg);
  // Acquire: pairs with the Release store in sudog_wake; the waker's writes
  // to s (elem, success) are visible afterwards.
  while (s->woken.load(std::memory_order_acquire) == 0) futex_wait(&s->woken, 0, -1);
  LockGuard guard(sched.lock);
  sched.nplain_blocked--;
}

void sudog_wake(Sudog* s) {
  if (G* g = s->g) {
    ready(g, true);
    return;
  }
  s->woken.store(1, std::memory_order_release);  // Release: see sudog_block
  futex_wake(&s->woken, 1);
}

}  // namespace gmprt
