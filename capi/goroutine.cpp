// goroutine.cpp -- gmp_go, gmp_go_ex, gmp_yield, gmp_exit, gmp_goid,
// gmp_num_goroutine, gmp_lock_os_thread, gmp_unlock_os_thread,
// gmp_preempt_point.
#include <sched.h>

#include "capi_guard.hpp"
#include "../core/preempt.hpp"

using namespace gmprt;

namespace {

// The first version of gmp_go_opts_t (struct_size, stack_size, name).
constexpr size_t kGoOptsV1Size = 3 * sizeof(void*);
// The second adds flags.
constexpr size_t kGoOptsV2Size = kGoOptsV1Size + sizeof(uint64_t);
constexpr uint64_t kGoFlags = GMP_GO_ASYNC_PREEMPT;
constexpr size_t kStructSizeMax = 4096;

int go(gmp_fn fn, void* arg, const gmp_go_opts_t* opts, uintptr_t pc) {
  if (!fn) return GMP_EINVAL;
  size_t stack_size = kDefaultStackSize;
  const char* name = nullptr;
  bool async_preempt = false;
  if (opts) {
    if (opts->struct_size < kGoOptsV1Size || opts->struct_size > kStructSizeMax) return GMP_EINVAL;
    if (opts->stack_size) {
      if (opts->stack_size < GMP_STACK_MIN || opts->stack_size > GMP_STACK_MAX) return GMP_EINVAL;
      stack_size = (opts->stack_size + kPageSize - 1) & ~(kPageSize - 1);
    }
    name = opts->name;
    if (opts->struct_size >= kGoOptsV2Size) {
      if (opts->flags & ~kGoFlags) return GMP_EINVAL;
      async_preempt = opts->flags & GMP_GO_ASYNC_PREEMPT;
    }
  }
  int rc = api_enter();
  if (rc) return rc;
  if (async_preempt) async_preempt_enable();
  return newproc(fn, arg, stack_size, name, pc, nullptr, async_preempt);
}

}  // namespace

extern "C" GMP_API int gmp_go(gmp_fn fn, void* arg) noexcept {
  RuntimeCall in_runtime;
  return go(fn, arg, nullptr, uintptr_t(__builtin_return_address(0)));
}

extern "C" GMP_API int gmp_go_ex(gmp_fn fn, void* arg, const gmp_go_opts_t* opts) noexcept {
  RuntimeCall in_runtime;
  return go(fn, arg, opts, uintptr_t(__builtin_return_address(0)));
}

extern "C" GMP_API void gmp_yield(void) noexcept {
  RuntimeCall in_runtime;
  if (current_g())
    gosched();
  else
    sched_yield();
}

extern "C" GMP_API void gmp_exit(void) noexcept {
  RuntimeCall in_runtime;
  if (current_g()) goexit();
}

extern "C" GMP_API uint64_t gmp_goid(void) noexcept {
  G* g = current_g();
  return g ? g->goid : 0;
}

extern "C" GMP_API int gmp_num_goroutine(void) noexcept {
  RuntimeCall in_runtime;
  int64_t n = count_goroutines();
  return n < 0 ? 0 : int(n);
}

extern "C" GMP_API int gmp_lock_os_thread(void) noexcept {
  RuntimeCall in_runtime;
  return lock_os_thread();
}

extern "C" GMP_API int gmp_unlock_os_thread(void) noexcept {
  RuntimeCall in_runtime;
  return unlock_os_thread();
}

extern "C" GMP_API void gmp_preempt_point(void) noexcept {
  M* m = current_m();
  if (!m || !m->curg) return;
  // Relaxed: requests are hints (sysmon's end of a time slice, a stopping
  // world); the yield synchronises through the run queue.
  P* p = m->p;
  if (p && p->preempt.load(std::memory_order_relaxed)) {
    RuntimeCall in_runtime;
    p->preempt.store(false, std::memory_order_relaxed);
    gosched();
  } else if (sched.gcwaiting.load(std::memory_order_relaxed)) {
    RuntimeCall in_runtime;
    gosched();
  }
}
