// context.cpp -- fibers: building a new fiber's first frame and the
// annotated switch.
//
// The frame layout is the one arch/context_<arch>.S pops (see the comment at
// the top of that file); kFrameWords and the slot indexes below must agree
// with it.
//
// Sanitizers. ASan keeps per-stack state: before every switch we announce the
// target stack (__sanitizer_start_switch_fiber) and after it we confirm
// (__sanitizer_finish_switch_fiber); a fiber that will not come back passes a
// null save slot so ASan drops its fake stack. TSan tracks each fiber as a
// logical thread: __tsan_switch_to_fiber right before the switch (flag 0: the
// switch is a synchronisation, so what one fiber wrote before switching is
// ordered before what the next reads). Valgrind is told the stack bounds so
// memcheck does not take a switch for a stack overflow.
#include "context.hpp"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "sanitizer.hpp"

namespace gmprt {

#if defined(__x86_64__)
namespace {
constexpr int kFrameWords = 8;  // control words, r15 r14 r13 r12 rbx rbp, return address
constexpr int kSlotControl = 0, kSlotR13 = 3, kSlotR12 = 4, kSlotRbp = 6, kSlotRet = 7;
constexpr uint32_t kDefaultMxcsr = 0x1F80;  // all exceptions masked, round to nearest
constexpr uint16_t kDefaultFpucw = 0x037F;  // x87: all masked, 64-bit precision
}  // namespace

void fiber_make(Fiber* f, void* lo, size_t size, void (*entry)(void*), void* arg) {
  uintptr_t top = (reinterpret_cast<uintptr_t>(lo) + size) & ~uintptr_t(15);
  // After the final `ret` pops the return address, rsp == top: 16-aligned, as
  // gmprt_context_start's call requires.
  uint64_t* frame = reinterpret_cast<uint64_t*>(top) - kFrameWords;
  memset(frame, 0, kFrameWords * sizeof(uint64_t));
  frame[kSlotControl] = uint64_t(kDefaultMxcsr) | (uint64_t(kDefaultFpucw) << 32);
  frame[kSlotR12] = reinterpret_cast<uint64_t>(arg);
  frame[kSlotR13] = reinterpret_cast<uint64_t>(entry);
  frame[kSlotRbp] = 0;  // ends frame-pointer walks
  frame[kSlotRet] = reinterpret_cast<uint64_t>(&gmprt_context_start);
  f->ctx.sp = frame;
  if (f->stack_lo != lo || f->stack_size != size) {
    if (f->stack_lo) sanitizer_stack_deregister(f);
    f->stack_lo = lo;
    f->stack_size = size;
    sanitizer_stack_register(f);
  }
  sanitizer_fiber_create(f);
}
#else
#error "gmprt: no context switch for this architecture yet (add core/arch/context_<arch>.S)"
#endif

void fiber_init_thread(Fiber* f) {
  pthread_attr_t attr;
  void* lo = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
  }
  f->stack_lo = lo;
  f->stack_size = size;
  f->ctx.sp = nullptr;
  sanitizer_fiber_current(f);
}

void fiber_destroy(Fiber* f) {
  sanitizer_fiber_destroy(f);
  if (f->stack_lo) sanitizer_stack_deregister(f);
  f->stack_lo = nullptr;
  f->stack_size = 0;
}

void fiber_switch(Fiber* from, Fiber* to, bool from_exiting) {
  sanitizer_before_switch(from, to, from_exiting);
  gmprt_context_swap(&from->ctx, &to->ctx);
  sanitizer_after_switch(from);
}

uint64_t fiber_thread_fpctl() {
  uint32_t mxcsr = __builtin_ia32_stmxcsr();
  uint16_t fpucw = 0;
  asm volatile("fnstcw %0" : "=m"(fpucw));
  return uint64_t(mxcsr) | (uint64_t(fpucw) << 32);
}

void fiber_started() { sanitizer_fiber_started(); }

}  // namespace gmprt
