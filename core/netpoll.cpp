// netpoll.cpp -- the poller and the poll descriptors. Design and invariants
// in netpoll.hpp.
//
// Lock order: a PollDesc's lock, then sched.lock (netpoll_kick runs under
// the PollDesc's lock). Waiters are woken after the PollDesc's lock is
// released, and never under sched.lock.
#include "netpoll.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <new>

#include "../capi/include/gmprt.h"
#include "sched.hpp"

namespace gmprt {

namespace {

// The table: kPdChunks chunks of kPdChunk entries, allocated on demand, so a
// lookup is two loads and the table never moves.
constexpr int kPdChunkBits = 10;
constexpr int kPdChunk = 1 << kPdChunkBits;
constexpr int kPdChunks = 4096;  // descriptors below 4 Mi

using PdChunk = std::atomic<PollDesc*>[kPdChunk];
std::atomic<PdChunk*> pd_table[kPdChunks];

Lock init_lock;                     // guards creating the epoll instance
std::atomic<int> epfd{-1};          // the epoll instance, -1 until first use
int breakfd = -1;                   // eventfd registered in it (data.ptr null)
std::atomic<bool> break_pending{false};  // a break is written and not yet read
// nwaiters: pd_wait calls queued right now, counted in shards chosen by the
// waiting thread (its M), so that a wait's increment and decrement stay on
// a line that CPU holds instead of moving one counter between the CPUs on
// every wait. A wait decrements the shard it incremented, so no shard is
// ever negative and any sum of them, however torn, counts every wait whose
// increment it read.
constexpr int kWaiterShards = 8;
struct alignas(64) WaiterShard {
  std::atomic<int32_t> n{0};
};
WaiterShard nwaiters[kWaiterShards];
std::atomic<int64_t> lastpoll{0};   // nanotime() when the last netpoll ended
std::atomic<int64_t> nregistered{0};  // descriptors in the epoll set (gmp_stats)

void pd_free(PollDesc* pd) {
  if (!pd) return;
  pd->~PollDesc();
  free(pd);
}

// pd_find: fd's PollDesc, or null if it has none yet (or fd is out of
// range). Acquire on both loads: a chunk or PollDesc is published with a
// Release CAS after its construction.
inline PollDesc* pd_find(int fd) {
  if (unsigned(fd) >= unsigned(kPdChunk * kPdChunks)) return nullptr;
  PdChunk* chunk = pd_table[fd >> kPdChunkBits].load(std::memory_order_acquire);
  return chunk ? (*chunk)[fd & (kPdChunk - 1)].load(std::memory_order_acquire) : nullptr;
}

// pd_create: fd's PollDesc, created if it has none. Null: fd out of range,
// or no memory (errno set).
__attribute__((noinline)) PollDesc* pd_create(int fd) {
  if (fd < 0 || fd >= kPdChunk * kPdChunks) {
    errno = EBADF;
    return nullptr;
  }
  std::atomic<PdChunk*>& slot = pd_table[fd >> kPdChunkBits];
  PdChunk* chunk = slot.load(std::memory_order_acquire);  // Acquire: as in pd_find
  if (!chunk) {
    auto* fresh = static_cast<PdChunk*>(calloc(1, sizeof(PdChunk)));
    if (!fresh) {
      errno = ENOMEM;
      return nullptr;
    }
    if (slot.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      chunk = fresh;
    } else {
      free(fresh);  // another thread won; chunk is theirs
    }
  }
  std::atomic<PollDesc*>& entry = (*chunk)[fd & (kPdChunk - 1)];
  PollDesc* pd = entry.load(std::memory_order_acquire);
  if (pd) return pd;
  // malloc and placement new: the library does not need the C++ runtime.
  void* mem = calloc(1, sizeof(PollDesc));
  if (!mem) {
    errno = ENOMEM;
    return nullptr;
  }
  auto* fresh = new (mem) PollDesc();
  fresh->fd = fd;
  if (entry.compare_exchange_strong(pd, fresh, std::memory_order_acq_rel,
                                    std::memory_order_acquire))
    return fresh;
  pd_free(fresh);
  return pd;
}

// netpoll_init: create the epoll instance and its break eventfd. 0, or -1
// with errno.
int netpoll_init() {
  // Acquire: the descriptors were created before the Release store below.
  if (epfd.load(std::memory_order_acquire) >= 0) return 0;
  LockGuard guard(init_lock);
  if (epfd.load(std::memory_order_relaxed) >= 0) return 0;  // relaxed: under init_lock
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return -1;
  int bfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (bfd < 0) {
    int e = errno;
    close(ep);
    errno = e;
    return -1;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: readable until drained
  ev.data.ptr = nullptr;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, bfd, &ev) != 0) {
    int e = errno;
    close(bfd);
    close(ep);
    errno = e;
    return -1;
  }
  breakfd = bfd;
  epfd.store(ep, std::memory_order_release);  // Release: see above
  return 0;
}

// pd_closing: gmp_close ran on pd's descriptor (pd->lock held).
bool pd_closing(PollDesc* pd) {
  // Relaxed: the bit changes only under pd->lock.
  return pd->refs.load(std::memory_order_relaxed) & kRefClosing;
}

// pd_reset_state: forget the readiness of the number's previous use.
void pd_reset_state(PollDesc* pd) {
  // Relaxed: pd->lock is held and no call is in progress on pd.
  for (auto& st : pd->state) st.store(0, std::memory_order_relaxed);
  pd->drainable.store(kDrainUnknown, std::memory_order_relaxed);
}

// pd_open: first use of fd (pd->lock held): make it non-blocking and
// register it. 0, or -1 with errno.
int pd_open(PollDesc* pd) {
  if (netpoll_init() != 0) return -1;
  int fl = fcntl(pd->fd, F_GETFL);
  if (fl < 0) return -1;  // EBADF: not open
  if (!(fl & O_NONBLOCK) && fcntl(pd->fd, F_SETFL, fl | O_NONBLOCK) != 0) return -1;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
  ev.data.ptr = pd;
  // Relaxed: netpoll_init returned, so this thread has seen the store.
  if (epoll_ctl(epfd.load(std::memory_order_relaxed), EPOLL_CTL_ADD, pd->fd, &ev) == 0) {
    pd->registered = true;
    // Relaxed: a statistic (gmp_stats); not on a hot path (once per open).
    nregistered.fetch_add(1, std::memory_order_relaxed);
  } else if (errno == EPERM) {
    pd->blocking = true;  // a regular file or directory: always ready
  } else {
    return -1;
  }
  pd_reset_state(pd);
  // Release: publishes registered and blocking to pd_begin's lock-free path.
  pd->refs.store(1, std::memory_order_release);  // the open reference, dropped by gmp_close
  return 0;
}

// pd_finish_close: the last reference is gone: deregister and close the
// descriptor, and make pd ready for the number's next use. pd->lock held,
// so a new use of the number waits until the reset is complete.
int pd_finish_close(PollDesc* pd) {
  if (pd->registered) {
    // Relaxed: registration happened after netpoll_init in this order.
    epoll_ctl(epfd.load(std::memory_order_relaxed), EPOLL_CTL_DEL, pd->fd, nullptr);
    nregistered.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
  }
  int rc = close(pd->fd);
  if (rc != 0 && errno == EINTR) rc = 0;  // Linux has closed it anyway
  pd->registered = pd->blocking = false;
  pd_reset_state(pd);
  pd->refs.store(0, std::memory_order_relaxed);  // relaxed: under lock; reopened only under it
  return rc;
}

// take_waiters: serve every waiter of the directions in mask (pd->lock
// held) and chain them through waitlink for wake_all.
void take_waiters(PollDesc* pd, uint32_t mask, bool success, Sudog** woken) {
  for (int dir = 0; dir < 2; dir++) {
    if (!(mask & (1u << dir))) continue;
    while (Sudog* s = pd->waiters[dir].dequeue()) {
      sudog_served(s, success);
      s->waitlink = *woken;
      *woken = s;
    }
  }
}

// wake_all: wake the chained waiters (goroutines into batch, when given).
int wake_all(Sudog* woken, GQueue* batch = nullptr) {
  int n = 0;
  while (woken) {
    Sudog* s = woken;
    woken = s->waitlink;  // read before the wake: s may vanish after it
    sudog_wake(s, batch);
    n++;
  }
  return n;
}

// pd_ready: an epoll event: mark the directions in mask ready and wake
// their waiters (goroutines into batch). final: the event reports hang-up,
// error or urgent data, after which a short read proves nothing.
int pd_ready(PollDesc* pd, uint32_t mask, bool final, GQueue* batch) {
  Sudog* woken = nullptr;
  pd->lock.lock();
  if (!pd_closing(pd)) {
    // Relaxed: published by the Release below (see pd_clear).
    if (final) pd->drainable.store(kDrainNo, std::memory_order_relaxed);
    for (int dir = 0; dir < 2; dir++)
      if (mask & (1u << dir)) pd->state[dir].fetch_or(kEdge, std::memory_order_release);
    take_waiters(pd, mask, true, &woken);
  }
  pd->lock.unlock();
  return wake_all(woken, batch);
}

uint32_t event_mask(uint32_t ev) {
  uint32_t mask = 0;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLPRI | EPOLLHUP | EPOLLERR)) mask |= kPollRead;
  if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) mask |= kPollWrite;
  return mask;
}

// epoll_wait_ns: epoll_wait with a timeout in nanoseconds. epoll_pwait2
// (Linux 5.11) keeps the precision timers need; older kernels get
// milliseconds, rounded up so that a sleeper never wakes before its timer.
// Not under TSan: libc has no epoll_pwait2 to intercept, and TSan learns
// from epoll_ctl and epoll_wait that a registration (a new PollDesc)
// happens before the events that carry it.
int epoll_wait_ns(int ep, epoll_event* evs, int n, int64_t delay) {
#if defined(SYS_epoll_pwait2) && !defined(GMPRT_TSAN)
  static std::atomic<bool> no_pwait2{false};
  // Relaxed: a cache of a fact about the kernel; every thread may find it.
  if (delay > 0 && !no_pwait2.load(std::memory_order_relaxed)) {
    timespec ts{time_t(delay / 1000000000), long(delay % 1000000000)};
    long r = syscall(SYS_epoll_pwait2, ep, evs, n, &ts, nullptr, 0);
    if (r >= 0 || errno != ENOSYS) return int(r);
    no_pwait2.store(true, std::memory_order_relaxed);
  }
#endif
  int ms = delay < 0 ? -1 : delay == 0 ? 0 : delay >= int64_t(1) << 40 ? 1 << 30 : int((delay + 999999) / 1000000);
  return epoll_wait(ep, evs, n, ms);
}

}  // namespace

bool netpoll_inited() { return epfd.load(std::memory_order_relaxed) >= 0; }  // relaxed: a hint

bool netpoll_waiting() {
  for (auto& shard : nwaiters)
    if (shard.n.load(std::memory_order_seq_cst) > 0) return true;  // seq_cst: see netpoll_kick
  return false;
}

int netpoll(int64_t delay, GQueue* batch) {
  // Acquire: pairs with netpoll_init's Release store.
  int ep = epfd.load(std::memory_order_acquire);
  if (ep < 0) return 0;
  epoll_event evs[128];
  int n = epoll_wait_ns(ep, evs, 128, delay);
  if (M* m = current_m()) m->polling.store(false, std::memory_order_relaxed);  // see wake_m
  int woken = 0;
  for (int i = 0; i < n; i++) {
    auto* pd = static_cast<PollDesc*>(evs[i].data.ptr);
    if (!pd) {
      // A break. Only a blocking poll (the one it is meant for) drains it: a
      // non-blocking poll elsewhere that ate it would leave the sleeper
      // asleep.
      if (delay == 0) continue;
      uint64_t v;
      while (read(breakfd, &v, sizeof v) < 0 && errno == EINTR) {
      }
      // Release: orders the drain before a later break's write.
      break_pending.store(false, std::memory_order_release);
      continue;
    }
    uint32_t ev = evs[i].events;
    woken += pd_ready(pd, event_mask(ev), ev & (EPOLLRDHUP | EPOLLPRI | EPOLLHUP | EPOLLERR), batch);
  }
  lastpoll.store(nanotime(), std::memory_order_relaxed);  // relaxed: a hint for sysmon
  return woken;
}

int64_t netpoll_last() { return lastpoll.load(std::memory_order_relaxed); }  // relaxed: a hint

void netpoll_break() {
  // Acquire: a pending break's write is not undone before we skip ours.
  if (break_pending.exchange(true, std::memory_order_acq_rel)) return;
  uint64_t one = 1;
  while (write(breakfd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void netpoll_kick() {
  // Relaxed: a hint. A sleeper that leaves epoll_wait re-checks for waiters
  // under sched.lock before it sleeps again (stopm).
  if (sched.sleeper_polls.load(std::memory_order_relaxed)) return;
  // Every P busy: their Ms poll when they run out of work (find_runnable),
  // and sysmon meanwhile, as in Go; waking an idle M now would only find
  // no P to run what it polls. seq_cst: our count was added before this
  // load, and a P's npidle increment comes before its M looks for waiters
  // (stopm), so that M sees us and polls (sleeper_sleep). This is the
  // common case of a busy server, where it saves sched.lock per wait.
  if (sched.npidle.load(std::memory_order_seq_cst) == 0) return;
  sched.lock.lock();
  M* sleeper = sched.timer_sleeper;
  if (sleeper && !sched.sleeper_polls.load(std::memory_order_relaxed)) {
    // It sleeps on its note until a timer: wake it to poll instead.
    sleeper_quit_locked();
    note_wakeup(&sleeper->park);
  } else if (!sleeper && sched.midle) {
    // An idle M takes the role when woken (stopm).
    note_wakeup(&sched.midle->park);
  } else if (!sleeper) {
    // No idle M at all (none started yet, or all busy): start one with an
    // idle P; it finds no goroutine, gives the P back and takes the role.
    // With every P busy, their Ms poll when they run out of work, and
    // sysmon meanwhile.
    sched.lock.unlock();
    wakep();
    return;
  }
  sched.lock.unlock();
}

namespace {

// pd_begin_locked: pd_begin's path under the lock: the descriptor's first
// use (register it), or a closing one (EBADF). Out of line, so that the
// lock-free path needs no frame.
__attribute__((noinline)) PollDesc* pd_begin_locked(PollDesc* pd) {
  LockGuard guard(pd->lock);
  uint32_t r = pd->refs.load(std::memory_order_relaxed);  // relaxed: only the lock-free path races, and it only adds
  if (r & kRefClosing) {
    errno = EBADF;
    return nullptr;
  }
  if (r == 0 && pd_open(pd) != 0) return nullptr;
  pd->refs.fetch_add(1, std::memory_order_relaxed);  // relaxed: under lock (pd_open published)
  return pd;
}

}  // namespace

PollDesc* pd_begin(int fd) {
  PollDesc* pd = pd_find(fd);
  if (!pd && !(pd = pd_create(fd))) return nullptr;
  // Open and not closing: one more reference, without the lock. Acquire:
  // pd_open's registered and blocking (its Release store of refs).
  uint32_t r = pd->refs.load(std::memory_order_acquire);
  while (r != 0 && !(r & kRefClosing)) {
    if (pd->refs.compare_exchange_weak(r, r + 1, std::memory_order_acquire,
                                       std::memory_order_acquire))
      return pd;
  }
  return pd_begin_locked(pd);
}

void pd_end(PollDesc* pd) {
  // AcqRel: whoever drops the last reference closes the descriptor after
  // every other call on it is done (a reference count's usual pairing).
  // The count reaches 0 only once gmp_close has dropped the open reference.
  if (pd->refs.fetch_sub(1, std::memory_order_acq_rel) != (kRefClosing | 1)) return;
  LockGuard guard(pd->lock);
  pd_finish_close(pd);
}

namespace {

void unlock_pd(void* arg) { static_cast<PollDesc*>(arg)->lock.unlock(); }

// pd_take_edge: consume the edges of the directions in events (pd->lock
// held); whether there was one, or another call took one since the caller
// saw the words (seen): the caller then retries instead of waiting.
bool pd_take_edge(PollDesc* pd, uint32_t events, const PdSeen& seen) {
  bool any = false;
  for (int dir = 0; dir < 2; dir++) {
    if (!(events & (1u << dir))) continue;
    // Relaxed: pd->lock orders this against pd_ready, which sets kEdge under
    // it; a clearing by another call is an RMW on the same word, so a value
    // older than it still shows the edge it cleared.
    uint32_t s = pd->state[dir].load(std::memory_order_relaxed);
    if (s & kEdge) {
      pd_clear(pd->state[dir]);
      any = true;
    } else if ((s ^ seen.word[dir]) >= kGenOne) {
      any = true;  // the generation moved: an edge came and another call took it
    }
  }
  return any;
}

// is_tcp: fd is a TCP socket (SOCK_STREAM, IPPROTO_TCP).
bool is_tcp(int fd) {
  int type = 0, proto = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return false;
  len = sizeof proto;
  return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP;
}

}  // namespace

void pd_read_short(PollDesc* pd, uint32_t seen) {
  // Relaxed: seen came from an Acquire (pd_clear), which makes a kDrainNo
  // stored before any edge it read visible; one stored later comes with an
  // edge, and the CAS below fails on it.
  uint8_t d = pd->drainable.load(std::memory_order_relaxed);
  if (d == kDrainUnknown) {
    uint8_t found = is_tcp(pd->fd) ? kDrainYes : kDrainNo;
    // Relaxed: a fact about the descriptor; a kDrainNo from netpoll wins.
    if (pd->drainable.compare_exchange_strong(d, found, std::memory_order_relaxed)) d = found;
  }
  if (d != kDrainYes) return;
  // Relaxed: success needs the word unchanged since the attempt's
  // pd_prepare, in the word's own modification order; any edge or clearing
  // in between makes it fail, which only loses the shortcut.
  pd->state[0].compare_exchange_strong(seen, seen | kDrained, std::memory_order_relaxed);
}

void hand_to_peer(G* g) {
  g->io_wrote = false;
  M* m = g->m;
  // Relaxed: a hint; a stopping world is waited for at the next schedule.
  if (!m->p || m->lockedg || sched.gcwaiting.load(std::memory_order_relaxed)) return;
  GQueue batch;
  netpoll(0, &batch);  // (plain threads it wakes are not in the batch)
  // The newest is the peer our write woke, most likely; the rest queue here.
  G* peer = batch.pop();
  if (!peer) return;
  bool several = !batch.empty();
  while (G* next = batch.pop()) {
    runq_put_p(m->p, peer, false);
    peer = next;
  }
  if (several) wakep();
  if (peer->lockedm) {
    runq_put_p(m->p, peer, true);  // it runs on its own M: queue it only
    return;
  }
  m->handoff = peer;
  mcall(handoff_m);
}

int pd_wait(PollDesc* pd, uint32_t events, int64_t deadline, const PdSeen& seen) {
  // One Sudog per direction, led by the first; claimable (is_select), so
  // the first of readiness, close and deadline wins.
  Sudog sg[2];
  int n = 0;
  for (int dir = 0; dir < 2; dir++) {
    if (!(events & (1u << dir))) continue;
    sudog_init(&sg[n]);
    sg[n].lead = &sg[0];
    sg[n].is_select = true;
    sg[n].c = pd;
    sg[n].ticket = uint32_t(dir);
    n++;
  }
  bool timed = deadline >= 0 && sg[0].g;
  SudogDeadline d;
  if (timed) sudog_deadline_arm(&d, &sg[0], deadline, WaitReason::io_wait);
  pd->lock.lock();
  int rc = pd_closing(pd) ? GMP_ECLOSED : 0;
  if (rc != 0 || pd_take_edge(pd, events, seen)) {
    pd->lock.unlock();
    if (timed) sudog_deadline_disarm(&d, false);
    return rc;
  }
  for (int k = 0; k < n; k++) pd->waiters[sg[k].ticket].enqueue(&sg[k]);
  // seq_cst: the count is stored before netpoll_kick loads sleeper_polls
  // and npidle, and stopm stores those before it loads the counts (under
  // sched.lock as well), so a sleeper either polls for us or is woken, and
  // an M that goes idle after the kick sees us.
  std::atomic<int32_t>& count = nwaiters[sg[0].g ? sg[0].g->m->id % kWaiterShards : 0].n;
  count.fetch_add(1, std::memory_order_seq_cst);
  netpoll_kick();
  sudog_block_until(&sg[0], unlock_pd, pd, WaitReason::io_wait, deadline);
  if (timed) sudog_deadline_disarm(&d, true);
  Sudog* won = sg[0].param;
  // A lone Sudog that was served is off its queue already (take_waiters
  // dequeued it): no need to take the lock, whose line the waker's CPU
  // holds. A timed-out one, or the other direction's, may still be queued.
  if (n > 1 || !won) {
    pd->lock.lock();
    for (int k = 0; k < n; k++) pd->waiters[sg[k].ticket].remove(&sg[k]);
    pd->lock.unlock();
  }
  count.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: as above
  if (!won) return GMP_ETIMEDOUT;
  return won->success ? 0 : GMP_ECLOSED;
}

int pd_close(int fd, bool* polled) {
  *polled = false;
  PollDesc* pd = pd_find(fd);
  if (!pd) return 0;
  Sudog* woken = nullptr;
  int rc = 0;
  pd->lock.lock();
  uint32_t r = pd->refs.load(std::memory_order_relaxed);  // relaxed: as in pd_begin
  if (r & kRefClosing) {
    pd->lock.unlock();
    *polled = true;
    errno = EBADF;
    return -1;
  }
  if (r != 0) {
    *polled = true;
    // Mark closing and drop the open reference in one step (r >= 1, so
    // adding kRefClosing - 1 does both). AcqRel: as in pd_end.
    bool last = pd->refs.fetch_add(kRefClosing - 1, std::memory_order_acq_rel) == 1;
    take_waiters(pd, kPollRead | kPollWrite, false, &woken);
    if (last) rc = pd_finish_close(pd);
  }
  int e = errno;
  pd->lock.unlock();
  wake_all(woken);
  errno = e;
  return rc;
}

void netpoll_shutdown() {
  for (auto& slot : pd_table) {
    PdChunk* chunk = slot.exchange(nullptr, std::memory_order_relaxed);  // relaxed: single-threaded now
    if (!chunk) continue;
    for (auto& entry : *chunk) pd_free(entry.load(std::memory_order_relaxed));
    free(chunk);
  }
  int ep = epfd.exchange(-1, std::memory_order_relaxed);
  if (ep >= 0) {
    close(ep);
    close(breakfd);
    breakfd = -1;
  }
  break_pending.store(false, std::memory_order_relaxed);
  for (auto& shard : nwaiters) shard.n.store(0, std::memory_order_relaxed);
  nregistered.store(0, std::memory_order_relaxed);
}

int64_t netpoll_registered() {
  return nregistered.load(std::memory_order_relaxed);  // relaxed: a statistic
}

}  // namespace gmprt
