// sysmon.cpp -- the monitor (Go's sysmon, retake, preemptone).
//
// A thread of its own, without a P and not an M: nothing it does needs one.
// Each round it sleeps (kSysmonMinDelayNs, doubling after
// kSysmonIdleRounds rounds that found nothing to do, up to
// kSysmonMaxDelayNs), then:
//   - polls the network if goroutines wait on descriptors and nobody has
//     polled for kForcePollNs (every M busy running goroutines); the woken
//     goroutines go to the global queue;
//   - retakes Ps stuck in system calls (retake): after one round when other
//     goroutines wait or no M is looking for work, after kForcePreemptNs
//     regardless; the P goes to another M (handoffp);
//   - ends long time slices: a P that has run the same goroutine for
//     kForcePreemptNs gets its preempt flag, which gmp_preempt_point
//     checks; a goroutine started with GMP_GO_ASYNC_PREEMPT also gets a
//     signal (preempt.cpp), again every kAsyncPreemptRetryNs while the
//     slice lasts; with GMP_DEBUG=stallreport=MS a slice longer than MS is
//     reported on stderr, once.
// A P that enters a system call while goroutines wait for it wakes the monitor
// from a long back-off sleep (sysmon_syscall_hint), so the P is retaken
// within a round or two of kSysmonMinDelayNs instead of up to
// kSysmonMaxDelayNs later.
// When every P is idle (or the world is stopped) there is nothing to watch:
// it parks on its note until a P goes busy (pidleget, start_the_world) wakes
// it, so an idle process burns no CPU.
//
// What it reads of the Ps (status, schedtick, syscalltick) is atomic; its
// per-P record of what it saw last (SysmonTick) is its own.
#include "sysmon.hpp"

#include <pthread.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <unistd.h>

#include "env.hpp"
#include "fatal.hpp"
#include "netpoll.hpp"
#include "note.hpp"
#include "preempt.hpp"
#include "sched.hpp"

namespace gmprt {

namespace {

// What the monitor saw of a P at its last look, and when it first saw it.
struct SysmonTick {
  uint32_t schedtick = 0;
  int64_t schedwhen = 0;
  uint64_t nswitch = 0;
  int64_t switchwhen = 0;
  bool stall_reported = false;  // this stall has been reported
  int64_t signalwhen = 0;  // last preemption signal sent for this slice
  int64_t askedwhen = 0;   // when this slice's preempt flag was first set
  uint32_t syscalltick = 0;
  int64_t syscallwhen = 0;
};

struct Sysmon {
  pthread_t thread{};
  bool running = false;     // the thread exists (start/stop, under sched.lock)
  bool exiting = false;     // stop asked (guarded by sched.lock)
  bool parked = false;      // asleep until woken (guarded by sched.lock)
  Note note;                // its sleep: woken for exit, unpark and syscall hints
  // sleep_ns: the length of its current sleep; hinted: a syscall hint has
  // woken it from this sleep (sysmon_syscall_hint). Relaxed: hints.
  std::atomic<int64_t> sleep_ns{0};
  std::atomic<bool> hinted{false};
  SysmonTick ticks[kMaxProcs];
};

Sysmon sysmon;

// retake_syscall: p has been in a system call since the monitor first saw
// this call. Retake it if it is worth it. True if retaken.
bool retake_syscall(P* p, SysmonTick* t, int64_t now) {
  // Relaxed: a hint; the CAS below decides.
  uint32_t tick = p->syscalltick.load(std::memory_order_relaxed);
  if (t->syscalltick != tick || t->syscallwhen == 0) {  // (0: never looked)
    t->syscalltick = tick;
    t->syscallwhen = now;
    return false;  // a new call: give it one round
  }
  // Nothing else to run and somebody looking for work already: leave the P
  // to its call for a while (it comes back cheaply).
  // Relaxed: heuristics, as in Go.
  if (runq_empty(&p->runq) &&
      sched.nmspinning.load(std::memory_order_relaxed) + sched.npidle.load(std::memory_order_relaxed) >
          0 &&
      now - t->syscallwhen < kForcePreemptNs)
    return false;
  PStatus want = PStatus::syscall;
  // Acquire: we take the P with its last owner's writes (syscall.cpp).
  if (!p->status.compare_exchange_strong(want, PStatus::idle, std::memory_order_acquire,
                                         std::memory_order_relaxed))
    return false;
  owner_add<uint32_t>(p->syscalltick, 1);  // relaxed: the call we saw is over for us
  handoffp(p);
  return true;
}

// report_stall: GMP_DEBUG=stallreport=MS: p's goroutine has kept it for
// `ns` without reaching a preemption point. One line, once per stall.
void report_stall(P* p, int64_t ns) {
  // Acquire: pairs with new_slice's Release; the G's id and name are those
  // it was started with (they change only when a G is reused, after it
  // exited, which ends the slice).
  G* g = p->curg.load(std::memory_order_acquire);
  if (!g) return;
  char line[160];
  int n = snprintf(line, sizeof line,
                   "gmp: goroutine %llu%s%s has kept P %d for %lld ms without a preemption point\n",
                   (unsigned long long)g->goid, g->name[0] ? " " : "", g->name, p->id,
                   (long long)(ns / 1000000));
  if (n > 0) (void)!write(2, line, size_t(n) < sizeof line ? size_t(n) : sizeof line - 1);
}

// watch_slice: ask p's goroutine to give way if the same slice has lasted
// kForcePreemptNs. A slice (schedtick) survives hand-offs through runnext,
// as Go's does, so that a pair of goroutines cannot keep a P from the rest.
// True if it sent a preemption signal (the monitor then keeps its short
// period, to retry soon if the signal came at a bad time).
bool watch_slice(P* p, SysmonTick* t, int64_t now) {
  uint32_t tick = p->schedtick.load(std::memory_order_relaxed);  // relaxed: compared only
  if (t->schedtick != tick || t->schedwhen == 0) {  // (0: never looked)
    t->schedtick = tick;
    t->schedwhen = now;
    t->signalwhen = 0;
    t->askedwhen = 0;
  } else if (now - t->schedwhen >= kForcePreemptNs) {
    p->preempt.store(true, std::memory_order_relaxed);  // relaxed: a hint
    if (t->askedwhen == 0) t->askedwhen = now;
    if (now - t->signalwhen >= kAsyncPreemptRetryNs) {
      t->signalwhen = now;
      return preempt_async(p);
    }
  }
  return false;
}

// watch_stall: GMP_DEBUG=stallreport=MS: report a goroutine that has run on
// p for MS without switching away (any park or yield switches, nswitch
// counts them) and has not reached a preemption point since the monitor
// asked it to give way in an earlier round (the flag is still set: a
// preemption point would have cleared it). Once per stall. The second
// condition keeps a goroutine that was never asked (a monitor delayed by
// an overloaded machine) from being reported.
void watch_stall(P* p, SysmonTick* t, int64_t now) {
  int64_t stall = int64_t(debug_vars.stallreport_ms) * 1000000;
  if (stall <= 0) return;
  uint64_t n = p->nswitch.load(std::memory_order_relaxed);  // relaxed: compared only
  // Relaxed: a hint; a goroutine that just cleared it is not reported.
  bool ignoring = t->askedwhen != 0 && t->askedwhen < now && p->preempt.load(std::memory_order_relaxed);
  if (t->nswitch != n || t->switchwhen == 0) {
    t->nswitch = n;
    t->switchwhen = now;
    t->stall_reported = false;
  } else if (now - t->switchwhen >= stall && !t->stall_reported && ignoring) {
    t->stall_reported = true;
    report_stall(p, now - t->switchwhen);
  }
}

// retake: one look at every P. Returns how many Ps it retook or signalled.
int retake(int64_t now) {
  int n = 0;
  int32_t procs = gomaxprocs.load(std::memory_order_relaxed);  // relaxed: allp[i < n] stays valid
  for (int32_t i = 0; i < procs; i++) {
    P* p = allp[i];
    if (!p) continue;
    SysmonTick* t = &sysmon.ticks[i];
    PStatus s = p->status.load(std::memory_order_relaxed);  // relaxed: re-checked by the CAS
    if (s == PStatus::running) {
      if (watch_slice(p, t, now)) n++;
      watch_stall(p, t, now);
    }
    if (s == PStatus::syscall && retake_syscall(p, t, now)) n++;
  }
  return n;
}

// poll_if_forgotten: poll the network if descriptor waiters exist and no M
// has polled for kForcePollNs (nor sleeps in the poller).
bool poll_if_forgotten(int64_t now) {
  // Relaxed: hints; a poll too many costs one epoll_wait.
  if (!netpoll_waiting() || sched.sleeper_polls.load(std::memory_order_relaxed)) return false;
  if (now - netpoll_last() < kForcePollNs) return false;
  GQueue polled;
  if (netpoll(0, &polled) == 0) return false;
  inject_batch(&polled);
  return true;
}

// park_if_idle: every P idle or the world stopped: sleep until woken
// (sysmon_wake_locked). Both sides decide under sched.lock, where Ps leave
// the idle list. Returns true if it slept.
bool park_if_idle() {
  // Relaxed: hints, re-checked under sched.lock.
  if (!sched.gcwaiting.load(std::memory_order_relaxed) &&
      sched.npidle.load(std::memory_order_relaxed) != gomaxprocs.load(std::memory_order_relaxed))
    return false;
  sched.lock.lock();
  bool idle = !sysmon.exiting &&
              (sched.gcwaiting.load(std::memory_order_relaxed) ||
               sched.npidle.load(std::memory_order_relaxed) ==
                   gomaxprocs.load(std::memory_order_relaxed));
  if (idle) {
    sysmon.parked = true;
    note_clear(&sysmon.note);
  }
  sched.lock.unlock();
  if (!idle) return false;
  note_sleep(&sysmon.note);
  sched.lock.lock();
  sysmon.parked = false;
  sched.lock.unlock();
  return true;
}

void* sysmon_main(void*) {
  // Its sleeps are short and their length matters (a P stuck in a system
  // call waits for the next round): no timer slack, which would stretch a
  // 20 us sleep to ~70 us.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  int64_t delay = kSysmonMinDelayNs;
  int idle = 0;
  for (;;) {
    if (idle == 0) {
      delay = kSysmonMinDelayNs;
    } else if (idle > kSysmonIdleRounds && delay < kSysmonMaxDelayNs) {
      delay = delay * 2 < kSysmonMaxDelayNs ? delay * 2 : kSysmonMaxDelayNs;
    }
    sysmon.sleep_ns.store(delay, std::memory_order_relaxed);  // relaxed: a hint
    note_tsleep(&sysmon.note, delay);
    sysmon.sleep_ns.store(0, std::memory_order_relaxed);
    // A P went into a system call with work waiting: look at short
    // intervals again, so that the P is retaken within a round or two.
    if (sysmon.hinted.exchange(false, std::memory_order_relaxed)) idle = 0;
    sched.lock.lock();
    bool exiting = sysmon.exiting;
    note_clear(&sysmon.note);
    sched.lock.unlock();
    if (exiting) return nullptr;
    if (park_if_idle()) {
      idle = 0;
      continue;
    }
    int64_t now = nanotime();
    bool busy = poll_if_forgotten(now);
    if (retake(now) > 0) busy = true;
    idle = busy ? 0 : idle + 1;
  }
}

}  // namespace

void sysmon_start() {
  LockGuard guard(sched.lock);
  if (sysmon.running) return;
  sysmon.exiting = false;
  for (auto& t : sysmon.ticks) t = SysmonTick();
  int err = pthread_create(&sysmon.thread, nullptr, sysmon_main, nullptr);
  if (err != 0) fatal("failed to create the monitor thread (errno=%d)", err);
  sysmon.running = true;
}

void sysmon_stop() {
  sched.lock.lock();
  if (!sysmon.running) {
    sched.lock.unlock();
    return;
  }
  sysmon.exiting = true;
  note_wakeup(&sysmon.note);
  sysmon.running = false;
  sched.lock.unlock();
  pthread_join(sysmon.thread, nullptr);
  note_clear(&sysmon.note);
}

void sysmon_syscall_hint() {
  // Relaxed: hints; a missed one leaves the monitor on its own schedule.
  if (sysmon.sleep_ns.load(std::memory_order_relaxed) <= kSysmonMinDelayNs) return;
  if (sysmon.hinted.exchange(true, std::memory_order_relaxed)) return;  // one wake per sleep
  note_wakeup(&sysmon.note);
}

void sysmon_wake_locked() {
  if (sysmon.parked) note_wakeup(&sysmon.note);
}

}  // namespace gmprt
