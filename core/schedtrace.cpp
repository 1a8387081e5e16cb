// schedtrace.cpp -- GMP_DEBUG=schedtrace=MS[,scheddetail=1]: Go's scheduler
// trace, printed to stderr every MS milliseconds.
//
// The line, as Go's schedtrace prints it (API.md pins its start):
//
//   SCHED 1004ms: gomaxprocs=2 idleprocs=1 threads=3 spinningthreads=0 idlethreads=1 runqueue=0 [0
//   0]
//
// <ms> counts from runtime start-up; the bracket lists each P's local queue
// (runnext included). With scheddetail=1 the bracket is replaced by Go's
// detail fields and one line per P, per M and per G:
//
//   SCHED 0ms: gomaxprocs=2 ... runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0
//     P0: status=1 schedtick=5 syscalltick=0 m=0 runqsize=0 gfreecnt=0 timerslen=0
//     M1: p=-1 curg=-1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false
//     blocked=true lockedg=-1 G1: status=4(chan receive) m=-1 lockedm=-1
//
// Status numbers are Go's (_Pidle 0, _Prunning 1, _Psyscall 2, _Pgcstop 3,
// _Pdead 4; _Gidle 0, _Grunnable 1, _Grunning 2, _Gsyscall 3, _Gwaiting 4,
// _Gdead 6). Fields Go has and gmprt does not (mallocing, throwing,
// preemptoff, locks, dying) print their neutral value so that tools that
// parse Go's output keep working. blocked=true means the M sleeps on its
// note (on the idle list). sysmonwait is 0: our monitor parks on its own.
//
// Where it runs. A thread of its own, started by runtime_start only when
// schedtrace is set (so the off case costs one flag check at start-up and
// nothing afterwards), stopped by runtime_shutdown before the Ms and Ps are
// freed. It is not an M and holds no P. Keeping it apart from the monitor
// (sysmon.cpp) leaves the monitor's park-when-idle logic alone: the trace
// must go on while every P is idle, when the monitor sleeps.
//
// Reading. As in Go, sched.lock is held for the whole record, which makes
// the global counts agree with each other; P, M and G fields that their
// owners change without that lock are read as they are (a racy snapshot,
// as Go's trace is). The function that reads them is excluded from TSan
// instrumentation for that reason; every pointer it follows stays valid
// while the runtime runs (Ps, Ms and Gs are freed only at shutdown, after
// this thread is joined).
#include <pthread.h>

#include "debug.hpp"
#include "env.hpp"
#include "fatal.hpp"
#include "note.hpp"
#include "runq.hpp"
#include "sched.hpp"
#include "traceback.hpp"

namespace gmprt {

namespace {

struct Tracer {
  pthread_t thread{};
  bool running = false;  // guarded by sched.lock
  Note stop;             // woken by schedtrace_stop
  int64_t start = 0;     // nanotime() at runtime start-up
};

Tracer tracer;

int go_gstatus(GStatus s) {
  // Go's numbering: _Gdead is 6 (5 is the unused _Gmoribund_unused).
  return s == GStatus::dead ? 6 : int(s);
}

// m_idle: m sleeps on the idle list. Called with sched.lock held.
bool m_idle(const M* m) {
  for (const M* x = sched.midle; x; x = x->schedlink)
    if (x == m) return true;
  return false;
}

void print_sched(Out& out, bool detail) {
  int64_t ms = (nanotime() - tracer.start) / 1000000;
  int32_t procs = gomaxprocs.load(std::memory_order_relaxed);  // relaxed: under sched.lock
  out.str("SCHED ");
  out.dec(uint64_t(ms));
  out.str("ms: gomaxprocs=");
  out.dec(uint64_t(procs));
  // Relaxed: written under sched.lock, which we hold (nmspinning: a
  // snapshot, as in Go).
  out.str(" idleprocs=");
  out.dec(uint64_t(sched.npidle.load(std::memory_order_relaxed)));
  out.str(" threads=");
  out.dec(uint64_t(sched.mcount));
  out.str(" spinningthreads=");
  out.dec(uint64_t(sched.nmspinning.load(std::memory_order_relaxed)));
  out.str(" idlethreads=");
  out.dec(uint64_t(sched.nmidle));
  out.str(" runqueue=");
  out.dec(uint64_t(sched.runqsize.load(std::memory_order_relaxed)));
  if (detail) {
    out.str(" gcwaiting=");
    out.dec(sched.gcwaiting.load(std::memory_order_relaxed) ? 1 : 0);
    out.str(" nmidlelocked=");
    out.dec(uint64_t(sched.nmidlelocked));
    out.str(" stopwait=");
    out.dec(uint64_t(sched.stopwait < 0 ? 0 : sched.stopwait));
    out.str(" sysmonwait=0\n");
    return;
  }
  for (int32_t i = 0; i < procs; i++) {
    out.str(i == 0 ? " [" : " ");
    out.dec(allp[i] ? runq_size(&allp[i]->runq) : 0);
  }
  out.str("]\n");
}

// print_detail: the P, M and G lines. Called with sched.lock held.
__attribute__((no_sanitize("thread"))) void print_detail(Out& out) {
  int32_t procs = gomaxprocs.load(std::memory_order_relaxed);  // relaxed: under sched.lock
  for (int32_t i = 0; i < procs; i++) {
    P* p = allp[i];
    if (!p) continue;
    M* m = p->m;
    out.str("  P");
    out.dec(uint64_t(i));
    out.str(": status=");
    // Relaxed: snapshots (see the top of this file).
    out.dec(uint64_t(p->status.load(std::memory_order_relaxed)));
    out.str(" schedtick=");
    out.dec(p->schedtick.load(std::memory_order_relaxed));
    out.str(" syscalltick=");
    out.dec(p->syscalltick.load(std::memory_order_relaxed));
    out.str(" m=");
    if (m) {
      out.dec(uint64_t(m->id));
    } else {
      out.str("-1");
    }
    out.str(" runqsize=");
    out.dec(runq_size(&p->runq));
    out.str(" gfreecnt=");
    out.dec(uint64_t(p->gfreecnt));
    out.str(" timerslen=");
    out.dec(uint64_t(p->timers.len));
    out.ch('\n');
  }
  for (M* m = sched.allm; m; m = m->alllink) {
    // Relaxed: dead Ms stay on allm until shutdown; Go lists only live ones.
    if (m->dead.load(std::memory_order_relaxed)) continue;
    P* p = m->p;
    G* g = m->curg;
    G* lg = m->lockedg;
    out.str("  M");
    out.dec(uint64_t(m->id));
    out.str(": p=");
    if (p) {
      out.dec(uint64_t(p->id));
    } else {
      out.str("-1");
    }
    out.str(" curg=");
    if (g) {
      out.dec(g->goid);
    } else {
      out.str("-1");
    }
    out.str(" mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=");
    out.str(m->spinning ? "true" : "false");
    out.str(" blocked=");
    out.str(m_idle(m) ? "true" : "false");
    out.str(" lockedg=");
    if (lg) {
      out.dec(lg->goid);
    } else {
      out.str("-1");
    }
    out.ch('\n');
  }
  LockGuard guard(sched.allg_lock);  // lock order: sched.lock -> allg_lock
  for (size_t i = 0; i < sched.nallg; i++) {
    G* g = sched.allg[i];
    // Relaxed: a snapshot, as above.
    GStatus s = load_status(g, std::memory_order_relaxed);
    if (s == GStatus::idle) continue;
    M* m = g->m;
    out.str("  G");
    out.dec(g->goid);
    out.str(": status=");
    out.dec(uint64_t(go_gstatus(s)));
    out.ch('(');
    if (s == GStatus::waiting) out.str(wait_reason_string(g->waitreason));
    out.str(") m=");
    if (m && (s == GStatus::running || s == GStatus::syscall)) {
      out.dec(uint64_t(m->id));
    } else {
      out.str("-1");
    }
    out.str(" lockedm=");
    if (g->lockedm) {
      out.dec(uint64_t(g->lockedm->id));
    } else {
      out.str("-1");
    }
    out.ch('\n');
  }
}

void* tracer_main(void*) {
  int64_t period = int64_t(debug_vars.schedtrace_ms) * 1000000;
  for (;;) {
    schedtrace_print(2, debug_vars.scheddetail);
    if (note_tsleep(&tracer.stop, period)) return nullptr;
  }
}

}  // namespace

void schedtrace_print(int fd, bool detail) {
  Out out(fd);  // flushed when full (under the lock, as Go prints) and on return
  LockGuard guard(sched.lock);
  print_sched(out, detail);
  if (detail) print_detail(out);
}

void schedtrace_start() {
  if (debug_vars.schedtrace_ms <= 0) return;
  LockGuard guard(sched.lock);
  if (tracer.running) return;
  tracer.start = nanotime();
  note_clear(&tracer.stop);
  int err = pthread_create(&tracer.thread, nullptr, tracer_main, nullptr);
  if (err != 0) fatal("failed to create the schedtrace thread (errno=%d)", err);
  tracer.running = true;
}

void schedtrace_stop() {
  sched.lock.lock();
  bool running = tracer.running;
  tracer.running = false;
  sched.lock.unlock();
  if (!running) return;
  note_wakeup(&tracer.stop);
  pthread_join(tracer.thread, nullptr);
}

}  // namespace gmprt
