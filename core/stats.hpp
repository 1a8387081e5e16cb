// stats.hpp -- a snapshot of the scheduler for gmp_stats and the scheduler
// trace. See stats.cpp.
#pragma once

#include <stdint.h>

namespace gmprt {

// SchedStats: what gmp_stats reports, in the runtime's own terms.
struct SchedStats {
  int64_t goroutines = 0;
  int64_t threads = 0;
  int64_t idle_threads = 0;
  int64_t spinning_threads = 0;
  int64_t procs = 0;
  int64_t idle_procs = 0;
  int64_t global_runq = 0;
  uint64_t created = 0;
  uint64_t switches = 0;
  uint64_t steals = 0;
  uint64_t parks = 0;
  int64_t timers_pending = 0;
  int64_t fds_registered = 0;
};

// read_stats: fill *out. Any thread, any time the runtime runs (not
// concurrently with runtime_shutdown, like count_goroutines); all zeros
// before it starts. Takes sched.lock for the lock-guarded counts.
void read_stats(SchedStats* out);

}  // namespace gmprt
