// stats.cpp -- gmp_stats (the struct_size-aware copy out) and gmp_dump.
#include <string.h>

#include "../core/stats.hpp"
#include "../core/traceback.hpp"
#include "capi_guard.hpp"

using namespace gmprt;

namespace {

// The first version of gmp_stats_t: struct_size and 13 eight-byte counts.
// A caller's struct_size below it is GMP_EINVAL (API.md).
constexpr size_t kStatsV1Size = sizeof(size_t) + 13 * 8;
static_assert(sizeof(gmp_stats_t) >= kStatsV1Size, "gmp_stats_t only grows");

}  // namespace

extern "C" GMP_API int gmp_stats(gmp_stats_t* out) noexcept {
  RuntimeCall in_runtime;
  if (!out || out->struct_size < kStatsV1Size) return GMP_EINVAL;
  SchedStats s;
  read_stats(&s);
  gmp_stats_t full;
  memset(&full, 0, sizeof full);
  full.struct_size = out->struct_size;
  full.goroutines = s.goroutines;
  full.threads = s.threads;
  full.idle_threads = s.idle_threads;
  full.spinning_threads = s.spinning_threads;
  full.procs = s.procs;
  full.idle_procs = s.idle_procs;
  full.global_runq = s.global_runq;
  full.goroutines_created_total = s.created;
  full.context_switches_total = s.switches;
  full.steals_total = s.steals;
  full.parks_total = s.parks;
  full.timers_pending = s.timers_pending;
  full.fds_registered = s.fds_registered;
  // Never past the caller's struct_size; members a newer caller knows and
  // this library does not are left as the caller set them.
  size_t n = out->struct_size < sizeof full ? out->struct_size : sizeof full;
  memcpy(out, &full, n);
  return GMP_OK;
}

extern "C" GMP_API void gmp_dump(int fd) noexcept {
  RuntimeCall in_runtime;
  if (fd < 0 || !runtime_started()) return;
  dump_goroutines(fd, AllgLock::wait);
}
