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
// Readiness. Each direction has a state word (PollDesc::state): an epoll
// event for the direction sets its kEdge bit and wakes every waiter of that
// direction. A waiter that finds the bit set consumes it and retries its
// system call instead of sleeping, so an edge that arrives between the
// call's EAGAIN and the wait is never lost. Each attempt first clears the
// bit of its direction (pd_prepare, Go's pollReset): the edge that
// announced the data a call is about to read must not send the next call's
// wait straight back to an EAGAIN. Unlike Go, several calls may use one
// direction at once (Go serialises them with fdMutex), and one call's reset
// may take an edge that another, whose attempt had already failed, needs:
// every clearing advances a generation kept in the word's upper bits, each
// call notes the word before its attempt (PdSeen), and its wait retries
// when the generation has moved since. Waiters are Sudogs (goroutines park,
// plain threads sleep on their futex), claimable as a select's are, so a
// wait may cover both directions and carry a deadline.
//
// Drained TCP sockets. A read of a TCP socket that returns less than it
// asked for (but not nothing) has emptied the receive queue, and any data
// arriving later raises a new edge. So, when no edge has come since, the
// next read parks at once instead of making a system call that can only
// fail with EAGAIN: the kDrained bit. It is set only if the read direction's
// word is exactly as the attempt's pd_prepare left it (no edge, nothing
// consumed: every clearing of kEdge or kDrained advances a generation kept
// in the word's upper bits), and it is cleared with kEdge. A short read is
// not proof on every descriptor: datagram sockets return a message at a
// time, Unix stream sockets stop at a change of credentials or passed
// descriptors, and a TCP read stops at urgent data and may consume a FIN or
// meet an error whose edge has already been seen. So only TCP sockets are
// drainable (checked once, at the first short read), and an event that
// reports hang-up, error or urgent data makes the descriptor not drainable
// for good (until the number is closed and reused).
//
// Who polls. (1) An M about to steal polls without blocking (find_runnable).
// (2) When Ms go idle, the one holding the sleeper's role (stopm) blocks in
// epoll_wait until the next timer instead of sleeping on its note; whoever
// must wake it (an earlier timer, work for its thread) breaks the wait.
// (3) sysmon polls when nobody has for a while. A new waiter makes sure an
// idle M holds the role when a P is idle (netpoll_kick); with every P busy,
// their Ms poll when they run out of work, and the first M to go idle
// takes the role to poll (stopm). (4) A goroutine about to read after it
// wrote polls first (hand_to_peer), runs the goroutine the poll woke last
// at once on its M and goes on next itself; the others queue on its P. A
// peer in this process that the write readied then runs on the CPU that
// holds the data, its answer is there when the reader goes on (no failed
// read, no wait), and a request and its response stay on one CPU. A poll makes the goroutines it
// wakes runnable in one batch, queued at once (inject_batch, Go's
// injectglist): onto the polling M's own P, or the global queue; the
// sleeper then takes an idle P and runs them itself rather than waking
// another thread.
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

// A direction's state word (PollDesc::state[0] reads, [1] writes).
inline constexpr uint32_t kEdge = 1;     // an epoll edge not yet consumed
inline constexpr uint32_t kDrained = 2;  // reads only: the last read emptied a TCP socket
inline constexpr uint32_t kGenOne = 4;   // the generation: bits 2 and up

// PollDesc::drainable.
inline constexpr uint8_t kDrainUnknown = 0;  // no short read yet
inline constexpr uint8_t kDrainYes = 1;      // a TCP socket
inline constexpr uint8_t kDrainNo = 2;       // anything else, or hang-up/error/urgent seen

// PollDesc::refs: the count of calls in progress, + 1 while open (the open
// reference, dropped by gmp_close), and this bit once gmp_close ran (the
// descriptor is closed when the count reaches 0).
inline constexpr uint32_t kRefClosing = 1u << 31;

// PollDesc: the runtime's state of one descriptor number. Guarded by lock
// except fd (constant) and the atomics.
struct PollDesc {
  Lock lock;
  int fd = -1;
  // registered and blocking are set by pd_open before it publishes refs
  // (Release), and read by the calls that hold a reference.
  bool registered = false;  // in the epoll set
  bool blocking = false;    // epoll rejects it (a regular file): plain syscalls
  // refs: see kRefClosing. While the descriptor is open (count > 0, not
  // closing) calls take and drop references without the lock (pd_begin,
  // pd_end); every other change is made under lock.
  std::atomic<uint32_t> refs{0};
  // state: per direction, kEdge | kDrained | generation. kEdge is set under
  // lock by netpoll (Release), consumed under lock by pd_wait, and cleared
  // without the lock by pd_prepare (Acquire) before each IO attempt;
  // kDrained is set without the lock by pd_read_short.
  std::atomic<uint32_t> state[2] = {0, 0};
  // drainable: kDrain*. Moves from unknown once (CAS, pd_read_short), and
  // to kDrainNo under lock by netpoll, before the event's kEdge (Release).
  std::atomic<uint8_t> drainable{kDrainUnknown};
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

// pd_clear: clear kEdge and kDrained in a direction's word if either is
// set, advancing its generation; returns the word as it is now.
inline uint32_t pd_clear(std::atomic<uint32_t>& st) {
  // Acquire on the load and the CAS: reading a word netpoll set kEdge in
  // (or a later one of its release sequence: every writer here is an RMW)
  // makes what it stored first (drainable, the data's arrival) visible.
  uint32_t s = st.load(std::memory_order_acquire);
  for (;;) {
    if (!(s & (kEdge | kDrained))) return s;
    uint32_t next = (s & ~(kEdge | kDrained)) + kGenOne;
    if (st.compare_exchange_weak(s, next, std::memory_order_acquire, std::memory_order_acquire))
      return next;
  }
}

// pd_prepare: an IO call in direction dir (kPollRead or kPollWrite) is about
// to try its system call (Go's pollReset): forget an edge seen before it.
// The attempt itself sees the data that edge announced, so a stale bit
// cannot send the next wait straight back to a certain EAGAIN; an edge
// after this point is kept. Returns the direction's word after the reset,
// for pd_read_short.
inline uint32_t pd_prepare(PollDesc* pd, uint32_t dir) { return pd_clear(pd->state[dir >> 1]); }

// PdSeen: a call's view of the direction words ([0] read, [1] write) from
// before its attempt (pd_prepare, pd_look); its wait retries when an edge
// came since, even if another call has taken it (see "Readiness").
struct PdSeen {
  uint32_t word[2] = {0, 0};
};

// pd_look: note both words before an attempt that does not reset them
// (gmp_fd_wait, connect: a poll(2) of the descriptor).
inline void pd_look(PollDesc* pd, PdSeen* seen) {
  // Acquire: as in pd_clear.
  for (int dir = 0; dir < 2; dir++) seen->word[dir] = pd->state[dir].load(std::memory_order_acquire);
}

// pd_drained: the last read emptied the socket and no edge has come since:
// a read now would fail with EAGAIN (see "Drained TCP sockets" above). The
// read word goes to seen, for the wait that replaces the read.
inline bool pd_drained(PollDesc* pd, PdSeen* seen) {
  // Relaxed: pd_wait looks for kEdge again under the lock, so a stale
  // kDrained costs a wait that returns at once.
  seen->word[0] = pd->state[0].load(std::memory_order_relaxed);
  return (seen->word[0] & (kEdge | kDrained)) == kDrained;
}

// hand_to_peer: g is about to read after it wrote (G::io_wrote): poll, and
// run the goroutine the poll woke last at once on this M, g going on next
// (runnext, the same time slice); the others queue on this P. See "Who
// polls" (4).
void hand_to_peer(G* g);

// pd_read_short: a read attempt that pd_prepare returned `seen` for got some
// bytes but fewer than it asked: mark the socket drained if it is TCP and
// nothing happened to the read word since.
void pd_read_short(PollDesc* pd, uint32_t seen);

// pd_wait: wait until one of `events` may be ready on pd, until `deadline`
// (nanotime; < 0: none), for a call whose attempt saw the words `seen`. 0
// (retry the call), GMP_ETIMEDOUT or GMP_ECLOSED.
int pd_wait(PollDesc* pd, uint32_t events, int64_t deadline, const PdSeen& seen);

// pd_close: gmp_close's half: wake every waiter with GMP_ECLOSED and drop the
// open reference. -1/EBADF if fd has no open PollDesc (not polled: the
// caller closes it directly).
int pd_close(int fd, bool* polled);

// netpoll_registered: descriptors registered with epoll right now (gmp_stats).
int64_t netpoll_registered();

// netpoll_shutdown: close the epoll instance and forget every PollDesc.
void netpoll_shutdown();

}  // namespace gmprt
