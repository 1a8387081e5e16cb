// context_switch.cpp -- the raw cost of one stack switch: gmprt's own
// assembly (core/arch/context_x86_64.S) against Boost.Context's
// jump_fcontext, the reference the project has to match or beat.
//
// Method. Two contexts pass control back and forth: the thread's own stack
// and one fiber on a malloc'd stack. One round trip is two switches. Each
// implementation runs kRounds (5) rounds of 2,000,000 round trips, alternating
// gmprt and Boost so that frequency changes hit both alike, after one warm-up
// round each; the median round is reported as ns per switch.
//
// What is measured on the gmprt side:
//   context_switch  fiber_switch(), the annotated wrapper every switch in the
//                   runtime goes through (in a normal build the annotations
//                   compile to nothing, so this is one extra call);
//   context_swap    gmprt_context_swap() called directly (the assembly alone);
//   context_switch_g0  the scheduler's pair (core/switch.hpp, when the tree
//                   has it): fiber_switch_from_g0 into the peer and
//                   fiber_switch_to_g0 back, as every G -> g0 -> G' in the
//                   runtime goes; the FP control words are saved on the way
//                   to g0 and restored only when they changed.
// Both save the same state as jump_fcontext: the callee-saved registers and
// the MXCSR and x87 control words. Boost is linked statically when its
// archive exists, so neither side pays a PLT jump.
//
// Output, one line per measurement (bench/README.md):
//   workload=context_switch impl=gmprt metric=ns_per_switch value=X unit=ns
//   workload=context_switch impl=boost metric=ns_per_switch value=X unit=ns
//   workload=context_switch ratio gmprt/boost=R
// and the same three for workload=context_swap (and context_switch_g0).
// Usage: bench_context_switch [round_trips_per_round]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <boost/context/detail/fcontext.hpp>

#include "core/context.hpp"
#if __has_include("core/switch.hpp")
#include "core/switch.hpp"
#define GMPRT_BENCH_HAVE_G0_PAIR 1
#endif

namespace {

namespace bctx = boost::context::detail;

constexpr size_t kStackSize = 64 * 1024;
constexpr int kRounds = 5;
long g_round_trips = 2 * 1000 * 1000;  // per round: 10 M round trips in all

uint64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// --- gmprt: fiber_switch --------------------------------------------------

gmprt::Fiber g_main_fiber;
gmprt::Fiber g_peer_fiber;

// peer_wrapped: switches straight back, forever; the benchmark abandons it
// suspended when done (its stack is never freed: one per process).
[[noreturn]] void peer_wrapped(void*) {
  gmprt::fiber_started();
  for (;;) gmprt::fiber_switch(&g_peer_fiber, &g_main_fiber, false);
}

double run_gmprt_wrapped(long round_trips) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < round_trips; i++) gmprt::fiber_switch(&g_main_fiber, &g_peer_fiber, false);
  return double(now_ns() - t0) / double(2 * round_trips);
}

// --- gmprt: gmprt_context_swap ----------------------------------------------

gmprt::Context g_main_ctx;
gmprt::Fiber g_raw_fiber;  // fiber_make builds its first frame; then only ctx is used

[[noreturn]] void peer_raw(void*) {
  gmprt::fiber_started();
  for (;;) gmprt::gmprt_context_swap(&g_raw_fiber.ctx, &g_main_ctx);
}

double run_gmprt_raw(long round_trips) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < round_trips; i++) gmprt::gmprt_context_swap(&g_main_ctx, &g_raw_fiber.ctx);
  return double(now_ns() - t0) / double(2 * round_trips);
}

// --- gmprt: the scheduler's pair (G -> g0 -> G) --------------------------------

#if defined(GMPRT_BENCH_HAVE_G0_PAIR)
gmprt::Fiber g_g0;  // the thread's own stack plays the M's g0
gmprt::Fiber g_g;   // the peer plays the goroutine
uint64_t g_fpctl;   // the thread's FP control words, as the M keeps them

[[noreturn]] void peer_g(void*) {
  gmprt::fiber_started();
  for (;;) gmprt::fiber_switch_to_g0(&g_g, &g_g0, &g_fpctl, false);
}

double run_gmprt_pair(long round_trips) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < round_trips; i++) gmprt::fiber_switch_from_g0(&g_g0, &g_g, &g_fpctl);
  return double(now_ns() - t0) / double(2 * round_trips);
}
#endif

// --- Boost.Context: jump_fcontext -----------------------------------------

bctx::fcontext_t g_boost_peer;

[[noreturn]] void peer_boost(bctx::transfer_t t) {
  for (;;) t = bctx::jump_fcontext(t.fctx, nullptr);
}

double run_boost(long round_trips) {
  bctx::fcontext_t peer = g_boost_peer;
  uint64_t t0 = now_ns();
  for (long i = 0; i < round_trips; i++) peer = bctx::jump_fcontext(peer, nullptr).fctx;
  double ns = double(now_ns() - t0) / double(2 * round_trips);
  g_boost_peer = peer;
  return ns;
}

void* alloc_stack() {
  void* p = aligned_alloc(4096, kStackSize);
  if (!p) {
    fprintf(stderr, "bench_context_switch: out of memory\n");
    exit(1);
  }
  return p;
}

double median(double* v, int n) {
  std::sort(v, v + n);
  return v[n / 2];
}

void report(const char* workload, double gmprt_ns, double boost_ns) {
  printf("workload=%s impl=gmprt metric=ns_per_switch value=%.3f unit=ns\n", workload, gmprt_ns);
  printf("workload=%s impl=boost metric=ns_per_switch value=%.3f unit=ns\n", workload, boost_ns);
  printf("workload=%s ratio gmprt/boost=%.3f\n", workload, gmprt_ns / boost_ns);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_round_trips = atol(argv[1]);
  if (g_round_trips <= 0) {
    fprintf(stderr, "usage: bench_context_switch [round_trips_per_round]\n");
    return 2;
  }

  gmprt::fiber_init_thread(&g_main_fiber);
  gmprt::fiber_make(&g_peer_fiber, alloc_stack(), kStackSize, peer_wrapped, nullptr);
  gmprt::fiber_make(&g_raw_fiber, alloc_stack(), kStackSize, peer_raw, nullptr);
  char* boost_stack = static_cast<char*>(alloc_stack());
  g_boost_peer = bctx::make_fcontext(boost_stack + kStackSize, kStackSize, peer_boost);

#if defined(GMPRT_BENCH_HAVE_G0_PAIR)
  gmprt::fiber_init_thread(&g_g0);
  g_fpctl = gmprt::fiber_thread_fpctl();
  gmprt::fiber_make(&g_g, alloc_stack(), kStackSize, peer_g, nullptr);
#endif

  // Warm-up: start the peers, fault in their stacks, settle the branch predictors.
  long warm = std::max(1L, g_round_trips / 10);
  run_gmprt_wrapped(warm);
  run_gmprt_raw(warm);
  run_boost(warm);
#if defined(GMPRT_BENCH_HAVE_G0_PAIR)
  run_gmprt_pair(warm);
  double pair[kRounds];
#endif

  double wrapped[kRounds], raw[kRounds], boost[kRounds];
  for (int r = 0; r < kRounds; r++) {
    wrapped[r] = run_gmprt_wrapped(g_round_trips);
    boost[r] = run_boost(g_round_trips);
    raw[r] = run_gmprt_raw(g_round_trips);
#if defined(GMPRT_BENCH_HAVE_G0_PAIR)
    pair[r] = run_gmprt_pair(g_round_trips);
#endif
  }
  double boost_ns = median(boost, kRounds);
  report("context_switch", median(wrapped, kRounds), boost_ns);
  report("context_swap", median(raw, kRounds), boost_ns);
#if defined(GMPRT_BENCH_HAVE_G0_PAIR)
  report("context_switch_g0", median(pair, kRounds), boost_ns);
#endif
  return 0;
}
