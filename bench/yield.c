/*
 * yield.c -- two goroutines on one P each call gmp_yield N times (default
 * 1,000,000); report ns per switch = elapsed / (2 N). Twin: go/yield/main.go.
 *
 * gmp_maxprocs(1) comes before anything else, so one P runs both yielders
 * and every gmp_yield hands the P to the other one (through the global run
 * queue, as Go's Gosched does). The main goroutine starts the two and parks
 * on a countdown (bench.h) for the whole run, so it is not in the rotation.
 * Usage: bench_yield [yields_per_goroutine]
 */
#include "bench.h"

static long n_yields;
static bench_countdown done;
static double ns_per_switch;

static void yielder(void* arg) {
  (void)arg;
  for (long i = 0; i < n_yields; i++) gmp_yield();
  bench_countdown_done(&done);
}

static void main_goroutine(void* arg) {
  (void)arg;
  bench_countdown_init(&done, 2);
  uint64_t t0 = bench_now_ns();
  bench_check(gmp_go(yielder, NULL), "gmp_go");
  bench_check(gmp_go(yielder, NULL), "gmp_go");
  bench_countdown_wait(&done);
  ns_per_switch = (double)(bench_now_ns() - t0) / (double)(2 * n_yields);
}

int main(int argc, char** argv) {
  n_yields = bench_count(argc, argv, 1000000);
  int prev = gmp_maxprocs(1);
  if (prev < 0) bench_check(prev, "gmp_maxprocs");
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report("yield", "ns_per_switch", ns_per_switch);
  return 0;
}
