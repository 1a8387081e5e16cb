/*
 * sieve.c -- the concurrent prime sieve, run until the main goroutine has
 * received N primes (default 3,000; the 3,000th is 27449); default
 * GOMAXPROCS; report ms. Twin: go/sieve/main.go.
 *
 * A generator goroutine sends 2, 3, 4, ... on an unbuffered channel
 * (element int64_t). The main goroutine receives a prime from the head of
 * the chain, makes a new unbuffered channel and starts a filter goroutine
 * that copies from the old head to the new one every value the prime does
 * not divide; the new channel is the next head. So the chain grows one
 * filter per prime (none after the last) and every value crosses every
 * filter before it, one rendezvous per hop. The clock runs from before the
 * generator is started to after the N-th prime arrives; the primes are then
 * checked by trial division. As in Go, the goroutines are left blocked when
 * the main goroutine returns (the process ends).
 * Usage: bench_sieve [primes]
 */
#include "bench.h"

typedef struct filter_args {
  gmp_chan_t* in;
  gmp_chan_t* out;
  int64_t prime;
} filter_args;

static void generate(void* arg) {
  gmp_chan_t* out = arg;
  for (int64_t v = 2;; v++) bench_check(gmp_chan_send(out, &v), "gmp_chan_send");
}

static void filter(void* arg) {
  const filter_args a = *(const filter_args*)arg;
  for (;;) {
    int64_t v;
    bench_check(gmp_chan_recv(a.in, &v), "gmp_chan_recv");
    if (v % a.prime != 0) bench_check(gmp_chan_send(a.out, &v), "gmp_chan_send");
  }
}

static long n_primes;
static int64_t* primes;
static filter_args* filters; /* filters[i]: the arguments of the i-th filter */
static double ms;

static void main_goroutine(void* arg) {
  (void)arg;
  uint64_t t0 = bench_now_ns();
  gmp_chan_t* c;
  bench_check(gmp_chan_make(&c, sizeof(int64_t), 0), "gmp_chan_make");
  bench_check(gmp_go(generate, c), "gmp_go");
  for (long i = 0; i < n_primes; i++) {
    bench_check(gmp_chan_recv(c, &primes[i]), "gmp_chan_recv");
    if (i == n_primes - 1) break; /* the last prime needs no filter */
    gmp_chan_t* next;
    bench_check(gmp_chan_make(&next, sizeof(int64_t), 0), "gmp_chan_make");
    filters[i] = (filter_args){c, next, primes[i]};
    bench_check(gmp_go(filter, &filters[i]), "gmp_go");
    c = next;
  }
  ms = (double)(bench_now_ns() - t0) / 1e6;
}

/* is_prime: trial division, for the check. */
static int is_prime(int64_t v) {
  if (v < 2) return 0;
  for (int64_t d = 2; d * d <= v; d++) {
    if (v % d == 0) return 0;
  }
  return 1;
}

int main(int argc, char** argv) {
  n_primes = bench_count(argc, argv, 3000);
  primes = calloc((size_t)n_primes, sizeof *primes);
  filters = calloc((size_t)n_primes, sizeof *filters);
  if (!primes || !filters) bench_fail("memory for the primes");
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  int64_t want = 1;
  for (long i = 0; i < n_primes; i++) {
    for (want++; !is_prime(want); want++) {
    }
    if (primes[i] != want) bench_fail("the sieve's primes are the primes, in order");
  }
  bench_report_unit("sieve", "ms", ms, "ms");
  /* filters and primes stay allocated: the blocked filters have copied their
   * arguments, but nothing is gained by freeing just before exit. */
  return 0;
}
