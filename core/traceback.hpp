// traceback.hpp -- printing goroutines (Go's traceback.go): the one per-G
// formatter behind gmp_dump, the deadlock report, the stack-overflow
// message and the SIGQUIT dump. See traceback.cpp for the design.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "g.hpp"

namespace gmprt {

// Out: a fixed buffer in front of a descriptor. Formats without printf and
// without allocating, so it is usable in a signal handler; flushes with
// write(2) when full and when destroyed. Write errors are ignored (a dump is
// best effort).
struct Out {
  explicit Out(int fd) : fd(fd) {}
  ~Out() { flush(); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  void ch(char c);
  void str(const char* s, size_t max = SIZE_MAX);
  void dec(uint64_t v);
  void hex(uintptr_t v);  // 0x..., lower case
  void flush();

  int fd;
  size_t n = 0;
  char buf[1024];
};

inline constexpr int kMaxFrames = 32;  // frames printed per goroutine

// backtrace_fp: walk frame pointers from (pc, fp), keeping every frame
// inside [lo, hi) and strictly rising; fills pcs[0] = pc and the return
// addresses after it. Returns the number of pcs (at most max). Reads only
// memory inside [lo, hi).
int backtrace_fp(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi, uintptr_t* pcs, int max);

// print_g: one goroutine's block: the header line
// "goroutine N [state or wait reason]: name", how long it has waited (a
// waiting G), where it was created, then pcs[0..npcs), one line each, and
// an empty line. s is the status the caller read (Acquire) before calling.
void print_g(Out& out, G* g, GStatus s, const uintptr_t* pcs, int npcs);

// print_g_auto: print_g with the backtrace the runtime can find for g: its
// saved context when g is not running, the calling frame when g is the
// caller (skipping the dump's own frames is left to the reader), none
// otherwise. Skips dead, idle and system goroutines. Called with
// sched.allg_lock held (or from a path that could not take it).
void print_g_auto(Out& out, G* g);

// dump_goroutines: print_g_auto for every G in allg, with allg_lock held by
// the caller (check_dead) when locked, otherwise taken here: blocking when
// wait, or tried a bounded number of times (signal handlers; prints a note
// and only the calling goroutine when the lock cannot be had).
enum class AllgLock { held, wait, try_only };
void dump_goroutines(int fd, AllgLock how);

}  // namespace gmprt
