/*
 * pingpong.c -- two goroutines pass an int64_t back and forth over two
 * unbuffered channels N times (default 1,000,000 round trips) with P Ps
 * (default 1); report ns per round trip. run.sh runs it as workload
 * pingpong_p1 (P = 1) and pingpong_p2 (P = 2). Twin: go/pingpong/main.go.
 *
 * gmp_maxprocs(P) comes before anything else. The main goroutine is the
 * pinger: it sends i on `ping` and receives i + 1 on `pong`; the ponger it
 * starts does the reverse. Each round trip is two rendezvous, each of which
 * parks one side and readies it. The clock runs from before the ponger is
 * started to after the last pong arrives; the values are checked.
 * Usage: bench_pingpong [round_trips] [procs]
 */
#include "bench.h"

static long n_round_trips;
static gmp_chan_t* ping;
static gmp_chan_t* pong;
static double ns_per_round_trip;

static void ponger(void* arg) {
  (void)arg;
  for (long i = 0; i < n_round_trips; i++) {
    int64_t v;
    bench_check(gmp_chan_recv(ping, &v), "gmp_chan_recv");
    v++;
    bench_check(gmp_chan_send(pong, &v), "gmp_chan_send");
  }
}

static void main_goroutine(void* arg) {
  (void)arg;
  bench_check(gmp_chan_make(&ping, sizeof(int64_t), 0), "gmp_chan_make");
  bench_check(gmp_chan_make(&pong, sizeof(int64_t), 0), "gmp_chan_make");
  uint64_t t0 = bench_now_ns();
  bench_check(gmp_go(ponger, NULL), "gmp_go");
  for (long i = 0; i < n_round_trips; i++) {
    int64_t v = i;
    bench_check(gmp_chan_send(ping, &v), "gmp_chan_send");
    bench_check(gmp_chan_recv(pong, &v), "gmp_chan_recv");
    if (v != i + 1) bench_fail("pong carries the ping's value plus one");
  }
  ns_per_round_trip = (double)(bench_now_ns() - t0) / (double)n_round_trips;
  gmp_chan_release(ping);
  gmp_chan_release(pong);
}

int main(int argc, char** argv) {
  n_round_trips = bench_arg(argc, argv, 1, 1000000);
  long procs = bench_arg(argc, argv, 2, 1);
  if (procs > GMP_MAXPROCS_MAX) bench_fail("procs <= GMP_MAXPROCS_MAX");
  int prev = gmp_maxprocs((int)procs);
  if (prev < 0) bench_check(prev, "gmp_maxprocs");
  char workload[32];
  snprintf(workload, sizeof workload, "pingpong_p%ld", procs);
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report(workload, "ns_per_round_trip", ns_per_round_trip);
  return 0;
}
