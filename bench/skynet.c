/*
 * skynet.c -- the skynet benchmark: a tree of goroutines with N leaves
 * (default 1,000,000; 1,111,111 goroutines in all), each inner node having
 * 10 children, with the default GOMAXPROCS; report ms. Twin:
 * go/skynet/main.go.
 *
 * A leaf sends its number on its parent's channel. An inner node makes one
 * unbuffered channel (element int64_t), starts its 10 children on it, adds
 * up the 10 values it receives, releases the channel and sends the sum to
 * its own parent. A node covering `size` leaves gives each child size/10 of
 * them (the last child the rest), so any N works; for powers of 10 this is
 * the classic benchmark exactly. The root's sum is checked (N*(N-1)/2,
 * 499999500000 for a million). The clock runs from before the root is
 * started to after its sum arrives.
 *
 * A child's arguments live in its parent's frame, on the parent's stack:
 * the child copies them before anything else, and the parent cannot return
 * before every child has sent its value, which comes after that copy.
 * Usage: bench_skynet [leaves]
 */
#include "bench.h"

enum { FANOUT = 10 };

typedef struct node {
  gmp_chan_t* parent; /* where this node sends its sum */
  int64_t num;        /* the first leaf number it covers */
  int64_t size;       /* how many leaves it covers */
} node;

static void skynet(void* arg) {
  const node me = *(const node*)arg;
  if (me.size == 1) {
    bench_check(gmp_chan_send(me.parent, &me.num), "gmp_chan_send");
    return;
  }
  int64_t children = me.size < FANOUT ? me.size : FANOUT, step = me.size / children;
  node kids[FANOUT];
  gmp_chan_t* c;
  bench_check(gmp_chan_make(&c, sizeof(int64_t), 0), "gmp_chan_make");
  for (int64_t i = 0; i < children; i++) {
    kids[i].parent = c;
    kids[i].num = me.num + i * step;
    kids[i].size = i == children - 1 ? me.size - step * (children - 1) : step;
    bench_check(gmp_go(skynet, &kids[i]), "gmp_go");
  }
  int64_t sum = 0;
  for (int64_t i = 0; i < children; i++) {
    int64_t v;
    bench_check(gmp_chan_recv(c, &v), "gmp_chan_recv");
    sum += v;
  }
  gmp_chan_release(c);
  bench_check(gmp_chan_send(me.parent, &sum), "gmp_chan_send");
}

static long n_leaves;
static double ms;

static void main_goroutine(void* arg) {
  (void)arg;
  gmp_chan_t* root;
  bench_check(gmp_chan_make(&root, sizeof(int64_t), 0), "gmp_chan_make");
  node top = {root, 0, n_leaves};
  uint64_t t0 = bench_now_ns();
  bench_check(gmp_go(skynet, &top), "gmp_go");
  int64_t sum;
  bench_check(gmp_chan_recv(root, &sum), "gmp_chan_recv");
  ms = (double)(bench_now_ns() - t0) / 1e6;
  gmp_chan_release(root);
  if (sum != (int64_t)n_leaves * (n_leaves - 1) / 2) bench_fail("skynet sum = N*(N-1)/2");
}

int main(int argc, char** argv) {
  n_leaves = bench_count(argc, argv, 1000000);
  bench_check(gmp_main(main_goroutine, NULL), "gmp_main");
  bench_report_unit("skynet", "ms", ms, "ms");
  return 0;
}
