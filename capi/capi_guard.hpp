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

}  // namespace gmprt
