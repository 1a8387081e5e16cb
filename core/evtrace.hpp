// evtrace.hpp -- the scheduler event trace (GMP_DEBUG=trace=FILE): Chrome
// trace event JSON, one track per M and per P. See evtrace.cpp.
//
// Every hook below is called as `if (evtrace_enabled()) evtrace_x(...)`:
// when tracing is off that is one relaxed load of a flag that never changes
// while the runtime runs, and one branch the predictor learns at once.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "g.hpp"

namespace gmprt {

struct M;
struct P;

// evtrace_on: written only by evtrace_start/evtrace_stop, while no M runs
// (runtime start-up and shutdown).
extern std::atomic<bool> evtrace_on;

inline bool evtrace_enabled() {
  // Relaxed: the flag changes only while no M exists; thread creation (and
  // runtime_start's Release/Acquire of `started`) orders it for every
  // thread that reads it.
  return __builtin_expect(evtrace_on.load(std::memory_order_relaxed), 0);
}

// The hooks. Each runs on the thread the event happens on.
void evtrace_run_begin(M* m, G* g);                      // execute: m starts running g on m->p
void evtrace_run_end(M* m);                              // g left m (back on g0)
void evtrace_park_id(uint64_t goid, WaitReason reason);  // park_m: goroutine goid parked
void evtrace_ready(G* g);                                // ready: g becomes runnable
void evtrace_steal(P* thief, P* victim);                 // steal_work took Gs from victim
void evtrace_syscall_enter(M* m);                        // entersyscall (P released)
void evtrace_syscall_exit(M* m, G* g, P* p);             // exitsyscall; p: retaken at once, or null
void evtrace_stack(const char* what, size_t bytes);      // stack memory returned

// evtrace_start: with GMP_DEBUG=trace=FILE, open FILE and turn tracing on.
// evtrace_stop: write every buffered event and the closing bracket, close
// the file, turn tracing off. Called by runtime_start and runtime_shutdown
// (and at process exit if the runtime is still running).
void evtrace_start();
void evtrace_stop();

}  // namespace gmprt
