/*
 * idle.c -- what an idle runtime costs: N goroutines (default 10,000)
 * parked on a channel and nothing else to do; the CPU time (user + system)
 * the process uses over 5 seconds, as a percentage of one CPU. The monitor
 * parks and every thread sleeps, so this should be about 0. No Go twin (a
 * ratio of two numbers near 0 means nothing): run.sh reports it alone.
 *
 * The goroutines start and park first; a 200 ms settle lets the monitor
 * back off and park before the measured interval.
 * Usage: bench_idle [goroutines]
 */
#include "bench.h"

#include <sys/resource.h>
#include <unistd.h>

static long n_goroutines;
static gmp_chan_t* gate;
static gmp_waitgroup_t started;
static double cpu_percent;

static int64_t cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void parked(void* arg) {
  (void)arg;
  gmp_waitgroup_done(&started);
  gmp_chan_recv(gate, NULL);
}

static void main_goroutine(void* arg) {
  (void)arg;
  bench_check(gmp_chan_make(&gate, 0, 0), "gmp_chan_make");
  bench_check(gmp_waitgroup_add(&started, n_goroutines), "gmp_waitgroup_add");
  for (long i = 0; i < n_goroutines; i++) bench_check(gmp_go(parked, NULL), "gmp_go");
  gmp_waitgroup_wait(&started);
  gmp_sleep(200 * 1000 * 1000);
  int64_t cpu0 = cpu_ns(), wall0 = gmp_now();
  gmp_sleep(5000LL * 1000 * 1000);
  int64_t cpu = cpu_ns() - cpu0, wall = gmp_now() - wall0;
  cpu_percent = 100.0 * (double)cpu / (double)wall;
  bench_check(gmp_chan_close(gate), "gmp_chan_close");
}

int main(int argc, char** argv) {
  n_goroutines = bench_count(argc, argv, 10000);
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report_unit("idle", "cpu_percent", cpu_percent, "%");
  return 0;
}
