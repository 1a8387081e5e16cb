// lockosthread.cpp -- wiring a goroutine to its thread (Go's LockOSThread,
// startlockedm, stoplockedm).
//
// A locked G runs only on its M, and that M runs nothing else. When the G
// blocks, its M gives the P away and sleeps (stoplockedm). When another M
// finds the G runnable, it cannot run it: it hands its own P to the G's M,
// wakes it and goes idle itself (startlockedm). A G that exits while locked
// takes its thread with it (goexit0 sets m->exiting; mexit).
//
// The thread limit. Locking the last unlocked M when no new thread may be
// created would leave nobody to run other goroutines; gmp_lock_os_thread
// then fails with GMP_ELIMIT instead (a call that needs a thread beyond the
// limit, in API terms).
#include "../capi/include/gmprt.h"
#include "sched.hpp"

namespace gmprt {

// stoplockedm: m's locked G is not running: give the P away and sleep until
// startlockedm hands over a P with the G runnable. Runs on g0.
void stoplockedm(M* m) {
  if (m->p) handoffp(releasep(m));
  sched.lock.lock();
  sched.nmidlelocked++;
  check_dead();
  sched.lock.unlock();
  note_sleep(&m->park);
  note_clear(&m->park);
  sched.lock.lock();
  sched.nmidlelocked--;
  sched.lock.unlock();
  if (m->exiting) return;
  P* p = m->nextp;
  m->nextp = nullptr;
  acquirep(m, p);
}

// startlockedm: m dequeued g, which is locked to another M: hand that M our
// P and sleep. Runs on g0.
void startlockedm(M* m, G* g) {
  M* lm = g->lockedm;
  P* p = releasep(m);
  lm->nextp = p;
  note_wakeup(&lm->park);  // Release: publishes nextp
  stopm(m);
}

int lock_os_thread() {
  G* g = current_g();
  if (!g) return 0;
  M* m = g->m;
  if (m->locked_ext == 0) {
    LockGuard guard(sched.lock);
    // Would this leave no unlocked M and no room for a new one?
    if (sched.mcount >= sched.maxmcount && sched.mcount - sched.nmlocked <= 1) return GMP_ELIMIT;
    sched.nmlocked++;
  }
  m->locked_ext++;
  m->lockedg = g;
  g->lockedm = m;
  return 0;
}

int unlock_os_thread() {
  G* g = current_g();
  if (!g) return 0;
  M* m = g->m;
  if (m->locked_ext == 0) return 0;  // unbalanced: ignored
  if (--m->locked_ext > 0) return 0;
  m->lockedg = nullptr;
  g->lockedm = nullptr;
  LockGuard guard(sched.lock);
  sched.nmlocked--;
  return 0;
}

}  // namespace gmprt
