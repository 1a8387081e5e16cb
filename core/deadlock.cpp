// deadlock.cpp -- check_dead: "all goroutines are asleep - deadlock!" (Go's
// checkdead), and the plain-thread accounting it depends on.
//
// The verdict, while a gmp_main waits (sched.main_waits non-empty): no M is running
// (every M counted is idle or a locked M waiting for its G), no goroutine is
// runnable, running or in a system call, no timer is pending, no descriptor
// waiter exists, and no plain thread that has called into the runtime is
// still alive and not itself blocked in a call only a goroutine can end.
// Then nothing can ever wake a goroutine: print the report, make gmp_main
// return GMP_EDEADLOCK and leave the goroutines blocked.
//
// Plain threads. The first runtime call of a thread that is not an M
// registers it (sched.nplain) with a pthread key whose destructor
// unregisters it when the thread exits, and re-runs check_dead, since the
// last possible waker may just have gone. Registration carries the runtime's
// generation so a thread registered before a gmp_shutdown does not
// unregister from the next run.
#include <pthread.h>
#include <unistd.h>

#include "../capi/include/gmprt.h"
#include "netpoll.hpp"
#include "sched.hpp"
#include "traceback.hpp"

namespace gmprt {

namespace {

pthread_key_t plain_key;
pthread_once_t plain_key_once = PTHREAD_ONCE_INIT;
// Incremented by every shutdown (under sched.lock); 0 is never a generation.
uint64_t generation = 1;
__attribute__((tls_model("initial-exec"))) thread_local uint64_t plain_generation = 0;

void plain_thread_exit(void* value) {
  uint64_t gen = reinterpret_cast<uintptr_t>(value);
  LockGuard guard(sched.lock);
  if (gen != generation) return;
  sched.nplain--;
  check_dead();
}

void plain_key_create() { pthread_key_create(&plain_key, plain_thread_exit); }

// write_all: best-effort write of a report line.
void write_all(const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= size_t(w);
  }
}

// report_deadlock: the message, then every user goroutine as gmp_dump
// prints it (traceback.cpp). Called with sched.lock and sched.allg_lock
// held.
void report_deadlock() {
  static const char head[] = "gmp: all goroutines are asleep - deadlock!\n\n";
  write_all(head, sizeof head - 1);
  dump_goroutines(2, AllgLock::held);
}

// all_asleep: no user goroutine can run by itself. Called with sched.lock
// held; takes allg_lock.
bool all_asleep() {
  bool any = false;
  for (size_t i = 0; i < sched.nallg; i++) {
    G* g = sched.allg[i];
    // Acquire: as in report_deadlock. With no M running, statuses change
    // only through wakers, which the other conditions exclude.
    GStatus s = load_status(g, std::memory_order_acquire);
    if (s == GStatus::dead || s == GStatus::idle || g->system) continue;
    if (s != GStatus::waiting) return false;
    any = true;
  }
  return any;
}

}  // namespace

uint64_t runtime_generation() { return generation; }

void next_runtime_generation() { generation++; }

// plain_thread_enter: register the calling thread if it is a plain thread
// seen for the first time in this runtime generation.
void plain_thread_enter() {
  if (plain_generation == generation || current_m()) return;
  pthread_once(&plain_key_once, plain_key_create);
  LockGuard guard(sched.lock);
  plain_generation = generation;
  sched.nplain++;
  pthread_setspecific(plain_key, reinterpret_cast<void*>(uintptr_t(generation)));
}

void check_dead() {
  if (!sched.main_waits) return;
  int32_t running = sched.mcount - sched.nmidle - sched.nmidlelocked;
  // The M blocked in netpoll (off the idle list, stopm) is idle too.
  if (sched.sleeper_polls.load(std::memory_order_relaxed)) running--;  // relaxed: under sched.lock
  if (running > 0) return;
  if (sched.nplain - sched.nplain_blocked > 0) return;
  if (sched.runqsize.load(std::memory_order_relaxed) != 0) return;
  if (timers_pending() > 0) return;
  if (netpoll_waiting()) return;  // descriptor waiters may be woken by IO
  LockGuard guard(sched.allg_lock);
  if (!all_asleep()) return;
  report_deadlock();
  // The main goroutines stay blocked; should one ever finish, it must not
  // signal a gmp_main that has returned.
  for (size_t i = 0; i < sched.nallg; i++) {
    G* g = sched.allg[i];
    // Acquire: as in all_asleep; only parked goroutines can hold a main_wait.
    if (load_status(g, std::memory_order_acquire) == GStatus::waiting) g->main_wait = nullptr;
  }
  main_wake_all(GMP_EDEADLOCK);
}

}  // namespace gmprt
