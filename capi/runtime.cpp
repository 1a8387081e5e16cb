// runtime.cpp -- gmp_init, gmp_main, gmp_shutdown, gmp_maxprocs,
// gmp_set_max_threads, gmp_runtime_version.
#include "capi_guard.hpp"

namespace gmprt {
int run_main(gmp_fn fn, void* arg);
}

using namespace gmprt;

#define GMPRT_STR2_(x) #x
#define GMPRT_STR_(x) GMPRT_STR2_(x)

extern "C" GMP_API const char* gmp_runtime_version(void) noexcept {
  return GMPRT_STR_(GMPRT_VERSION_MAJOR) "." GMPRT_STR_(GMPRT_VERSION_MINOR) "." GMPRT_STR_(
      GMPRT_VERSION_PATCH) " (x86_64 linux)";
}

extern "C" GMP_API int gmp_init(void) noexcept {
  RuntimeCall in_runtime;
  return api_enter();
}

extern "C" GMP_API int gmp_main(gmp_fn fn, void* arg) noexcept {
  RuntimeCall in_runtime;
  if (!fn) return GMP_EINVAL;
  if (current_g()) return GMP_EPERM;
  return run_main(fn, arg);
}

extern "C" GMP_API int gmp_shutdown(int64_t timeout_ns) noexcept {
  RuntimeCall in_runtime;
  return runtime_shutdown(timeout_ns);
}

extern "C" GMP_API int gmp_maxprocs(int n) noexcept {
  RuntimeCall in_runtime;
  if (n > GMP_MAXPROCS_MAX) return GMP_EINVAL;
  int rc = api_enter();
  if (rc) return rc;
  if (n <= 0) return gomaxprocs.load(std::memory_order_relaxed);
  return set_maxprocs(n);
}

extern "C" GMP_API int gmp_set_max_threads(int n) noexcept {
  RuntimeCall in_runtime;
  if (n <= 0) return GMP_EINVAL;
  LockGuard guard(sched.lock);
  int old = sched.maxmcount;
  sched.maxmcount = n;
  return old;
}
