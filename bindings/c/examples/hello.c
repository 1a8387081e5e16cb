/*
 * hello.c -- the smallest gmprt program: start goroutines, wait for them.
 *
 *   cc hello.c -o hello $(pkg-config --cflags --libs gmprt) && ./hello
 *
 * gmp_main runs main_goroutine as goroutine 1 and returns when it returns.
 * Each gmp_go starts a goroutine: a function and one pointer argument. A
 * wait group (Go's sync.WaitGroup; the zero value is ready) lets the main
 * goroutine wait for the ten it started.
 */
#include <gmprt.h>
#include <stdint.h>
#include <stdio.h>

enum { N = 10 };

static gmp_waitgroup_t wg; /* static storage is zero: ready to use */

static void hello(void* arg) {
  int i = (int)(intptr_t)arg;
  printf("hello from goroutine %llu (number %d)\n", (unsigned long long)gmp_goid(), i);
  gmp_waitgroup_done(&wg);
}

static void main_goroutine(void* arg) {
  (void)arg;
  gmp_waitgroup_add(&wg, N); /* before starting them, as in Go */
  for (int i = 0; i < N; i++) {
    if (gmp_go(hello, (void*)(intptr_t)i) != GMP_OK) {
      fprintf(stderr, "hello: gmp_go failed\n");
      gmp_waitgroup_done(&wg);
    }
  }
  gmp_waitgroup_wait(&wg);
  printf("all %d goroutines said hello on %d Ps\n", N, gmp_maxprocs(0));
}

int main(void) {
  int rc = gmp_main(main_goroutine, NULL);
  if (rc != GMP_OK) fprintf(stderr, "hello: %s\n", gmp_strerror(rc));
  return rc == GMP_OK ? 0 : 1;
}
