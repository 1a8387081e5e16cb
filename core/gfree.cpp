// gfree.cpp -- allocating Gs and their stacks, and reusing dead ones (Go's
// malg, gfget, gfput, allgadd, stackcache).
//
// Gs and default-size stacks are recycled separately. A G gets its stack when
// it first runs (stack_bind, from its P's stack cache) and gives it back when
// it exits (stack_unbind). So the stacks in use are only those of goroutines
// that have run and not finished: a burst of a million new goroutines that
// run one after another reuses a handful of hot stacks instead of touching a
// million fresh pages. A goroutine created with its own stack size gets that
// stack at creation (so gmp_go_ex can report GMP_ENOMEM) and frees it at exit.
//
// Free Gs: each P has a list (owner-only); behind them is a global list
// under sched.gfree_lock. A P that collects kGFreeMax dead Gs moves a batch
// of the surplus to the global list; an empty local list takes a whole batch
// back. The global list is a stack of batches, each a schedlink chain whose
// first G carries the next batch and the length (G::batchlink, batchlen), so
// moving a batch either way costs O(1) under the lock. That matters when one
// P frees what another creates (a spawning loop on one P, the goroutines
// running on another): walking a chain of Gs last written on another CPU is
// one dependent cache miss per G, which a walk under the lock would pay in a
// row. Instead the taker pays each G's miss when it pops it, with the next G
// already prefetched. Gs are never freed while the runtime runs: sched.allg
// lists every G ever made so that dumps and check_dead can walk them (Go's
// allgs).
//
// G memory comes in chunks of kGChunk Gs: one allocation for a burst of new
// goroutines instead of one each (fresh chunks come zeroed from the system).
// A chunk's first alignof(G)-rounded word links it into sched.gchunks.
//
// Stack caches: each P keeps up to kStackCacheMax default-size stacks
// (owner-only), refilled from and flushed to stack.cpp's global pool in
// batches.
#include <new>
#include <stdlib.h>
#include <string.h>

#include "fatal.hpp"
#include "sched.hpp"

namespace gmprt {

namespace {

constexpr size_t kGChunkHead = (sizeof(void*) + alignof(G) - 1) / alignof(G) * alignof(G);

// g_mem: memory for one more G. Called with allg_lock held.
void* g_mem() {
  if (sched.gchunk_used == kGChunk) {
    void* chunk = calloc(1, kGChunkHead + kGChunk * sizeof(G));
    if (!chunk) return nullptr;
    *static_cast<void**>(chunk) = sched.gchunks;
    sched.gchunks = chunk;
    sched.gchunk_used = 0;
  }
  return static_cast<char*>(sched.gchunks) + kGChunkHead + sched.gchunk_used++ * sizeof(G);
}

// allg_reserve: room for one more entry in allg. Called with allg_lock held.
bool allg_reserve() {
  if (sched.nallg < sched.allg_cap) return true;
  size_t cap = sched.allg_cap ? sched.allg_cap * 2 : 1024;
  G** grown = static_cast<G**>(realloc(sched.allg, cap * sizeof(G*)));
  if (!grown) return false;
  sched.allg = grown;
  sched.allg_cap = cap;
  return true;
}

// malg: a new G, recorded in allg (Go's malg + allgadd).
G* malg() {
  LockGuard guard(sched.allg_lock);
  if (!allg_reserve()) return nullptr;
  void* mem = g_mem();
  if (!mem) return nullptr;
  G* g = new (mem) G();
  store_status(g, GStatus::dead, std::memory_order_relaxed);  // relaxed: private
  sched.allg[sched.nallg++] = g;
  return g;
}

// gfree_push_batch: put the chain starting at head (n Gs) on the global
// list. Called with gfree_lock held.
void gfree_push_batch(G* head, uint32_t n) {
  head->batchlink = sched.gfree_batches;
  head->batchlen = n;
  sched.gfree_batches = head;
  // Relaxed: the count is guarded by gfree_lock; lock-free readers only take a hint.
  sched.ngfree.fetch_add(int32_t(n), std::memory_order_relaxed);
}

// gfget_global: take a G from the global list: the whole first batch goes to
// p's (empty) list, or, on a plain thread (p null), only its first G.
G* gfget_global(P* p) {
  LockGuard guard(sched.gfree_lock);
  G* head = sched.gfree_batches;
  if (!head) return nullptr;
  sched.gfree_batches = head->batchlink;
  uint32_t n = head->batchlen;
  sched.ngfree.fetch_sub(int32_t(n), std::memory_order_relaxed);  // relaxed: as above
  if (p) {
    p->gfree.head = head;
    p->gfreecnt = int32_t(n);
    p->gfreecnt--;
    return p->gfree.pop();
  }
  if (n > 1) gfree_push_batch(schedlink(head), n - 1);
  return head;
}

// stackcache_refill: fill p's empty cache with a batch from the global pool.
// false when not even one stack can be had.
bool stackcache_refill(P* p) {
  while (p->nstackcache < kStackCacheBatch &&
         stack_alloc(kDefaultStackSize, &p->stackcache[p->nstackcache]))
    p->nstackcache++;
  return p->nstackcache > 0;
}

}  // namespace

// gfget: a dead G, reused or new, or null when memory cannot be had. p is the
// caller's P, or null on a plain thread. A stack of stack_size bytes other
// than the default is allocated now; a default-size stack comes at first run
// (stack_bind), but its availability is checked here so that running out of
// memory is reported to the creator.
G* gfget(P* p, size_t stack_size) {
  G* g = nullptr;
  if (p && !p->gfree.empty()) {
    g = p->gfree.pop();
    p->gfreecnt--;
  } else if (sched.ngfree.load(std::memory_order_relaxed) > 0) {
    // Relaxed: a hint; gfget_global re-checks under the lock.
    g = gfget_global(p);
  }
  // The next G of the list is likely another CPU's cache line: start moving
  // it here now, for the next gfget (write intent: newproc fills it).
  if (p && p->gfree.head) __builtin_prefetch(p->gfree.head, 1);
  if (!g) g = malg();
  if (!g) return nullptr;
  bool ok = stack_size == kDefaultStackSize
                ? (p ? p->nstackcache > 0 || stackcache_refill(p) : true)
                : stack_alloc(stack_size, &g->stack);
  if (!ok) {
    gfput(p, g);
    return nullptr;
  }
  return g;
}

// gfput: put a dead G on p's free list (or the global one when p is null).
// Its stack must already be gone (stack_unbind).
void gfput(P* p, G* g) {
  if (!p) {
    LockGuard guard(sched.gfree_lock);
    gfree_push_batch(g, 1);
    return;
  }
  p->gfree.push(g);
  if (++p->gfreecnt < kGFreeMax) return;
  // Hand the kGFreeMax - kGFreeKeep most recently freed Gs over as a batch
  // (they are in this CPU's cache: cutting the chain is cheap).
  G* head = p->gfree.head;
  G* last = head;
  for (int i = 1; i < kGFreeMax - kGFreeKeep; i++) last = schedlink(last);
  p->gfree.head = schedlink(last);
  schedlink(last) = nullptr;
  p->gfreecnt = kGFreeKeep;
  LockGuard guard(sched.gfree_lock);
  gfree_push_batch(head, kGFreeMax - kGFreeKeep);
}

// gfpurge: move all of p's free Gs and cached stacks to the global lists (p
// is being destroyed).
void gfpurge(P* p) {
  if (p->gfreecnt > 0) {
    LockGuard guard(sched.gfree_lock);
    gfree_push_batch(p->gfree.head, uint32_t(p->gfreecnt));
  }
  p->gfree.head = nullptr;
  p->gfreecnt = 0;
  while (p->nstackcache > 0) stack_free(&p->stackcache[--p->nstackcache]);
}

// stack_bind: give g, about to run for the first time, a default-size stack
// from p's cache and build its first frame. Runs on the M holding p: on g0,
// or on the parking G's stack in a direct park (park_direct).
void stack_bind(P* p, G* g) {
  if (p->nstackcache == 0 && !stackcache_refill(p))
    fatal("out of memory for the stack of goroutine %llu", (unsigned long long)g->goid);
  g->stack = p->stackcache[--p->nstackcache];
  fiber_make(&g->fiber, g->stack.lo, g->stack.size, goroutine_entry, g);
}

// stack_unbind: g has exited: its stack goes back to p's cache (default
// size) or to the system (its own size). Runs on g0; g's stack is not in use.
void stack_unbind(P* p, G* g) {
  if (!g->stack.lo) return;
  if (g->stack.size != kDefaultStackSize) {
    stack_free(&g->stack);
  } else {
    if (p->nstackcache == kStackCacheMax) {
      while (p->nstackcache > kStackCacheMax / 2) stack_free(&p->stackcache[--p->nstackcache]);
    }
    p->stackcache[p->nstackcache++] = g->stack;
  }
  g->stack = Stack();
  g->fiber.ctx.sp = nullptr;
}

// gfree_all: destroy every G and free their memory (shutdown, with every M
// gone).
void gfree_all() {
  for (size_t i = 0; i < sched.nallg; i++) {
    G* g = sched.allg[i];
    fiber_destroy(&g->fiber);
    g->~G();
  }
  free(sched.allg);
  sched.allg = nullptr;
  sched.nallg = sched.allg_cap = 0;
  while (void* chunk = sched.gchunks) {
    sched.gchunks = *static_cast<void**>(chunk);
    free(chunk);
  }
  sched.gchunk_used = kGChunk;
}

}  // namespace gmprt
