// p.hpp -- P, a processor: the resources needed to run Go code. GOMAXPROCS
// of them exist; an M holds at most one, and only an M holding a P runs
// goroutines. Work is kept per P so most operations take no global lock.
//
// P status, by ownership:
//   idle     on sched.pidle; owned by the idle list (sched.lock).
//   running  held by an M (p->m) running user or scheduler code.
//   syscall  its M is in a system call; the M may take it back with a CAS
//            to running, or the monitor may retake it (CAS to idle).
//   gcstop   stopped for stop-the-world; owned by the stopper.
//   dead     removed by gmp_maxprocs; kept (never freed while the runtime
//            runs, since lock-free readers may still look at it) for reuse.
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <atomic>

#include "config.hpp"
#include "list.hpp"
#include "stack.hpp"
#include "runq.hpp"
#include "time.hpp"

namespace gmprt {

struct G;
struct M;

enum class PStatus : uint32_t { idle, running, syscall, gcstop, dead };

struct P {
  int32_t id = 0;
  std::atomic<PStatus> status{PStatus::gcstop};
  M* m = nullptr;            // the M holding it (owner-only; null when idle)
  P* link = nullptr;         // sched.pidle link (guarded by sched.lock)
  // schedtick: incremented on every schedule that starts a new time slice;
  // syscalltick: on every system call. Written by the owner (owner_add),
  // read by the monitor (sysmon.cpp) to see how long a slice or call lasts.
  std::atomic<uint32_t> schedtick{0};
  std::atomic<uint32_t> syscalltick{0};
  // preempt: the monitor asks the goroutine running on this P to give way
  // (its slice is over); cleared when a new slice starts. Relaxed: a hint.
  std::atomic<bool> preempt{false};
  // curg: the goroutine run last, for the monitor's stall report (written
  // by the owner with Release whenever it starts running one).
  std::atomic<G*> curg{nullptr};
  // tid: the thread id of the M holding the P, 0 when none (acquirep,
  // releasep), for the monitor's preemption signal. Relaxed: a stale id only
  // sends a signal the handler then ignores.
  std::atomic<pid_t> tid{0};

  LocalRunq runq;
  TimerHeap timers;          // its own lock (time.hpp)

  GList gfree;               // dead Gs, without stacks (owner-only)
  int32_t gfreecnt = 0;

  Stack stackcache[kStackCacheMax];  // default-size stacks (owner-only)
  int32_t nstackcache = 0;

  uint64_t goidcache = 0;    // next goid to hand out
  uint64_t goidcacheend = 0; // end of the cached batch

  // Statistics, written by the owner only, summed on read (relaxed).
  std::atomic<uint64_t> nswitch{0};
  std::atomic<uint64_t> nsteal{0};
  std::atomic<uint64_t> npark{0};
  std::atomic<uint64_t> ncreated{0};
  // Goroutines created minus goroutines exited on this P (may be negative);
  // sched_goroutine_count sums them. Kept per P so that creating and ending
  // goroutines on different CPUs shares no cache line.
  std::atomic<int64_t> ngoroutines_delta{0};
};

}  // namespace gmprt
