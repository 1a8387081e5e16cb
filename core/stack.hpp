// stack.hpp -- goroutine stacks: reserved with mmap, committed lazily by the
// kernel as pages are touched, with a guard page below each that costs no
// VMA of its own (MADV_GUARD_INSTALL; mprotect on kernels without it).
//
// Blocks nothing (allocation may take a short internal lock). The design
// (slabs, pool, guard registry, overflow handler) is described at the top of
// stack.cpp.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace gmprt {

struct Stack {
  void* lo = nullptr;  // lowest usable address
  size_t size = 0;     // usable bytes (a multiple of the page size)
  // map_base, map_size: the stack's own reservation (guard included); null
  // and 0 if it was carved from a slab.
  void* map_base = nullptr;
  size_t map_size = 0;
  uint32_t slot = 0;  // own mapping: stack.cpp's registry slot + 1; 0 for slab stacks
};

// stack_alloc: a stack with at least `size` usable bytes (rounded up to
// pages; 0 means kDefaultStackSize). false when memory cannot be had (the
// caller reports GMP_ENOMEM); *out is then untouched. Any thread.
bool stack_alloc(size_t size, Stack* out);

// stack_free: give a stack back (to the pool for reuse, or to the kernel)
// and clear *s. A cleared Stack is ignored. Any thread; the stack must not be
// in use.
void stack_free(Stack* s);

// stack_release_all: unmap every stack and slab, including stacks still
// handed out (runtime shutdown; no goroutine may be alive). Every Stack
// obtained before is invalid afterwards and must not be passed to stack_free;
// the allocator starts again from scratch on the next stack_alloc.
void stack_release_all();

// stack_install_overflow_handler: install (once per process) the SIGSEGV
// handler that turns a guard-page hit into a one-line fatal error naming the
// goroutine; other faults go to the previous handler.
void stack_install_overflow_handler();

// stack_thread_init / stack_thread_fini: give the calling thread (an M) an
// alternate signal stack, so that the handler can run when the goroutine's
// stack is exhausted. init keeps an alternate stack the thread already has
// (a sanitizer's, the embedder's); fini removes and frees only the one init
// made. Called by the thread itself, not from a signal handler.
void stack_thread_init();
void stack_thread_fini();

// stack_guard_mode: "madvise" or "mprotect" (for tests and diagnostics);
// detects kernel support on first use.
const char* stack_guard_mode();

// stack_force_mprotect_guards: test-only. true: stacks allocated from now on
// get mprotect(PROT_NONE) guards (one VMA each, as on old kernels); false:
// detect again. Stacks already handed out or pooled keep their guards.
void stack_force_mprotect_guards(bool on);

// stack_pool_count: test-only. Free default-size stacks held for reuse.
size_t stack_pool_count();

}  // namespace gmprt
