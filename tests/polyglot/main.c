/*
 * main.c -- one runtime shared by three languages. This C program links
 * libgmprt, a C++ translation unit (cxx_side.cpp, over <gmprt.hpp>) and a
 * Rust static library (bindings/rust/polyglot, over the gmprt crate, built
 * by cargo as a staticlib).
 *
 * A value makes a ring through all three: N C goroutines each send a
 * number on c2r; N Rust goroutines each take one, add 1 and pass it on
 * r2x; N C++ goroutines each take one from there, add 1 and pass it on
 * x2c, where the C main goroutine collects them. Every goroutine also
 * sends its id on `ids`. Checked:
 *   - every value arrives once, plus 2 (the sum);
 *   - the 3N goroutine ids are distinct and nonzero: one id counter, one
 *     scheduler;
 *   - the three languages call the same gmp_go (one copy of the runtime in
 *     the program) and see the same GOMAXPROCS, also after Rust changes it,
 *     and gmp_stats reports that many Ps and at least the 3N goroutines:
 *     one set of Ps.
 * Prints "N passed, N failed"; exit status 0 when none failed.
 */
#include <gmprt.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*go_fn)(gmp_fn, void*);
int polyglot_rust_start(gmp_chan_t* input, gmp_chan_t* output, gmp_chan_t* ids, int n);
int polyglot_rust_maxprocs(void);
int polyglot_rust_set_maxprocs(int n);
go_fn polyglot_rust_gmp_go(void);
int polyglot_cxx_start(gmp_chan_t* input, gmp_chan_t* output, gmp_chan_t* ids, int n);
int polyglot_cxx_maxprocs(void);
go_fn polyglot_cxx_gmp_go(void);

enum { N = 200 };

static int passed, failed;

static void check(int ok, const char* what, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL line %d: %s\n", line, what);
  }
}
#define CHECK(x) check((x), #x, __LINE__)

static gmp_chan_t *c2r, *r2x, *x2c, *ids;

/* c_sender: the C goroutines; arg is the value to send. */
static void c_sender(void* arg) {
  int64_t v = (int64_t)(intptr_t)arg;
  uint64_t id = gmp_goid();
  if (gmp_chan_send(c2r, &v) != GMP_OK || gmp_chan_send(ids, &id) != GMP_OK) {
    fprintf(stderr, "polyglot: a C goroutine's send failed\n");
    abort();
  }
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return (x > y) - (x < y);
}

static void main_goroutine(void* arg) {
  (void)arg;
  int procs = gmp_maxprocs(0);
  CHECK(polyglot_rust_maxprocs() == procs);
  CHECK(polyglot_cxx_maxprocs() == procs);
  CHECK(polyglot_rust_gmp_go() == &gmp_go);
  CHECK(polyglot_cxx_gmp_go() == &gmp_go);

  CHECK(gmp_chan_make(&c2r, sizeof(int64_t), 0) == GMP_OK);
  CHECK(gmp_chan_make(&r2x, sizeof(int64_t), 0) == GMP_OK);
  CHECK(gmp_chan_make(&x2c, sizeof(int64_t), 0) == GMP_OK);
  CHECK(gmp_chan_make(&ids, sizeof(uint64_t), 3 * N) == GMP_OK);

  /* The consumers first, so that they are blocked when values come. */
  CHECK(polyglot_cxx_start(r2x, x2c, ids, N) == GMP_OK);
  CHECK(polyglot_rust_start(c2r, r2x, ids, N) == GMP_OK);
  int64_t want = 0;
  for (int i = 1; i <= N; i++) {
    CHECK(gmp_go(c_sender, (void*)(intptr_t)(i * 10)) == GMP_OK);
    want += i * 10 + 2;
  }

  /* Change GOMAXPROCS from Rust while the ring runs: C and C++ see it. */
  int other = procs == 3 ? 2 : 3;
  CHECK(polyglot_rust_set_maxprocs(other) == procs);
  CHECK(gmp_maxprocs(0) == other);
  CHECK(polyglot_cxx_maxprocs() == other);

  int64_t sum = 0;
  for (int i = 0; i < N; i++) {
    int64_t v = 0;
    CHECK(gmp_chan_recv(x2c, &v) == GMP_OK);
    sum += v;
  }
  CHECK(sum == want);

  static uint64_t seen[3 * N];
  for (int i = 0; i < 3 * N; i++) CHECK(gmp_chan_recv(ids, &seen[i]) == GMP_OK);
  qsort(seen, 3 * N, sizeof seen[0], cmp_u64);
  int distinct = seen[0] != 0;
  for (int i = 1; i < 3 * N; i++) distinct = distinct && seen[i] != seen[i - 1];
  CHECK(distinct);

  /* One runtime: its statistics show the one set of Ps whose count Rust
   * set, and count the goroutines all three languages started. */
  gmp_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  CHECK(gmp_stats(&st) == GMP_OK);
  CHECK(st.procs == other);
  CHECK(st.goroutines_created_total >= 3 * N);

  CHECK(gmp_maxprocs(procs) == other);
  CHECK(polyglot_rust_maxprocs() == procs);
  gmp_chan_release(c2r);
  gmp_chan_release(r2x);
  gmp_chan_release(x2c);
  gmp_chan_release(ids);
}

int main(void) {
  CHECK(gmp_main(main_goroutine, NULL) == GMP_OK);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
