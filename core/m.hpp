// m.hpp -- M, an OS thread that runs goroutines.
//
// An M runs user code only while it holds a P. Its scheduling code runs on
// g0, the thread's own stack (Fiber g0 below); a goroutine reaches g0 through
// mcall (proc.cpp), never by calling scheduler code on its own stack. Fields
// are owned by the M's thread unless marked: nextp and the park note are how
// another thread hands the M work (startm), under sched.lock.
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>

#include "context.hpp"
#include "note.hpp"

namespace gmprt {

struct G;
struct P;

// McallFn: runs on g0 after a goroutine switched away (park_m, gosched_m,
// goexit0, ...). Returns a G to run at once (the same one, to resume it) or
// null to schedule().
using McallFn = G* (*)(G* g);

struct M {
  Fiber g0;             // the scheduler's context on the thread's own stack
  uint64_t fpctl = 0;   // the thread's current FP control words (context.hpp)
  G* curg = nullptr;    // the goroutine running on this M, if any
  P* p = nullptr;       // the P held (null while idle or in a syscall)
  P* nextp = nullptr;   // the P to take on wakeup; written by startm under sched.lock
  P* oldp = nullptr;    // the P held before a syscall
  bool spinning = false;  // looking for work; counted in sched.nmspinning
  bool exiting = false;   // leave the scheduler loop (thread exit)
  Note park;            // sleeps here when idle (stopm) or locked (stoplockedm)
  // polling: blocked in netpoll as the sleeper (stopm); a wakeup of park must
  // then also break the poll (wake_m).
  std::atomic<bool> polling{false};

  G* lockedg = nullptr;     // the goroutine wired to this M (LockOSThread)
  uint32_t locked_ext = 0;  // nesting count of gmp_lock_os_thread

  // mcall: the function g0 runs next, and gmp_park's commit; parker: the
  // G whose park the commit belongs to, when a direct switch left it to the
  // next G to finish (park.cpp).
  McallFn mcall_fn = nullptr;
  int (*park_commit)(G* g, void* arg) = nullptr;
  void* park_arg = nullptr;
  G* parker = nullptr;
  // handoff_m's argument (the G to run), and its note to run() that the G
  // it returns goes on with the current time slice.
  G* handoff = nullptr;
  bool inherit_next = false;

  M* schedlink = nullptr;  // sched.midle link (guarded by sched.lock)
  M* alllink = nullptr;    // sched.allm link (guarded by sched.lock)
  int64_t id = 0;
  pthread_t thread{};
  pid_t tid = 0;
  uint64_t rand_state = 0;  // fastrand
  std::atomic<bool> dead{false};  // the thread has left the scheduler for good
  // created: `thread` is valid (set by the creator after pthread_create).
  std::atomic<bool> created{false};
  bool detached = false;  // left while the runtime ran; not joined (guarded by sched.lock)
};

}  // namespace gmprt
