// fdio.cpp -- the IO calls on the poller (Go's internal/poll.FD): read,
// write, accept, connect, wait and close, each a loop of "try the system
// call; on EAGAIN wait for readiness (pd_wait) and try again".
//
// Every call holds a reference on the PollDesc while it runs (pd_begin /
// pd_end), so gmp_close can mark it closing and wake its waiters at once
// while the descriptor is closed only when the last call has left: no call
// ever acts on a reused number. A descriptor that epoll rejects (a regular
// file) is always ready: its calls run as blocking system calls inside
// entersyscall / exitsyscall instead.
//
// errno: each call returns like its POSIX namesake; EINTR is retried and
// EAGAIN never escapes (it is what the loop waits on). Inside, results
// travel as -errno (sys.hpp) and errno is set once, on the way out
// (with_pd).
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../capi/include/gmprt.h"
#include "netpoll.hpp"
#include "sched.hpp"
#include "sleep.hpp"
#include "sys.hpp"

namespace gmprt {

namespace {

// errno belongs to the thread, and a goroutine that parks may resume on
// another one; but errno is *__errno_location(), declared const, so the
// compiler may keep the address it computed before a park and write the
// old thread's errno after it. Every access here goes through these, which
// the optimiser may not see through (noipa), so the address is always the
// current thread's.
__attribute__((noipa)) int errno_get() { return errno; }
__attribute__((noipa)) void errno_set(int e) { errno = e; }

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

// io_loop: run `call` (a system call returning >= 0 or -errno, sys.hpp)
// until it does not want to block, waiting for `dir` in between; returns
// its last result. Blocking descriptors run it once inside a system call
// bracket. want: for a read, the bytes asked for (0 for anything else): a
// read that returns fewer, but some, may leave the socket drained
// (pd_read_short), and a drained socket is waited on without trying; a
// read after a write first hands the M to the peer the write woke
// (hand_to_peer). See netpoll.hpp.
template <class Call>
long io_loop(PollDesc* pd, uint32_t dir, Call call, size_t want = 0) {
  long r;
  if (pd->blocking) {
    entersyscall();
    while ((r = call()) == -EINTR) {
    }
    exitsyscall();
    return r;
  }
  if (want > 0) {
    if (G* g = current_g(); g && g->io_wrote) hand_to_peer(g);
  }
  PdSeen seen;
  bool skip = want > 0 && pd_drained(pd, &seen);
  for (;;) {
    if (!skip) {
      uint32_t& word = seen.word[dir >> 1];
      word = pd_prepare(pd, dir);
      r = call();
      if (r > 0 && size_t(r) < want) pd_read_short(pd, word);
      if (r >= 0 || (r != -EINTR && !would_block(int(-r)))) return r;
      if (r == -EINTR) continue;
    }
    skip = false;
    if (pd_wait(pd, dir, -1, seen) == GMP_ECLOSED) return -EBADF;
  }
}

// with_pd: run body(pd) (returning >= 0 or -errno) holding a reference on
// fd's PollDesc; returns its result in the POSIX convention (-1, errno).
template <class Body>
long with_pd(int fd, Body body) {
  PollDesc* pd = pd_begin(fd);
  if (!pd) return -1;
  long r = body(pd);
  pd_end(pd);
  if (r >= 0) return r;
  errno_set(int(-r));
  return -1;
}

// poll_now: the requested directions fd is ready for right now (poll(2)
// with no timeout). A hang-up or error counts as both. -1: fd is not open.
int poll_now(int fd, uint32_t events) {
  pollfd p{fd, short(((events & kPollRead) ? POLLIN : 0) | ((events & kPollWrite) ? POLLOUT : 0)), 0};
  int n;
  while ((n = poll(&p, 1, 0)) < 0 && errno_get() == EINTR) {
  }
  if (n <= 0) return 0;
  if (p.revents & POLLNVAL) return -1;
  if (p.revents & (POLLHUP | POLLERR)) return int(events);
  uint32_t mask = 0;
  if (p.revents & (POLLIN | POLLRDHUP | POLLPRI)) mask |= kPollRead;
  if (p.revents & POLLOUT) mask |= kPollWrite;
  return int(mask & events);
}

}  // namespace

long fd_read(int fd, void* buf, size_t n) {
  if (!buf && n > 0) {
    errno_set(EFAULT);
    return -1;
  }
  return with_pd(fd, [&](PollDesc* pd) {
    return io_loop(pd, kPollRead, [&] { return sys_read(fd, buf, n); }, n);
  });
}

long fd_write(int fd, const void* buf, size_t n) {
  if (!buf && n > 0) {
    errno_set(EFAULT);
    return -1;
  }
  return with_pd(fd, [&](PollDesc* pd) -> long {
    const char* p = static_cast<const char*>(buf);
    size_t done = 0;
    bool sock = true;  // send(MSG_NOSIGNAL) until the descriptor says it is no socket
    do {
      long r = io_loop(pd, kPollWrite, [&]() -> long {
        if (sock) {
          long s = sys_send(fd, p + done, n - done, MSG_NOSIGNAL);
          if (s != -ENOTSOCK) return s;
          sock = false;
        }
        return sys_write(fd, p + done, n - done);
      });
      if (r < 0) return done > 0 ? long(done) : r;
      done += size_t(r);
    } while (done < n);
    if (G* g = current_g()) g->io_wrote = true;
    return long(done);
  });
}

int fd_accept(int fd, void* addr, void* len) {
  return int(with_pd(fd, [&](PollDesc* pd) -> long {
    for (;;) {
      long r = io_loop(pd, kPollRead, [&] {
        return sys_accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      });
      if (r != -ECONNABORTED) return r;  // a connection reset in the backlog: next
    }
  }));
}

int fd_connect(int fd, const void* addr, unsigned len) {
  return int(with_pd(fd, [&](PollDesc* pd) -> long {
    int e = 0;
    while (connect(fd, static_cast<const sockaddr*>(addr), socklen_t(len)) != 0 &&
           (e = errno_get()) == EINTR) {
      // An interrupted non-blocking connect goes on in the background;
      // retrying reports EALREADY (wait below) or EISCONN (done).
    }
    if (e == 0 || e == EISCONN) return 0;
    if (e != EINPROGRESS && e != EALREADY) return -e;
    // Wait until writable for real (a stale ready bit ends a wait early),
    // then the outcome is the socket's SO_ERROR.
    for (;;) {
      PdSeen seen;
      pd_look(pd, &seen);
      int ready = poll_now(fd, kPollWrite);
      if (ready < 0) return -EBADF;
      if (ready || pd->blocking) break;
      if (pd_wait(pd, kPollWrite, -1, seen) == GMP_ECLOSED) return -EBADF;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return -errno_get();
    return -err;
  }));
}

int fd_wait(int fd, uint32_t events, int64_t timeout_ns) {
  if (fd < 0 || events == 0 || (events & ~(kPollRead | kPollWrite))) return GMP_EINVAL;
  int64_t deadline = timeout_ns > 0 ? deadline_after(timeout_ns) : -1;
  PollDesc* pd = pd_begin(fd);
  if (!pd) return GMP_EINVAL;
  int rc;
  for (;;) {
    PdSeen seen;
    pd_look(pd, &seen);
    rc = poll_now(fd, events);
    if (rc < 0) rc = GMP_EINVAL;
    if (rc != 0) break;
    if (timeout_ns == 0) {
      rc = GMP_EAGAIN;
      break;
    }
    rc = pd_wait(pd, events, deadline, seen);
    if (rc != 0) break;
  }
  pd_end(pd);
  return rc;
}

int fd_close(int fd) {
  if (fd < 0) {
    errno_set(EBADF);
    return -1;
  }
  bool polled = false;
  int rc = pd_close(fd, &polled);
  if (polled) return rc;
  // Never used with the poller: an ordinary close.
  rc = close(fd);
  if (rc != 0 && errno_get() == EINTR) rc = 0;  // Linux has closed it anyway
  return rc;
}

}  // namespace gmprt
