/*
 * chan_select.c -- channels and select: a producer, a quit channel, and a
 * consumer that waits on both with a timeout.
 *
 *   cc chan_select.c -o chan_select $(pkg-config --cflags --libs gmprt)
 *
 * Channels copy elem_size bytes per value (here an int64_t). gmp_select
 * takes an array of cases (channel, direction, where the value is) and
 * returns the index of the one that proceeded; with a timeout it may
 * return GMP_ETIMEDOUT instead, and with timeout 0 GMP_EAGAIN (Go's
 * default:).
 */
#include <gmprt.h>
#include <stdio.h>

static gmp_chan_t* numbers; /* int64_t, buffered */
static gmp_chan_t* quit;    /* signal channel: element size 0 */
static int status = 1;      /* the exit status: 0 once the sum checks out */

static void producer(void* arg) {
  (void)arg;
  for (int64_t i = 1; i <= 5; i++) {
    gmp_chan_send(numbers, &i);
    gmp_sleep(2 * 1000 * 1000); /* 2 ms: parks this goroutine only */
  }
  gmp_chan_close(quit); /* a closed channel is always ready to receive */
}

static void main_goroutine(void* arg) {
  (void)arg;
  if (gmp_chan_make(&numbers, sizeof(int64_t), 2) != GMP_OK ||
      gmp_chan_make(&quit, 0, 0) != GMP_OK) {
    fprintf(stderr, "chan_select: gmp_chan_make failed\n");
    return;
  }
  gmp_go(producer, NULL);

  int64_t v = 0, sum = 0;
  for (;;) {
    gmp_select_case_t cases[] = {
        {numbers, GMP_RECV, &v, 0},
        {quit, GMP_RECV, NULL, 0},
    };
    int i = gmp_select(cases, 2, 1000 * 1000 * 1000); /* 1 s */
    if (i == 0) {
      printf("received %lld\n", (long long)v);
      sum += v;
    } else if (i == 1) {
      break; /* quit was closed (cases[1].result == GMP_ECLOSED) */
    } else {
      printf("select: %s\n", gmp_strerror(i)); /* GMP_ETIMEDOUT */
      break;
    }
  }
  /* Values may still be buffered when quit closes: drain without blocking. */
  while (gmp_chan_try_recv(numbers, &v) == GMP_OK) sum += v;
  printf("sum %lld (want 15)\n", (long long)sum);
  status = sum == 15 ? 0 : 1;
  gmp_chan_release(numbers);
  gmp_chan_release(quit);
}

int main(void) { return gmp_main(main_goroutine, NULL) == GMP_OK ? status : 1; }
