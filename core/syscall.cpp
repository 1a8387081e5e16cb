// syscall.cpp -- blocking system calls (Go's entersyscall, exitsyscall,
// exitsyscall0).
//
// entersyscall costs no lock: the goroutine goes running -> syscall, the M
// keeps its P in m->oldp and lets go of it, and the P goes to status
// syscall. From then on the P is up for grabs:
//   - the M itself takes it back on exit with one CAS syscall -> running
//     (the fast path: a short call never involves anybody else);
//   - the monitor retakes it when the call lasts more than a tick while
//     other goroutines wait (sysmon.cpp: CAS syscall -> idle, handoffp);
//   - stop-the-world stops it (CAS syscall -> gcstop, stw.cpp).
// On exit without its P, the goroutine takes any idle P; failing that it is
// queued globally and its M goes idle (exitsyscall0, on g0).
//
// The P's owner-only state (its run queue's tail, free lists, caches) is
// handed over by the status CAS: entersyscall's store is Release, and every
// CAS that takes the P is Acquire.
#include "../capi/include/gmprt.h"
#include "evtrace.hpp"
#include "sched.hpp"
#include "sysmon.hpp"

namespace gmprt {

namespace {

// The status word moves between running and syscall keeping kWoken (a
// ready may set it at any time: read-modify-writes).
constexpr uint32_t kRunningToSyscall = uint32_t(GStatus::syscall) - uint32_t(GStatus::running);
constexpr uint32_t kSyscallToRunnable = uint32_t(GStatus::syscall) - uint32_t(GStatus::runnable);

// gcwait_syscall: the world is stopping while we enter: stop our P now
// rather than make the stopper wait for the call to end.
void gcwait_syscall(P* p) {
  LockGuard guard(sched.lock);
  PStatus want = PStatus::syscall;
  // Relaxed: under sched.lock, which the stopper holds to count stopwait.
  if (sched.gcwaiting.load(std::memory_order_relaxed) &&
      p->status.compare_exchange_strong(want, PStatus::gcstop, std::memory_order_acquire)) {
    if (--sched.stopwait == 0) note_wakeup(&sched.stopnote);
  }
}

// exitsyscall0: exitsyscall without a P, on g0 (mcall). Returns g to run it
// at once, or null after queuing it.
G* exitsyscall0(G* g) {
  M* m = g->m;
  // syscall -> runnable (relaxed: g is ours; execute or the queue publishes).
  g->status.fetch_sub(kSyscallToRunnable, std::memory_order_relaxed);
  sched.lock.lock();
  // Relaxed: under sched.lock, which stop_the_world holds to set it.
  P* p = sched.gcwaiting.load(std::memory_order_relaxed) ? nullptr : pidleget();
  if (p) {
    sched.lock.unlock();
    acquirep(m, p);
    return g;
  }
  globrunq_put(g);
  sched.lock.unlock();
  wakep();
  if (m->lockedg) {
    // g may run only here: sleep until an M that finds it hands us a P.
    stoplockedm(m);
    return m->exiting ? nullptr : g;
  }
  stopm(m);
  return nullptr;
}

}  // namespace

void entersyscall() {
  M* m = current_m();
  G* g = m ? m->curg : nullptr;
  if (!g || m->oldp) return;  // a plain thread, or nested: ignored
  P* p = m->p;
  g->status.fetch_add(kRunningToSyscall, std::memory_order_relaxed);  // relaxed: g is ours
  owner_add<uint32_t>(p->syscalltick, 1);  // relaxed: the monitor only compares
  // Goroutines wait for this P: the monitor should look soon (below).
  bool others_wait = !runq_empty_owner(&p->runq);
  // Traced while the P is still ours, so its slice ends before another M
  // can take it.
  if (evtrace_enabled()) evtrace_syscall_enter(m);
  m->oldp = p;
  m->p = nullptr;
  p->m = nullptr;
  // Release: hands the P's owner-side state to whoever takes it (above).
  p->status.store(PStatus::syscall, std::memory_order_release);
  // Relaxed: a hint, re-checked under sched.lock.
  if (sched.gcwaiting.load(std::memory_order_relaxed)) gcwait_syscall(p);
  if (others_wait) sysmon_syscall_hint();
}

void exitsyscall() {
  M* m = current_m();
  G* g = m ? m->curg : nullptr;
  if (!g || !m->oldp) return;  // a plain thread, or unbalanced: ignored
  P* p = m->oldp;
  m->oldp = nullptr;
  PStatus want = PStatus::syscall;
  // Acquire: we own the P again, with what its last owner wrote.
  if (p->status.compare_exchange_strong(want, PStatus::running, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
    m->p = p;
    p->m = m;
    g->status.fetch_sub(kRunningToSyscall, std::memory_order_relaxed);  // relaxed: g is ours
    if (evtrace_enabled()) evtrace_syscall_exit(m, g, p);
    return;
  }
  if (evtrace_enabled()) evtrace_syscall_exit(m, g, nullptr);
  mcall(exitsyscall0);
  // Running again, on some M with a P (execute made g running).
}

}  // namespace gmprt
