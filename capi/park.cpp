// park.cpp -- gmp_self, gmp_park, gmp_ready.
#include "capi_guard.hpp"

using namespace gmprt;

extern "C" GMP_API gmp_g_t* gmp_self(void) noexcept { return to_handle(current_g()); }

extern "C" GMP_API void gmp_park(gmp_park_fn commit, void* arg) noexcept {
  RuntimeCall in_runtime;
  if (!current_g()) return;  // misuse on a plain thread: ignored
  // gmp_park_fn and the core's commit differ only in the pointee type of
  // their first parameter (gmp_g_t* is the opaque face of G*).
  park(reinterpret_cast<int (*)(G*, void*)>(commit), arg, WaitReason::park);
}

extern "C" GMP_API void gmp_ready(gmp_g_t* g) noexcept {
  RuntimeCall in_runtime;
  if (!g) return;
  if (!current_m()) plain_thread_enter();
  ready(from_handle(g), true);
}
