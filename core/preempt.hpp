// preempt.hpp -- asynchronous preemption (GMP_GO_ASYNC_PREEMPT). See
// preempt.cpp.
#pragma once

#include <stdint.h>

namespace gmprt {

struct P;

// async_preempt_enable: install the SIGURG handler, once (the first
// goroutine started with GMP_GO_ASYNC_PREEMPT). Any thread.
void async_preempt_enable();

// preempt_async: p's goroutine has outstayed its slice and p's preempt flag
// is set: if it runs with GMP_GO_ASYNC_PREEMPT, signal its thread (true if
// a signal went out). The monitor calls this.
bool preempt_async(P* p);

// async_preempt_unsafe_pc: pc lies in code that is never a safe point (the
// C library, the loader, the vDSO...). Valid after async_preempt_enable;
// the signal handler's test, exposed for unit tests.
bool async_preempt_unsafe_pc(uintptr_t pc);

}  // namespace gmprt
