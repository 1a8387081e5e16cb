// atomic.hpp -- the few atomic idioms the runtime repeats, spelled once.
//
// Every use of std::atomic in core/ names its memory order at the call site
// with a comment saying what it publishes or observes; these helpers exist
// only for the idioms that need more than one instruction.
#pragma once

#include <atomic>

namespace gmprt {

// cpu_relax: the spin-wait hint (PAUSE on x86-64, YIELD on aarch64).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// procyield: spin n times (Go: procyield).
inline void procyield(int n) {
  for (int i = 0; i < n; i++) cpu_relax();
}

// owner_add: add to a counter that only one thread (a P's owner) writes and
// others read as a snapshot: a plain load and store, no read-modify-write.
// order is the store's: relaxed for statistics, release where a reader's
// Acquire load must see what preceded the update.
template <typename T>
inline void owner_add(std::atomic<T>& counter, T delta,
                      std::memory_order order = std::memory_order_relaxed) {
  counter.store(counter.load(std::memory_order_relaxed) + delta, order);
}

}  // namespace gmprt
