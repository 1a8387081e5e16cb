// idle.cpp -- idle Ps and Ms: who runs, who sleeps, who is woken (Go's
// wakep, startm, stopm, handoffp, acquirep, releasep, pidleput/get,
// mput/mget, newm, mexit).
//
// sched.pidle and sched.midle are LIFO lists under sched.lock. npidle and
// nmspinning are atomics so that wakep can decide without the lock whether
// anybody needs waking (see the parking invariant at the top of proc.cpp).
//
// What blocks what: stopm blocks the M on its park note (never a G: it runs
// on g0); startm never blocks (it creates a thread or wakes one).
#include <pthread.h>
#include <stdlib.h>

#include <new>

#include "fatal.hpp"
#include "netpoll.hpp"
#include "sched.hpp"
#include "stack.hpp"
#include "sysmon.hpp"

namespace gmprt {

// ---------------------------------------------------------------------------
// Ps.

// acquirep: m takes p (status idle -> running).
void acquirep(M* m, P* p) {
  m->p = p;
  p->m = m;
  p->tid.store(m->tid, std::memory_order_relaxed);  // relaxed: see P::tid
  // Relaxed: ownership of p was transferred under sched.lock or by a note
  // (both synchronise); thieves read status only as a hint.
  p->status.store(PStatus::running, std::memory_order_relaxed);
}

// releasep: m gives up its P (running -> idle); the caller puts it somewhere.
P* releasep(M* m) {
  P* p = m->p;
  p->m = nullptr;
  p->tid.store(0, std::memory_order_relaxed);  // relaxed: see P::tid
  m->p = nullptr;
  p->status.store(PStatus::idle, std::memory_order_relaxed);  // relaxed: as in acquirep
  return p;
}

// pidleput: p joins the idle list. Called with sched.lock held.
void pidleput(P* p) {
  p->status.store(PStatus::idle, std::memory_order_relaxed);  // relaxed: under sched.lock
  p->link = sched.pidle;
  sched.pidle = p;
  // seq_cst: the new count is ordered before the caller's later loads of
  // the run queues (parking protocol, proc.cpp).
  sched.npidle.fetch_add(1, std::memory_order_seq_cst);
}

// pidleget: take an idle P, or null. Called with sched.lock held.
P* pidleget() {
  P* p = sched.pidle;
  if (!p) return nullptr;
  sched.pidle = p->link;
  p->link = nullptr;
  sched.npidle.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: as in pidleput
  sysmon_wake_locked();  // a P goes busy: there is something to watch
  return p;
}

// ---------------------------------------------------------------------------
// Ms.

// sleeper_quit_locked: whoever holds the sleeper's role (stopm) gives it up,
// or is taken off it by a waker; the next idle M may take it.
void sleeper_quit_locked() {
  sched.timer_sleeper = nullptr;
  sched.sleeper_polls.store(false, std::memory_order_seq_cst);  // seq_cst: see netpoll_kick
}

// wake_m: wake idle m from its note, and from netpoll if it sleeps there as
// the poller (stopm). Its polling flag is set under sched.lock before it
// polls and cleared when epoll_wait returns, after which it checks its note
// anyway: a waker that misses the flag loses nothing.
void wake_m(M* m) {
  note_wakeup(&m->park);
  // seq_cst: after the note's store, so that a poller that clears the flag
  // and then sleeps checks the note we set (it reads it under sched.lock).
  if (m->polling.load(std::memory_order_seq_cst)) netpoll_break();
}

namespace {

// mput: m joins the idle list. Called with sched.lock held.
void mput(M* m) {
  m->schedlink = sched.midle;
  sched.midle = m;
  sched.nmidle++;
  check_dead();
}

// mget: take an idle M, or null. Called with sched.lock held. Taking the
// timer sleeper hands its role to the next idle M (see stopm).
M* mget() {
  M* m = sched.midle;
  if (m) {
    sched.midle = m->schedlink;
    m->schedlink = nullptr;
    sched.nmidle--;
    if (sched.timer_sleeper == m) {
      sleeper_quit_locked();
      if (sched.midle) wake_m(sched.midle);
    }
  }
  return m;
}

// newm_locked: allocate an M and count it. Called with sched.lock held;
// the caller starts its thread (newm_start) after dropping the lock.
M* newm_locked() {
  void* mem = calloc(1, sizeof(M));
  if (!mem) fatal("out of memory allocating a thread");
  M* m = new (mem) M();
  m->id = sched.mnext++;
  m->alllink = sched.allm;
  sched.allm = m;
  sched.mcount++;
  return m;
}

void newm_start(M* m) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int err = pthread_create(&m->thread, &attr, mstart, m);
  pthread_attr_destroy(&attr);
  if (err != 0) fatal("failed to create a new OS thread (have %d; errno=%d)", sched.mcount, err);
  // Release: publishes m->thread to gmp_shutdown's Acquire load before it joins.
  m->created.store(true, std::memory_order_release);
}

}  // namespace

namespace {

// uncount_spinning_locked: startm could not start the spinning M its caller
// counted (wakep): undo the count, under sched.lock. Not after unlocking: a
// wakep that reads the stale count backs off, trusting a spinner that will
// never run, while an M that decided not to spin because of that same count
// gives its P back without a second look at the queues. Under the lock, the
// critical section in which that M gives its P back is ordered after the
// undo, so the next wakep sees both the idle P and no spinner. (Go's wakep
// undoes it under the lock too.)
void uncount_spinning_locked() {
  sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: parking protocol
}

}  // namespace

// startm: run p (or an idle P when p is null) on an idle or new M. spinning:
// the M starts out spinning (the caller has already counted it in
// nmspinning; undone here when there is no P or no thread to be had).
void startm(P* p, bool spinning) {
  sched.lock.lock();
  if (sched.stopping) {
    // Shutdown: every goroutine has exited and the Ms are being joined; no
    // M may start now (an exiting M's handoffp comes here).
    if (p) pidleput(p);
    if (spinning) uncount_spinning_locked();
    sched.lock.unlock();
    return;
  }
  if (!p) {
    p = pidleget();
    if (!p) {
      if (spinning) uncount_spinning_locked();
      sched.lock.unlock();
      return;
    }
  }
  M* m = mget();
  if (!m) {
    if (sched.mcount >= sched.maxmcount) {
      if (spinning) {
        // An extra searcher is optional: the running Ms will find the work.
        pidleput(p);
        uncount_spinning_locked();
        sched.lock.unlock();
        return;
      }
      int max = sched.maxmcount;
      sched.lock.unlock();
      fatal("program exceeds %d-thread limit", max);
    }
    m = newm_locked();
    m->spinning = spinning;
    m->nextp = p;
    sched.lock.unlock();
    newm_start(m);
    return;
  }
  m->spinning = spinning;
  m->nextp = p;
  sched.lock.unlock();
  wake_m(m);  // Release (the note's): publishes nextp and spinning
}

// wakep: start a spinning M if there is an idle P and nobody is spinning.
// Called after making a G runnable.
void wakep() {
  // seq_cst loads: the caller's store of the new work comes before them in
  // the single total order (parking protocol, proc.cpp).
  if (sched.npidle.load(std::memory_order_seq_cst) == 0) return;
  if (sched.nmspinning.load(std::memory_order_seq_cst) != 0) return;
  int32_t zero = 0;
  if (!sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) return;
  startm(nullptr, true);
}

namespace {

// mremove: take m off the idle list (it was there). Called with sched.lock held.
void mremove(M* m) {
  M** link = &sched.midle;
  while (*link != m) link = &(*link)->schedlink;
  *link = m->schedlink;
  m->schedlink = nullptr;
  sched.nmidle--;
}

// take_idle_p: m (idle, on the list) was the sleeper and found work: the
// earliest deadline has passed, or its poll made goroutines runnable (in the
// global queue now). Take an idle P to run it, spinning (find_runnable
// steals timers, takes the global queue, and wakes another M if more work
// is left). False when every P is busy (their Ms find the work at their
// next schedule). hand_on: wake another idle M to take the sleeper's role,
// so that later deadlines (of Ps nobody runs) need not wait until this M
// runs out of work. Called with sched.lock held.
bool take_idle_p(M* m, bool hand_on) {
  P* p = pidleget();
  if (!p) return false;
  mremove(m);
  if (hand_on && sched.midle) wake_m(sched.midle);
  acquirep(m, p);
  m->spinning = true;
  sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);  // seq_cst: parking protocol
  return true;
}

// sleeper_sleep: one sleep of idle m in stopm, taking the sleeper's role if
// it is free and watch is set. Called and returns with sched.lock held.
// False when the sleep ended at its deadline rather than by a wakeup.
// Goroutines its poll made runnable are appended to *polled.
bool sleeper_sleep(M* m, bool watch, GQueue* polled) {
  int64_t until = 0;
  bool polls = false;
  M* holder = sched.timer_sleeper;
  // seq_cst (netpoll_waiting): see netpoll_kick, which leaves a waiter to
  // us when it found no idle P.
  if (watch && holder && holder != m && !sched.sleeper_polls.load(std::memory_order_relaxed) &&
      netpoll_waiting()) {
    // The sleeper sleeps on its note (it took the role before the first
    // descriptor waiter came): take the role over, to poll.
    sleeper_quit_locked();
    note_wakeup(&holder->park);
  }
  if (watch && !sched.timer_sleeper) {
    until = next_timer();
    // seq_cst (netpoll_waiting): see netpoll_kick.
    polls = netpoll_waiting();
    if (until != 0 || polls) {
      sched.timer_sleeper = m;
      sched.timer_sleep_until = until != 0 ? until : INT64_MAX;
      sched.sleeper_polls.store(polls, std::memory_order_seq_cst);  // seq_cst: see netpoll_kick
    }
    if (polls) {
      // The poller leaves the idle list while it polls (as Go's M blocked
      // in netpoll is not idle): startm cannot pick it, so only
      // netpoll_break ever needs to reach it, and the role is never taken
      // from it while it is inside (timer_wake breaks it instead): at most
      // one M blocks in epoll_wait, so a break is never eaten by another.
      mremove(m);
      m->polling.store(true, std::memory_order_seq_cst);  // seq_cst: see wake_m
    }
  }
  sched.lock.unlock();
  // (A deadline already past must not become a sleep "forever".)
  int64_t left = until == 0 ? -1 : until - nanotime();
  bool woken = true;
  if (polls) {
    netpoll(until == 0 ? -1 : left > 0 ? left : 0, polled);  // clears m->polling
    woken = until == 0 || nanotime() < until;
  } else if (until == 0) {
    note_sleep(&m->park);
  } else {
    woken = left > 0 && note_tsleep(&m->park, left);
  }
  sched.lock.lock();
  if (polls) mput(m);
  return woken;
}

}  // namespace

// stopm: m has no work and no P: sleep until startm hands it one. Returns
// with m->p set, or with m->exiting set (shutdown).
//
// The sleeper. While timers are pending or goroutines wait on descriptors,
// one idle M (sched.timer_sleeper) sleeps only until the earliest deadline
// of any P, and in netpoll rather than on its note when there are
// descriptor waiters (sched.sleeper_polls); at the deadline it takes an idle
// P to run the expired timers. Whoever adds an earlier timer or a first
// waiter wakes it (timer_wake, netpoll_kick; with every P busy, the waiter
// leaves it to the next M that goes idle, which takes the role over to
// poll: sleeper_sleep), and mget hands the role to
// another idle M when it takes the sleeper; a woken M without work (no
// nextp) just looks again.
void stopm(M* m) {
  sched.lock.lock();
  if (sched.stopping) {
    sched.lock.unlock();
    m->exiting = true;
    return;
  }
  mput(m);
  // watch: may take the sleeper's role. Not after a deadline found every P
  // busy (the role would only spin): until the next wakeup the busy Ms run
  // the timers, and an M whose P goes idle takes the role.
  bool watch = true;
  for (;;) {
    GQueue polled;
    bool woken = sleeper_sleep(m, watch, &polled);
    if (sched.timer_sleeper == m) sleeper_quit_locked();
    if (!polled.empty()) {
      // Run what the poll found on this M, as Go's findrunnable does after
      // its blocking netpoll, instead of waking another thread for it.
      globrunq_put_batch(&polled, polled.count());
      if (take_idle_p(m, next_timer() != 0)) {
        sched.lock.unlock();
        return;
      }
    }
    // startm sets nextp (shutdown: exiting) under sched.lock before its
    // wakeup, which is then ours to consume below.
    if (m->nextp || m->exiting) break;
    // Still on the idle list, and no wakeup can be in flight: clear a
    // stale one (timer_wake, a role hand-over), then look again.
    note_clear(&m->park);
    watch = true;
    if (!woken) {
      int64_t next = next_timer();
      if (next != 0 && next <= nanotime()) {
        if (take_idle_p(m, true)) {
          sched.lock.unlock();
          return;
        }
        watch = false;
      }
    }
  }
  sched.lock.unlock();
  note_sleep(&m->park);
  note_clear(&m->park);
  if (m->exiting) return;
  P* p = m->nextp;
  m->nextp = nullptr;
  acquirep(m, p);
}

// handoffp: p's M is leaving it (blocking, locked, exiting). Start an M for it
// when it has work, or when nobody else is looking for work; otherwise park
// it on the idle list. The conditions here and in find_runnable must agree.
void handoffp(P* p) {
  if (!runq_empty(&p->runq) || sched.runqsize.load(std::memory_order_relaxed) != 0) {
    startm(p, false);
    return;
  }
  int32_t zero = 0;
  if (sched.nmspinning.load(std::memory_order_relaxed) +
              sched.npidle.load(std::memory_order_relaxed) ==
          0 &&
      sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) {
    startm(p, true);
    return;
  }
  sched.lock.lock();
  // Relaxed: re-read under sched.lock, which stop_the_world holds to set it.
  if (sched.gcwaiting.load(std::memory_order_relaxed)) {
    p->status.store(PStatus::gcstop, std::memory_order_relaxed);
    if (--sched.stopwait == 0) note_wakeup(&sched.stopnote);
    sched.lock.unlock();
    return;
  }
  if (sched.runqsize.load(std::memory_order_relaxed) != 0) {
    sched.lock.unlock();
    startm(p, false);
    return;
  }
  pidleput(p);
  sched.lock.unlock();
}

// mexit: m leaves the scheduler for good (a locked goroutine exited on it, or
// shutdown). Its thread returns right after; gmp_shutdown joins it.
void mexit(M* m) {
  if (m->p) handoffp(releasep(m));
  stack_thread_fini();
  sched.lock.lock();
  sched.mcount--;
  if (m->locked_ext || m->lockedg) sched.nmlocked--;
  m->lockedg = nullptr;
  m->locked_ext = 0;
  // A thread that leaves while the runtime runs (its locked goroutine
  // exited) is detached: nobody joins it. Shutdown joins the others and
  // frees the M of a detached one only after seeing it dead, which is set
  // here under sched.lock: the thread touches no M memory after unlocking.
  if (!sched.stopping) {
    m->detached = true;
    pthread_detach(pthread_self());
  }
  // Release: gmp_shutdown's Acquire load sees everything the M did.
  m->dead.store(true, std::memory_order_release);
  check_dead();
  sched.lock.unlock();
  set_current_m(nullptr);
}

}  // namespace gmprt
