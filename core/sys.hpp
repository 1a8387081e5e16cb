// sys.hpp -- the system calls of the IO fast path (fdio.cpp), made directly.
//
// glibc's read, send and accept4 are cancellation points: each call switches
// the thread's asynchronous cancellation on and off around the system call
// (two atomic read-modify-writes) and reports failure through errno, a
// thread-local that fdio.cpp must read through a call the optimiser cannot
// see into (a goroutine may resume on another thread). A goroutine's IO never
// blocks in the kernel (its descriptors are non-blocking), so cancellation
// has nothing to interrupt there; these make the system call themselves and
// return the kernel's result: >= 0, or -errno.
//
// Under ASan and TSan the libc functions are used instead: the sanitizers
// intercept them (TSan orders a write before the read that receives it), and
// a direct system call would hide the IO from them. The result convention is
// the same.
#pragma once

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gmprt {

#if defined(__x86_64__) && !defined(GMPRT_ASAN) && !defined(GMPRT_TSAN)

// The x86-64 system call convention: number in rax, arguments in rdi, rsi,
// rdx, r10, r8, r9; the kernel clobbers rcx and r11 and returns in rax.
inline long sys_call6(long nr, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

inline long sys_read(int fd, void* buf, size_t n) {
  return sys_call6(SYS_read, fd, long(buf), long(n), 0, 0, 0);
}

inline long sys_write(int fd, const void* buf, size_t n) {
  return sys_call6(SYS_write, fd, long(buf), long(n), 0, 0, 0);
}

inline long sys_send(int fd, const void* buf, size_t n, int flags) {
  return sys_call6(SYS_sendto, fd, long(buf), long(n), flags, 0, 0);
}

inline long sys_accept4(int fd, void* addr, void* len, int flags) {
  return sys_call6(SYS_accept4, fd, long(addr), long(len), flags, 0, 0);
}

#else

// Each reads errno right after its call, on the same thread; noipa keeps the
// optimiser from reusing an errno address computed before a park in the
// caller (errno is *__errno_location(), declared const).
#define GMPRT_SYS __attribute__((noipa)) inline

// neg_errno: a libc result in the -errno convention.
inline long neg_errno(long r) { return r < 0 ? -long(errno) : r; }

GMPRT_SYS long sys_read(int fd, void* buf, size_t n) { return neg_errno(read(fd, buf, n)); }

GMPRT_SYS long sys_write(int fd, const void* buf, size_t n) { return neg_errno(write(fd, buf, n)); }

GMPRT_SYS long sys_send(int fd, const void* buf, size_t n, int flags) {
  return neg_errno(send(fd, buf, n, flags));
}

GMPRT_SYS long sys_accept4(int fd, void* addr, void* len, int flags) {
  return neg_errno(accept4(fd, static_cast<sockaddr*>(addr), static_cast<socklen_t*>(len), flags));
}

#undef GMPRT_SYS

#endif

}  // namespace gmprt
