/*
 * bench.h -- what the C benchmarks share: a clock, the output line, the
 * count arguments, and a countdown the main goroutine waits on (spawn and
 * yield; the channel benchmarks join with channels or gmp_waitgroup_t).
 *
 * The countdown stands in for a WaitGroup, which does not exist at this
 * layer: workers decrement an atomic counter and the one that brings it to
 * zero wakes the waiter with gmp_ready. The waiter parks with gmp_park and a
 * commit callback. The protocol, and why no wake-up is lost or doubled:
 *   1. commit (on the scheduler, after the waiter has left its stack) stores
 *      its handle in `waiter`, then loads `remaining`.
 *   2. the last worker, after its decrement reached zero, exchanges `waiter`
 *      with NULL and readies whatever handle it got.
 *   3. if commit saw remaining != 0, the last decrement comes later in the
 *      (seq_cst) order than the store of step 1, so that worker's exchange
 *      finds the handle and readies the parked waiter: commit returns 1.
 *   4. if commit saw remaining == 0, it tries to take its handle back (CAS
 *      g -> NULL). Success: no worker will call gmp_ready, commit returns 0
 *      and the waiter resumes at once. Failure: the last worker took the
 *      handle and will ready it, so commit returns 1 and stays parked.
 * Exactly one gmp_ready per park, always while the waiter is parked or
 * parking (never after it has moved on), so the benchmark does not depend on
 * how the runtime treats a ready that arrives early.
 */
#ifndef GMPRT_BENCH_H
#define GMPRT_BENCH_H

/* clock_gettime under -std=c11; bench.h is the first include of each .c. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <gmprt.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* bench_report_unit: one output line of a measurement (see README.md); a
 * program may print several, one per metric. unit: ns, us, ms, Mmsg/s, ... */
static inline void bench_report_unit(const char* workload, const char* metric, double value,
                                     const char* unit) {
  printf("workload=%s impl=gmprt metric=%s value=%.2f unit=%s\n", workload, metric, value, unit);
  fflush(stdout);
}

/* bench_report: the same in nanoseconds. */
static inline void bench_report(const char* workload, const char* metric, double value) {
  bench_report_unit(workload, metric, value, "ns");
}

/* bench_arg: a positive count from argv[i] (1 is the first), or dflt when
 * there are fewer arguments. */
static inline long bench_arg(int argc, char** argv, int i, long dflt) {
  if (argc <= i) return dflt;
  long n = atol(argv[i]);
  if (n <= 0) {
    fprintf(stderr, "%s: argument %d must be a positive count\n", argv[0], i);
    exit(2);
  }
  return n;
}

/* bench_count: a count from argv[1], or dflt. */
static inline long bench_count(int argc, char** argv, long dflt) {
  return bench_arg(argc, argv, 1, dflt);
}

/* bench_fail: a check of the benchmark's result did not hold. */
static inline void bench_fail(const char* what) {
  fprintf(stderr, "bench: check failed: %s\n", what);
  exit(1);
}

/* bench_check: exit with a message when a runtime call failed. */
static inline void bench_check(int rc, const char* what) {
  if (rc != 0) {
    fprintf(stderr, "bench: %s: %s\n", what, gmp_strerror(rc));
    exit(1);
  }
}

/* Aligned to its own cache line: the workers hammer `remaining`, and a
 * neighbour the spawning loop reads (its bound, say) must not share it. */
typedef struct bench_countdown {
  _Alignas(64) atomic_long remaining;
  _Atomic(gmp_g_t*) waiter;
} bench_countdown;

static inline void bench_countdown_init(bench_countdown* c, long n) {
  atomic_init(&c->remaining, n);
  atomic_init(&c->waiter, NULL);
}

/* bench_countdown_done: one worker finished; the last one wakes the waiter. */
static inline void bench_countdown_done(bench_countdown* c) {
  /* Seq_cst, like every access below: the protocol is a StoreLoad handshake
   * (store waiter, load remaining against decrement remaining, exchange
   * waiter), which acquire/release alone does not order. The decrement also
   * publishes the worker's own writes to the waiter. */
  if (atomic_fetch_sub_explicit(&c->remaining, 1, memory_order_seq_cst) == 1) {
    gmp_g_t* g = atomic_exchange_explicit(&c->waiter, NULL, memory_order_seq_cst);
    if (g) gmp_ready(g);
  }
}

/* bench_countdown_commit: gmp_park's commit (steps 1, 3 and 4 above). */
static inline int bench_countdown_commit(gmp_g_t* g, void* arg) {
  bench_countdown* c = (bench_countdown*)arg;
  atomic_store_explicit(&c->waiter, g, memory_order_seq_cst);
  if (atomic_load_explicit(&c->remaining, memory_order_seq_cst) != 0) return 1;
  gmp_g_t* expected = g;
  if (atomic_compare_exchange_strong_explicit(&c->waiter, &expected, NULL, memory_order_seq_cst,
                                              memory_order_seq_cst)) {
    return 0;
  }
  return 1;
}

/* bench_countdown_wait: park the calling goroutine until the count is 0. */
static inline void bench_countdown_wait(bench_countdown* c) {
  /* Acquire: pairs with the workers' decrements, so their writes are seen. */
  while (atomic_load_explicit(&c->remaining, memory_order_acquire) != 0) {
    gmp_park(bench_countdown_commit, c);
  }
}

#endif /* GMPRT_BENCH_H */
