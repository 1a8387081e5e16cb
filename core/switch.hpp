// switch.hpp -- the scheduler's switch pair, inline (see context.hpp).
//
// A switch returns into frames that the return-stack predictor does not
// know (it was filled on the other stack), so every open frame between the
// goroutine's code and the assembly costs a mispredicted return. These are
// inline so that the path from gmp_yield or gmp_park to the assembly has as
// few frames as possible.
#pragma once

#include "context.hpp"
#include "sanitizer.hpp"

namespace gmprt {

inline void fiber_switch_to_g0(Fiber* g, Fiber* g0, uint64_t* fpctl, bool g_exiting) {
  sanitizer_before_switch(g, g0, g_exiting);
  gmprt_context_swap_to_g0(&g->ctx, &g0->ctx, fpctl);
  sanitizer_after_switch(g);
}

inline void fiber_switch_from_g0(Fiber* g0, Fiber* g, uint64_t* fpctl) {
  sanitizer_before_switch(g0, g, false);
  gmprt_context_swap_from_g0(&g0->ctx, &g->ctx, fpctl);
  sanitizer_after_switch(g0);
}

// fiber_switch_direct: from one goroutine straight to another on the same M
// (gosched's fast path). The FP control words travel with the goroutines
// (gmprt_context_swap saves them and restores the other's when they
// differ); the thread's words recorded in the M's fpctl matter only while
// g0 runs, and the next switch to g0 records them afresh.
inline void fiber_switch_direct(Fiber* from, Fiber* to) {
  sanitizer_before_switch(from, to, false);
  gmprt_context_swap(&from->ctx, &to->ctx);
  sanitizer_after_switch(from);
}

}  // namespace gmprt
