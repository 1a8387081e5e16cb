// park.cpp -- parking and readying goroutines (Go's gopark / park_m /
// goready), the primitive every blocking object is built on.
//
// The commit protocol. park(commit, arg) switches to g0 and there, off the
// goroutine's stack: (1) calls commit(g, arg), (2) with one CAS, sets the
// status running -> waiting if commit returned nonzero, or resumes g at
// once if it returned 0 or a wakeup arrived meanwhile. The usual commit
// releases the lock guarding the wait queue g was put on.
//
// Early wakeups. A waker may reach g while it is still running: after the
// commit released the lock, or before it parked at all (a timer armed
// before parking, user code that published its handle). Then ready sets
// kWoken in the status word, and step (2) consumes it: running|kWoken ->
// runnable, and g resumes. A waker that finds g waiting CASes it to
// runnable, which makes it g's owner, and queues it. Status and flag live
// in one word, so a single CAS decides every race between ready and park.
//
// Why the commit runs before g is marked waiting (Go marks first): until
// step (2) nobody can resume g, so the commit may use g's stack (its
// argument usually lives there) for as long as it runs. With waiting
// published first, a waker that does not go through the commit's lock (a
// select's deadline timer) could resume g on another M while the commit
// still reads its frame. (An earlier design also kept kWoken in its own
// word and cleared it after publishing waiting; a park_m delayed there by
// the OS could take a flag meant for the goroutine's next park.)
//
// The direct park (Go has none). When the G that runs next is already
// known (in runnext, as after a channel hand-off) park switches straight to
// it, and that G runs steps (1) and (2) first thing when it resumes
// (park_finish): the commit still runs off the parker's stack, after its
// context is saved and before anyone can resume it, so the protocol above
// holds unchanged.
//
// What blocks what: park blocks only the G; ready blocks nothing.
#include "../capi/include/gmprt.h"
#include "evtrace.hpp"
#include "sched.hpp"
#include "sudog.hpp"

namespace gmprt {

namespace {

// park_commit_g: steps (1) and (2) for g, whose context is saved. True if
// g must go on at once (its commit returned 0, or a wakeup came), false if
// it is now waiting. Runs on g0, or on the G a direct park switched to.
bool park_commit_g(M* m, G* g) {
  auto commit = m->park_commit;
  void* arg = m->park_arg;
  m->park_commit = nullptr;
  m->park_arg = nullptr;
  owner_add<uint64_t>(m->p->npark, 1);              // relaxed: a statistic
  bool stay = commit ? commit(g, arg) != 0 : true;  // step (1)
  // Traced before step (2), while g is still ours (after it a waker may
  // run g elsewhere): a park that a wakeup which came while g ran cancels
  // at once still shows as a park.
  if (stay && evtrace_enabled()) evtrace_park_id(g->goid, g->waitreason);
  // Step (2). Acquire: a kWoken read here sees what the readier wrote
  // before its Release CAS. Release on the store of waiting: publishes g's
  // state to the waker that will CAS it back.
  uint32_t s = g->status.load(std::memory_order_relaxed);
  for (;;) {
    bool resume = !stay || (s & kWoken) != 0;
    uint32_t next = resume ? uint32_t(GStatus::runnable) : uint32_t(GStatus::waiting);
    if (g->status.compare_exchange_weak(s, next, std::memory_order_acq_rel,
                                        std::memory_order_relaxed))
      return resume;
  }
}

// park_m: the g0 half of park.
G* park_m(G* g) {
  // g->m: the M whose g0 runs this (set by execute).
  return park_commit_g(g->m, g) ? g : nullptr;
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
  g->waitsince = nanotime_coarse();  // for dumps: how long it has waited
  m->park_commit = commit;
  m->park_arg = arg;
  // The direct park: when the scheduler would run the G in runnext next,
  // switch to it straight away and let it finish our park (park_finish)
  // before it goes on, instead of doing both through g0: one switch
  // instead of two. gmp_park's commit is user code, promised to run in the
  // scheduler (on g0, with no goroutine current): it keeps the g0 path.
  G* next = reason != WaitReason::park ? park_direct(m) : nullptr;
  if (next) {
    m->parker = g;
    next->on_resume = OnResume::finish_park;
    fiber_switch_direct(&g->fiber, &next->fiber);
    resumed(g);
  } else {
    mcall(park_m);
  }
  g->waitreason = WaitReason::none;
}

void park_finish(M* m) {
  G* g = m->parker;
  m->parker = nullptr;
  // g's context is saved; it goes on right after us if it must not wait.
  if (park_commit_g(m, g)) enqueue(g, true);
}

namespace {

// make_runnable: ready's state change. True if g went from waiting to
// runnable: the caller now owns it and must queue it. False if the wakeup
// was recorded for g's next park instead, or ignored.
bool make_runnable(G* g) {
  // Acquire on the load: see the parked G's state as its parker left it.
  uint32_t s = g->status.load(std::memory_order_acquire);
  for (;;) {
    GStatus st = gstatus(s);
    if (st == GStatus::waiting) {
      // acq_rel: we become g's owner (Acquire) and publish our writes to
      // whoever runs it (Release, together with the run queue's).
      if (g->status.compare_exchange_weak(s, uint32_t(GStatus::runnable), std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        if (evtrace_enabled()) evtrace_ready(g);
        return true;
      }
      continue;
    }
    // Running, runnable or in a system call: remember the wakeup for the
    // next park (once: wakeups do not accumulate). Dead or idle: ignored.
    if ((st != GStatus::running && st != GStatus::runnable && st != GStatus::syscall) ||
        (s & kWoken))
      return false;
    // Under sched.lock: gosched_m changes the state of a running G with a
    // plain load and store inside that lock, which this excludes. Release:
    // what we wrote before readying is visible to the park that consumes the
    // flag with Acquire.
    LockGuard guard(sched.lock);
    if (g->status.compare_exchange_strong(s, s | kWoken, std::memory_order_acq_rel,
                                          std::memory_order_acquire))
      return false;
  }
}

}  // namespace

void ready(G* g, bool next) {
  if (make_runnable(g)) enqueue(g, next);
}

void ready_into(G* g, GQueue* batch) {
  if (make_runnable(g)) batch->push_back(g);
}

// ---------------------------------------------------------------------------
// Sudogs: the same protocol for goroutines and plain threads.

namespace {

// UnlockCommit: the park commit of a goroutine's Sudog wait: release the
// queue's lock. Nothing else: once the lock is free a waker may resume the
// goroutine on another M, and this frame (on its stack) may be gone.
struct UnlockCommit {
  void (*unlock)(void*);
  void* arg;
};

int unlock_commit(G*, void* arg) {
  auto* c = static_cast<UnlockCommit*>(arg);
  c->unlock(c->arg);
  return 1;
}

// block_thread: the same for a plain thread, on the lead's futex word.
void block_thread(Sudog* s, void (*unlock)(void*), void* arg, int64_t deadline,
                  WaitReason reason) {
  Sudog* lead = s->lead;
  // Blocked for deadlock detection: for good, in a call only a goroutine
  // can end (not a descriptor wait: IO may end it).
  bool blocked = deadline < 0 && reason != WaitReason::io_wait;
  plain_thread_enter();
  if (blocked) {
    // It may be the last possible waker: count it blocked, check for
    // deadlock.
    LockGuard guard(sched.lock);
    sched.nplain_blocked++;
    check_dead();
  }
  unlock(arg);
  // Acquire: pairs with the Release store in sudog_wake; the waker's writes
  // (elem, success, param) are visible afterwards.
  while (lead->woken.load(std::memory_order_acquire) == 0) {
    int64_t left = -1;
    if (deadline >= 0) {
      left = deadline - nanotime();
      if (left <= 0) {
        if (sudog_claim(lead)) break;  // timed out; param stays null
        deadline = -1;                 // a waker won: its wake follows
        left = -1;
      }
    }
    futex_wait(&lead->woken, 0, left);
  }
  if (blocked) {
    LockGuard guard(sched.lock);
    sched.nplain_blocked--;
  }
}

}  // namespace

void sudog_block(Sudog* s, void (*unlock)(void*), void* arg, WaitReason reason) {
  sudog_block_until(s, unlock, arg, reason, -1);
}

void sudog_block_until(Sudog* s, void (*unlock)(void*), void* arg, WaitReason reason,
                       int64_t deadline) {
  if (!s->g) {
    block_thread(s, unlock, arg, deadline, reason);
    return;
  }
  UnlockCommit c{unlock, arg};
  park(unlock_commit, &c, reason);
}

void sudog_wake(Sudog* s, GQueue* batch) {
  Sudog* lead = s->lead;
  if (G* g = lead->g) {
    if (batch)
      ready_into(g, batch);
    else
      ready(g, true);
    return;
  }
  lead->woken.store(1, std::memory_order_release);  // Release: see block_thread
  futex_wake(&lead->woken, 1);
}


// ---------------------------------------------------------------------------
// Wait queues and deadlines.

void WaitQ::enqueue(Sudog* s) {
  s->next = nullptr;
  s->prev = last;
  if (last)
    last->next = s;
  else
    first = s;
  last = s;
}

Sudog* WaitQ::dequeue() {
  while (Sudog* s = first) {
    first = s->next;
    if (first)
      first->prev = nullptr;
    else
      last = nullptr;
    s->next = s->prev = nullptr;
    // A select waiter whose other case (or timeout) won is dropped; its
    // own cleanup then finds it gone (remove).
    if (sudog_claim(s)) return s;
  }
  return nullptr;
}

void WaitQ::remove(Sudog* s) {
  if (s->prev) {
    s->prev->next = s->next;
  } else if (first == s) {
    first = s->next;
  } else {
    return;  // not queued (dequeued by a waker)
  }
  if (s->next)
    s->next->prev = s->prev;
  else
    last = s->prev;
  s->next = s->prev = nullptr;
}

namespace {

void deadline_fire(void* arg, int64_t) {
  auto* lead = static_cast<Sudog*>(arg);
  if (sudog_claim(lead)) sudog_wake(lead);
}

}  // namespace

void sudog_deadline_arm(SudogDeadline* d, Sudog* lead, int64_t deadline, WaitReason reason) {
  d->reason = reason;
  d->timer.f = deadline_fire;
  d->timer.arg = lead;
  d->armed = timer_add(&d->timer, deadline);
}

void sudog_deadline_disarm(SudogDeadline* d, bool parked) {
  if (!d->armed || timer_stop(&d->timer) || parked) return;
  park(nullptr, nullptr, d->reason);  // returns at once: the wakeup came or comes
}

}  // namespace gmprt
