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

struct LocalRunq {
  alignas(64) std::atomic<uint32_t> head{0};  // next slot to consume; CAS by consumers
  alignas(64) std::atomic<uint32_t> tail{0};  // next slot to fill; stored by the owner only
  std::atomic<G*> runnext{nullptr};           // runs before the ring; inherits the time slice
  std::atomic<G*> ring[kRunqSize] = {};
};

// runq_put: put g on the owner's queue. Executed only by the owner P.
// next: g goes into runnext and the G it evicts goes to the ring's tail.
// When the ring is full, half of it plus the G being queued are moved into
// *overflow (Go's runqputslow) and true is returned: the caller must put that
// batch on the global queue (globrunq_put_batch). In randomize mode `next` is
// ignored half the time and the overflow batch is shuffled.
bool runq_put(LocalRunq* q, G* g, bool next, GQueue* overflow);

// runq_get: take the next G of the owner's queue, runnext first. *inherit is
// set when the G came from runnext (it inherits the current time slice).
// Executed only by the owner P.
G* runq_get(LocalRunq* q, bool* inherit);

// runq_steal: move about half of victim's queued Gs to dst's ring and return
// one of them for the thief to run (null when there was nothing). Executed
// by the owner of dst; dst's ring must be empty. steal_runnext also considers
// victim's runnext (last steal round); victim_running makes the thief pause
// ~3 µs before taking it, so a running owner that is about to schedule it
// keeps its cache-hot G.
G* runq_steal(LocalRunq* dst, LocalRunq* victim, bool steal_runnext, bool victim_running);

// runq_empty: no G in runnext or the ring. May be called by any thread; the
// answer is exact only at a moment when the owner is not moving a G between
// runnext and the ring (Go's runqempty re-check protocol).
bool runq_empty(const LocalRunq* q);

// runq_size: the ring's length plus runnext (approximate under concurrency).
uint32_t runq_size(const LocalRunq* q);

// runq_drain: move every G (runnext first, then the ring in order) to the
// back of *out. Executed by the owner, or with the world stopped.
void runq_drain(LocalRunq* q, GQueue* out);

}  // namespace gmprt
