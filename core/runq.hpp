// runq.hpp -- a P's local run queue: the runnext slot plus a lock-free ring
// of kRunqSize Gs, and the global run queue behind them (Go's runqput,
// runqget, runqsteal, runqputslow, globrunqput, globrunqget).
//
// The ring has a single producer (its owner P; only the M holding the P
// calls runq_put / runq_get) and many consumers (thieves in runq_steal, and
// the owner itself in runq_get). The owner writes a slot and then publishes
// it by a Release store of tail; consumers read the slots after an Acquire
// load of tail and claim them with a CAS on head. runnext is a single atomic
// slot: the owner swaps Gs in, owner and thieves take a G out with a CAS.
#pragma once

#include <stdint.h>

#include <atomic>

#include "config.hpp"
#include "list.hpp"

namespace gmprt {

struct G;

// kRunqOverflowBatch: how many Gs runq_put hands back when the ring is full:
// the older half of the ring plus the G being queued.
inline constexpr uint32_t kRunqOverflowBatch = kRunqSize / 2 + 1;

// LocalRunq: all-zero is an empty queue. The invariants and the memory
// ordering argument are at the top of runq.cpp.
struct LocalRunq {
  alignas(64) std::atomic<uint32_t> head{0};  // next slot to consume; CAS by consumers
  alignas(64) std::atomic<uint32_t> tail{0};  // next slot to fill; stored by the owner only
  std::atomic<G*> runnext{nullptr};           // runs before the ring; inherits the time slice
  std::atomic<G*> ring[kRunqSize] = {};
};

// runq_put: put g on the owner's queue and return false, or return true when
// the ring was full: then the older half of the ring plus the G being queued
// (with next, the G evicted from runnext; kRunqOverflowBatch Gs in all, in
// queue order, linked through schedlink) have been
// appended to *overflow (Go's runqputslow), and the caller must put that batch
// on the global queue (globrunq_put_batch(overflow, kRunqOverflowBatch)).
// next: g goes into runnext and the G it evicts goes to the ring's tail.
// In randomize mode (debug_vars.randomize) `next` is ignored half the time
// and the overflow batch is shuffled. Executed only by the owner P.
bool runq_put(LocalRunq* q, G* g, bool next, GQueue* overflow);

// runq_take_next: take the G in runnext; null when it is empty (or a thief
// took it first). Executed only by the owner P.
G* runq_take_next(LocalRunq* q);

// runq_get: take the next G of the owner's queue, runnext first; null when
// the queue is empty. *inherit (if inherit is not null) is set to true when
// the G came from runnext (it inherits the current time slice), false
// otherwise. Executed only by the owner P.
G* runq_get(LocalRunq* q, bool* inherit);

// runq_steal: move half of victim's ring (rounded up) to dst's ring and
// return one of those Gs for the thief to run (null when there was nothing).
// Only when victim's ring is empty and steal_runnext is set (the last steal
// round) is victim's runnext taken instead; victim_running makes the thief
// pause ~kRunnextStealPauseUs first, so a running owner that is about to
// schedule it keeps its cache-hot G. Executed by the owner of dst; dst's ring
// must be empty (as after runq_get returned null); victim != dst.
G* runq_steal(LocalRunq* dst, LocalRunq* victim, bool steal_runnext, bool victim_running);

// runq_empty: no G in runnext or the ring, at one moment during the call.
// May be called by any thread. It never reports "empty" because the owner was
// moving a G between runnext and the ring meanwhile (Go's runqempty re-check
// protocol, argued in runq.cpp); a G that a put or steal still holds in
// transit is not in the queue yet.
bool runq_empty(const LocalRunq* q);

// runq_empty_owner: a cheaper runq_empty for the owner P, which moves Gs
// between runnext and the ring only itself. A stale read can only say
// "not empty" for a queue that thieves have just emptied.
inline bool runq_empty_owner(const LocalRunq* q) {
  // Relaxed: see above; a wrong "not empty" only sends the caller down its
  // general path.
  return q->runnext.load(std::memory_order_relaxed) == nullptr &&
         q->head.load(std::memory_order_relaxed) == q->tail.load(std::memory_order_relaxed);
}

// runq_size: the ring's length plus runnext (approximate under concurrency).
uint32_t runq_size(const LocalRunq* q);

// runq_drain: move every G (runnext first, then the ring in order) to the
// back of *out. Executed by the owner, or with the world stopped.
void runq_drain(LocalRunq* q, GQueue* out);

}  // namespace gmprt
