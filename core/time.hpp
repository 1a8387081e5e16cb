// time.hpp -- timers: a 4-ary min-heap of deadlines per P, run by the
// scheduler (Go's addtimer / deltimer / checkTimers / runtimer).
//
// A Timer calls f(arg, now) once its deadline `when` has passed (and again
// every `period` when period > 0). f runs on a scheduler thread (g0), with
// the heap's lock held, so it must be short and must never block or touch
// timers: readying a goroutine, a non-blocking channel send, starting a
// goroutine. Everything the runtime needs fits that: sleep, select and
// channel timeouts, gmp_after, tickers and gmp_timer_start.
//
// Where timers live. timer_add puts a timer on the caller's P (a plain
// thread picks a P at random); t->pp remembers that P for good, also after
// the timer fired, so timer_stop always finds the lock that f ran under:
// when timer_stop returns, f is not running and will not run, and the
// timer's memory may be reused (timers of sleeps and selects live on the
// waiter's stack). A P removed by gmp_maxprocs hands its timers to P 0.
//
// Who runs them. An M running a P checks its heap at every schedule (a
// load of when0 and, only when there are timers, a clock read); a spinning M
// also runs the expired timers of other Ps. An M that finds no work and
// would sleep computes the earliest deadline of every P; one M at a time
// (sched.timer_sleeper) sleeps only until then, and takes an idle P when it
// wakes. Adding a timer earlier than that deadline wakes it (timer_wake).
//
// Locks: P::timers.lock is taken after a Chan's lock never, before
// sched.lock and a Chan's lock (f) always. So timers are armed and stopped
// with no channel locked (select does both outside its channel locks).
#pragma once

#include <stdint.h>

#include <atomic>

#include "lock.hpp"

namespace gmprt {

struct P;

using TimerFn = void (*)(void* arg, int64_t now);

struct Timer {
  int64_t when = 0;    // deadline (nanotime); guarded by pp's heap lock while queued
  int64_t period = 0;  // > 0: re-arm every period after firing
  TimerFn f = nullptr;
  void* arg = nullptr;
  // drop: at shutdown, a queued timer that will never fire; releases what f
  // would have (may be null).
  void (*drop)(void* arg) = nullptr;
  // pp: the P whose heap holds it, or last held it (null: never added).
  // Written under that heap's lock; read without it to find the lock.
  std::atomic<P*> pp{nullptr};
  int32_t idx = -1;  // position in pp's heap, -1 when not queued (heap lock)
};

// TimerHeap: a P's timers, a 4-ary min-heap on when.
struct TimerHeap {
  Lock lock;
  Timer** heap = nullptr;  // guarded by lock
  int32_t len = 0;
  int32_t cap = 0;
  // when0: the earliest deadline in the heap, 0 when empty. Written under
  // lock; read without it by the scheduler's cheap check and by Ms about to
  // sleep.
  std::atomic<int64_t> when0{0};
};

// timer_add: arm t (not queued) to fire at `when`. Returns false when memory
// for the heap cannot be had (t is then not armed).
bool timer_add(Timer* t, int64_t when);

// timer_stop: disarm t. True if it was queued (it will not fire now); false
// if it had fired or was never armed. Either way f is not running when it
// returns.
bool timer_stop(Timer* t);

// run_timers: run the expired timers of a P's heap (now: a recent
// nanotime). Called from the scheduler with the P held, or by a spinning M
// for another P.
void run_timers(TimerHeap* h, int64_t now);
void nanotime_and_run_timers(TimerHeap* h, int64_t when0);

// check_timers: run a P's expired timers if there are any; the scheduler
// calls it at every schedule, so the common case (no timers) is one load.
inline void check_timers(TimerHeap* h) {
  // Relaxed: a hint; run_timers decides under the lock.
  int64_t when0 = h->when0.load(std::memory_order_relaxed);
  if (when0 != 0) nanotime_and_run_timers(h, when0);
}

// steal_timers: run the expired timers of every P (a spinning M, or an M
// woken by the earliest deadline). True if any ran.
bool steal_timers();

// next_timer: the earliest deadline over all Ps, 0 if none. Called with
// sched.lock held by an M about to sleep.
int64_t next_timer();

// timers_move: p is being removed (world stopped): its timers go to dst.
void timers_move(P* p, P* dst);

// timers_drop: shutdown: forget every queued timer (their handles stop
// harmlessly afterwards); frees p's heap.
void timers_drop(P* p);

// timers_pending: timers queued anywhere (deadlock detection).
int64_t timers_pending();

}  // namespace gmprt
