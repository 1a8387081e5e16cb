// stw.cpp -- stopping the world and changing GOMAXPROCS (Go's
// stopTheWorldWithSema, startTheWorldWithSema, procresize).
//
// Stop-the-world protocol:
//  1. Take stw_lock (one stopper at a time). A goroutine that finds it taken
//     yields instead of blocking its M: the stopper may be waiting for this
//     very P to stop.
//  2. Under sched.lock: set gcwaiting, stopwait = gomaxprocs; the caller's own
//     P (if it is a goroutine) and every idle P go to gcstop at once.
//  3. Every other P is held by an M that checks gcwaiting at its next pass
//     through the scheduler (schedule_one, find_runnable, handoffp): it stops
//     its P (gcstopm), decrements stopwait, and the last one wakes the
//     stopper. Running goroutines are asked to yield at their next
//     preemption point (gmp_preempt_point and every runtime call) through
//     their P's preempt flag.
//  4. The stopper resizes (procresize), clears gcwaiting and starts an M for
//     every P that has work; the rest go idle.
// The stopper sets the preempt flag of every P still running and signals
// goroutines started with GMP_GO_ASYNC_PREEMPT, then again every
// kAsyncPreemptRetryNs while it waits; any other goroutine that never
// reaches a preemption point delays the stop until it does.
//
// Ps are never freed while the runtime runs: Ms without a P may still read
// allp[i] (check_runqs_nop), so a removed P goes to status dead and is
// reused if the count grows again.
#include <stdlib.h>

#include <new>

#include "../capi/include/gmprt.h"
#include "fatal.hpp"
#include "preempt.hpp"
#include "sched.hpp"
#include "sysmon.hpp"

namespace gmprt {

namespace {

Lock stw_lock;

P* new_p(int32_t id) {
  void* mem = calloc(1, sizeof(P));
  if (!mem) fatal("out of memory allocating a P");
  P* p = new (mem) P();
  p->id = id;
  return p;
}

// destroy_p: p is being removed: its queued Gs go to the global queue, its
// free Gs to the global free list, its timers to P 0. With the world stopped, under sched.lock.
void destroy_p(P* p) {
  GQueue q;
  runq_drain(&p->runq, &q);
  int32_t n = 0;
  for (G* g = q.head; g; g = schedlink(g)) n++;
  globrunq_put_batch(&q, n);
  gfpurge(p);
  p->goidcache = p->goidcacheend = 0;
  p->status.store(PStatus::dead, std::memory_order_relaxed);  // relaxed: world stopped
  // After the status: a plain thread adding a timer sees dead once it holds
  // the heap's lock after this hand-over (timer_add).
  timers_move(p, allp[0]);
}

// preempt_running: the stopper's retry while it waits: ask the goroutines
// still running on the first n Ps to give way, and signal those started with
// GMP_GO_ASYNC_PREEMPT (Go's preemptall).
void preempt_running(int32_t n) {
  for (int32_t i = 0; i < n; i++) {
    P* p = allp[i];
    if (p->status.load(std::memory_order_relaxed) != PStatus::running) continue;  // relaxed: a hint
    p->preempt.store(true, std::memory_order_relaxed);  // relaxed: a hint
    preempt_async(p);
  }
}

// stop_the_world: steps 1-3. Returns with sched.lock held and the caller's M
// (null on a plain thread) in *self: a goroutine may have moved while it
// yielded for stw_lock.
void stop_the_world(M** self_out) {
  if (current_g()) {
    while (!stw_lock.try_lock()) gosched();
  } else {
    stw_lock.lock();
  }
  M* self = current_m();
  *self_out = self;
  sched.lock.lock();
  int32_t n = gomaxprocs.load(std::memory_order_relaxed);
  sched.stopwait = n;
  // Relaxed: Ms re-check it under sched.lock before acting (gcstopm).
  sched.gcwaiting.store(true, std::memory_order_relaxed);
  if (self && self->p) {
    self->p->status.store(PStatus::gcstop, std::memory_order_relaxed);
    sched.stopwait--;
  }
  while (P* p = pidleget()) {
    p->status.store(PStatus::gcstop, std::memory_order_relaxed);
    sched.stopwait--;
  }
  // Ps whose M is in a system call stop now (syscall.cpp); the M finds out
  // when its call returns. Acquire: we take the P with its owner's writes.
  for (int32_t i = 0; i < n; i++) {
    PStatus want = PStatus::syscall;
    if (allp[i]->status.compare_exchange_strong(want, PStatus::gcstop, std::memory_order_acquire,
                                                std::memory_order_relaxed))
      sched.stopwait--;
  }
  bool wait = sched.stopwait > 0;
  if (wait) note_clear(&sched.stopnote);
  sched.lock.unlock();
  if (wait) {
    do {
      preempt_running(n);
    } while (!note_tsleep(&sched.stopnote, kAsyncPreemptRetryNs));
  }
  sched.lock.lock();
}

// procresize: set the number of Ps to n; returns the Ps that have queued
// work (linked through link) for the caller to start Ms on. With the world
// stopped, under sched.lock.
P* procresize(M* self, int32_t n) {
  int32_t old = gomaxprocs.load(std::memory_order_relaxed);
  for (int32_t i = old; i < n; i++) {
    if (!allp[i]) {
      allp[i] = new_p(i);
      // Release: publishes allp[i] to count_goroutines' Acquire load.
      sched.nallp.store(i + 1, std::memory_order_release);
    }
    allp[i]->status.store(PStatus::gcstop, std::memory_order_relaxed);
  }
  for (int32_t i = n; i < old; i++) destroy_p(allp[i]);
  // Relaxed: readers without the lock use it as a bound only; allp[i] for
  // i < n stays valid for the runtime's life.
  gomaxprocs.store(n, std::memory_order_relaxed);
  if (self && self->p && self->p->id >= n) {
    self->p->m = nullptr;
    self->p = nullptr;
    acquirep(self, allp[0]);
  } else if (self && self->p) {
    self->p->status.store(PStatus::running, std::memory_order_relaxed);
  }
  P* runnable = nullptr;
  for (int32_t i = n - 1; i >= 0; i--) {
    P* p = allp[i];
    if (self && p == self->p) continue;
    if (runq_empty(&p->runq)) {
      pidleput(p);
    } else {
      p->status.store(PStatus::idle, std::memory_order_relaxed);
      p->link = runnable;
      runnable = p;
    }
  }
  return runnable;
}

// start_the_world: resize to n (0: keep), release the world and start Ms for
// Ps with work. Called by the stopper with sched.lock held; releases it.
void start_the_world(M* self, int32_t n) {
  if (n <= 0) n = gomaxprocs.load(std::memory_order_relaxed);
  P* runnable = procresize(self, n);
  sched.gcwaiting.store(false, std::memory_order_relaxed);  // relaxed: under sched.lock
  sysmon_wake_locked();  // it parks while the world is stopped
  sched.lock.unlock();
  while (runnable) {
    P* p = runnable;
    runnable = p->link;
    p->link = nullptr;
    startm(p, false);
  }
  stw_lock.unlock();
  wakep();
}

}  // namespace

// gcstopm: the world is stopping: give up m's P and sleep until restarted.
// Runs on g0.
void gcstopm(M* m) {
  if (m->spinning) {
    m->spinning = false;
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: parking protocol
  }
  P* p = releasep(m);
  sched.lock.lock();
  p->status.store(PStatus::gcstop, std::memory_order_relaxed);  // relaxed: under sched.lock
  if (--sched.stopwait == 0) note_wakeup(&sched.stopnote);
  sched.lock.unlock();
  stopm(m);
}

// procresize_initial: create the first n Ps at start-up (no M exists yet).
void procresize_initial(int32_t n) {
  LockGuard guard(sched.lock);
  P* runnable = procresize(nullptr, n);
  if (runnable) fatal("fresh Ps with queued work");
}

// set_maxprocs: gmp_maxprocs(n) with 0 < n <= kMaxProcs; returns the old value.
int set_maxprocs(int n) {
  int old = gomaxprocs.load(std::memory_order_relaxed);
  if (n == old) return old;
  M* self = nullptr;
  stop_the_world(&self);
  old = gomaxprocs.load(std::memory_order_relaxed);
  start_the_world(self, n);
  return old;
}

}  // namespace gmprt
