/*
 * chanthroughput.c -- 4 producers and 4 consumers move N int64_t values in
 * all (default 10,000,000) through one channel of capacity 1024, with the
 * default GOMAXPROCS; report millions of values per second (Mmsg/s: higher
 * is better). Twin: go/chanthroughput/main.go.
 *
 * Producer p sends p*(N/4) ... (p+1)*(N/4) - 1 with gmp_chan_send. When
 * every producer is done (a gmp_waitgroup_t) the main goroutine closes the
 * channel; the consumers receive until gmp_chan_recv reports GMP_ECLOSED
 * (closed and drained), add their local sums to a shared total and finish
 * on a second wait group. The total is checked against N*(N-1)/2. The clock
 * runs from before the first producer is started to after the last
 * consumer is done.
 * Usage: bench_chanthroughput [values]
 */
#include "bench.h"

enum { WORKERS = 4, CAPACITY = 1024 };

static long n_values; /* a multiple of WORKERS */
static gmp_chan_t* chan;
static gmp_waitgroup_t producers, consumers;
static atomic_llong total;
static double mmsg_per_s;

static void producer(void* arg) {
  int64_t first = (int64_t)(intptr_t)arg, end = first + n_values / WORKERS;
  for (int64_t v = first; v < end; v++) bench_check(gmp_chan_send(chan, &v), "gmp_chan_send");
  gmp_waitgroup_done(&producers);
}

static void consumer(void* arg) {
  (void)arg;
  int64_t v, sum = 0;
  int rc;
  while ((rc = gmp_chan_recv(chan, &v)) == GMP_OK) sum += v;
  if (rc != GMP_ECLOSED) bench_check(rc, "gmp_chan_recv");
  atomic_fetch_add(&total, sum);
  gmp_waitgroup_done(&consumers);
}

static void main_goroutine(void* arg) {
  (void)arg;
  bench_check(gmp_chan_make(&chan, sizeof(int64_t), CAPACITY), "gmp_chan_make");
  bench_check(gmp_waitgroup_add(&producers, WORKERS), "gmp_waitgroup_add");
  bench_check(gmp_waitgroup_add(&consumers, WORKERS), "gmp_waitgroup_add");
  uint64_t t0 = bench_now_ns();
  for (long p = 0; p < WORKERS; p++) {
    bench_check(gmp_go(producer, (void*)(intptr_t)(p * (n_values / WORKERS))), "gmp_go");
  }
  for (int c = 0; c < WORKERS; c++) bench_check(gmp_go(consumer, NULL), "gmp_go");
  gmp_waitgroup_wait(&producers);
  bench_check(gmp_chan_close(chan), "gmp_chan_close");
  gmp_waitgroup_wait(&consumers);
  uint64_t elapsed = bench_now_ns() - t0;
  mmsg_per_s = (double)n_values / (double)elapsed * 1e3;
  gmp_chan_release(chan);
  if (atomic_load(&total) != (long long)n_values * (n_values - 1) / 2) {
    bench_fail("the consumers received every value once");
  }
}

int main(int argc, char** argv) {
  n_values = bench_count(argc, argv, 10000000);
  n_values -= n_values % WORKERS;
  if (n_values == 0) n_values = WORKERS;
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report_unit("chanthroughput", "mmsg_per_s", mmsg_per_s, "Mmsg/s");
  return 0;
}
