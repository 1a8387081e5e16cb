// context.hpp -- switching stacks (marl's osfiber split).
//
// A Fiber is a stack plus the one word that resumes it: the saved stack
// pointer. Everything else a switch must keep (callee-saved registers, the
// SSE and x87 control words) is pushed on the fiber's own stack by
// gmprt_context_swap (arch/context_<arch>.S), so a switch costs a handful of
// pushes, a store, a load and the pops. Caller-saved registers need no saving:
// a switch is an ordinary function call to the compiler.
//
// The sanitizer and valgrind annotations live here too, so every switch in
// the runtime goes through fiber_switch and nothing else calls the assembly.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace gmprt {

struct Context {
  void* sp = nullptr;  // saved stack pointer; the frame above it is arch-defined
};

extern "C" void gmprt_context_swap(Context* from, Context* to);
extern "C" void gmprt_context_swap_to_g0(Context* from, Context* to, uint64_t* fpctl);
extern "C" void gmprt_context_swap_from_g0(Context* from, Context* to, uint64_t* fpctl);
extern "C" void gmprt_context_start();  // first frame of a new fiber (arch file)

struct Fiber {
  Context ctx;
  void* stack_lo = nullptr;  // lowest usable address (ASan needs bounds)
  size_t stack_size = 0;
  void* tsan = nullptr;        // TSan fiber handle; null in other builds
  void* asan_fake = nullptr;   // ASan fake-stack save slot
  unsigned valgrind_id = 0;    // valgrind stack registration
};

// fiber_init_thread: f describes the calling thread's own stack (an M's g0).
void fiber_init_thread(Fiber* f);

// fiber_make: prepare f so that the first switch to it runs entry(arg) on
// [lo, lo+size). entry must call fiber_started() first and must never return.
// A fiber may be made again on the same stack once it is no longer running.
void fiber_make(Fiber* f, void* lo, size_t size, void (*entry)(void*), void* arg);

// fiber_destroy: release the sanitizer state of a fiber made by fiber_make.
void fiber_destroy(Fiber* f);

// fiber_switch: save the running fiber into from and resume to. Returns when
// something switches back to from. from_exiting tells the sanitizers that
// from will never be resumed in its current incarnation.
void fiber_switch(Fiber* from, Fiber* to, bool from_exiting);

// fiber_switch_to_g0 / fiber_switch_from_g0: the scheduler's pair, for
// switches between a goroutine and its M's g0 (which never changes the FP
// control words): the goroutine's control words are saved when it leaves
// and restored when it arrives only if they differ from *fpctl, the calling
// thread's current ones (see arch/context_<arch>.S).
// They are inline (switch.hpp): every call frame left open across a switch
// costs a mispredicted return when the switch comes back.

// fiber_thread_fpctl: the calling thread's FP control words, in the layout
// the switch functions keep in *fpctl.
uint64_t fiber_thread_fpctl();

// fiber_started: the first call of every fiber entry.
void fiber_started();

}  // namespace gmprt
