/*
 * mutex.c -- 8 goroutines each take and release one gmp_mutex_t N/8 times
 * (default N = 10,000,000 pairs in all), incrementing a shared counter
 * inside; default GOMAXPROCS. Report ns per lock/unlock pair = elapsed / N.
 * Twin: go/mutex/main.go.
 *
 * The critical section is one increment of a plain (non-atomic) counter,
 * checked against N at the end, so the mutex is what keeps it right. The
 * clock runs from before the first goroutine is started to after the last
 * has finished (the main goroutine waits on a gmp_waitgroup_t).
 * Usage: bench_mutex [pairs]
 */
#include "bench.h"

enum { WORKERS = 8 };

static long n_pairs; /* a multiple of WORKERS */
static gmp_mutex_t mu;
static long counter; /* guarded by mu */
static gmp_waitgroup_t done;
static double ns_per_pair;

static void worker(void* arg) {
  (void)arg;
  for (long i = 0; i < n_pairs / WORKERS; i++) {
    gmp_mutex_lock(&mu);
    counter++;
    bench_check(gmp_mutex_unlock(&mu), "gmp_mutex_unlock");
  }
  gmp_waitgroup_done(&done);
}

static void main_goroutine(void* arg) {
  (void)arg;
  bench_check(gmp_waitgroup_add(&done, WORKERS), "gmp_waitgroup_add");
  uint64_t t0 = bench_now_ns();
  for (int w = 0; w < WORKERS; w++) bench_check(gmp_go(worker, NULL), "gmp_go");
  gmp_waitgroup_wait(&done);
  ns_per_pair = (double)(bench_now_ns() - t0) / (double)n_pairs;
  gmp_mutex_lock(&mu);
  long seen = counter;
  bench_check(gmp_mutex_unlock(&mu), "gmp_mutex_unlock");
  if (seen != n_pairs) bench_fail("counter = N");
}

int main(int argc, char** argv) {
  n_pairs = bench_count(argc, argv, 10000000);
  n_pairs -= n_pairs % WORKERS;
  if (n_pairs == 0) n_pairs = WORKERS;
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report("mutex", "ns_per_lock_unlock", ns_per_pair);
  return 0;
}
