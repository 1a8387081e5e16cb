// capi_guard.hpp -- the boundary between the public C API and the core.
//
// The only file that knows both worlds: it includes <gmprt.h> and the core's
// headers, converts handles (gmp_g_t* <-> gmprt::G*) and holds the small
// checks every entry point repeats. Every function in capi/ is extern "C",
// noexcept, and built without exceptions, so nothing C++ crosses the ABI.
#pragma once

#include "../capi/include/gmprt.h"
#include "../core/sched.hpp"

namespace gmprt {

inline G* from_handle(gmp_g_t* g) { return reinterpret_cast<G*>(g); }
inline gmp_g_t* to_handle(G* g) { return reinterpret_cast<gmp_g_t*>(g); }

// api_enter: start the runtime if needed and register a plain calling thread
// (for deadlock detection). 0 or a GMP_E* code.
inline int api_enter() {
  int rc = runtime_start();
  if (rc == 0) plain_thread_enter();
  return rc;
}

// RuntimeCall: every entry point that may touch runtime state opens with
// one (`RuntimeCall in_runtime;`), which
//   - keeps asynchronous preemption out of runtime code on a goroutine's
//     stack (G::nopreempt, preempt.cpp) for the duration of the call; the G
//     is taken once: the call may resume on another thread, the count is the
//     G's;
//   - makes the call a preemption point: on the way out of the outermost
//     call, a goroutine whose P has been asked to give way (the monitor's
//     end of a time slice, a stopping world) yields, as at
//     gmp_preempt_point. Not while the G is in a system call (no P).
class RuntimeCall {
 public:
  RuntimeCall() : g_(current_g()) {
    if (g_) nopreempt_enter(g_);
  }
  ~RuntimeCall() {
    if (!g_) return;
    if (g_->nopreempt.load(std::memory_order_relaxed) == 1) yield_if_asked();
    nopreempt_exit(g_);
  }
  // on_goroutine: the call was made by a goroutine (so the runtime runs and
  // the caller is no plain thread: api_enter has nothing to do).
  bool on_goroutine() const { return g_ != nullptr; }

  RuntimeCall(const RuntimeCall&) = delete;
  RuntimeCall& operator=(const RuntimeCall&) = delete;

 private:
  void yield_if_asked() {
    P* p = g_->m->p;
    // Relaxed: the request is a hint (see gmp_preempt_point).
    if (p && p->preempt.load(std::memory_order_relaxed)) {
      p->preempt.store(false, std::memory_order_relaxed);
      gosched();
    }
  }

  G* g_;
};

// api_enter for a call that opened with `call`: free on a goroutine.
inline int api_enter(const RuntimeCall& call) { return call.on_goroutine() ? 0 : api_enter(); }

}  // namespace gmprt
