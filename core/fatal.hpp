// fatal.hpp -- unrecoverable errors: one line on stderr starting "gmp: " and
// naming the running goroutine (id and name) where there is one, then abort.
// Async-signal-safe enough for the stack-overflow handler: formats into a
// stack buffer and writes with write(2).
#pragma once

#include <stdarg.h>

namespace gmprt {

[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// GMP_ASSERT: an internal invariant, checked in test and sanitizer builds
// (GMPRT_ASSERTS) and compiled out otherwise.
#if defined(GMPRT_ASSERTS)
#define GMP_ASSERT(cond)                                                        \
  do {                                                                          \
    if (!(cond)) ::gmprt::fatal("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
  } while (0)
#else
#define GMP_ASSERT(cond) \
  do {                   \
  } while (0)
#endif

}  // namespace gmprt
