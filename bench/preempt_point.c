/*
 * preempt_point.c -- the cost of gmp_preempt_point when nothing else waits:
 * the main goroutine calls it N times in a loop (default 100,000,000);
 * report ns per call (loop included). No Go twin (Go's preemption checks
 * are inserted by its compiler, or asynchronous): run.sh reports it alone,
 * without a ratio.
 *
 * The call goes through the static library (a real call, as in a user's
 * program): the call, the load of the flag and the branch. The run lasts
 * longer than a time slice (~10 ms), so the monitor asks the goroutine to
 * give way a few times; with nothing else to run each such yield is a few
 * hundred nanoseconds, which the count dilutes to nothing.
 * Usage: bench_preempt_point [calls]
 */
#include "bench.h"

static long n_calls;
static double ns_per_call;

static void main_goroutine(void* arg) {
  (void)arg;
  uint64_t t0 = bench_now_ns();
  for (long i = 0; i < n_calls; i++) gmp_preempt_point();
  ns_per_call = (double)(bench_now_ns() - t0) / (double)n_calls;
}

int main(int argc, char** argv) {
  n_calls = bench_count(argc, argv, 100000000);
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report("preempt_point", "ns_per_call", ns_per_call);
  return 0;
}
