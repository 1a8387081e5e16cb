// preempt.cpp -- asynchronous preemption (Go's preemptM, doSigPreempt and
// asyncPreempt), opt-in per goroutine with GMP_GO_ASYNC_PREEMPT.
//
// The monitor asks a goroutine to give way by setting its P's preempt flag
// (sysmon.cpp); cooperative code sees it at gmp_preempt_point or its next
// runtime call. For a goroutine started with the flag the monitor also sends
// SIGURG to the thread running it (preempt_async, at most once per
// kAsyncPreemptRetryNs). The handler (async_preempt_handler) decides whether
// the interrupted instruction is a safe point:
//   - the thread runs a goroutine with the flag whose P still has the
//     request, the goroutine is running (not in a system call) and not
//     already on its way to the trampoline;
//   - it runs the goroutine's own code: not runtime code (G::nopreempt,
//     raised by every public entry and by the goroutine's first and last
//     frames), not code of the objects in unsafe_code (libc, the loader,
//     the vDSO, libstdc++, libgcc_s, sanitizer runtimes: they hold locks or
//     thread state the runtime cannot see);
//   - the stack pointer lies in the goroutine's stack with kAsyncPreemptRoom
//     to spare.
// If so, it makes the goroutine "call" gmprt_async_preempt_tramp at the
// interrupted instruction: it pushes the interrupted PC below the 128-byte
// red zone and points PC at the trampoline (arch/preempt_x86_64.S). After
// the handler returns, the trampoline saves every register, the flags and the
// FP/vector state (XSAVE with the components in gmprt_xsave_mask, or FXSAVE),
// calls gmprt_async_preempt, which yields like gmp_yield, restores it all
// and returns to the interrupted instruction. Otherwise the handler leaves
// the goroutine alone and the monitor tries again later.
//
// The goroutine yields wired to its thread (lock_os_thread for the duration),
// so it resumes on the thread it was interrupted on: the interrupted code may
// hold addresses of thread-local variables in registers.
//
// The handler forwards every SIGURG to a handler installed before ours (the
// signal may be the host's: out-of-band data on a socket).
//
// Not available (the flag is accepted, preemption stays cooperative): on a
// fully static executable (libc cannot be told apart from the program) and
// under TSan (it delivers signals at its own safe points, never inside a
// loop without calls).
#include "preempt.hpp"

#include <cpuid.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "lock.hpp"
#include "sched.hpp"

// Read by the trampoline: the XSAVE component mask (0: use FXSAVE) and the
// bytes its save area needs. Written once, before the handler is installed.
extern "C" {
__attribute__((visibility("hidden"))) uint32_t gmprt_xsave_mask = 0;
__attribute__((visibility("hidden"))) uint32_t gmprt_xsave_size = 512;
void gmprt_async_preempt_tramp();
void gmprt_async_preempt();
}

namespace gmprt {

namespace {

// Room the trampoline needs below the interrupted stack pointer: the red
// zone, the saved registers, the largest XSAVE area we ask for and the
// frames of a yield.
constexpr uintptr_t kAsyncPreemptRoom = 12 * 1024;
constexpr uintptr_t kRedZone = 128;

// TSan delivers asynchronous signals only at its own safe points (never
// inside a loop without calls): the handler would never run in time.
#if defined(GMPRT_TSAN)
constexpr bool kSignalsWork = false;
#else
constexpr bool kSignalsWork = true;
#endif

struct CodeRange {
  uintptr_t lo, hi;
};
constexpr int kMaxUnsafeRanges = 64;

// Written under install_lock before the handler is installed, then only read.
CodeRange unsafe_code[kMaxUnsafeRanges];
int nunsafe = 0;
bool libc_found = false;
struct sigaction prev_urg;

Lock install_lock;
// installed: the handler is in place. available: and the monitor may send
// signals (installed on a platform where they can work).
std::atomic<bool> installed{false};
std::atomic<bool> available{false};

// Names (prefixes of the file's base name) of the objects whose code is
// never a safe point.
const char* const kUnsafeObjects[] = {"libc.so",  "ld-linux", "ld64.so",   "libpthread.so",
                                      "libdl.so", "librt.so", "libstdc++", "libgcc_s",
                                      "libasan",  "libubsan", "libtsan",   "liblsan"};

bool has_base_name(const char* path, const char* prefix) {
  const char* slash = strrchr(path, '/');
  return strncmp(slash ? slash + 1 : path, prefix, strlen(prefix)) == 0;
}

bool unsafe_name(const char* path) {
  for (const char* prefix : kUnsafeObjects)
    if (has_base_name(path, prefix)) return true;
  return false;
}

// add_object_code: record the executable segments of one loaded object.
void add_object_code(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum && nunsafe < kMaxUnsafeRanges; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    unsafe_code[nunsafe++] = CodeRange{lo, lo + ph.p_memsz};
  }
}

int collect_object(dl_phdr_info* info, size_t, void* self_base) {
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  bool libc = has_base_name(name, "libc.so");
  if (libc) libc_found = true;
  uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
  // The runtime's own shared object (when it is one): its code is covered by
  // G::nopreempt too; this is belt and braces.
  bool self = name[0] && info->dlpi_addr == uintptr_t(self_base);
  bool is_vdso = false;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_addr + info->dlpi_phdr[i].p_vaddr == vdso)
      is_vdso = true;
  if (self || is_vdso || unsafe_name(name)) add_object_code(info);
  return 0;
}

// choose_fp_save: XSAVE with x87, SSE, AVX and AVX-512 state when the OS
// enables XSAVE, else FXSAVE (x87 and SSE).
void choose_fp_save() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return;
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  uint32_t mask = lo & 0xe7;  // x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
  uint32_t size = 512 + 64;   // legacy area + header
  for (unsigned i = 2; i < 8; i++) {
    if (!(mask & (1u << i))) continue;
    __cpuid_count(0xd, i, a, b, c, d);  // a: size, b: offset of component i
    if (b + a > size) size = b + a;
  }
  gmprt_xsave_mask = mask;
  gmprt_xsave_size = size;
}

bool ours(uintptr_t pc, uintptr_t sp, M* m, G*& g) {
  g = m->curg;
  if (!g || !g->async_preempt.load(std::memory_order_relaxed)) return false;
  if (g->nopreempt.load(std::memory_order_relaxed) != 0 ||
      g->async_pending.load(std::memory_order_relaxed))
    return false;
  P* p = m->p;
  // Relaxed: the request is a hint; gmprt_async_preempt clears it.
  if (!p || !p->preempt.load(std::memory_order_relaxed)) return false;
  if (load_status(g, std::memory_order_relaxed) != GStatus::running) return false;
  uintptr_t lo = uintptr_t(g->fiber.stack_lo);
  if (sp < lo + kAsyncPreemptRoom || sp > lo + g->fiber.stack_size) return false;
  return !async_preempt_unsafe_pc(pc);
}

void forward(int sig, siginfo_t* info, void* ctx) {
  if (prev_urg.sa_flags & SA_SIGINFO) {
    if (prev_urg.sa_sigaction) prev_urg.sa_sigaction(sig, info, ctx);
  } else if (prev_urg.sa_handler != SIG_DFL && prev_urg.sa_handler != SIG_IGN) {
    prev_urg.sa_handler(sig);
  }
}

void async_preempt_handler(int sig, siginfo_t* info, void* ctx) {
  int saved_errno = errno;
  M* m = current_m();
  auto* uc = static_cast<ucontext_t*>(ctx);
  greg_t* regs = uc->uc_mcontext.gregs;
  G* g = nullptr;
  if (m && ours(uintptr_t(regs[REG_RIP]), uintptr_t(regs[REG_RSP]), m, g)) {
    // "Call" the trampoline: the interrupted PC is its return address,
    // pushed below the red zone (the trampoline's `ret $128` skips it).
    uintptr_t sp = uintptr_t(regs[REG_RSP]) - kRedZone - sizeof(uintptr_t);
    *reinterpret_cast<uintptr_t*>(sp) = uintptr_t(regs[REG_RIP]);
    regs[REG_RSP] = greg_t(sp);
    regs[REG_RIP] = greg_t(reinterpret_cast<uintptr_t>(&gmprt_async_preempt_tramp));
    g->async_pending.store(true, std::memory_order_relaxed);  // relaxed: own thread
  }
  forward(sig, info, ctx);
  errno = saved_errno;
}

// install_handler: find the code that is never a safe point and install
// the SIGURG handler. False (nothing installed) when libc is not a shared
// object of its own (a fully static program).
bool install_handler() {
  Dl_info self;
  void* self_base = dladdr(reinterpret_cast<void*>(&install_handler), &self) ? self.dli_fbase
                                                                              : nullptr;
  dl_iterate_phdr(collect_object, self_base);
  if (!libc_found) return false;
  choose_fp_save();
  sigaction(SIGURG, nullptr, &prev_urg);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = async_preempt_handler;
  // SA_ONSTACK: the kernel's signal frame (several KiB of vector state) goes
  // on the M's alternate stack, not on a small goroutine stack.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGURG, &sa, nullptr);
  return true;
}

}  // namespace

bool async_preempt_unsafe_pc(uintptr_t pc) {
  for (int i = 0; i < nunsafe; i++)
    if (pc >= unsafe_code[i].lo && pc < unsafe_code[i].hi) return true;
  return false;
}

void async_preempt_enable() {
  // Acquire: pairs with the Release below (the tables are complete).
  if (installed.load(std::memory_order_acquire)) return;
  LockGuard guard(install_lock);
  if (installed.load(std::memory_order_relaxed)) return;  // relaxed: under the lock
  // Relaxed: published by the Release below.
  if (kSignalsWork) available.store(install_handler(), std::memory_order_relaxed);
  // Release: the tables and `available` before the flag.
  installed.store(true, std::memory_order_release);
}

bool preempt_async(P* p) {
  // Acquire: see async_preempt_enable.
  if (!installed.load(std::memory_order_acquire) || !available.load(std::memory_order_relaxed))
    return false;
  // Acquire: pairs with execute's Release store (the G's fields).
  G* g = p->curg.load(std::memory_order_acquire);
  if (!g || !g->async_preempt.load(std::memory_order_relaxed)) return false;  // relaxed: a hint
  pid_t tid = p->tid.load(std::memory_order_relaxed);  // relaxed: see P::tid
  return tid > 0 && syscall(SYS_tgkill, getpid(), tid, SIGURG) == 0;
}

}  // namespace gmprt

using namespace gmprt;

// gmprt_async_preempt: called by the trampoline on the interrupted
// goroutine's stack, with its state saved: yield, wired to this thread.
extern "C" void gmprt_async_preempt() {
  G* g = current_g();
  nopreempt_enter(g);
  bool locked = lock_os_thread() == 0;
  P* p = g->m->p;
  if (p) p->preempt.store(false, std::memory_order_relaxed);  // relaxed: a hint
  gosched();
  if (locked) unlock_os_thread();
  g->async_pending.store(false, std::memory_order_relaxed);  // relaxed: own thread
  nopreempt_exit(g);
}
