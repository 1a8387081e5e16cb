/*
 * timers.c -- N goroutines (default 100,000) each sleep once, for 1 to
 * 50 ms, and measure how late they wake; default GOMAXPROCS. Reports three
 * metrics: the wall time from before the first goroutine is started to
 * after the last has finished (ms), and the median and 99th percentile of
 * the lateness (us). Twin: go/timers/main.go.
 *
 * The durations come from xorshift64 (shifts 13, 7, 17) seeded with
 * 0x9E3779B97F4A7C15: goroutine i sleeps 1 + x_i % 50 ms, x_i the i-th
 * output, the same sequence as the Go side. Lateness is gmp_now() after
 * gmp_sleep minus gmp_now() before it minus the duration. The percentiles
 * are nearest-rank over the N latenesses. The main goroutine starts every
 * sleeper, then waits on a gmp_waitgroup_t. The sleeps overlap the spawning
 * (which takes longer than the shortest sleeps), so the tail also measures
 * how promptly a timer's goroutine runs while the Ps are busy.
 * Usage: bench_timers [goroutines]
 */
#include "bench.h"

static long n_sleepers;
static int64_t* duration; /* duration[i]: goroutine i's sleep, ns */
static int64_t* lateness; /* lateness[i]: how late goroutine i woke, ns */
static gmp_waitgroup_t done;
static double wall_ms;

static void sleeper(void* arg) {
  long i = (long)(intptr_t)arg;
  int64_t t0 = gmp_now();
  gmp_sleep(duration[i]);
  lateness[i] = gmp_now() - t0 - duration[i];
  gmp_waitgroup_done(&done);
}

static void main_goroutine(void* arg) {
  (void)arg;
  uint64_t x = 0x9E3779B97F4A7C15u;
  bench_check(gmp_waitgroup_add(&done, n_sleepers), "gmp_waitgroup_add");
  int64_t t0 = gmp_now();
  for (long i = 0; i < n_sleepers; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    duration[i] = (int64_t)(1 + x % 50) * 1000000;
    bench_check(gmp_go(sleeper, (void*)(intptr_t)i), "gmp_go");
  }
  gmp_waitgroup_wait(&done);
  wall_ms = (double)(gmp_now() - t0) / 1e6;
}

static int cmp_int64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

/* rank: the nearest-rank percentile p (0 < p <= 100) of sorted v[0..n). */
static int64_t rank(const int64_t* v, long n, long p) { return v[(p * n + 99) / 100 - 1]; }

int main(int argc, char** argv) {
  n_sleepers = bench_count(argc, argv, 100000);
  if (n_sleepers > INT32_MAX) bench_fail("goroutines <= INT32_MAX");
  duration = calloc((size_t)n_sleepers, sizeof *duration);
  lateness = calloc((size_t)n_sleepers, sizeof *lateness);
  if (!duration || !lateness) bench_fail("memory for the durations");
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  qsort(lateness, (size_t)n_sleepers, sizeof *lateness, cmp_int64);
  if (lateness[0] < 0) bench_fail("no goroutine wakes before its time");
  bench_report_unit("timers", "wall_ms", wall_ms, "ms");
  bench_report_unit("timers", "lateness_p50_us", (double)rank(lateness, n_sleepers, 50) / 1e3,
                    "us");
  bench_report_unit("timers", "lateness_p99_us", (double)rank(lateness, n_sleepers, 99) / 1e3,
                    "us");
  free(duration);
  free(lateness);
  return 0;
}
