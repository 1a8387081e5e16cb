/*
 * chan_demo.c -- gmprt's channels at work: a prime sieve and skynet.
 *
 * What `make run` runs after demo. Two programs in the style of Go's
 * classic examples, written in C against <gmprt.h> alone:
 *
 *  1. The concurrent prime sieve. A generator goroutine sends 2, 3, 4, ...
 *     on an unbuffered channel. The main goroutine takes a prime from the
 *     head of the chain and puts a filter goroutine behind it, which passes
 *     on every value that prime does not divide; the filter's output is the
 *     new head. The first 20 primes are printed and checked. Then the chain
 *     is taken down: the main goroutine closes the head channel; the last
 *     filter's next send fails with GMP_ECLOSED, so it closes its own input
 *     and exits, and so on back to the generator. A gmp_waitgroup_t tells
 *     the main goroutine when every stage is gone.
 *
 *  2. Skynet: a tree of goroutines with N leaves (1,000,000 unless a count
 *     is given on the command line), 10 children per inner node. A leaf
 *     sends its number up its parent's channel; an inner node makes one
 *     unbuffered channel, starts its children on it, adds up what they
 *     send and sends the sum up. The sum of 0 .. N-1 arrives at the top;
 *     it is checked and timed.
 *
 * The program exits 0 only if every check passes and gmp_shutdown finds no
 * goroutine left.
 *
 *   ./chan_demo            skynet with one million leaves
 *   ./chan_demo 1000       a smaller tree
 */
#include <gmprt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { N_PRIMES = 20, FANOUT = 10 };

static int ok = 1; /* every check passed */

static void check(int cond, const char* what) {
  if (!cond) {
    fprintf(stderr, "chan_demo: check failed: %s\n", what);
    ok = 0;
  }
}

/* must: a runtime call that cannot fail here; if it does, stop. */
static void must(int rc, const char* what) {
  if (rc != GMP_OK) {
    fprintf(stderr, "chan_demo: %s: %s\n", what, gmp_strerror(rc));
    exit(1);
  }
}

/* ------------------------------------------------------------ Prime sieve */

/* Each channel of the chain has two references: one held by the goroutine
 * that sends on it, one by the goroutine that receives from it. */
static gmp_waitgroup_t stages; /* generator and filters still running */

/* generate: send 2, 3, 4, ... on out until out is closed. */
static void generate(void* arg) {
  gmp_chan_t* out = arg;
  for (int64_t v = 2; gmp_chan_send(out, &v) == GMP_OK; v++) {
  }
  gmp_chan_release(out);
  must(gmp_waitgroup_done(&stages), "gmp_waitgroup_done");
}

typedef struct filter_args {
  gmp_chan_t* in;
  gmp_chan_t* out;
  int64_t prime;
} filter_args;

/* filter: copy from in to out every value prime does not divide. When out
 * turns out closed, close in (which ends the stage before this one) and
 * stop. */
static void filter(void* arg) {
  filter_args a = *(filter_args*)arg;
  free(arg);
  int64_t v;
  while (gmp_chan_recv(a.in, &v) == GMP_OK) {
    if (v % a.prime != 0 && gmp_chan_send(a.out, &v) != GMP_OK) break;
  }
  must(gmp_chan_close(a.in), "gmp_chan_close");
  gmp_chan_release(a.in);
  gmp_chan_release(a.out);
  must(gmp_waitgroup_done(&stages), "gmp_waitgroup_done");
}

static int is_prime(int64_t v) {
  if (v < 2) return 0;
  for (int64_t d = 2; d * d <= v; d++) {
    if (v % d == 0) return 0;
  }
  return 1;
}

static void sieve(void) {
  gmp_chan_t* head; /* the main goroutine's receiving end */
  must(gmp_chan_make(&head, sizeof(int64_t), 0), "gmp_chan_make");
  gmp_chan_retain(head); /* the generator's sending end */
  must(gmp_waitgroup_add(&stages, 1), "gmp_waitgroup_add");
  must(gmp_go(generate, head), "gmp_go");

  int64_t primes[N_PRIMES];
  for (int i = 0; i < N_PRIMES; i++) {
    must(gmp_chan_recv(head, &primes[i]), "gmp_chan_recv");
    filter_args* a = malloc(sizeof *a);
    if (!a) must(GMP_ENOMEM, "malloc");
    a->in = head; /* the filter takes over the receiving end */
    a->prime = primes[i];
    must(gmp_chan_make(&head, sizeof(int64_t), 0), "gmp_chan_make");
    gmp_chan_retain(head); /* the filter's sending end */
    a->out = head;
    must(gmp_waitgroup_add(&stages, 1), "gmp_waitgroup_add");
    must(gmp_go(filter, a), "gmp_go");
  }

  printf("first %d primes (sieve of %d goroutines):", N_PRIMES, N_PRIMES + 1);
  int64_t want = 1;
  for (int i = 0; i < N_PRIMES; i++) {
    printf(" %lld", (long long)primes[i]);
    for (want++; !is_prime(want); want++) {
    }
    check(primes[i] == want, "the sieve yields the primes in order");
  }
  printf("\n");

  /* Take the chain down from the end, then wait for every stage to exit. */
  must(gmp_chan_close(head), "gmp_chan_close");
  gmp_chan_release(head);
  gmp_waitgroup_wait(&stages);
}

/* ----------------------------------------------------------------- Skynet */

typedef struct node {
  gmp_chan_t* parent; /* where this node sends its sum */
  int64_t num;        /* its first leaf number */
  int64_t size;       /* how many leaves it covers */
} node;

/* skynet: one node of the tree. Its arguments live in the parent's frame:
 * they are copied first, and the parent does not return before every child
 * has sent its value. A node covering `size` leaves gives each of its (at
 * most FANOUT) children size / FANOUT of them, the last child the rest. */
static void skynet(void* arg) {
  const node me = *(const node*)arg;
  if (me.size == 1) {
    must(gmp_chan_send(me.parent, &me.num), "gmp_chan_send");
    return;
  }
  int64_t children = me.size < FANOUT ? me.size : FANOUT, step = me.size / children;
  node kids[FANOUT];
  gmp_chan_t* c;
  must(gmp_chan_make(&c, sizeof(int64_t), 0), "gmp_chan_make");
  for (int64_t i = 0; i < children; i++) {
    kids[i] = (node){c, me.num + i * step, i == children - 1 ? me.size - step * i : step};
    must(gmp_go(skynet, &kids[i]), "gmp_go");
  }
  int64_t sum = 0;
  for (int64_t i = 0; i < children; i++) {
    int64_t v;
    must(gmp_chan_recv(c, &v), "gmp_chan_recv");
    sum += v;
  }
  gmp_chan_release(c);
  must(gmp_chan_send(me.parent, &sum), "gmp_chan_send");
}

/* tree_size: how many goroutines skynet starts for `size` leaves. */
static int64_t tree_size(int64_t size) {
  if (size == 1) return 1;
  int64_t children = size < FANOUT ? size : FANOUT, step = size / children, n = 1;
  for (int64_t i = 0; i < children; i++) n += tree_size(i == children - 1 ? size - step * i : step);
  return n;
}

static long leaves;

static void run_skynet(void) {
  gmp_chan_t* top;
  must(gmp_chan_make(&top, sizeof(int64_t), 0), "gmp_chan_make");
  node root = {top, 0, leaves};
  int64_t t0 = gmp_now();
  must(gmp_go(skynet, &root), "gmp_go");
  int64_t sum;
  must(gmp_chan_recv(top, &sum), "gmp_chan_recv");
  double ms = (double)(gmp_now() - t0) / 1e6;
  gmp_chan_release(top);
  int64_t want = (int64_t)leaves * (leaves - 1) / 2;
  int64_t goroutines = tree_size(leaves);
  printf("skynet: %ld leaves, %lld goroutines, sum %lld (want %lld)\n", leaves,
         (long long)goroutines, (long long)sum, (long long)want);
  printf("skynet: %.1f ms, %.0f ns per goroutine\n", ms, ms * 1e6 / (double)goroutines);
  check(sum == want, "skynet's sum is 0 + 1 + ... + (leaves - 1)");
}

static void main_goroutine(void* unused) {
  (void)unused;
  sieve();
  run_skynet();
}

int main(int argc, char** argv) {
  leaves = argc > 1 ? atol(argv[1]) : 1000000;
  if (leaves <= 0) {
    fprintf(stderr, "usage: %s [skynet_leaves]\n", argv[0]);
    return 2;
  }
  printf("gmprt %s: channels (GOMAXPROCS %d)\n", gmp_runtime_version(), gmp_maxprocs(0));
  int rc = gmp_main(main_goroutine, NULL);
  if (rc != GMP_OK) {
    fprintf(stderr, "chan_demo: gmp_main: %s\n", gmp_strerror(rc));
    ok = 0;
  }
  /* Every goroutine has finished, so this returns 0 at once. */
  if (ok) check(gmp_shutdown(-1) == GMP_OK, "gmp_shutdown");
  printf("%s\n", ok ? "ok: all checks out" : "FAILED");
  return ok ? 0 : 1;
}
