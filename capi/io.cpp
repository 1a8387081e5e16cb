// io.cpp -- gmp_read, gmp_write, gmp_accept, gmp_connect, gmp_fd_wait,
// gmp_close, gmp_syscall_enter/exit: the public contract's checks, then
// the core (core/fdio.cpp, core/syscall.cpp).
#include <errno.h>

#include "../core/netpoll.hpp"
#include "capi_guard.hpp"

using namespace gmprt;

static_assert(GMP_READ == int(kPollRead) && GMP_WRITE == int(kPollWrite),
              "the public direction bits are the poller's");

namespace {

// io_enter: api_enter for the POSIX-convention calls: 0, or -1 with errno.
int io_enter(const RuntimeCall& call) {
  if (api_enter(call) == 0) return 0;
  errno = ENOMEM;
  return -1;
}

}  // namespace

extern "C" GMP_API ssize_t gmp_read(int fd, void* buf, size_t n) noexcept {
  RuntimeCall in_runtime;
  if (io_enter(in_runtime)) return -1;
  return fd_read(fd, buf, n);
}

extern "C" GMP_API ssize_t gmp_write(int fd, const void* buf, size_t n) noexcept {
  RuntimeCall in_runtime;
  if (io_enter(in_runtime)) return -1;
  return fd_write(fd, buf, n);
}

extern "C" GMP_API int gmp_accept(int fd, struct sockaddr* addr, socklen_t* len) noexcept {
  RuntimeCall in_runtime;
  if (io_enter(in_runtime)) return -1;
  return fd_accept(fd, addr, len);
}

extern "C" GMP_API int gmp_connect(int fd, const struct sockaddr* addr, socklen_t len) noexcept {
  RuntimeCall in_runtime;
  if (io_enter(in_runtime)) return -1;
  return fd_connect(fd, addr, len);
}

extern "C" GMP_API int gmp_fd_wait(int fd, int events, int64_t timeout_ns) noexcept {
  RuntimeCall in_runtime;
  if (events <= 0) return GMP_EINVAL;
  if (int rc = api_enter(in_runtime)) return rc;
  return fd_wait(fd, uint32_t(events), timeout_ns);
}

extern "C" GMP_API int gmp_close(int fd) noexcept {
  RuntimeCall in_runtime;
  return fd_close(fd);
}

extern "C" GMP_API void gmp_syscall_enter(void) noexcept {
  RuntimeCall in_runtime;
  entersyscall();
}

extern "C" GMP_API void gmp_syscall_exit(void) noexcept {
  RuntimeCall in_runtime;
  exitsyscall();
}
