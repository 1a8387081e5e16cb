// runtime.cpp -- the runtime's life: lazy start (Go's schedinit), gmp_main's
// wait for the main goroutine, and shutdown.
//
// Start-up is lazy and idempotent: the first call that needs the runtime
// reads the environment, installs the stack-overflow handler and creates the
// Ps (all idle: no M exists until the first goroutine needs one).
//
// Shutdown protocol (no other runtime call may run concurrently):
//  1. Wait, up to the timeout, for the live goroutine count to reach zero
//     (goroutine_ended wakes the waiter); otherwise GMP_EBUSY, nothing
//     changed.
//  2. Under sched.lock set stopping and wake every idle M; Ms that are still
//     looking for work reach stopm, see stopping and leave (mexit).
//  3. Join every M's thread, then free Ms, Gs, Ps and stacks.
//  4. Reset the scheduler state, keeping only the goroutine id counter (ids
//     are never reused) and the thread limit, and bump the generation so
//     plain threads register anew.
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "../capi/include/gmprt.h"
#include "debug.hpp"
#include "env.hpp"
#include "evtrace.hpp"
#include "netpoll.hpp"
#include "sched.hpp"
#include "stack.hpp"
#include "sysmon.hpp"

namespace gmprt {

uint64_t runtime_generation();
void next_runtime_generation();

namespace {

// main_wait_add / main_wait_remove: the list of waiting gmp_main callers.
// Called with sched.lock held.
void main_wait_add(MainWait* mw) {
  mw->prev = nullptr;
  mw->next = sched.main_waits;
  if (mw->next) mw->next->prev = mw;
  sched.main_waits = mw;
  mw->waiting = true;
}

void main_wait_remove(MainWait* mw) {
  if (!mw->waiting) return;
  if (mw->prev)
    mw->prev->next = mw->next;
  else
    sched.main_waits = mw->next;
  if (mw->next) mw->next->prev = mw->prev;
  mw->next = mw->prev = nullptr;
  mw->waiting = false;
}

pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
std::atomic<bool> started{false};

// wait_goroutines_gone: step 1 of shutdown; true when none remain.
bool wait_goroutines_gone(int64_t timeout_ns) {
  int64_t deadline = timeout_ns < 0 ? INT64_MAX : nanotime() + timeout_ns;
  sched.shutdown_waiting.store(true, std::memory_order_seq_cst);  // seq_cst: Dekker with goroutine_ended
  bool gone = false;
  for (;;) {
    uint32_t seen = sched.goroutines_gone.load(std::memory_order_seq_cst);
    if (count_goroutines() == 0) {
      gone = true;
      break;
    }
    int64_t left = deadline - nanotime();
    if (left <= 0) break;
    futex_wait(&sched.goroutines_gone, seen, left > 10000000 ? 10000000 : left);
  }
  sched.shutdown_waiting.store(false, std::memory_order_relaxed);
  return gone;
}

// stop_all_ms: steps 2 and 3 (joining).
void stop_all_ms() {
  sched.lock.lock();
  sched.stopping = true;
  while (sched.midle) {
    M* m = sched.midle;
    sched.midle = m->schedlink;
    sched.nmidle--;
    m->exiting = true;
    wake_m(m);
  }
  // The poller is off the idle list while it polls (stopm).
  if (M* poller = sched.sleeper_polls.load(std::memory_order_relaxed) ? sched.timer_sleeper : nullptr) {
    poller->exiting = true;
    wake_m(poller);
  }
  M* all = sched.allm;
  sched.lock.unlock();
  for (M* m = all; m; m = m->alllink) {
    // An M counted just before stopping was set may still be being created.
    // Acquire: pairs with the Release store in newm_start.
    while (!m->created.load(std::memory_order_acquire)) sched_yield();
    sched.lock.lock();
    bool detached = m->detached;
    sched.lock.unlock();
    if (!detached) pthread_join(m->thread, nullptr);
  }
}

// free_everything: step 3 (freeing) and 4.
void free_everything() {
  for (M* m = sched.allm; m;) {
    M* next = m->alllink;
    m->~M();
    free(m);
    m = next;
  }
  gfree_all();
  netpoll_shutdown();
  for (int i = 0; i < kMaxProcs; i++) {
    if (!allp[i]) continue;
    timers_drop(allp[i]);
    allp[i]->~P();
    free(allp[i]);
    allp[i] = nullptr;
  }
  stack_release_all();
  uint64_t goidgen = sched.goidgen.load(std::memory_order_relaxed);
  // (Ps were freed above; nallp goes back to 0 with the reset below.)
  int32_t maxmcount = sched.maxmcount;
  int64_t mnext = sched.mnext;
  sched.~Sched();
  new (&sched) Sched();
  sched.goidgen.store(goidgen, std::memory_order_relaxed);
  sched.maxmcount = maxmcount;
  sched.mnext = mnext;
  gomaxprocs.store(0, std::memory_order_relaxed);
  next_runtime_generation();
}

}  // namespace

bool runtime_started() {
  // Acquire: pairs with the Release store in runtime_start, so a caller that
  // sees true also sees the Ps.
  return started.load(std::memory_order_acquire);
}

int runtime_start() {
  if (runtime_started()) return 0;
  pthread_mutex_lock(&start_mu);
  if (!started.load(std::memory_order_relaxed)) {
    int n = env_read();
    evtrace_start();  // before any M exists (evtrace.hpp)
    stack_install_overflow_handler();
    procresize_initial(n);
    sysmon_start();
    schedtrace_start();
    sigquit_install();
    started.store(true, std::memory_order_release);  // Release: see runtime_started
  }
  pthread_mutex_unlock(&start_mu);
  return 0;
}

int runtime_shutdown(int64_t timeout_ns) {
  if (!runtime_started()) return 0;
  if (current_m()) return GMP_EBUSY;  // a goroutine, or g0 code, cannot stop its own thread
  pthread_mutex_lock(&start_mu);
  int rc = 0;
  // Plain threads in descriptor waits still need the poller.
  if (!wait_goroutines_gone(timeout_ns) || netpoll_waiting()) {
    rc = GMP_EBUSY;
  } else {
    sysmon_stop();
    schedtrace_stop();
    stop_all_ms();
    evtrace_stop();
    free_everything();
    started.store(false, std::memory_order_release);  // Release: as in runtime_start
  }
  pthread_mutex_unlock(&start_mu);
  return rc;
}

// run_main: gmp_main's body. Called on a plain thread.
int run_main(gmp_fn fn, void* arg) {
  int rc = runtime_start();
  if (rc) return rc;
  plain_thread_enter();
  MainWait mw;
  // Registered before the main goroutine exists (it may finish at once), but
  // counted as blocked only once the goroutine is queued: until then this
  // thread is a live plain thread, which keeps check_dead from judging a
  // world in which the main goroutine is not yet visible.
  sched.lock.lock();
  main_wait_add(&mw);
  sched.lock.unlock();
  rc = newproc(fn, arg, kDefaultStackSize, nullptr, uintptr_t(__builtin_return_address(0)), &mw);
  if (rc == 0) {
    sched.lock.lock();
    sched.nplain_blocked++;
    check_dead();
    sched.lock.unlock();
    // Acquire: pairs with the Release store in main_signal.
    while (mw.done.load(std::memory_order_acquire) == 0) futex_wait(&mw.done, 0, -1);
    rc = mw.result;
    sched.lock.lock();
    sched.nplain_blocked--;
    sched.lock.unlock();
  }
  sched.lock.lock();
  main_wait_remove(&mw);
  sched.lock.unlock();
  return rc;
}

// main_signal: tell one waiting gmp_main its result. Called with sched.lock
// held; the waiter re-takes sched.lock before returning, so mw outlives the
// wake below.
void main_signal(MainWait* mw, int result) {
  main_wait_remove(mw);
  mw->result = result;
  mw->done.store(1, std::memory_order_release);  // Release: see run_main
  futex_wake(&mw->done, 1);
}

// main_done: a main goroutine returned. Runs on g0. After a deadlock report
// its waiter is gone (check_dead cleared every G's main_wait first).
void main_done(MainWait* mw) {
  LockGuard guard(sched.lock);
  if (mw->waiting) main_signal(mw, 0);
}

void main_wake_all(int result) {
  while (sched.main_waits) main_signal(sched.main_waits, result);
}

// goroutine_ended: a user goroutine exited on p; nudge a waiting shutdown
// (which also re-checks every 10 ms, so a missed nudge only delays it).
void goroutine_ended(P* p) {
  // Release: a reader whose Acquire load in count_goroutines sees this exit
  // also sees everything the goroutine did (so "count reached 0" is a safe
  // point to free what goroutines used). Owner-only: load and store suffice.
  owner_add<int64_t>(p->ngoroutines_delta, -1, std::memory_order_release);
  // Relaxed: a hint, see above.
  if (!sched.shutdown_waiting.load(std::memory_order_relaxed)) return;
  sched.goroutines_gone.fetch_add(1, std::memory_order_relaxed);
  futex_wake(&sched.goroutines_gone, 1);
}

int64_t count_goroutines() {
  // A snapshot; exact whenever no goroutine is being created or ending. Ps
  // are never freed, so every allp[i] below nallp is valid.
  int64_t n = sched.ngoroutines_plain.load(std::memory_order_relaxed);  // relaxed: a count
  int32_t np = sched.nallp.load(std::memory_order_acquire);  // Acquire: see procresize
  // Acquire: pairs with goroutine_ended's Release store.
  for (int32_t i = 0; i < np; i++) n += allp[i]->ngoroutines_delta.load(std::memory_order_acquire);
  return n;
}

}  // namespace gmprt
