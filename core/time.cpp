// time.cpp -- per-P timer heaps (design and lock order in time.hpp).
//
// The heap is 4-ary (Go's choice: shallower than binary, and the four
// children of a node share a cache line or two). Invariants, under the
// heap's lock: heap[i]->idx == i; heap[parent(i)]->when <= heap[i]->when;
// when0 == heap[0]->when, or 0 when empty; every queued timer counts once in
// ntimers.
#include <stdlib.h>

#include "fatal.hpp"
#include "rand.hpp"
#include "netpoll.hpp"
#include "sched.hpp"

namespace gmprt {

namespace {

// ntimers: timers queued on any heap. Changed under the heap's lock;
// check_dead reads it with every M idle, when only plain threads could
// change it (and a live plain thread already prevents the verdict).
std::atomic<int64_t> ntimers{0};

void sift_up(TimerHeap* h, int32_t i) {
  Timer* t = h->heap[i];
  while (i > 0) {
    int32_t parent = (i - 1) / 4;
    if (h->heap[parent]->when <= t->when) break;
    h->heap[i] = h->heap[parent];
    h->heap[i]->idx = i;
    i = parent;
  }
  h->heap[i] = t;
  t->idx = i;
}

void sift_down(TimerHeap* h, int32_t i) {
  Timer* t = h->heap[i];
  for (;;) {
    int32_t first = 4 * i + 1;
    if (first >= h->len) break;
    int32_t best = first;
    int32_t end = first + 4 < h->len ? first + 4 : h->len;
    for (int32_t c = first + 1; c < end; c++)
      if (h->heap[c]->when < h->heap[best]->when) best = c;
    if (t->when <= h->heap[best]->when) break;
    h->heap[i] = h->heap[best];
    h->heap[i]->idx = i;
    i = best;
  }
  h->heap[i] = t;
  t->idx = i;
}

// update_when0: after any change to the heap.
void update_when0(TimerHeap* h) {
  // Relaxed: a hint for lock-free readers; they act on it only after
  // taking the lock (run_timers) or under sched.lock with the adder's
  // timer_wake ordered after it (next_timer).
  h->when0.store(h->len ? h->heap[0]->when : 0, std::memory_order_relaxed);
}

// heap_push: queue t. False when the heap cannot grow.
bool heap_push(TimerHeap* h, Timer* t) {
  if (h->len == h->cap) {
    int32_t cap = h->cap ? h->cap * 2 : 16;
    void* mem = realloc(h->heap, size_t(cap) * sizeof(Timer*));
    if (!mem) return false;
    h->heap = static_cast<Timer**>(mem);
    h->cap = cap;
  }
  h->heap[h->len] = t;
  sift_up(h, h->len++);
  // Relaxed: under the heap lock (see ntimers).
  ntimers.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// heap_remove: dequeue the timer at i.
void heap_remove(TimerHeap* h, int32_t i) {
  Timer* t = h->heap[i];
  t->idx = -1;
  Timer* last = h->heap[--h->len];
  if (i < h->len) {
    h->heap[i] = last;
    last->idx = i;
    sift_up(h, i);
    sift_down(h, last->idx);
  }
  ntimers.fetch_sub(1, std::memory_order_relaxed);  // relaxed: see ntimers
}

// timer_home: the P a new timer goes to: the caller's, or a random live one.
P* timer_home() {
  M* m = current_m();
  if (m && m->p) return m->p;
  int32_t n = gomaxprocs.load(std::memory_order_relaxed);  // relaxed: allp[i < n] never goes away
  return allp[fastrandn(uint32_t(n))];
}

// timer_wake: a timer now due at `when` is the earliest of its P: make sure
// some M will look at it in time (Go's wakeNetPoller).
void timer_wake(int64_t when) {
  sched.lock.lock();
  M* sleeper = sched.timer_sleeper;
  if (sleeper) {
    if (sched.timer_sleep_until <= when) {
      sched.lock.unlock();
      return;
    }
    // The sleeper recomputes its deadline when it wakes (stopm). The wakeup
    // goes out under sched.lock, like every wakeup of an idle M: stopm
    // clears its note under that lock, so the wakeup is consumed there and
    // cannot outlive the idle spell (a late one would end the M's next sleep
    // on m->park, in stoplockedm, say, before its real wakeup).
    if (sched.sleeper_polls.load(std::memory_order_relaxed)) {
      // It polls: end its poll and leave it the role (it recomputes its
      // deadline when it comes back).
      netpoll_break();
    } else {
      sleeper_quit_locked();
      note_wakeup(&sleeper->park);
    }
    sched.lock.unlock();
    return;
  }
  sched.lock.unlock();
  // Nobody sleeps with a deadline: an M that stops next computes one; start
  // one if a P is idle (it finds nothing, then sleeps until `when`).
  wakep();
}

}  // namespace

bool timer_add(Timer* t, int64_t when) {
  for (;;) {
    P* p = timer_home();
    TimerHeap* h = &p->timers;
    h->lock.lock();
    // A P that gmp_maxprocs is removing hands its timers over once; a timer
    // queued after that would never run: take another P.
    if (p->status.load(std::memory_order_relaxed) ==
        PStatus::dead) {  // relaxed: set before the hand-over takes this lock
      h->lock.unlock();
      continue;
    }
    t->when = when;
    if (!heap_push(h, t)) {
      h->lock.unlock();
      return false;
    }
    // Release: timer_stop's Acquire load of pp then finds this heap's lock.
    t->pp.store(p, std::memory_order_release);
    bool earliest = t->idx == 0;
    update_when0(h);
    h->lock.unlock();
    if (earliest) timer_wake(when);
    return true;
  }
}

bool timer_stop(Timer* t) {
  for (;;) {
    // Acquire: pairs with the Release store in timer_add / timers_move.
    P* p = t->pp.load(std::memory_order_acquire);
    if (!p) return false;
    TimerHeap* h = &p->timers;
    LockGuard guard(h->lock);
    // Relaxed: pp only changes under the lock we now hold.
    if (t->pp.load(std::memory_order_relaxed) != p) continue;  // moved meanwhile
    if (t->idx < 0) return false;
    heap_remove(h, t->idx);
    update_when0(h);
    return true;
  }
}

void run_timers(TimerHeap* h, int64_t now) {
  LockGuard guard(h->lock);
  while (h->len > 0 && h->heap[0]->when <= now) {
    Timer* t = h->heap[0];
    TimerFn f = t->f;
    void* arg = t->arg;
    if (t->period > 0) {
      // Re-arm at the next multiple of the period after now (late ticks
      // are dropped, not bunched).
      t->when += t->period * (1 + (now - t->when) / t->period);
      sift_down(h, 0);
    } else {
      heap_remove(h, 0);
    }
    update_when0(h);
    // t may be gone once f returns (gmp_after's timer frees itself; a
    // stack timer's owner may return once f readied it and timer_stop got
    // this lock): f is the last use of t here.
    f(arg, now);
  }
}

void nanotime_and_run_timers(TimerHeap* h, int64_t when0) {
  int64_t now = nanotime();
  if (now >= when0) run_timers(h, now);
}

bool steal_timers() {
  int32_t n = gomaxprocs.load(std::memory_order_relaxed);  // relaxed: a bound
  int64_t now = 0;
  bool ran = false;
  for (int32_t i = 0; i < n; i++) {
    P* p = allp[i];
    // Relaxed: a hint, as in check_timers.
    int64_t when = p ? p->timers.when0.load(std::memory_order_relaxed) : 0;
    if (when == 0) continue;
    if (now == 0) now = nanotime();
    if (now < when) continue;
    run_timers(&p->timers, now);
    ran = true;
  }
  return ran;
}

int64_t next_timer() {
  int32_t n = gomaxprocs.load(std::memory_order_relaxed);  // relaxed: a bound
  int64_t next = 0;
  for (int32_t i = 0; i < n; i++) {
    // Relaxed: see update_when0; an adder whose store we miss calls
    // timer_wake after it, under sched.lock, which our caller holds.
    int64_t when = allp[i]->timers.when0.load(std::memory_order_relaxed);
    if (when != 0 && (next == 0 || when < next)) next = when;
  }
  return next;
}

void timers_move(P* p, P* dst) {
  TimerHeap* h = &p->timers;
  TimerHeap* d = &dst->timers;
  LockGuard guard(h->lock);
  LockGuard guard_dst(d->lock);
  while (h->len > 0) {
    Timer* t = h->heap[h->len - 1];
    heap_remove(h, h->len - 1);
    if (!heap_push(d, t)) fatal("out of memory moving timers");
    t->pp.store(dst, std::memory_order_release);  // Release: as in timer_add
  }
  update_when0(h);
  update_when0(d);
}

void timers_drop(P* p) {
  TimerHeap* h = &p->timers;
  LockGuard guard(h->lock);
  while (h->len > 0) {
    Timer* t = h->heap[h->len - 1];
    heap_remove(h, h->len - 1);
    // Relaxed: shutdown; nothing else runs.
    t->pp.store(nullptr, std::memory_order_relaxed);
    if (t->drop) t->drop(t->arg);
  }
  update_when0(h);
  free(h->heap);
  h->heap = nullptr;
  h->cap = 0;
}

int64_t timers_pending() {
  return ntimers.load(std::memory_order_relaxed);
}  // relaxed: see ntimers

}  // namespace gmprt
