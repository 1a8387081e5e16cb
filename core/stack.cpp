// stack.cpp -- goroutine stacks: reservation, guard pages, the free pool,
// and the SIGSEGV handler that turns a guard hit into a fatal error.
//
// What this file owns
//
//   * Slabs. A default-size stack (kDefaultStackSize usable bytes) is carved
//     from a slab: one anonymous MAP_NORESERVE mapping of kSlabStacks
//     strides, each stride a kGuardSize guard followed by the usable stack:
//
//       slab base                                                slab end
//       | guard | stack 0 ... | guard | stack 1 ... | ... | guard | stack 63 |
//
//     The kernel commits pages as they are touched, so a stack costs only the
//     pages its goroutine used. With MADV_GUARD_INSTALL (Linux 6.13+) a guard
//     is a page-table marker, not a VMA: a whole slab is one VMA and adjacent
//     slabs merge, so a million stacks need about 16,000 mmap calls and a
//     handful of /proc/self/maps lines. Without it (EINVAL) each guard is
//     mprotect(PROT_NONE), which splits the slab into two VMAs per stack;
//     vm.max_map_count (65530 by default) then caps a process near 32,000
//     stacks, and hitting the cap prints one message that says so.
//   * Own mappings. A stack of any other size gets its own mapping (guard
//     included) and goes back to the kernel in stack_free.
//   * The pool: free default-size stacks, a LIFO array of their lowest
//     usable addresses. Slab stacks are never unmapped before
//     stack_release_all (Go keeps its stack spans too). The array's capacity
//     is always at least the number of stacks ever carved, so stack_free
//     never needs memory and never fails.
//   * The registry: every slab and own mapping, for the signal handler (is a
//     fault address in some stack's guard?) and for stack_release_all (what
//     to unmap). It is an array of chunks of slots; each slot is one word,
//     base | tag (tag 1: slab, tag 2: own mapping; 0: free or never used),
//     plus the mapping's size. A free slot's word holds the next free slot's
//     index + 1, shifted left by 2 (tag 0, so the handler skips it).
//   * The overflow handler (SIGSEGV and SIGBUS) and per-thread alternate
//     signal stacks, which it runs on when a goroutine's stack is exhausted.
//
// Locks
//
//   stack_lock (a gmprt::Lock; blocks the M for a few instructions or one
//   mremap/mmap of bookkeeping) guards pool, pool_n, pool_cap, carved,
//   reg_used, reg_free and every write to the registry. It is a leaf: no
//   other runtime lock is taken while it is held. Slab mmap and the 64 guard
//   installs run outside it, so allocators on other Ms are not held up by a
//   slab being built (two may build one each; the pool keeps the spare).
//   handler_lock serialises stack_install_overflow_handler only.
//
// Invariants (under stack_lock)
//
//   1. pool_n <= carved <= pool_cap: every default stack carved has a place
//      in the pool array, so a free can always be pushed.
//   2. An address in the pool is the lowest usable byte of a stack inside a
//      registered slab, not handed out, with its guard installed.
//   3. Pool entries at index >= kPoolWarm (roughly: the check and the push
//      are not atomic together) have had their usable pages returned with
//      MADV_DONTNEED; the first kPoolWarm keep their pages for quick reuse.
//      So an idle pool costs at most kPoolWarm stacks' worth of touched
//      pages however many goroutines once lived.
//   4. A registry slot with a nonzero tag describes a live mapping: it is
//      set (Release) after the mapping and its guards exist and cleared before
//      the mapping is unmapped.
//
// The signal handler reads the registry without any lock (a handler may not
// take one: the faulting thread may hold it). It sees a chunk only after its
// Release publication, and a slot's size before its word (Release store of
// the word, Acquire load in the handler). stack_release_all clears the chunk
// count before unmapping chunks; a fault racing with runtime shutdown could
// still read an unmapped chunk and die of a nested SIGSEGV, which kills the
// process with the signal it was dying of anyway.
//
// Rejected designs
//
//   * One mmap per stack: a million goroutines would need a million VMAs
//     (two with an mprotect guard), far above vm.max_map_count.
//   * Links stored inside free stacks (Go's gclinkptr): writing the link
//     re-commits a page of a stack we have just returned with MADV_DONTNEED.
//     A side array costs 8 bytes per pooled stack instead.
//   * A per-P stack cache (Go's stackcache): a pop under stack_lock costs
//     tens of nanoseconds against the microseconds of a goroutine's life;
//     worth revisiting if benchmarks show contention.
//   * Growable stacks: stacks are fixed-size here (C frames cannot be moved),
//     which is why the default is 256 KiB and why the guard matters. A frame
//     larger than kGuardSize can step over the guard; that is not detected.
#include "stack.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>

#include "config.hpp"
#include "evtrace.hpp"
#include "fatal.hpp"
#include "lock.hpp"
#include "sched.hpp"
#include "traceback.hpp"

#if defined(GMPRT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace gmprt {

namespace {

constexpr size_t kSlabStacks = 64;
constexpr size_t kStride = kGuardSize + kDefaultStackSize;
constexpr size_t kSlabSize = kSlabStacks * kStride;
constexpr size_t kPoolWarm = 1024;       // pooled stacks that keep their pages
constexpr size_t kPoolMinCap = 8192;     // first pool array: 64 KiB
constexpr size_t kRegChunkSlots = 4096;  // registry chunk: 64 KiB
constexpr size_t kRegMaxChunks = 2048;   // 8M mappings (512M default stacks)
constexpr size_t kAltStackSize = 64 * 1024;
constexpr int kMapFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

static_assert(kDefaultStackSize % kPageSize == 0 && kGuardSize % kPageSize == 0,
              "stack and guard sizes must be whole pages");

enum GuardMode : int { kGuardUnknown = 0, kGuardMadvise = 1, kGuardMprotect = 2 };
constexpr uintptr_t kTagMask = 3, kTagSlab = 1, kTagOwn = 2;

struct RegSlot {
  std::atomic<uintptr_t> word;   // base | tag, or (next free + 1) << 2
  std::atomic<size_t> map_size;  // bytes mapped at base (guards included)
};
struct RegChunk {
  RegSlot slot[kRegChunkSlots];
};

Lock stack_lock;
uintptr_t* pool = nullptr;  // guarded by stack_lock
size_t pool_n = 0;          // guarded by stack_lock
size_t pool_cap = 0;        // guarded by stack_lock
size_t carved = 0;          // guarded by stack_lock: default stacks in registered slabs
size_t reg_used = 0;        // guarded by stack_lock: slots ever taken (high-water mark)
size_t reg_free = 0;        // guarded by stack_lock: first free slot + 1, or 0
// Written under stack_lock, read by the signal handler without it.
std::atomic<RegChunk*> reg_chunks[kRegMaxChunks];
std::atomic<size_t> reg_nchunks{0};

std::atomic<int> guard_mode{kGuardUnknown};
std::atomic<bool> map_count_reported{false};

Lock handler_lock;
std::atomic<bool> handler_installed{false};
struct sigaction prev_segv;  // written once under handler_lock before our handler is installed
struct sigaction prev_bus;

struct AltStack {
  void* base;
  size_t size;
};
__attribute__((tls_model("initial-exec"))) thread_local AltStack tls_altstack = {nullptr, 0};

size_t round_up(size_t n, size_t to) { return (n + to - 1) & ~(to - 1); }
char* at(uintptr_t a) { return reinterpret_cast<char*>(a); }

#if defined(GMPRT_ASAN)
// asan_forget: clear ASan's shadow of [p, p + size), which frames that ran
// there left poisoned (this libasan does not clear it on mmap, so a later
// mapping at the same address would inherit the redzones). The page-aligned
// middle of the shadow is dropped with MADV_DONTNEED, as ASan does for large
// ranges itself; ASAN_UNPOISON_MEMORY_REGION would memset (and commit) 2 MiB
// of shadow per slab.
void asan_forget(void* p, size_t size) {
  size_t scale, offset;
  __asan_get_shadow_mapping(&scale, &offset);
  uintptr_t beg = reinterpret_cast<uintptr_t>(p), end = beg + size;
  uintptr_t sbeg = round_up((beg >> scale) + offset, kPageSize);
  uintptr_t send = ((end >> scale) + offset) & ~(kPageSize - 1);
  if (sbeg >= send) {
    ASAN_UNPOISON_MEMORY_REGION(p, size);
    return;
  }
  uintptr_t mid_beg = (sbeg - offset) << scale, mid_end = (send - offset) << scale;
  ASAN_UNPOISON_MEMORY_REGION(p, mid_beg - beg);
  ASAN_UNPOISON_MEMORY_REGION(at(mid_end), end - mid_end);
  madvise(at(sbeg), send - sbeg, MADV_DONTNEED);
}
#endif

// unmap: give a range back to the kernel (under ASan, with its shadow).
void unmap(void* p, size_t size) {
#if defined(GMPRT_ASAN)
  asan_forget(p, size);
#endif
  munmap(p, size);
}

// report_map_count_once: the one message for an exhausted vm.max_map_count
// (mprotect mode only). Not called from the signal handler.
void report_map_count_once() {
  // Relaxed: only the flag itself is at stake (one message per process).
  if (map_count_reported.exchange(true, std::memory_order_relaxed)) return;
  char limit[32] = "?";
  int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, limit, sizeof limit - 1);
    limit[n > 0 ? n : 0] = '\0';
    for (char* c = limit; *c; c++)
      if (*c == '\n') *c = '\0';
    if (!limit[0]) strcpy(limit, "?");
    close(fd);
  }
  char buf[400];
  int n = snprintf(buf, sizeof buf,
                   "gmp: cannot map a goroutine stack guard: the kernel's vm.max_map_count (%s) "
                   "is exhausted; raise it (sysctl -w vm.max_map_count=1048576) or use a kernel "
                   "with MADV_GUARD_INSTALL (Linux 6.13+)\n",
                   limit);
  if (n > 0) {
    ssize_t w = write(2, buf, size_t(n) < sizeof buf ? size_t(n) : sizeof buf - 1);
    (void)w;
  }
}

// current_guard_mode: the mode for the next mapping, detected on first use
// by installing a guard on a scratch page. kGuardUnknown only if even that
// page cannot be mapped (nothing is cached then).
int current_guard_mode() {
  // Relaxed: the mode is a self-contained value; threads that detect it at
  // the same time compute the same answer.
  int mode = guard_mode.load(std::memory_order_relaxed);
  if (mode != kGuardUnknown) return mode;
  void* p = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, kMapFlags, -1, 0);
  if (p == MAP_FAILED) return kGuardUnknown;
  // EINVAL: the kernel does not know the advice. Any other error (a seccomp
  // filter, say) is treated the same way: mprotect guards always work.
  mode = madvise(p, kPageSize, MADV_GUARD_INSTALL) == 0 ? kGuardMadvise : kGuardMprotect;
  munmap(p, kPageSize);
  int expected = kGuardUnknown;
  // Relaxed: as above. If stack_force_mprotect_guards ran meanwhile, it wins.
  if (!guard_mode.compare_exchange_strong(expected, mode, std::memory_order_relaxed,
                                          std::memory_order_relaxed))
    mode = expected;
  return mode;
}

// reserve: map size bytes for stacks, or null. Transparent huge pages are
// refused: with THP "always", touching the top of one stack would commit a
// 2 MiB page spanning eight of them. (The advice only flags the VMA, which
// still merges with its neighbours, all flagged alike.)
void* reserve(size_t size, int mode) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, kMapFlags, -1, 0);
  if (p != MAP_FAILED) {
    madvise(p, size, MADV_NOHUGEPAGE);
    return p;
  }
  if (errno == ENOMEM && mode == kGuardMprotect) report_map_count_once();
  return nullptr;
}

// install_guard: make [g, g + kGuardSize) fault on any access.
bool install_guard(char* g, int mode) {
  if (mode == kGuardMadvise) return madvise(g, kGuardSize, MADV_GUARD_INSTALL) == 0;
  if (mprotect(g, kGuardSize, PROT_NONE) == 0) return true;
  if (errno == ENOMEM) report_map_count_once();
  return false;
}

RegSlot* reg_slot(size_t i) {
  // Relaxed: called under stack_lock, which orders it after the store that
  // published the chunk.
  return &reg_chunks[i / kRegChunkSlots].load(std::memory_order_relaxed)->slot[i % kRegChunkSlots];
}

// reg_take: register a mapping; its slot index, or -1 when the registry
// cannot grow. Called with stack_lock held, after the mapping and its guards
// exist.
long reg_take(uintptr_t base, uintptr_t tag, size_t map_size) {
  size_t i;
  if (reg_free) {
    i = reg_free - 1;
    // Relaxed: the free-list link is read and written only under stack_lock.
    reg_free = reg_slot(i)->word.load(std::memory_order_relaxed) >> 2;
  } else {
    // Relaxed: only stack_lock holders write the count.
    size_t n = reg_nchunks.load(std::memory_order_relaxed);
    if (reg_used == n * kRegChunkSlots) {
      if (n == kRegMaxChunks) return -1;
      void* c = mmap(nullptr, sizeof(RegChunk), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
      if (c == MAP_FAILED) return -1;
      // Release (both): the handler's Acquire loads of the count and then
      // the pointer see a fully zeroed chunk.
      reg_chunks[n].store(static_cast<RegChunk*>(c), std::memory_order_release);
      reg_nchunks.store(n + 1, std::memory_order_release);
    }
    i = reg_used++;
  }
  RegSlot* s = reg_slot(i);
  // Relaxed: published by the Release store of the word just below.
  s->map_size.store(map_size, std::memory_order_relaxed);
  // Release: the handler that loads this word (Acquire) sees map_size too.
  s->word.store(base | tag, std::memory_order_release);
  return long(i);
}

// reg_drop: forget slot i, before its mapping is unmapped. Called with
// stack_lock held.
void reg_drop(size_t i) {
  // Relaxed: the handler only needs to stop matching this slot eventually;
  // a fault in the mapping after this point is not a guard hit we can name.
  reg_slot(i)->word.store(uintptr_t(reg_free) << 2, std::memory_order_relaxed);
  reg_free = i + 1;
}

// pool_reserve: make the pool array hold at least need entries. Called with
// stack_lock held.
bool pool_reserve(size_t need) {
  if (need <= pool_cap) return true;
  size_t cap = pool_cap ? pool_cap * 2 : kPoolMinCap;
  while (cap < need) cap *= 2;
  void* p;
  if (pool)
    p = mremap(pool, pool_cap * sizeof(uintptr_t), cap * sizeof(uintptr_t), MREMAP_MAYMOVE);
  else
    p = mmap(nullptr, cap * sizeof(uintptr_t), PROT_READ | PROT_WRITE, kMapFlags, -1, 0);
  if (p == MAP_FAILED) return false;
  pool = static_cast<uintptr_t*>(p);
  pool_cap = cap;
  return true;
}

// add_slab: map a slab, guard its stacks and put them all in the pool.
bool add_slab() {
  int mode = current_guard_mode();
  if (mode == kGuardUnknown) return false;
  char* base = static_cast<char*>(reserve(kSlabSize, mode));
  if (!base) return false;
  for (size_t i = 0; i < kSlabStacks; i++) {
    if (!install_guard(base + i * kStride, mode)) {
      unmap(base, kSlabSize);
      return false;
    }
  }
  LockGuard guard(stack_lock);
  if (!pool_reserve(carved + kSlabStacks) ||
      reg_take(reinterpret_cast<uintptr_t>(base), kTagSlab, kSlabSize) < 0) {
    unmap(base, kSlabSize);
    return false;
  }
  carved += kSlabStacks;
  // Highest first, so that the lowest stack is handed out first.
  for (size_t i = kSlabStacks; i-- > 0;)
    pool[pool_n++] = reinterpret_cast<uintptr_t>(base + i * kStride + kGuardSize);
  return true;
}

bool alloc_default(Stack* out) {
  for (;;) {
    uintptr_t lo = 0;
    stack_lock.lock();
    if (pool_n) lo = pool[--pool_n];
    stack_lock.unlock();
    if (lo) {
      *out = Stack{};
      out->lo = at(lo);
      out->size = kDefaultStackSize;
      return true;
    }
    if (!add_slab()) return false;
  }
}

bool alloc_own(size_t size, Stack* out) {
  int mode = current_guard_mode();
  if (mode == kGuardUnknown) return false;
  size_t map_size = size + kGuardSize;
  char* base = static_cast<char*>(reserve(map_size, mode));
  if (!base) return false;
  if (!install_guard(base, mode)) {
    unmap(base, map_size);
    return false;
  }
  stack_lock.lock();
  long slot = reg_take(reinterpret_cast<uintptr_t>(base), kTagOwn, map_size);
  stack_lock.unlock();
  if (slot < 0) {
    unmap(base, map_size);
    return false;
  }
  out->lo = base + kGuardSize;
  out->size = size;
  out->map_base = base;
  out->map_size = map_size;
  out->slot = uint32_t(slot + 1);
  return true;
}

// ---- The overflow handler: async-signal-safe code only from here on. ----

// find_guard: if addr lies in the guard of a registered stack, set [*lo, *hi)
// to that stack's usable range. Lock-free; may run in the signal handler.
bool find_guard(uintptr_t addr, uintptr_t* lo, uintptr_t* hi) {
  // Acquire: pairs with the Release stores in reg_take (chunk, then count).
  size_t nchunks = reg_nchunks.load(std::memory_order_acquire);
  for (size_t c = 0; c < nchunks && c < kRegMaxChunks; c++) {
    // Acquire: pairs with the Release store of the chunk pointer.
    RegChunk* chunk = reg_chunks[c].load(std::memory_order_acquire);
    if (!chunk) continue;
    for (size_t i = 0; i < kRegChunkSlots; i++) {
      // Acquire: pairs with the Release store of the word in reg_take, so
      // map_size below belongs to this mapping.
      uintptr_t w = chunk->slot[i].word.load(std::memory_order_acquire);
      uintptr_t tag = w & kTagMask;
      if (tag == 0) continue;
      uintptr_t base = w & ~kTagMask;
      // Relaxed: ordered by the Acquire load of the word.
      size_t size = chunk->slot[i].map_size.load(std::memory_order_relaxed);
      if (addr < base || addr - base >= size) continue;
      uintptr_t off = addr - base;
      uintptr_t stride = tag == kTagSlab ? kStride : size;
      if (off % stride >= kGuardSize) return false;
      *lo = base + off / stride * stride + kGuardSize;
      *hi = tag == kTagSlab ? *lo + kDefaultStackSize : base + size;
      return true;
    }
  }
  return false;
}

// report_overflow: the one-line message, then the goroutine's block as
// gmp_dump prints it (traceback.cpp), its backtrace taken from the fault's
// registers.
[[noreturn]] void report_overflow(G* g, uintptr_t addr, uintptr_t lo, uintptr_t hi, void* uc) {
  Out out(2);  // no printf: it is not async-signal-safe
  out.str("gmp: ");
  if (g) {
    out.str("goroutine ");
    out.dec(g->goid);
    if (g->name[0]) {
      out.str(" (");
      out.str(g->name, sizeof g->name);
      out.str(")");
    }
    out.str(": ");
  }
  out.str("stack overflow (fault at ");
  out.hex(addr);
  if (hi) {
    out.str(", stack ");
    out.hex(lo);
    out.str("-");
    out.hex(hi);
  }
  out.str(")\n");
  if (g) {
    const mcontext_t& mc = static_cast<ucontext_t*>(uc)->uc_mcontext;
    uintptr_t pcs[kMaxFrames];
    int n = backtrace_fp(uintptr_t(mc.gregs[REG_RIP]), uintptr_t(mc.gregs[REG_RBP]), lo, hi, pcs,
                         kMaxFrames);
    out.ch('\n');
    print_g(out, g, GStatus::running, pcs, n);
  }
  out.flush();
  abort();
}

// chain: hand a fault that is not ours to whoever handled it before us.
// (Their sa_mask and SA_RESETHAND/SA_NODEFER flags are not emulated.)
void chain(int sig, siginfo_t* info, void* uc) {
  struct sigaction* prev = sig == SIGBUS ? &prev_bus : &prev_segv;
  if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
    if (prev->sa_flags & SA_SIGINFO)
      prev->sa_sigaction(sig, info, uc);
    else
      prev->sa_handler(sig);
    return;
  }
  // Default action: restore it and return. A fault re-executes the faulting
  // instruction and dies of it (with a core dump where enabled); a signal
  // sent with kill would not come back, so send it again (delivered once the
  // handler returns and unblocks it).
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  if (info->si_code <= 0) raise(sig);
}

void overflow_handler(int sig, siginfo_t* info, void* uc) {
  int saved_errno = errno;
  if (info->si_code > 0) {  // raised by a fault, not sent by kill/tgkill
    uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
    G* g = current_g();
    uintptr_t glo = g ? reinterpret_cast<uintptr_t>(g->stack.lo) : 0;
    if (glo && addr < glo && addr >= glo - kGuardSize)
      report_overflow(g, addr, glo, glo + g->stack.size, uc);
    uintptr_t lo, hi;
    if (find_guard(addr, &lo, &hi)) report_overflow(lo == glo ? g : nullptr, addr, lo, hi, uc);
  }
  chain(sig, info, uc);
  errno = saved_errno;
}

}  // namespace

bool stack_alloc(size_t size, Stack* out) {
  if (!out) return false;
  if (size == 0) size = kDefaultStackSize;
  if (size > (SIZE_MAX >> 2)) return false;
  size = round_up(size, kPageSize);
  if (size == kDefaultStackSize) return alloc_default(out);
  return alloc_own(size, out);
}

void stack_free(Stack* s) {
  if (!s || !s->lo) return;
  if (s->map_base) {
    GMP_ASSERT(s->slot != 0);
    stack_lock.lock();
    reg_drop(s->slot - 1);
    stack_lock.unlock();
    unmap(s->map_base, s->map_size);
    if (evtrace_enabled()) evtrace_stack("stack unmap", s->map_size);
  } else {
    GMP_ASSERT(s->size == kDefaultStackSize);
    uintptr_t lo = reinterpret_cast<uintptr_t>(s->lo);
    stack_lock.lock();
    if (pool_n >= kPoolWarm) {
      // Invariant 3: return the pages before the stack becomes visible in the
      // pool (after the push another thread may already be running on it).
      stack_lock.unlock();
      madvise(s->lo, kDefaultStackSize, MADV_DONTNEED);
      if (evtrace_enabled()) evtrace_stack("stack release", kDefaultStackSize);
      stack_lock.lock();
    }
    GMP_ASSERT(pool_n < pool_cap);
    pool[pool_n++] = lo;
    stack_lock.unlock();
  }
  *s = Stack{};
}

void stack_release_all() {
  LockGuard guard(stack_lock);
  // Relaxed: stack_lock holders are the only writers.
  size_t n = reg_nchunks.load(std::memory_order_relaxed);
  // Release: none needed for the handler's sake (it only stops looking);
  // the same order as the other stores of the count.
  reg_nchunks.store(0, std::memory_order_release);
  for (size_t c = 0; c < n; c++) {
    // Relaxed: written under stack_lock, which we hold.
    RegChunk* chunk = reg_chunks[c].load(std::memory_order_relaxed);
    for (size_t i = 0; i < kRegChunkSlots; i++) {
      // Relaxed (both): under stack_lock; the chunk is about to go away.
      uintptr_t w = chunk->slot[i].word.load(std::memory_order_relaxed);
      if (w & kTagMask)
        unmap(at(w & ~kTagMask), chunk->slot[i].map_size.load(std::memory_order_relaxed));
    }
    // Relaxed: the count is already 0, so no reader loads this pointer.
    reg_chunks[c].store(nullptr, std::memory_order_relaxed);
    munmap(chunk, sizeof(RegChunk));
  }
  if (pool) munmap(pool, pool_cap * sizeof(uintptr_t));
  pool = nullptr;
  pool_n = pool_cap = carved = 0;
  reg_used = reg_free = 0;
}

void stack_install_overflow_handler() {
  // Acquire: pairs with the Release store below; a caller that sees true
  // knows the handler is in place.
  if (handler_installed.load(std::memory_order_acquire)) return;
  LockGuard guard(handler_lock);
  // Relaxed: handler_lock orders this after any earlier installer's store.
  if (handler_installed.load(std::memory_order_relaxed)) return;
  // Read the previous actions before installing ours, so that the handler
  // never sees them half-written.
  sigaction(SIGSEGV, nullptr, &prev_segv);
  sigaction(SIGBUS, nullptr, &prev_bus);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = overflow_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  // Release: publishes the installation to the fast path above.
  handler_installed.store(true, std::memory_order_release);
}

void stack_thread_init() {
  if (tls_altstack.base) return;
  stack_t old;
  if (sigaltstack(nullptr, &old) == 0 && !(old.ss_flags & SS_DISABLE)) return;
  size_t size = kAltStackSize;
  long min = sysconf(_SC_SIGSTKSZ);
  if (min > 0 && size < size_t(min)) size = round_up(size_t(min), kPageSize);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  // Without an alternate stack an overflow still kills the process, only
  // without the message; not worth failing the thread for.
  if (p == MAP_FAILED) return;
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = p;
  ss.ss_size = size;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(p, size);
    return;
  }
  tls_altstack = AltStack{p, size};
}

void stack_thread_fini() {
  if (!tls_altstack.base) return;
  stack_t cur;
  if (sigaltstack(nullptr, &cur) == 0 && cur.ss_sp == tls_altstack.base) {
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    // Fails only while running on it (EPERM); then keep it mapped.
    if (sigaltstack(&off, nullptr) != 0) return;
  }
  munmap(tls_altstack.base, tls_altstack.size);
  tls_altstack = AltStack{nullptr, 0};
}

const char* stack_guard_mode() {
  return current_guard_mode() == kGuardMadvise ? "madvise" : "mprotect";
}

void stack_force_mprotect_guards(bool on) {
  // Relaxed: a self-contained value; see current_guard_mode.
  guard_mode.store(on ? kGuardMprotect : kGuardUnknown, std::memory_order_relaxed);
}

size_t stack_pool_count() {
  LockGuard guard(stack_lock);
  return pool_n;
}

}  // namespace gmprt
