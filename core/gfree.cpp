// gfree.cpp -- allocating Gs and reusing dead ones (Go's malg, gfget, gfput,
// allgadd).
//
// A dead G keeps its stack when the stack has the default size, so reusing
// it costs no mmap and no page faults. Each P has a free list (owner-only);
// behind them is a global list under sched.gfree_lock. A P that collects more
// than kGFreeMax dead Gs moves the surplus to the global list until
// kGFreeKeep remain; a P whose list is empty takes up to kGFreeKeep from it.
// Gs are never freed while the runtime runs: sched.allg lists every G ever
// made so that dumps and check_dead can walk them (Go's allgs).
#include <new>
#include <stdlib.h>
#include <string.h>

#include "sched.hpp"

namespace gmprt {

namespace {

// allg_add: record a new G. false when the table cannot grow.
bool allg_add(G* g) {
  LockGuard guard(sched.allg_lock);
  if (sched.nallg == sched.allg_cap) {
    size_t cap = sched.allg_cap ? sched.allg_cap * 2 : 1024;
    G** grown = static_cast<G**>(realloc(sched.allg, cap * sizeof(G*)));
    if (!grown) return false;
    sched.allg = grown;
    sched.allg_cap = cap;
  }
  sched.allg[sched.nallg++] = g;
  return true;
}

G* malg() {
  void* mem = calloc(1, sizeof(G));
  if (!mem) return nullptr;
  G* g = new (mem) G();
  if (!allg_add(g)) {
    free(mem);
    return nullptr;
  }
  return g;
}

// gfget_global: pop one G from the global list (or refill p's list first).
G* gfget_global(P* p) {
  LockGuard guard(sched.gfree_lock);
  if (!p) {
    G* g = sched.gfree.pop();
    if (g) sched.ngfree.fetch_sub(1, std::memory_order_relaxed);
    return g;
  }
  while (p->gfreecnt < kGFreeKeep && !sched.gfree.empty()) {
    p->gfree.push(sched.gfree.pop());
    // Relaxed: the count is guarded by gfree_lock; lock-free readers only take a hint.
    sched.ngfree.fetch_sub(1, std::memory_order_relaxed);
    p->gfreecnt++;
  }
  G* g = p->gfree.pop();
  if (g) p->gfreecnt--;
  return g;
}

}  // namespace

// gfget: a dead G with a stack of stack_size usable bytes, reused or new;
// null when memory cannot be had. p is the caller's P, or null on a plain
// thread.
G* gfget(P* p, size_t stack_size) {
  G* g = nullptr;
  if (p && !p->gfree.empty()) {
    g = p->gfree.pop();
    p->gfreecnt--;
  } else if (sched.ngfree.load(std::memory_order_relaxed) > 0) {
    // Relaxed: a hint; gfget_global re-checks under the lock.
    g = gfget_global(p);
  }
  if (!g) {
    g = malg();
    if (!g) return nullptr;
    g->status.store(GStatus::dead, std::memory_order_relaxed);
  }
  if (g->stack.lo && g->stack.size != stack_size) stack_free(&g->stack);
  if (!g->stack.lo && !stack_alloc(stack_size, &g->stack)) {
    gfput(p, g);
    return nullptr;
  }
  return g;
}

// gfput: put a dead G on p's free list (or the global one when p is null).
// Stacks of other than the default size are freed first.
void gfput(P* p, G* g) {
  if (g->stack.lo && g->stack.size != kDefaultStackSize) stack_free(&g->stack);
  if (!p) {
    LockGuard guard(sched.gfree_lock);
    sched.gfree.push(g);
    sched.ngfree.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  p->gfree.push(g);
  p->gfreecnt++;
  if (p->gfreecnt < kGFreeMax) return;
  LockGuard guard(sched.gfree_lock);
  while (p->gfreecnt > kGFreeKeep) {
    sched.gfree.push(p->gfree.pop());
    p->gfreecnt--;
    sched.ngfree.fetch_add(1, std::memory_order_relaxed);
  }
}

// gfpurge: move all of p's free Gs to the global list (p is being destroyed).
void gfpurge(P* p) {
  LockGuard guard(sched.gfree_lock);
  while (G* g = p->gfree.pop()) {
    sched.gfree.push(g);
    sched.ngfree.fetch_add(1, std::memory_order_relaxed);
  }
  p->gfreecnt = 0;
}

}  // namespace gmprt
