/*
 * spawn.c -- start N goroutines (default 1,000,000) that each signal
 * completion, with the default GOMAXPROCS; report ns per goroutine.
 * Twin: go/spawn/main.go.
 *
 * The main goroutine (gmp_main) spawns every worker, then parks on a
 * countdown (bench.h) that the last worker to finish readies. The clock runs
 * from before the first gmp_go to after the main goroutine wakes, so it
 * covers creation, scheduling (including stealing by the other Ps), running
 * and exit of every goroutine. Runtime start-up is outside the clock, as it
 * is for Go.
 * Usage: bench_spawn [count]
 */
#include "bench.h"

static long n_goroutines;
static bench_countdown done;
static double ns_per_goroutine;

static void worker(void* arg) {
  (void)arg;
  bench_countdown_done(&done);
}

static void main_goroutine(void* arg) {
  (void)arg;
  bench_countdown_init(&done, n_goroutines);
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < n_goroutines; i++) bench_check(gmp_go(worker, NULL), "gmp_go");
  bench_countdown_wait(&done);
  ns_per_goroutine = (double)(bench_now_ns() - t0) / (double)n_goroutines;
}

int main(int argc, char** argv) {
  n_goroutines = bench_count(argc, argv, 1000000);
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report("spawn", "ns_per_goroutine", ns_per_goroutine);
  return 0;
}
