// traceback.cpp -- printing goroutines: the per-G formatter (Go's
// goroutineheader + traceback) shared by gmp_dump, the deadlock report
// (deadlock.cpp), the stack-overflow message (stack.cpp) and the SIGQUIT
// dump (sigquit.cpp).
//
// A block, as gmp_dump documents it:
//
//   goroutine 7 [chan receive]: worker
//   \twaiting 1520 ms
//   \tcreated at 0x55d0c1a2b3c4 main_body+0x3a (/usr/bin/demo+0x13c4)
//   \t0x7f31c2a01f2e gmp_chan_recv+0x5e (/usr/lib/libgmprt.so.0+0x12f2e)
//   <empty line>
//
// The header line is exactly what the deadlock report printed before it
// used this file ("goroutine 1 [semacquire]", ": name" when named), so
// programs and tests that look for it keep working.
//
// Constraints, because fatal paths call this:
//   * No allocation, no printf, no locks other than allg_lock (which a
//     signal handler only tries): output goes through Out, a stack buffer
//     flushed with write(2). dladdr is the one libc call beyond write; it
//     takes the dynamic loader's lock, which is held only briefly while a
//     library is being added, so a signal landing in that window could hang
//     the dump ("async-signal-safe enough", as Go's own traceback is).
//   * Reading other goroutines is racy by nature: a G read as waiting may
//     be readied and run while we print it. Every read is therefore of
//     memory that stays mapped (G structs are never freed while the runtime
//     runs; stacks stay mapped while their G is not dead, and slab stacks
//     stay mapped even after), and the stack walk is bounded: each frame
//     pointer must lie inside the G's stack, 8-aligned, strictly above the
//     previous one, and at most kMaxFrames are followed. A race can give a
//     wrong line, never a crash or a hang. The functions that read another
//     G's fields and stack are excluded from TSan and ASan instrumentation
//     for that reason (a deliberate racy snapshot, as Go's dumps are).
//
// Backtraces. A G that is not running has a saved context: the frame
// gmprt_context_swap* pushed (arch/context_x86_64.S), with the saved rbp at
// word 6 and the return address at word 7. The library is built with frame
// pointers (CMakeLists.txt), so the walk from there goes through the
// runtime's frames into the caller's; frames of user code built without
// frame pointers end the walk early or are skipped (their rbp is just a
// register; the bounds checks catch it).
#include "traceback.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include "futex.hpp"
#include "sched.hpp"

namespace gmprt {

// ---------------------------------------------------------------------------
// Out

void Out::ch(char c) {
  if (n == sizeof buf) flush();
  buf[n++] = c;
}

void Out::str(const char* s, size_t max) {
  for (size_t i = 0; i < max && s[i]; i++) ch(s[i]);
}

void Out::dec(uint64_t v) {
  char tmp[20];
  size_t k = 0;
  do {
    tmp[k++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (k) ch(tmp[--k]);
}

void Out::hex(uintptr_t v) {
  str("0x");
  char tmp[16];
  size_t k = 0;
  do {
    tmp[k++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  while (k) ch(tmp[--k]);
}

void Out::flush() {
  const char* p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) break;
    p += w;
    n -= size_t(w);
  }
  n = 0;
}

// ---------------------------------------------------------------------------
// Walking and naming frames

__attribute__((no_sanitize("address", "thread"))) int backtrace_fp(uintptr_t pc, uintptr_t fp,
                                                                   uintptr_t lo, uintptr_t hi,
                                                                   uintptr_t* pcs, int max) {
  int n = 0;
  if (max <= 0 || pc == 0) return 0;
  pcs[n++] = pc;
  while (n < max) {
    if (fp < lo || fp > hi - 2 * sizeof(uintptr_t) || fp % sizeof(uintptr_t) != 0) break;
    const uintptr_t* frame = reinterpret_cast<const uintptr_t*>(fp);
    uintptr_t next = frame[0];
    uintptr_t ret = frame[1];
    if (ret == 0) break;
    pcs[n++] = ret;
    if (next <= fp) break;  // frames rise; anything else is not a frame chain
    fp = next;
  }
  return n;
}

namespace {

// print_pc: "0xPC sym+0xOFF (file+0xOFF)", as much as dladdr knows. A return
// address is looked up one byte back, inside the call it returns from (a
// call may be the last instruction of a function). Returns false, printing
// nothing, for a return address outside every loaded object: the walk has
// left the frame chain (a caller without frame pointers).
bool print_pc(Out& out, uintptr_t pc, bool is_return) {
  Dl_info info;
  uintptr_t at = is_return && pc ? pc - 1 : pc;
  bool found = dladdr(reinterpret_cast<void*>(at), &info) != 0;
  if (!found && is_return) return false;
  out.hex(pc);
  if (!found) return true;
  if (info.dli_sname && info.dli_saddr) {
    out.ch(' ');
    out.str(info.dli_sname, 128);
    out.str("+");
    out.hex(pc - reinterpret_cast<uintptr_t>(info.dli_saddr));
  }
  if (info.dli_fname && info.dli_fname[0]) {
    out.str(" (");
    out.str(info.dli_fname, 256);
    out.ch('+');
    out.hex(pc - reinterpret_cast<uintptr_t>(info.dli_fbase));
    out.ch(')');
  }
  return true;
}

// saved_backtrace: the backtrace of a G that is not running, from the frame
// its last switch pushed (see the top of this file).
__attribute__((no_sanitize("address", "thread"))) int saved_backtrace(G* g, uintptr_t* pcs,
                                                                      int max) {
  uintptr_t lo = reinterpret_cast<uintptr_t>(g->fiber.stack_lo);
  uintptr_t hi = lo + g->fiber.stack_size;
  uintptr_t sp = reinterpret_cast<uintptr_t>(g->fiber.ctx.sp);
  constexpr uintptr_t kFrameBytes = 8 * sizeof(uintptr_t);  // context_x86_64.S's frame
  if (!lo || sp < lo || sp > hi - kFrameBytes || sp % sizeof(uintptr_t) != 0) return 0;
  const uintptr_t* words = reinterpret_cast<const uintptr_t*>(sp);
  return backtrace_fp(words[7], words[6], lo, hi, pcs, max);
}

}  // namespace

// ---------------------------------------------------------------------------
// The formatter

__attribute__((no_sanitize("thread"))) void print_g(Out& out, G* g, GStatus s, const uintptr_t* pcs,
                                                    int npcs) {
  out.str("goroutine ");
  out.dec(g->goid);
  out.str(" [");
  out.str(s == GStatus::waiting ? wait_reason_string(g->waitreason) : gstatus_string(s));
  out.ch(']');
  if (g->name[0]) {
    out.str(": ");
    out.str(g->name, sizeof g->name);
  }
  out.ch('\n');
  if (s == GStatus::waiting && g->waitsince != 0) {
    int64_t waited = nanotime_coarse() - g->waitsince;
    out.str("\twaiting ");
    out.dec(uint64_t(waited > 0 ? waited : 0) / 1000000);
    out.str(" ms\n");
  }
  if (g->gopc) {
    out.str("\tcreated at ");
    if (!print_pc(out, g->gopc, true)) out.hex(g->gopc);
    out.ch('\n');
  }
  for (int i = 0; i < npcs; i++) {
    out.ch('\t');
    if (!print_pc(out, pcs[i], i > 0)) {
      out.str("...\n");  // the chain leaves known code: stop here
      break;
    }
    out.ch('\n');
  }
  out.ch('\n');
}

__attribute__((no_sanitize("thread"))) void print_g_auto(Out& out, G* g) {
  // Acquire: pairs with newproc's Release store and park_m's Release CAS;
  // the fields print_g reads are then the live goroutine's (see above for
  // what a later change can do).
  GStatus s = load_status(g, std::memory_order_acquire);
  if (s == GStatus::dead || s == GStatus::idle || g->system) return;
  uintptr_t pcs[kMaxFrames];
  int n = 0;
  if (g == current_g()) {
    // Our own stack: start at the caller of this function.
    const uintptr_t* frame = static_cast<const uintptr_t*>(__builtin_frame_address(0));
    uintptr_t lo = reinterpret_cast<uintptr_t>(g->fiber.stack_lo);
    n = backtrace_fp(frame[1], frame[0], lo, lo + g->fiber.stack_size, pcs, kMaxFrames);
  } else if ((s == GStatus::waiting || s == GStatus::runnable) && !g->fresh) {
    n = saved_backtrace(g, pcs, kMaxFrames);
  }
  print_g(out, g, s, pcs, n);
}

void dump_goroutines(int fd, AllgLock how) {
  Out out(fd);
  bool locked = how == AllgLock::held;
  if (how == AllgLock::wait) {
    sched.allg_lock.lock();
    locked = true;
  } else if (how == AllgLock::try_only) {
    // A signal may have interrupted the lock's holder on this very thread:
    // try for a while, never wait.
    for (int i = 0; i < 100000 && !locked; i++) {
      locked = sched.allg_lock.try_lock();
      if (!locked) cpu_relax();
    }
  }
  if (!locked) {
    out.str("gmp: goroutine list busy; showing the current goroutine only\n\n");
    if (G* g = current_g()) print_g_auto(out, g);
    return;
  }
  for (size_t i = 0; i < sched.nallg; i++) print_g_auto(out, sched.allg[i]);
  out.flush();
  if (how != AllgLock::held) sched.allg_lock.unlock();
}

}  // namespace gmprt
