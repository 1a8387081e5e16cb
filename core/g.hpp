// g.hpp -- G, a goroutine: its stack and saved context, its status and why
// it waits.
//
// Status is defined by ownership, as in Go's runtime2.go. Whoever changes
// the status with a successful CAS owns the G in the new state:
//
//   idle      just allocated, not yet initialised; owned by its creator.
//   runnable  on a run queue (a P's runnext or ring, or the global queue) or
//             in a batch moving between them; owned by that queue. Not
//             executing; its stack is not in use.
//   running   executing user code on an M that holds a P; owned by that M.
//             g->m is that M. The stack is in use.
//   syscall   executing a blocking system call (between gmp_syscall_enter
//             and exit) on an M without a P; owned by that M.
//   waiting   parked (gmp_park, a channel, a lock...): on some wait queue,
//             owned by whoever dequeues it and calls ready(). The stack is
//             not in use, but may be read by the waker (Go's sudog elem).
//   dead      exited: on a free list or being reused; owned by the list.
//
// Transitions: idle->runnable (newproc), runnable->running (execute),
// running->runnable (gosched, preemption), running->waiting (park_m),
// waiting->runnable (ready), running->syscall->running (entersyscall,
// exitsyscall), running->dead (goexit0), dead->runnable (newproc reusing it).
#pragma once

#include <stdint.h>

#include <atomic>

#include "config.hpp"
#include "context.hpp"
#include "stack.hpp"

typedef void (*gmp_fn)(void* arg);

namespace gmprt {

struct M;
struct Sudog;
struct MainWait;

enum class GStatus : uint32_t { idle, runnable, running, syscall, waiting, dead };

// WaitReason: why a G waits; printed by dumps and the deadlock report with
// Go's wording.
enum class WaitReason : uint8_t {
  none,
  park,             // gmp_park from user code
  chan_receive,
  chan_send,
  chan_receive_nil, // receive on a NULL channel
  chan_send_nil,
  select,
  select_no_cases,  // select {} (gmp_select with n == 0 and no timeout)
  sleep,
  sync_mutex_lock,
  sync_rwmutex_rlock,
  sync_rwmutex_lock,
  sync_cond_wait,
  sync_waitgroup_wait,
  semacquire,
  io_wait,
  preempted,
  locked_thread,    // locked to its M and waiting for it
};

const char* wait_reason_string(WaitReason r);
const char* gstatus_string(GStatus s);

// OnResume: the work a direct switch (G -> G' without g0) leaves to G'.
//   unlock_sched: a yield switched holding sched.lock (gosched); release it.
//   finish_park: a park switched before committing (park); run its commit
//     and publish the parker as waiting (park_finish, park.cpp).
enum class OnResume : uint8_t { none, unlock_sched, finish_park };

struct G {
  Fiber fiber;  // saved context and stack bounds; touched only by switches
  Stack stack;  // the memory behind fiber (kept with the G on free lists)

  // Status: a GStatus (the table above) in the low byte, plus kWoken: a
  // gmp_ready arrived while the G was running or runnable, to end its next
  // park at once (park.cpp). Every change is a read-modify-write or a store
  // by the owner; orderings as noted at each site.
  std::atomic<uint32_t> status{uint32_t(GStatus::idle)};

  uint64_t goid = 0;
  gmp_fn fn = nullptr;
  void* arg = nullptr;
  M* m = nullptr;          // the M running it (running/syscall); owner-only
  M* lockedm = nullptr;    // the M it is wired to (LockOSThread), or null
  G* schedlink = nullptr;  // run queue / free list link
  // batchlink, batchlen: on the global free list (gfree.cpp) the first G of
  // each batch holds the next batch and the batch's length.
  G* batchlink = nullptr;
  uint32_t batchlen = 0;
  Sudog* waiting = nullptr;  // sudogs this G is queued on (chan, select, sema)
  MainWait* main_wait = nullptr;  // set on the main goroutine of gmp_main
  WaitReason waitreason = WaitReason::none;
  bool system = false;     // a runtime goroutine, not counted or reported
  bool fresh = false;      // queued by newproc and not yet run (owner-only)
  bool io_wrote = false;   // wrote to a descriptor since its last IO wait (fdio)
  // on_resume: what the G must finish for the G that switched to it
  // directly, first thing when it resumes (resumed, sched.hpp).
  OnResume on_resume = OnResume::none;
  int64_t waitsince = 0;   // nanotime_coarse() when it last parked (park)
  uintptr_t gopc = 0;      // creation site: the return address into gmp_go's caller
  // Asynchronous preemption (preempt.cpp). async_preempt: started with
  // GMP_GO_ASYNC_PREEMPT (read by the monitor too). nopreempt: > 0 while the
  // goroutine runs runtime code (a public call, its own first and last
  // frames). async_pending: the signal handler has sent it to the
  // preemption trampoline, which has not finished. Relaxed atomics: apart
  // from the monitor's hint, only the G's own thread (and that thread's
  // signal handler) reads them; signal fences order them against the code
  // they bracket (nopreempt_enter/exit).
  std::atomic<bool> async_preempt{false};
  std::atomic<uint32_t> nopreempt{0};
  std::atomic<bool> async_pending{false};
  char name[kNameMax] = {};
};

inline G*& schedlink(G* g) { return g->schedlink; }

// nopreempt_enter, nopreempt_exit: bracket runtime code that runs on g's
// stack, so that asynchronous preemption never interrupts it (preempt.cpp).
// The signal fences keep the compiler from moving the bracketed code across
// the counter, which only g's own thread (and its signal handler) reads.
inline void nopreempt_enter(G* g) {
  g->nopreempt.store(g->nopreempt.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
}
inline void nopreempt_exit(G* g) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  g->nopreempt.store(g->nopreempt.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

inline constexpr uint32_t kWoken = 0x100;
inline GStatus gstatus(uint32_t word) { return GStatus(word & 0xff); }
inline GStatus load_status(const G* g, std::memory_order order) {
  return gstatus(g->status.load(order));
}
inline void store_status(G* g, GStatus s, std::memory_order order) {
  g->status.store(uint32_t(s), order);
}
// runnable -> running differs by this much in the low byte; adding or
// subtracting it changes the state and keeps kWoken.
inline constexpr uint32_t kRunnableToRunning = uint32_t(GStatus::running) - uint32_t(GStatus::runnable);

}  // namespace gmprt
