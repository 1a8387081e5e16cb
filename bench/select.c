/*
 * select.c -- 4 senders, each on its own unbuffered channel, and one
 * receiver (the main goroutine) that runs gmp_select over the 4 receive
 * cases N times (default 4,000,000), with the default GOMAXPROCS; report ns
 * per select. Twin: go/select/main.go.
 *
 * Each sender sends N/4 int64_t values, so the N selects take every value
 * whatever cases they pick; the sum of the values is checked. Every select
 * either finds a sender waiting (and takes its value at once) or enqueues
 * on all 4 channels, parks, and is woken by the first sender to arrive. The
 * clock runs from before the first sender is started to after the last
 * select.
 * Usage: bench_select [selects]
 */
#include "bench.h"

enum { SENDERS = 4 };

static long n_selects; /* a multiple of SENDERS */
static gmp_chan_t* chans[SENDERS];
static double ns_per_select;

static void sender(void* arg) {
  long s = (long)(intptr_t)arg;
  int64_t first = s * (n_selects / SENDERS), end = first + n_selects / SENDERS;
  for (int64_t v = first; v < end; v++) bench_check(gmp_chan_send(chans[s], &v), "gmp_chan_send");
}

static void main_goroutine(void* arg) {
  (void)arg;
  int64_t v = 0, sum = 0;
  gmp_select_case_t cases[SENDERS];
  for (int s = 0; s < SENDERS; s++) {
    bench_check(gmp_chan_make(&chans[s], sizeof(int64_t), 0), "gmp_chan_make");
    cases[s] = (gmp_select_case_t){.chan = chans[s], .dir = GMP_RECV, .elem = &v};
  }
  uint64_t t0 = bench_now_ns();
  for (long s = 0; s < SENDERS; s++) bench_check(gmp_go(sender, (void*)(intptr_t)s), "gmp_go");
  for (long i = 0; i < n_selects; i++) {
    int k = gmp_select(cases, SENDERS, -1);
    if (k < 0) bench_check(k, "gmp_select");
    bench_check(cases[k].result, "gmp_select case");
    sum += v;
  }
  ns_per_select = (double)(bench_now_ns() - t0) / (double)n_selects;
  for (int s = 0; s < SENDERS; s++) gmp_chan_release(chans[s]);
  if (sum != (int64_t)n_selects * (n_selects - 1) / 2) bench_fail("every value received once");
}

int main(int argc, char** argv) {
  n_selects = bench_count(argc, argv, 4000000);
  n_selects -= n_selects % SENDERS;
  if (n_selects == 0) n_selects = SENDERS;
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report("select", "ns_per_select", ns_per_select);
  return 0;
}
