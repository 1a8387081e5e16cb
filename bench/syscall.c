/*
 * syscall.c -- how long a goroutine blocked in a system call keeps the
 * other goroutines of its P waiting. On one P (gmp_maxprocs(1)), R rounds
 * (default 200): in each, goroutine B takes the time and blocks in read(2)
 * on a pipe inside gmp_syscall_enter/gmp_syscall_exit, while goroutine W,
 * queued behind it on the same P, takes the time when it first runs and
 * writes the byte that ends B's read. W's time minus B's is the delay: the
 * monitor noticing the P in its system call, retaking it and handing it to
 * another thread. Reports the median and the largest delay, in
 * microseconds. Twin: go/syscall/main.go (syscall.Read on a blocking pipe).
 *
 * Order: main starts W, then B; B goes to the P's runnext slot, so it runs
 * first when main waits for the round to end.
 * Usage: bench_syscall [rounds]
 */
#include "bench.h"

#include <stdlib.h>
#include <unistd.h>

static long n_rounds;
static int pipe_fds[2];
static atomic_llong blocked_at, ran_at;
static gmp_waitgroup_t round_done;
static double* delays_us;

static void blocker(void* arg) {
  (void)arg;
  char byte;
  atomic_store(&blocked_at, (long long)bench_now_ns());
  gmp_syscall_enter();
  ssize_t n = read(pipe_fds[0], &byte, 1);
  gmp_syscall_exit();
  if (n != 1) bench_fail("read from the pipe failed");
  gmp_waitgroup_done(&round_done);
}

static void waiter(void* arg) {
  (void)arg;
  atomic_store(&ran_at, (long long)bench_now_ns());
  if (write(pipe_fds[1], "x", 1) != 1) bench_fail("write to the pipe failed");
  gmp_waitgroup_done(&round_done);
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static void main_goroutine(void* arg) {
  (void)arg;
  gmp_maxprocs(1);
  for (long r = 0; r < n_rounds; r++) {
    bench_check(gmp_waitgroup_add(&round_done, 2), "gmp_waitgroup_add");
    bench_check(gmp_go(waiter, NULL), "gmp_go");
    bench_check(gmp_go(blocker, NULL), "gmp_go");
    gmp_waitgroup_wait(&round_done);
    delays_us[r] = (double)(atomic_load(&ran_at) - atomic_load(&blocked_at)) / 1000.0;
  }
}

int main(int argc, char** argv) {
  n_rounds = bench_count(argc, argv, 200);
  delays_us = calloc((size_t)n_rounds, sizeof *delays_us);
  if (!delays_us || pipe(pipe_fds) != 0) bench_fail("setup failed");
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  qsort(delays_us, (size_t)n_rounds, sizeof *delays_us, by_value);
  bench_report_unit("syscall", "median_delay", delays_us[n_rounds / 2], "us");
  bench_report_unit("syscall", "max_delay", delays_us[n_rounds - 1], "us");
  return 0;
}
