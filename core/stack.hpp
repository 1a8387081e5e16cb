// stack.hpp -- goroutine stacks: reserved with mmap, committed lazily by the
// kernel as pages are touched, with a guard page below each that costs no
// VMA of its own (MADV_GUARD_INSTALL; mprotect on kernels without it).
//
// Blocks nothing (allocation may take a short internal lock).
#pragma once

#include <stddef.h>

namespace gmprt {

struct Stack {
  void* lo = nullptr;      // lowest usable address
  size_t size = 0;         // usable bytes (a multiple of the page size)
  void* map_base = nullptr;  // start of the reservation (guard included); null if carved from a slab
  size_t map_size = 0;
};

// stack_alloc: a stack with at least `size` usable bytes (rounded up to
// pages). false when memory cannot be had (the caller reports GMP_ENOMEM).
bool stack_alloc(size_t size, Stack* out);

// stack_free: give a stack back (to the pool for reuse, or to the kernel).
void stack_free(Stack* s);

// stack_release_all: unmap every stack and slab (runtime shutdown; no
// goroutine may be alive).
void stack_release_all();

// stack_install_overflow_handler: install (once per process) the SIGSEGV
// handler that turns a guard-page hit into a one-line fatal error naming the
// goroutine; other faults go to the previous handler.
void stack_install_overflow_handler();

// stack_thread_init / stack_thread_fini: give the calling thread (an M) an
// alternate signal stack, so that the handler can run when the goroutine's
// stack is exhausted.
void stack_thread_init();
void stack_thread_fini();

// stack_guard_mode: "madvise" or "mprotect" (for tests and diagnostics).
const char* stack_guard_mode();

}  // namespace gmprt
