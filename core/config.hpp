// config.hpp -- compile-time constants of the scheduler.
//
// Go's values where Go has one (named after Go's constant), our own where
// gmprt differs (stacks are not growable here, so the default is larger).
// Test builds may override the run-queue size (-DGMPRT_RUNQ_SIZE=4) so that
// stress tests hit the overflow and steal paths constantly.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace gmprt {

#ifndef GMPRT_RUNQ_SIZE
#define GMPRT_RUNQ_SIZE 256
#endif
// Slots of a P's local run queue ring (Go: len(p.runq)). Power of two.
inline constexpr uint32_t kRunqSize = GMPRT_RUNQ_SIZE;
static_assert((kRunqSize & (kRunqSize - 1)) == 0, "run queue size must be a power of two");

// Every kGlobalRunqTick-th schedule() takes one G from the global queue first
// so that local work cannot starve it (Go: schedtick%61).
inline constexpr uint32_t kGlobalRunqTick = 61;

// Goroutine ids are taken from the global counter in batches of this many
// per P (Go: _GoidCacheBatch).
inline constexpr uint64_t kGoidCacheBatch = 16;

// Free-G lists (Go: gfput/gfget): a P keeps at most kGFreeMax dead Gs and
// moves the surplus (one batch of kGFreeMax - kGFreeKeep) to the global list;
// an empty local list takes one whole batch from it.
inline constexpr int kGFreeMax = 64;
inline constexpr int kGFreeKeep = 32;

// G memory is allocated kGChunk Gs at a time (gfree.cpp).
inline constexpr int kGChunk = 256;

// Per-P stack cache (Go: stackcache): default-size stacks of Gs that exited
// on this P, reused LIFO while their pages are still in cache. At most
// kStackCacheMax; half is returned to the global pool when it overflows, and
// an empty cache refills kStackCacheBatch at a time.
inline constexpr int kStackCacheMax = 64;
inline constexpr int kStackCacheBatch = 16;

// Stealing: rounds over all Ps (Go: stealTries) and the pause before taking
// a running victim's runnext (Go: usleep(3)).
inline constexpr int kStealTries = 4;
inline constexpr int kRunnextStealPauseUs = 3;

// Stacks: default usable size (public GMP_STACK_DEFAULT) and the guard below.
inline constexpr size_t kDefaultStackSize = 256 * 1024;
inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kGuardSize = kPageSize;

// Threads: Go's default maxmcount.
inline constexpr int kDefaultMaxThreads = 10000;

// Largest GOMAXPROCS (public GMP_MAXPROCS_MAX); allp is a fixed array of this
// many slots so that lock-free readers never see it move.
inline constexpr int kMaxProcs = 1024;

// Internal lock: spins before sleeping on the futex (Go: active_spin,
// active_spin_cnt, passive_spin).
inline constexpr int kLockActiveSpin = 4;
inline constexpr int kLockActiveSpinCount = 30;
inline constexpr int kLockPassiveSpin = 1;

// Goroutine names kept (public GMP_NAME_MAX, including the terminating NUL).
inline constexpr size_t kNameMax = 32;

// The monitor (Go's sysmon constants): it sleeps kSysmonMinDelayNs between
// rounds, doubling after kSysmonIdleRounds rounds with nothing to do, up to
// kSysmonMaxDelayNs. A time slice ends after kForcePreemptNs; a P in a
// system call is retaken after one round when other work waits, and after
// kForcePreemptNs regardless; the network is polled when nobody has for
// kForcePollNs.
inline constexpr int64_t kSysmonMinDelayNs = 20 * 1000;
inline constexpr int64_t kSysmonMaxDelayNs = 10 * 1000 * 1000;
inline constexpr int kSysmonIdleRounds = 50;
inline constexpr int64_t kForcePreemptNs = 10 * 1000 * 1000;
// A goroutine with GMP_GO_ASYNC_PREEMPT that has outstayed its slice gets a
// preemption signal at most this often while it does (preempt.cpp).
inline constexpr int64_t kAsyncPreemptRetryNs = 1000 * 1000;
inline constexpr int64_t kForcePollNs = 10 * 1000 * 1000;

}  // namespace gmprt

