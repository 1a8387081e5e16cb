// netpoll.hpp -- the network poller (Go's netpoll.go + netpoll_epoll.go):
// descriptors that park the goroutine instead of the thread.
//
// One epoll instance per runtime, created on first use, with an eventfd
// registered in it to break a blocking epoll_wait (netpoll_break). Every
// descriptor the IO calls touch gets a PollDesc, registered edge-triggered
// for both directions the first time, and kept in a table indexed by
// descriptor number (PollDescs are never freed while the runtime runs; a
// reused number reuses its PollDesc).
//
// Readiness. An epoll event for a direction sets the PollDesc's ready bit
// for it and wakes every waiter of that direction. A waiter that finds the
// bit set consumes it and retries its system call instead of sleeping, so
// an edge that arrives between the call's EAGAIN and the wait is never
// lost. Each attempt first clears the bit of its direction (pd_prepare):
// the edge that announced the data a call is about to read must not send
// the next call's wait straight back to an EAGAIN. Waiters are Sudogs (goroutines
// park, plain threads sleep on their futex), claimable as a select's are,
// so a wait may cover both directions and carry a deadline.
//
// Who polls. (1) An M about to steal polls without blocking (find_runnable).
// (2) When Ms go idle, the one holding the sleeper's role (stopm) blocks in
// epoll_wait until the next timer instead of sleeping on its note; whoever
// must wake it (an earlier timer, work for its thread) breaks the wait.
// (3) sysmon polls when nobody has for a while. A new waiter makes sure an
// idle M holds the role (netpoll_kick). A poll makes the goroutines it wakes
// runnable in one batch, queued at once (inject_batch, Go's injectglist):
// onto the polling M's own P, or the global queue; the sleeper then takes
// an idle P and runs them itself rather than waking another thread.
//
// Closing. gmp_close marks the PollDesc closing and wakes its waiters (their
// calls fail with EBADF or GMP_ECLOSED); the descriptor itself is closed
// when the last call in progress on it leaves (fd_op_end), so no call ever
// touches a reused descriptor number. A descriptor the runtime polls must
// be closed with gmp_close (closed behind the runtime's back, its number
// would be reused with a stale registration).
#pragma once

#include <stdint.h>

#include <atomic>

#include "lock.hpp"
#include "sudog.hpp"

namespace gmprt {

inline constexpr uint32_t kPollRead = 1;   // == GMP_READ
inline constexpr uint32_t kPollWrite = 2;  // == GMP_WRITE

// PollDesc: the runtime's state of one descriptor number. Guarded by lock
// except fd (constant).
struct PollDesc {
  Lock lock;
  int fd = -1;
  bool registered = false;  // in the epoll set
  bool blocking = false;    // epoll rejects it (a regular file): plain syscalls
  bool closing = false;     // gmp_close ran; the close happens at refs == 0
  // ready: kPollRead/kPollWrite edges not yet consumed. Set under lock by
  // netpoll (Release), consumed under lock by pd_wait, and cleared without
  // the lock by pd_prepare (Acquire) before each IO attempt.
  std::atomic<uint32_t> ready{0};
  int32_t refs = 0;         // calls in progress, + 1 while open (not closing)
  WaitQ waiters[2];         // [0] readers, [1] writers
};

// The descriptor table and the poller.

// netpoll_inited: some descriptor has been registered (cheap check).
bool netpoll_inited();

// netpoll_waiting: Sudogs wait on descriptors (the deadlock detector counts
// them as possibly woken; the poller role is needed).
bool netpoll_waiting();

// netpoll: wait up to delay ns (< 0: forever, 0: do not block) for events;
// wakes the waiters of every ready descriptor: plain threads at once,
// goroutines made runnable and appended to *batch, which the caller queues
// (inject_batch: one lock and one wakeup for the lot, as Go's
// injectglist). Returns how many waiters it woke. Callers: find_runnable
// (0), stopm (the sleeper), sysmon.
int netpoll(int64_t delay, GQueue* batch);

// netpoll_last: nanotime() at the end of the last netpoll (sysmon polls
// when nobody has for a while).
int64_t netpoll_last();

// netpoll_break: end a blocking netpoll early (any thread).
void netpoll_break();

// netpoll_kick: a waiter was just queued: make sure somebody polls.
void netpoll_kick();

// The calls (fdio.cpp). Each returns like its POSIX namesake: >= 0, or -1
// with errno set. fd_wait returns the ready mask or a GMP_E* code.
long fd_read(int fd, void* buf, size_t n);
long fd_write(int fd, const void* buf, size_t n);
int fd_accept(int fd, void* addr, void* len);
int fd_connect(int fd, const void* addr, unsigned len);
int fd_wait(int fd, uint32_t events, int64_t timeout_ns);
int fd_close(int fd);

// Used by fdio.cpp.

// pd_begin: the PollDesc of fd for a call, registered with the poller on
// first use (and made non-blocking), with a reference the caller drops with
// pd_end. Null with errno set: EBADF for a bad or closing descriptor, or
// what registration failed with.
PollDesc* pd_begin(int fd);
void pd_end(PollDesc* pd);

// pd_prepare: an IO call in direction dir is about to try its system call
// (Go's pollReset): forget an edge seen before it. The attempt itself sees
// the data that edge announced, so a stale bit cannot send the next wait
// straight back to a certain EAGAIN; an edge after this point is kept.
inline void pd_prepare(PollDesc* pd, uint32_t dir) {
  // Relaxed load: a clear bit needs nothing done; a set bit seen late only
  // costs one EAGAIN. Acquire on the clear: the system call that follows
  // happens after the poll that reported the edge, so it sees its data.
  if (pd->ready.load(std::memory_order_relaxed) & dir)
    pd->ready.fetch_and(~dir, std::memory_order_acquire);
}

// pd_wait: wait until one of `events` may be ready on pd, until `deadline`
// (nanotime; < 0: none). 0 (retry the call), GMP_ETIMEDOUT or GMP_ECLOSED.
int pd_wait(PollDesc* pd, uint32_t events, int64_t deadline);

// pd_close: gmp_close's half: wake every waiter with GMP_ECLOSED and drop the
// open reference. -1/EBADF if fd has no open PollDesc (not polled: the
// caller closes it directly).
int pd_close(int fd, bool* polled);

// netpoll_registered: descriptors registered with epoll right now (gmp_stats).
int64_t netpoll_registered();

// netpoll_shutdown: close the epoll instance and forget every PollDesc.
void netpoll_shutdown();

}  // namespace gmprt
