// proc.cpp -- the goroutine scheduler: creating goroutines, the scheduling
// loop, finding work, and switching (Go's proc.go).
//
// The model. G is a goroutine, M an OS thread, P a processor: the right to
// run goroutines. There are exactly gomaxprocs Ps; an M must hold one to run
// a G. Each P has a local run queue (runnext + a lock-free ring, runq.cpp);
// behind them is the global run queue under sched.lock. Idle Ps and idle Ms
// sit on lists under sched.lock (idle.cpp).
//
// Switching. Scheduler code runs on g0, the M's own thread stack, never on a
// goroutine's stack. A goroutine enters the scheduler through mcall(fn): it
// saves its context and switches to g0, where fn(g) runs (park_m, gosched_m,
// goexit0). fn returns the G to run next (the same one, to resume it at once)
// or null, and the M goes back to schedule_one. So a switch between two
// goroutines is G -> g0 -> G', and g0's loop is flat: it never recurses. The
// exceptions are the direct switches G -> G': the yield (gosched in
// sched.hpp), with sched.lock held across the switch, and the park of a G
// whose successor is in runnext (park_direct; G' then finishes G's park,
// park.cpp). g0 gets back from execute whichever goroutine switches to it
// next; the G switched to does what the switch left undone when it resumes
// (resumed).
//
// Worker thread parking and unparking (the invariant of Go's proc.go).
// We must not leave a P idle while there is runnable work, and we must not
// wake more threads than useful. An M is "spinning" when it has a P and is
// looking for work (sched.nmspinning counts them). Whoever makes a G
// runnable calls wakep(), which starts a spinning M only if there is an idle
// P and no M is spinning already. A spinning M that finds work stops
// spinning and calls wakep() again (resetspinning), so another M takes over
// the search. A spinning M that finds nothing gives its P back, decrements
// nmspinning and then looks at every run queue once more before sleeping.
// Both sides order their write before their read with sequentially
// consistent atomics (a submitter stores the work then loads nmspinning; the
// last spinner stores nmspinning then loads the queues), so one of them
// always sees the other: no work is stranded with an idle P.
//
// Rejected: running the gmp_main caller's thread as an M (Go's m0). A library
// must return from gmp_main on the caller's thread and must not run other
// goroutines on a host thread, so the caller waits on a futex instead and
// every M is a thread the runtime created.
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../capi/include/gmprt.h"
#include "env.hpp"
#include "evtrace.hpp"
#include "fatal.hpp"
#include "netpoll.hpp"
#include "rand.hpp"
#include "sched.hpp"

namespace gmprt {

Sched sched;
P* allp[kMaxProcs];
std::atomic<int32_t> gomaxprocs{0};

// ---------------------------------------------------------------------------
// Global run queue. Called with sched.lock held.

void globrunq_put(G* g) {
  sched.runq.push_back(g);
  // Relaxed, no read-modify-write: the size is guarded by sched.lock, and
  // readers without the lock only take a hint. The parking protocol for the
  // global queue goes through the lock (check_runqs_nop).
  owner_add(sched.runqsize, 1);
}

void globrunq_put_batch(GQueue* batch, int32_t n) {
  sched.runq.push_back_all(*batch);
  owner_add(sched.runqsize, n);  // relaxed: as in globrunq_put
}

// inject_batch: queue goroutines the poller made runnable (Go's
// injectglist). On an M with a P they go to its local queue, where it finds
// them next, and an idle P is woken for the rest when there is more than
// one; on a thread without a P they go to the global queue under one lock,
// and an idle P is woken.
void inject_batch(GQueue* batch) {
  if (batch->empty()) return;
  M* m = current_m();
  bool several = schedlink(batch->head) != nullptr;
  if (m && m->p) {
    while (G* g = batch->pop()) runq_put_p(m->p, g, false);
    if (several) wakep();
    return;
  }
  {
    LockGuard guard(sched.lock);
    globrunq_put_batch(batch, batch->count());
  }
  wakep();
}

// globrunq_get: take a fair share of the global queue for p: one G to return,
// the rest onto p's local ring (Go's globrunqget). max 0 means no limit
// beyond half the ring.
G* globrunq_get(P* p, int32_t max) {
  int32_t size = sched.runqsize.load(std::memory_order_relaxed);  // guarded by lock
  if (size == 0) return nullptr;
  int32_t procs = gomaxprocs.load(std::memory_order_relaxed);
  int32_t n = procs == 1 ? size : size / procs + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > int32_t(kRunqSize / 2)) n = int32_t(kRunqSize / 2);
  // Relaxed: the size is guarded by sched.lock; lock-free readers take a hint.
  sched.runqsize.store(size - n, std::memory_order_relaxed);
  G* g = sched.runq.pop();
  for (n--; n > 0; n--) {
    G* g1 = sched.runq.pop();
    GQueue overflow;
    // The ring had room for half of it at most; an overflow cannot happen
    // with the local queue owned by us and n <= kRunqSize/2, but handle it.
    if (runq_put(&p->runq, g1, false, &overflow)) {
      int32_t k = 0;
      for (G* x = overflow.head; x; x = schedlink(x)) k++;
      globrunq_put_batch(&overflow, k);
    }
  }
  return g;
}

// runq_put_p: put g on p's local queue; an overflow batch goes to the global
// queue. Executed only by the owner of p.
void runq_put_p(P* p, G* g, bool next) {
  GQueue overflow;
  if (!runq_put(&p->runq, g, next, &overflow)) return;
  int32_t n = 0;
  for (G* x = overflow.head; x; x = schedlink(x)) n++;
  LockGuard guard(sched.lock);
  globrunq_put_batch(&overflow, n);
}

// ---------------------------------------------------------------------------
// Creating goroutines (newproc).

// goroutine_entry: the first frame of every goroutine.
void goroutine_entry(void* arg) {
  fiber_started();
  G* g = static_cast<G*>(arg);
  resumed(g);  // a direct park may have started it
  nopreempt_exit(g);  // newproc counted this frame as runtime code
  g->fn(g->arg);
  nopreempt_enter(g);
  goexit();
}

namespace {

// next_goid: a fresh goroutine id; from p's cached batch when there is a P.
uint64_t next_goid(P* p) {
  if (!p) {
    // Relaxed: ids need only be unique; nothing is published through them.
    return sched.goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  if (p->goidcache == p->goidcacheend) {
    uint64_t end = sched.goidgen.fetch_add(kGoidCacheBatch, std::memory_order_relaxed) +
                   kGoidCacheBatch;  // relaxed, as above
    p->goidcache = end - kGoidCacheBatch + 1;
    p->goidcacheend = end + 1;
  }
  return p->goidcache++;
}

}  // namespace

// newproc: create a goroutine running fn(arg) and queue it (Go's newproc1).
// Callable from a goroutine (the G goes to the caller P's runnext) or from
// any thread (the global queue). main_wait, when not null, marks the main
// goroutine of a gmp_main call. Returns 0 or GMP_ENOMEM.
int newproc(gmp_fn fn, void* arg, size_t stack_size, const char* name, uintptr_t pc,
            MainWait* main_wait, bool async_preempt) {
  M* m = current_m();
  P* p = m ? m->p : nullptr;
  G* g = gfget(p, stack_size);
  if (!g) return GMP_ENOMEM;
  g->fn = fn;
  g->arg = arg;
  g->gopc = pc;
  g->m = nullptr;
  g->lockedm = nullptr;
  g->waiting = nullptr;
  g->main_wait = main_wait;
  g->waitreason = WaitReason::none;
  g->system = false;
  g->fresh = true;
  // Relaxed: published with the G by the Release status store below.
  g->async_preempt.store(async_preempt, std::memory_order_relaxed);
  g->nopreempt.store(1, std::memory_order_relaxed);  // goroutine_entry's runtime part
  g->async_pending.store(false, std::memory_order_relaxed);
  g->name[0] = 0;
  if (name) {
    strncpy(g->name, name, kNameMax - 1);
    g->name[kNameMax - 1] = 0;
  }
  // A stack of its own size is already there; a default one comes at first
  // run (stack_bind).
  if (g->stack.lo) fiber_make(&g->fiber, g->stack.lo, g->stack.size, goroutine_entry, g);
  g->goid = next_goid(p);
  // Relaxed: counters read as snapshots (count_goroutines); per-P ones are
  // written only by the owner.
  if (p) {
    owner_add<int64_t>(p->ngoroutines_delta, 1);
    owner_add<uint64_t>(p->ncreated, 1);
  } else {
    sched.ngoroutines_plain.fetch_add(1, std::memory_order_relaxed);
    // Relaxed: a statistic; plain-thread creation already writes this line.
    sched.ncreated_plain.fetch_add(1, std::memory_order_relaxed);
  }
  // Release: check_dead and dumps read the other fields (system, name) of a
  // G only after an Acquire load of its status sees it live.
  store_status(g, GStatus::runnable, std::memory_order_release);
  if (p) {
    runq_put_p(p, g, true);
  } else {
    LockGuard guard(sched.lock);
    globrunq_put(g);
  }
  wakep();
  return 0;
}

// ---------------------------------------------------------------------------
// Switching: mcall, execute.

namespace {

// new_slice: a new time slice starts on p (the monitor watches slices).
void new_slice(P* p) {
  owner_add<uint32_t>(p->schedtick, 1);  // relaxed: the monitor only compares
  p->preempt.store(false, std::memory_order_relaxed);  // relaxed: a hint
}

// set_running: g, taken off a run queue by this M, becomes running.
void set_running(G* g) {
  if (g->fresh) {
    // First run: nobody can hold g's handle yet (only gmp_self hands it out),
    // so nobody can set kWoken: a plain store. Relaxed: g is owned by this M.
    g->fresh = false;
    store_status(g, GStatus::running, std::memory_order_relaxed);
    return;
  }
  // runnable -> running, keeping kWoken: a read-modify-write, since
  // gmp_ready may set kWoken at any moment. Relaxed: g is owned by this M
  // (taken from a run queue with Acquire); the word's modification order is
  // all ready needs.
  uint32_t was = g->status.fetch_add(kRunnableToRunning, std::memory_order_relaxed);
  GMP_ASSERT(gstatus(was) == GStatus::runnable);
  (void)was;
}

// execute: run g on m until a goroutine switches back to g0 (Go's execute +
// gogo); returns that goroutine (g, or one a direct yield handed the M to).
// Runs on g0. inherit: g came from runnext and keeps the current time slice.
G* execute(M* m, G* g, bool inherit) {
  P* p = m->p;
  if (!g->fiber.ctx.sp) stack_bind(p, g);
  m->curg = g;
  g->m = m;
  // Unless gosched_m's fast path did the transition under sched.lock.
  if (load_status(g, std::memory_order_relaxed) != GStatus::running) set_running(g);
  if (!inherit) new_slice(p);
  p->curg.store(g, std::memory_order_release);  // Release: g's fields for the stall report
  owner_add<uint64_t>(p->nswitch, 1);  // relaxed: a statistic
  if (evtrace_enabled()) evtrace_run_begin(m, g);
  fiber_switch_from_g0(&m->g0, &g->fiber, &m->fpctl);
  if (evtrace_enabled()) evtrace_run_end(m);
  // Not necessarily g: direct yields (gosched) may have handed the M on.
  G* back = m->curg;
  m->curg = nullptr;
  return back;
}

// run: execute g, then whatever the mcall functions hand back, until one
// returns null. A G handed back resumes its time slice when it is the one
// that just ran, and starts a new one otherwise.
void run(M* m, G* g, bool inherit) {
  while (g) {
    G* back = execute(m, g, inherit);
    McallFn fn = m->mcall_fn;
    m->mcall_fn = nullptr;
    g = fn(back);
    inherit = g == back || m->inherit_next;
    m->inherit_next = false;
  }
}

// gcd for the coprime steal stride.
uint32_t gcd(uint32_t a, uint32_t b) {
  while (b) {
    uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// steal_work: try to take Gs from other Ps (Go's stealWork): kStealTries
// rounds over all Ps in a random order (random start, random coprime
// stride); runnext only in the last round. Runs on g0 with p held.
G* steal_work(P* p) {
  uint32_t n = uint32_t(gomaxprocs.load(std::memory_order_relaxed));
  if (n <= 1) return nullptr;
  for (int i = 0; i < kStealTries; i++) {
    bool last = i == kStealTries - 1;
    uint32_t pos = fastrandn(n);
    uint32_t inc;
    do inc = 1 + fastrandn(n - 1);
    while (gcd(inc, n) != 1);
    for (uint32_t k = 0; k < n; k++, pos = (pos + inc) % n) {
      // Relaxed: a hint; gcstopm synchronises through sched.lock.
      if (sched.gcwaiting.load(std::memory_order_relaxed)) return nullptr;
      P* victim = allp[pos];
      if (!victim || victim == p) continue;
      if (!last && runq_empty(&victim->runq)) continue;
      // Relaxed: deciding whether to pause; any value is safe.
      bool running = victim->status.load(std::memory_order_relaxed) == PStatus::running;
      if (G* g = runq_steal(&p->runq, &victim->runq, last, running)) {
        owner_add<uint64_t>(p->nsteal, 1);  // relaxed: a statistic
        if (evtrace_enabled()) evtrace_steal(p, victim);
        return g;
      }
    }
  }
  return nullptr;
}

// check_runqs_nop: after dropping its P and its spinning status, look at every
// queue once more (the other half of the parking protocol). Returns an idle
// P to take when some queue has work. The global queue is checked under
// sched.lock: a submitter's critical section is then either before ours (we
// see its G) or after (its wakep sees our nmspinning decrement and our idle
// P), with no reliance on store-load fences.
P* check_runqs_nop() {
  bool work = false;
  int32_t n = gomaxprocs.load(std::memory_order_relaxed);
  for (int32_t i = 0; !work && i < n; i++) {
    P* p = allp[i];
    if (p && !runq_empty(&p->runq)) work = true;
  }
  LockGuard guard(sched.lock);
  if (!work && sched.runqsize.load(std::memory_order_relaxed) == 0) return nullptr;
  return pidleget();
}

// find_runnable: find a G to run, blocking until there is one (Go's
// findrunnable). Runs on g0 with m->p held; returns with a P held, or null
// when the M must exit (shutdown).
G* find_runnable(M* m, bool* inherit) {
  for (;;) {
    if (m->exiting) return nullptr;
    // Relaxed: a hint; gcstopm re-checks under sched.lock.
    if (sched.gcwaiting.load(std::memory_order_relaxed)) {
      gcstopm(m);
      continue;
    }
    P* p = m->p;
    check_timers(&p->timers);
    if (G* g = runq_get(&p->runq, inherit)) return g;
    *inherit = false;
    if (sched.runqsize.load(std::memory_order_relaxed) != 0) {  // relaxed: a hint
      LockGuard guard(sched.lock);
      if (G* g = globrunq_get(p, 0)) return g;
    }
    // The poller, without blocking, unless an idle M is blocked in it
    // already (Go's lastpoll check). Woken goroutines land on our queue.
    // Relaxed: hints; a missed poll leaves the events to that M or sysmon.
    if (netpoll_waiting() && !sched.sleeper_polls.load(std::memory_order_relaxed)) {
      GQueue polled;
      if (netpoll(0, &polled) > 0) {
        inject_batch(&polled);
        continue;
      }
    }
    // Steal only if this M already spins or fewer than half the busy Ps
    // have a spinning M (otherwise the search costs more than it finds).
    int32_t busy =
        gomaxprocs.load(std::memory_order_relaxed) - sched.npidle.load(std::memory_order_relaxed);
    if (m->spinning || 2 * sched.nmspinning.load(std::memory_order_relaxed) < busy) {
      if (!m->spinning) {
        m->spinning = true;
        sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);  // seq_cst: parking protocol
      }
      // Expired timers of any P (their goroutines land on our runnext).
      if (steal_timers()) continue;
      if (G* g = steal_work(p)) return g;
    }
    // Nothing found: give the P back.
    {
      LockGuard guard(sched.lock);
      if (sched.gcwaiting.load(std::memory_order_relaxed)) continue;
      if (G* g = globrunq_get(p, 0)) return g;
      releasep(m);
      pidleput(p);
    }
    if (m->spinning) {
      m->spinning = false;
      // seq_cst: store the decrement, then load the queues (parking protocol).
      sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      if (P* p2 = check_runqs_nop()) {
        acquirep(m, p2);
        m->spinning = true;
        sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
        continue;
      }
    }
    stopm(m);
  }
}

// resetspinning: this spinning M found work; stop spinning and, if it was the
// last spinner, wake another M to look for the rest.
void resetspinning(M* m) {
  m->spinning = false;
  sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: parking protocol
  wakep();
}

// schedule_one: one round of Go's schedule(): pick the next G for m.
// Returns null when m must exit.
G* schedule_one(M* m, bool* inherit) {
  for (;;) {
    if (m->exiting) return nullptr;
    if (m->lockedg) {
      // Our locked G is not running: give the P away and wait for it.
      stoplockedm(m);
      if (m->exiting) return nullptr;
      *inherit = false;
      return m->lockedg;
    }
    // Relaxed: a hint; gcstopm re-checks under sched.lock.
    if (sched.gcwaiting.load(std::memory_order_relaxed)) {
      gcstopm(m);
      continue;
    }
    P* p = m->p;
    G* g = nullptr;
    *inherit = false;
    check_timers(&p->timers);
    // Fairness: now and then take from the global queue first.
    if (p->schedtick.load(std::memory_order_relaxed) % kGlobalRunqTick == 0 &&
        sched.runqsize.load(std::memory_order_relaxed) > 0) {
      LockGuard guard(sched.lock);
      g = globrunq_get(p, 1);
    }
    if (!g) g = runq_get(&p->runq, inherit);
    if (!g) g = find_runnable(m, inherit);
    if (!g) return nullptr;
    if (m->spinning) resetspinning(m);
    if (g->lockedm && g->lockedm != m) {
      // g may run only on its own M: hand it our P and sleep.
      startlockedm(m, g);
      continue;
    }
    return g;
  }
}

}  // namespace

// mstart: the body of every M's thread.
void* mstart(void* arg) {
  M* m = static_cast<M*>(arg);
  set_current_m(m);
  m->tid = pid_t(syscall(SYS_gettid));
  fiber_init_thread(&m->g0);
  m->fpctl = fiber_thread_fpctl();
  stack_thread_init();
  if (m->nextp) {
    P* p = m->nextp;
    m->nextp = nullptr;
    acquirep(m, p);
  }
  bool inherit = false;
  while (G* g = schedule_one(m, &inherit)) run(m, g, inherit);
  mexit(m);
  return nullptr;
}

// ---------------------------------------------------------------------------
// Leaving and yielding.

namespace {

// The yield fast paths. When this P has no local work, schedule_one would go
// to the global queue next anyway, so a yield can take the queue's head in
// the same critical section that puts g at its back, unless something needs
// schedule_one's attention: a locked M, a stopping world, timers due on this
// P, or a head G locked to another M.

// yield_needs_schedule: the conditions that the owner checks without the lock.
// Relaxed loads: gcwaiting is re-checked by schedule_one (a stale false only
// delays this M's stop by one time slice); when0 is a hint whose timers
// schedule_one runs.
bool yield_needs_schedule(M* m, P* p) {
  return m->lockedg || sched.gcwaiting.load(std::memory_order_relaxed) ||
         !runq_empty_owner(&p->runq) || p->timers.when0.load(std::memory_order_relaxed) != 0;
}

// rotate_global_head: g (runnable) to the back of the global queue, its head
// to run on m. Called with sched.lock held. The queue's length is unchanged;
// both status changes are plain stores under sched.lock, which ready takes
// to set kWoken on a running or runnable G (park.cpp). Relaxed: the lock
// publishes them.
G* rotate_global_head(M* m, G* g) {
  G* head = sched.runq.pop();
  sched.runq.push_back(g);
  new_slice(m->p);  // as schedule_one would have
  m->p->curg.store(head, std::memory_order_release);  // as execute would
  head->status.store(head->status.load(std::memory_order_relaxed) + kRunnableToRunning,
                     std::memory_order_relaxed);
  head->fresh = false;
  return head;
}

// switch_in: next, already marked running, takes m over from the running G
// without passing through g0 (a direct switch): execute's bookkeeping.
void switch_in(M* m, G* next) {
  next->m = m;
  m->curg = next;
  owner_add<uint64_t>(m->p->nswitch, 1);  // relaxed: a statistic
  if (evtrace_enabled()) {
    evtrace_run_end(m);
    evtrace_run_begin(m, next);
  }
}

void set_runnable_locked(G* g) {
  // running -> runnable, keeping kWoken: a plain load and store, as above.
  g->status.store(g->status.load(std::memory_order_relaxed) - kRunnableToRunning,
                  std::memory_order_relaxed);
}

// resched_self: a yield with nothing else to run: g goes on, in a new slice
// as if the scheduler had picked it again (it counts as a switch).
G* resched_self(P* p, G* g) {
  new_slice(p);
  owner_add<uint64_t>(p->nswitch, 1);  // relaxed: a statistic (and the monitor's stall watch)
  return g;
}

}  // namespace

// gosched_m: put g on the global queue and schedule (Go's goschedImpl), on
// g0; with the fast path above, the head of the queue goes straight back to
// run() (execute finds it running already).
G* gosched_m(G* g) {
  M* m = g->m;  // the M whose g0 runs this (set by execute)
  LockGuard guard(sched.lock);
  set_runnable_locked(g);
  G* head = sched.runq.head;
  if (!head || yield_needs_schedule(m, m->p) || (head->lockedm && head->lockedm != m)) {
    globrunq_put(g);
    return nullptr;
  }
  return rotate_global_head(m, g);
}

// handoff_m: g hands its M and the rest of its time slice to m->handoff, a
// goroutine the poller has just made runnable, and waits in runnext to go
// on when that one stops (fdio's read after a write: the request goes
// straight to the peer that serves it). On g0.
G* handoff_m(G* g) {
  M* m = g->m;  // the M whose g0 runs this (set by execute)
  G* next = m->handoff;
  m->handoff = nullptr;
  // running -> runnable, keeping kWoken: a read-modify-write, since
  // gmp_ready may set kWoken at any moment. Relaxed: g is owned by this M;
  // runq_put publishes it.
  g->status.fetch_sub(kRunnableToRunning, std::memory_order_relaxed);
  runq_put_p(m->p, g, true);
  m->inherit_next = true;
  return next;
}

// gosched_direct: the fast path of gosched (sched.hpp), on g's own stack.
// Returns the G to switch to, with sched.lock held and the G set up as
// execute would; g when nothing else is runnable; null when gosched_m must
// do the work. A fresh head is left to gosched_m, since it may need a stack
// (allocation has no place under sched.lock) and starts at its entry
// rather than in resumed().
G* gosched_direct(M* m, G* g) {
  P* p = m->p;
  if (yield_needs_schedule(m, p)) return nullptr;
  // Relaxed: a hint. A G queued a moment ago may wait for this M's next
  // schedule, as it would after a yield that found it missing.
  if (sched.runqsize.load(std::memory_order_relaxed) == 0) return resched_self(p, g);
  sched.lock.lock();
  G* head = sched.runq.head;
  if (!head || head->fresh || (head->lockedm && head->lockedm != m)) {
    sched.lock.unlock();
    return head ? nullptr : resched_self(p, g);
  }
  set_runnable_locked(g);
  head = rotate_global_head(m, g);
  switch_in(m, head);
  head->on_resume = OnResume::unlock_sched;
  return head;
}

G* park_direct(M* m) {
  P* p = m->p;
  // What schedule_one would look at before runnext: a locked M, a stopping
  // world, timers due, the global queue's turn. Relaxed loads: hints, as in
  // yield_needs_schedule; the clock is read only when there are timers.
  if (m->lockedg || sched.gcwaiting.load(std::memory_order_relaxed)) return nullptr;
  int64_t when0 = p->timers.when0.load(std::memory_order_relaxed);
  if (when0 != 0 && when0 <= nanotime()) return nullptr;
  if (p->schedtick.load(std::memory_order_relaxed) % kGlobalRunqTick == 0 &&
      sched.runqsize.load(std::memory_order_relaxed) > 0)
    return nullptr;
  // Taken before its fields are read: until then a thief may be running it.
  G* next = runq_take_next(&p->runq);
  if (!next) return nullptr;
  if (next->lockedm) {
    runq_put_p(p, next, true);  // back where it was; schedule_one hands it on
    return nullptr;
  }
  if (!next->fiber.ctx.sp) stack_bind(p, next);
  set_running(next);
  // A runnext G inherits the time slice (no new_slice), as in schedule_one.
  p->curg.store(next, std::memory_order_release);  // Release: as in execute
  switch_in(m, next);
  return next;
}

void resume_work(G* g) {
  OnResume work = g->on_resume;
  g->on_resume = OnResume::none;
  if (work == OnResume::unlock_sched)
    sched.lock.unlock();
  else
    park_finish(g->m);
}

// goexit0: g has finished (returned or called gmp_exit). Runs on g0.
G* goexit0(G* g) {
  M* m = g->m;  // the M whose g0 runs this (set by execute)
  P* p = m->p;
  bool locked = g->lockedm != nullptr;
  MainWait* mw = g->main_wait;
  bool system = g->system;
  // The other fields stay as they are: newproc sets every one on reuse.
  // Relaxed: the free list is owner-only; reuse goes through newproc.
  store_status(g, GStatus::dead, std::memory_order_relaxed);
  stack_unbind(p, g);
  gfput(p, g);
  // Count the exit before telling gmp_main, so its caller sees it gone.
  if (!system) goroutine_ended(p);
  if (mw) main_done(mw);
  if (locked) {
    // The goroutine may have left its thread in an unusual state (that is
    // why people lock threads): the thread exits with it (mexit clears the
    // lock and its count).
    m->exiting = true;
  }
  return nullptr;
}

void goexit() {
  mcall(goexit0);
  fatal("goexit0 returned");
}

}  // namespace gmprt
