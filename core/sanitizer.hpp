// sanitizer.hpp -- ASan, TSan and valgrind annotations for fiber switches.
//
// Called only from context.cpp. Each function compiles to nothing unless the
// build has that sanitizer (GMPRT_ASAN / GMPRT_TSAN, set by CMake's
// GMPRT_SANITIZE) or valgrind's client header is available (the client
// requests cost a few instructions and are no-ops outside valgrind).
#pragma once

#include <stddef.h>

#include "context.hpp"

#if defined(GMPRT_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(GMPRT_TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(GMPRT_HAVE_VALGRIND)
#include <valgrind/valgrind.h>
#endif

namespace gmprt {

// sanitizer_stack_register: a new stack for f (valgrind; ASan: forget old
// poisoning of a reused stack).
inline void sanitizer_stack_register(Fiber* f) {
#if defined(GMPRT_HAVE_VALGRIND)
  char* lo = static_cast<char*>(f->stack_lo);
  f->valgrind_id = VALGRIND_STACK_REGISTER(lo, lo + f->stack_size);
#endif
#if defined(GMPRT_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(f->stack_lo, f->stack_size);
#endif
  (void)f;
}

inline void sanitizer_stack_deregister(Fiber* f) {
#if defined(GMPRT_HAVE_VALGRIND)
  VALGRIND_STACK_DEREGISTER(f->valgrind_id);
  f->valgrind_id = 0;
#endif
  (void)f;
}

// sanitizer_fiber_create: f is about to start a new incarnation on its stack.
inline void sanitizer_fiber_create(Fiber* f) {
#if defined(GMPRT_TSAN)
  if (!f->tsan) f->tsan = __tsan_create_fiber(0);
#endif
#if defined(GMPRT_ASAN)
  // Frames of the previous incarnation left poisoned redzones behind.
  ASAN_UNPOISON_MEMORY_REGION(f->stack_lo, f->stack_size);
  f->asan_fake = nullptr;
#endif
  (void)f;
}

// sanitizer_fiber_current: f is the running thread's own stack.
inline void sanitizer_fiber_current(Fiber* f) {
#if defined(GMPRT_TSAN)
  f->tsan = __tsan_get_current_fiber();
#endif
  (void)f;
}

inline void sanitizer_fiber_destroy(Fiber* f) {
#if defined(GMPRT_TSAN)
  if (f->tsan) __tsan_destroy_fiber(f->tsan);
  f->tsan = nullptr;
#endif
  (void)f;
}

inline void sanitizer_before_switch(Fiber* from, Fiber* to, bool from_exiting) {
#if defined(GMPRT_ASAN)
  __sanitizer_start_switch_fiber(from_exiting ? nullptr : &from->asan_fake, to->stack_lo,
                                 to->stack_size);
#endif
#if defined(GMPRT_TSAN)
  __tsan_switch_to_fiber(to->tsan, 0);
#endif
  (void)from;
  (void)to;
  (void)from_exiting;
}

inline void sanitizer_after_switch(Fiber* self) {
#if defined(GMPRT_ASAN)
  __sanitizer_finish_switch_fiber(self->asan_fake, nullptr, nullptr);
#endif
  (void)self;
}

inline void sanitizer_fiber_started() {
#if defined(GMPRT_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

}  // namespace gmprt
