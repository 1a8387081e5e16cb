// sleep.cpp -- sleep, time.After, time.AfterFunc and tickers on the timer
// heaps (time.hpp).
//
// Every timer function here runs on a scheduler thread under a heap lock,
// so each does one short, non-blocking thing: ready a goroutine
// (sleep), try-send the time on a channel (after, ticker), or start a
// goroutine (AfterFunc). A gmp_after timer owns itself and its channel
// reference and frees both when it fires (or at shutdown, through drop):
// nobody else can reach it.
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <new>

#include "sched.hpp"
#include "sleep.hpp"

namespace gmprt {

int64_t deadline_after(int64_t ns) {
  int64_t now = nanotime();
  return ns > INT64_MAX - now ? INT64_MAX : now + ns;
}

// ---------------------------------------------------------------------------
// Sleep.

namespace {

void sleep_fire(void* arg, int64_t) { ready(static_cast<G*>(arg), true); }

void sleep_thread(int64_t deadline) {
  struct timespec ts;
  ts.tv_sec = deadline / 1000000000;
  ts.tv_nsec = deadline % 1000000000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace

void time_sleep(int64_t ns) {
  if (ns <= 0) return;
  int64_t deadline = deadline_after(ns);
  G* g = current_g();
  if (!g) {
    sleep_thread(deadline);
    return;
  }
  // The timer is armed before the goroutine parks: if it fires first, its
  // gmp_ready is an early wakeup and the park returns at once (park.cpp).
  // (Arming it in the park commit instead would leave the commit touching
  // the timer after another M may have resumed the goroutine.) The loop:
  // a wakeup that is not the timer's (a stray gmp_ready) must not cut the
  // sleep short. At least one park, as in Go: even a 1 ns sleep goes
  // through the scheduler (and is a preemption point).
  do {
    Timer timer;
    timer.f = sleep_fire;
    timer.arg = g;
    if (!timer_add(&timer, deadline)) continue;  // no memory: try again
    park(nullptr, nullptr, WaitReason::sleep);
    // timer lives on this stack: once stopped it is not running (time.hpp).
    timer_stop(&timer);
  } while (nanotime() < deadline);
}

// ---------------------------------------------------------------------------
// time.After.

namespace {

struct After {
  Timer timer;
  Chan* c;
};

void after_free(void* arg) {
  auto* a = static_cast<After*>(arg);
  chan_release(a->c);
  a->~After();
  free(a);
}

void after_fire(void* arg, int64_t now) {
  auto* a = static_cast<After*>(arg);
  chan_send(a->c, &now, false);  // capacity 1 and one send: never full
  after_free(a);
}

// send_now: the ticker's send: drop the tick when the reader is behind.
void ticker_fire(void* arg, int64_t now) { chan_send(static_cast<Chan*>(arg), &now, false); }

void afterfunc_fire(void* arg, int64_t) {
  auto* t = static_cast<AfterFunc*>(arg);
  // No memory for a goroutine: the call is lost, as a failed gmp_go would
  // be; there is nobody to report it to.
  newproc(t->fn, t->arg, 0, nullptr, 0, nullptr);
}

}  // namespace

int after(int64_t ns, Chan** out) {
  void* mem = malloc(sizeof(After));
  if (!mem) return GMP_ENOMEM;
  auto* a = new (mem) After();
  if (int rc = chan_make(&a->c, sizeof(int64_t), 1)) {
    free(mem);
    return rc;
  }
  chan_retain(a->c);  // the caller's; the timer keeps the first
  a->timer.f = after_fire;
  a->timer.drop = after_free;
  a->timer.arg = a;
  Chan* c = a->c;
  if (!timer_add(&a->timer, deadline_after(ns > 0 ? ns : 0))) {
    chan_release(c);
    after_free(a);
    return GMP_ENOMEM;
  }
  *out = c;  // a may already be gone: use the copy
  return 0;
}

// ---------------------------------------------------------------------------
// time.AfterFunc.

int afterfunc_start(AfterFunc** out, int64_t ns, gmp_fn fn, void* arg) {
  void* mem = malloc(sizeof(AfterFunc));
  if (!mem) return GMP_ENOMEM;
  auto* t = new (mem) AfterFunc();
  t->fn = fn;
  t->arg = arg;
  t->timer.f = afterfunc_fire;
  t->timer.arg = t;
  if (!timer_add(&t->timer, deadline_after(ns > 0 ? ns : 0))) {
    t->~AfterFunc();
    free(mem);
    return GMP_ENOMEM;
  }
  *out = t;
  return 0;
}

int afterfunc_stop(AfterFunc* t) {
  LockGuard guard(t->lock);
  return timer_stop(&t->timer) ? 1 : 0;
}

int afterfunc_reset(AfterFunc* t, int64_t ns) {
  LockGuard guard(t->lock);
  bool pending = timer_stop(&t->timer);
  if (!timer_add(&t->timer, deadline_after(ns > 0 ? ns : 0))) return GMP_ENOMEM;
  return pending ? 1 : 0;
}

void afterfunc_free(AfterFunc* t) {
  afterfunc_stop(t);
  t->~AfterFunc();
  free(t);
}

// ---------------------------------------------------------------------------
// Tickers.

int ticker_start(Ticker** out, int64_t period, Chan** c) {
  void* mem = malloc(sizeof(Ticker));
  if (!mem) return GMP_ENOMEM;
  auto* t = new (mem) Ticker();
  if (int rc = chan_make(&t->c, sizeof(int64_t), 1)) {
    free(mem);
    return rc;
  }
  t->timer.f = ticker_fire;
  t->timer.arg = t->c;
  t->timer.period = period;
  if (!timer_add(&t->timer, deadline_after(period))) {
    chan_release(t->c);
    t->~Ticker();
    free(mem);
    return GMP_ENOMEM;
  }
  chan_retain(t->c);  // the caller's
  *c = t->c;
  *out = t;
  return 0;
}

void ticker_stop(Ticker* t) {
  timer_stop(&t->timer);
  chan_release(t->c);
  t->~Ticker();
  free(t);
}

}  // namespace gmprt
