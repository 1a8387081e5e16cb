/*
 * timers.c -- time in gmprt: sleep, After in a select, AfterFunc (a timer
 * running a function), and a Ticker.
 *
 *   cc timers.c -o timers $(pkg-config --cflags --libs gmprt)
 *
 * Times are int64_t nanoseconds on the monotonic clock (gmp_now). Channels
 * from gmp_after and gmp_ticker_start carry the gmp_now() reading taken
 * when they fired, and are the caller's to release.
 */
#include <gmprt.h>
#include <stdio.h>

#define MS (1000 * 1000)

static gmp_chan_t* fired; /* int64_t: AfterFunc's function reports here */
static int status = 1;    /* the exit status: 0 when everything fired as expected */

static void on_timer(void* arg) {
  int64_t id = (int64_t)(intptr_t)arg;
  gmp_chan_send(fired, &id); /* runs on a goroutine of its own */
}

static void main_goroutine(void* arg) {
  (void)arg;
  int64_t t0 = gmp_now();
  gmp_sleep(5 * MS);
  printf("slept %.1f ms\n", (double)(gmp_now() - t0) / MS);

  /* After: wait for a value or 10 ms, whichever comes first. */
  gmp_chan_t *never, *timeout;
  gmp_chan_make(&never, sizeof(int64_t), 0);
  gmp_after(10 * MS, &timeout);
  int64_t v, when;
  gmp_select_case_t cases[] = {{never, GMP_RECV, &v, 0}, {timeout, GMP_RECV, &when, 0}};
  if (gmp_select(cases, 2, -1) == 1) printf("timed out after %.1f ms\n", (double)(when - t0) / MS);
  gmp_chan_release(timeout);
  gmp_chan_release(never);

  /* AfterFunc: two timers; the second is stopped before it fires. */
  gmp_chan_make(&fired, sizeof(int64_t), 2);
  gmp_timer_t *a, *b;
  gmp_timer_start(&a, 2 * MS, on_timer, (void*)1);
  gmp_timer_start(&b, 1000 * MS, on_timer, (void*)2);
  printf("stopped timer 2 before it fired: %s\n", gmp_timer_stop(b) == 1 ? "yes" : "no");
  gmp_chan_recv(fired, &v);
  printf("timer %lld fired\n", (long long)v);
  int only_first = v == 1;
  gmp_timer_free(a);
  gmp_timer_free(b);
  gmp_chan_release(fired);

  /* Ticker: every 3 ms; slow readers find at most one stale tick. */
  gmp_ticker_t* t;
  gmp_chan_t* ticks;
  gmp_ticker_start(&t, 3 * MS, &ticks);
  for (int i = 0; i < 3; i++) {
    gmp_chan_recv(ticks, &when);
    printf("tick at %.1f ms\n", (double)(when - t0) / MS);
  }
  gmp_ticker_stop(t);
  status = only_first && gmp_now() - t0 >= 15 * MS ? 0 : 1;
  gmp_chan_release(ticks);
}

int main(void) { return gmp_main(main_goroutine, NULL) == GMP_OK ? status : 1; }
