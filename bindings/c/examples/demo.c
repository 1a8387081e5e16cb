/*
 * demo.c -- gmprt at work: a million goroutines spawned, parked and readied.
 *
 * What `make run` runs. The main goroutine (gmp_main) starts N goroutines
 * (1,000,000 unless a count is given on the command line). Each one parks
 * itself with gmp_park; the park's commit callback, which the runtime calls
 * once the goroutine is off its stack and marked waiting, records the
 * goroutine's handle in an array. When all N are parked, the main goroutine
 * readies every one with gmp_ready and waits until each has run to its end.
 *
 * Every phase is counted and checked, and timed. The program prints
 * GOMAXPROCS, the goroutine count, the time of each phase and the cost per
 * goroutine, and exits 0 only if every count checks out.
 *
 *   ./demo            one million goroutines
 *   ./demo 100000     fewer
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <gmprt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* State shared by the main goroutine and the N parkers. */
static gmp_g_t** handles;    /* handles[i]: goroutine i, set when it has parked */
static atomic_long parked;   /* goroutines whose park has committed */
static atomic_long finished; /* goroutines that resumed and ran to their end */
static long count;           /* N */
static int ok = 1;           /* every check passed */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* register_parked: the park commit. It runs on the scheduler, after the
 * goroutine is marked waiting, so whoever sees the handle may ready it.
 * Returning nonzero keeps the goroutine parked. */
static int register_parked(gmp_g_t* g, void* arg) {
  long i = (long)(intptr_t)arg;
  handles[i] = g;
  atomic_fetch_add_explicit(&parked, 1, memory_order_release);
  return 1;
}

/* parker: the body of each of the N goroutines. */
static void parker(void* arg) {
  gmp_park(register_parked, arg); /* returns once the main goroutine readies us */
  atomic_fetch_add_explicit(&finished, 1, memory_order_relaxed);
}

/* wait_for: let other goroutines run until *counter reaches want. The main
 * goroutine polls with gmp_yield (a real program would park on a channel
 * or a wait group; this demo uses only the parking primitive). */
static void wait_for(atomic_long* counter, long want) {
  while (atomic_load_explicit(counter, memory_order_acquire) < want) gmp_yield();
}

static void check(int cond, const char* what) {
  if (!cond) {
    fprintf(stderr, "demo: check failed: %s\n", what);
    ok = 0;
  }
}

/* main_goroutine: spawn, wait for every park, ready all, wait for all. */
static void main_goroutine(void* unused) {
  (void)unused;
  double t0 = now_ms();
  for (long i = 0; i < count; i++) {
    int rc = gmp_go(parker, (void*)(intptr_t)i);
    if (rc != GMP_OK) {
      fprintf(stderr, "demo: gmp_go: %s after %ld goroutines\n", gmp_strerror(rc), i);
      ok = 0;
      return; /* the goroutines started so far stay parked; main exits 1 */
    }
  }
  double t1 = now_ms();
  wait_for(&parked, count);
  double t2 = now_ms();
  int live = gmp_num_goroutine(); /* the N parked plus this one */
  check(live == count + 1, "every goroutine is alive while parked");
  check(atomic_load(&finished) == 0, "no goroutine resumed before it was readied");

  for (long i = 0; i < count; i++) gmp_ready(handles[i]);
  double t3 = now_ms();
  wait_for(&finished, count);
  double t4 = now_ms();
  check(atomic_load(&finished) == count, "every goroutine finished");
  check(atomic_load(&parked) == count, "every goroutine parked exactly once");

  printf("GOMAXPROCS          %d\n", gmp_maxprocs(0));
  printf("goroutines          %ld (%d alive while parked)\n", count, live);
  printf("spawn               %8.1f ms  %6.0f ns/goroutine\n", t1 - t0, (t1 - t0) * 1e6 / count);
  printf("until all parked    %8.1f ms\n", t2 - t1);
  printf("ready all           %8.1f ms  %6.0f ns/goroutine\n", t3 - t2, (t3 - t2) * 1e6 / count);
  printf("until all finished  %8.1f ms\n", t4 - t3);
  printf("total               %8.1f ms  %6.0f ns/goroutine\n", t4 - t0, (t4 - t0) * 1e6 / count);
}

int main(int argc, char** argv) {
  count = argc > 1 ? atol(argv[1]) : 1000000;
  if (count <= 0) {
    fprintf(stderr, "usage: %s [goroutines]\n", argv[0]);
    return 2;
  }
  handles = calloc((size_t)count, sizeof *handles);
  if (!handles) {
    fprintf(stderr, "demo: out of memory\n");
    return 1;
  }
  printf("gmprt %s: %ld goroutines spawned, parked and readied\n", gmp_runtime_version(), count);
  int rc = gmp_main(main_goroutine, NULL);
  if (rc != GMP_OK) {
    fprintf(stderr, "demo: gmp_main: %s\n", gmp_strerror(rc));
    ok = 0;
  }
  /* A clean stop: every goroutine has finished, so this returns 0. */
  if (ok) check(gmp_shutdown(-1) == GMP_OK, "gmp_shutdown");
  free(handles);
  printf("%s\n", ok ? "ok: all counts check out" : "FAILED");
  return ok ? 0 : 1;
}
