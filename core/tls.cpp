// tls.cpp -- the calling thread's M, and per-M random numbers.
//
// A goroutine can move to another thread at any switch, and compilers treat
// the thread pointer as constant within a function (so a cached TLS address
// would be another thread's after a switch). current_m() is therefore an
// out-of-line function in its own translation unit: every call reads the
// thread pointer afresh. The variable uses the initial-exec model (a single
// %fs-relative load; the few bytes fit in the static TLS surplus even when
// the library is dlopen'ed).
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "rand.hpp"
#include "sched.hpp"

namespace gmprt {

namespace {
__attribute__((tls_model("initial-exec"))) thread_local M* tls_m = nullptr;
__attribute__((tls_model("initial-exec"))) thread_local uint64_t tls_rand = 0;
}  // namespace

__attribute__((noinline)) M* current_m() { return tls_m; }

__attribute__((noinline)) void set_current_m(M* m) { tls_m = m; }

__attribute__((noinline)) G* current_g() {
  M* m = tls_m;
  return m ? m->curg : nullptr;
}

__attribute__((noinline)) uint32_t fastrand() {
  M* m = tls_m;
  uint64_t* state = m ? &m->rand_state : &tls_rand;
  if (*state == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    *state = uint64_t(ts.tv_nsec) ^ (uint64_t(uintptr_t(state)) << 16) ^ 0x9E3779B97F4A7C15ULL;
  }
  return uint32_t(wyrand_next(state));
}

}  // namespace gmprt
