// runq.cpp -- a P's local run queue: the runnext slot and the lock-free ring
// (Go's runqput, runqputslow, runqget, runqgrab, runqsteal, runqempty,
// runqdrain). The global queue behind it lives in proc.cpp.
//
// Shape. A LocalRunq is one single-producer, multi-consumer ring of
// kRunqSize slots, indexed by two free-running 32-bit counters (a slot is
// ring[i % kRunqSize]), plus one extra slot, runnext, that is served first.
//
// Who may call what:
//   runq_put, runq_get, runq_drain   the owner of the queue only: the M that
//                                    holds the P (or anyone while the world
//                                    is stopped).
//   runq_steal(dst, victim)          the owner of dst; victim may be any
//                                    other queue, its owner running or not.
//   runq_empty, runq_size            any thread, at any time.
//
// Invariants:
//   1. head <= tail and tail - head <= kRunqSize, as unsigned differences
//      (the counters wrap together).
//   2. Only the owner stores tail, and only the owner stores ring slots
//      (runq_put fills its own ring, runq_steal fills the thief's own ring).
//      A slot i with head <= i < tail holds a G published by the Release
//      store of tail; slots outside that window may hold stale pointers that
//      nobody may use.
//   3. head moves only forward, only by a successful CAS. The CAS is the
//      claim: the consumer that moves head from h to h+n owns the Gs it read
//      from slots h..h+n-1 before the CAS. A consumer that loses the race
//      drops what it read and starts over, so reading a slot before owning
//      it is harmless, which is why slots are atomics (relaxed) rather than
//      plain pointers.
//   4. Only the owner stores a non-null G in runnext; owner and thieves take
//      it out by CAS to null, so exactly one of them gets it.
//   5. A G is in at most one place: runnext, one ring window, or a batch in
//      transit held by exactly one thread.
//
// Memory ordering, in one place (each site repeats its own part):
//   - Owner: store slot (relaxed), then tail (Release). Consumers: load tail
//     (Acquire), then the slots. This publishes the slot and everything the
//     owner wrote into the G before queueing it.
//   - Consumers: read slots, then CAS head (Release). Owner: load head
//     (Acquire) before overwriting a slot. This orders every consumer's slot
//     read before the owner's next write to that slot (write-after-read);
//     later CASes on head extend the release sequence, so an Acquire load of
//     any later head value is enough.
//   - runnext: the owner's exchange is Release; a thief's CAS is Acquire, so
//     a stolen runnext G's fields are visible to the thief.
//   - The owner's CAS that takes runnext out (runq_get, runq_drain) is also
//     Release: it publishes the preceding tail store to runq_empty (below).
//
// runq_empty never reports a spurious "empty" when the owner moves a G from
// runnext to the ring: runq_put(next) puts a new G in runnext and pushes the
// old one to the ring's tail, and a runq_get can then take the new one out
// of runnext, so an observer that reads tail before the push and runnext
// after the get would see neither G. runq_empty reads head, tail, runnext
// and tail again, each with Acquire, and trusts the snapshot only when tail
// did not move. If runnext read null from the owner's taking CAS, that CAS
// (Release) came after the tail store in the owner's order, so the second
// tail load sees the new tail and the loop retries.
//
// Rejected designs:
//   - Plain (non-atomic) slots, as Go has: a thief reads slots before it owns
//     them (invariant 3) while the owner may be rewriting them; in C++ that
//     is a data race even if the result is discarded. Relaxed atomics cost
//     nothing more on x86-64 and aarch64.
//   - A CAS loop on runnext in runq_put (Go's shape): an exchange does the
//     same thing in one step, since the owner is the only writer of
//     non-null values and a thief's null is simply returned as "nothing
//     evicted".
//   - Overflowing straight into the global queue from here (Go's
//     runqputslow takes sched.lock): the batch is handed back to the caller
//     instead, so this file does not depend on the scheduler and can be
//     tested (and stress-built with a tiny ring) alone.
#include "runq.hpp"

#include <unistd.h>

#include "env.hpp"
#include "fatal.hpp"
#include "g.hpp"
#include "rand.hpp"

namespace gmprt {

static_assert(kRunqSize >= 2, "runq_steal takes half of the ring and needs at least two slots");
static_assert(kRunqSize <= (1u << 31), "head and tail are 32-bit counters compared by difference");

namespace {

// shuffle: Fisher-Yates over batch[0..n), for the randomize test mode.
void shuffle(G** batch, uint32_t n) {
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = fastrandn(i);
    G* tmp = batch[i - 1];
    batch[i - 1] = batch[j];
    batch[j] = tmp;
  }
}

// runq_put_slow: the ring is full (tail - head == kRunqSize as read by the
// caller): claim its older half, then append those Gs and g to *overflow in
// queue order. Returns false, having changed nothing, when consumers moved
// head first; the ring then has room and the caller retries the fast path.
// Executed only by the owner; h is the caller's Acquire load of head and t
// its own tail.
bool runq_put_slow(LocalRunq* q, G* g, uint32_t h, uint32_t t, GQueue* overflow) {
  uint32_t n = (t - h) / 2;
  GMP_ASSERT(n == kRunqSize / 2);
  G* batch[kRunqOverflowBatch];
  for (uint32_t i = 0; i < n; i++) {
    // Relaxed: the owner wrote these slots itself.
    batch[i] = q->ring[(h + i) % kRunqSize].load(std::memory_order_relaxed);
  }
  // Release on success: the claim (invariant 3). It publishes this thread's
  // earlier tail stores to whoever acquires the new head (runq_empty and
  // runq_steal then read a tail >= head). Relaxed on failure: a thief won;
  // nothing was taken and the caller reloads head with Acquire.
  if (!q->head.compare_exchange_strong(h, h + n, std::memory_order_release,
                                       std::memory_order_relaxed)) {
    return false;
  }
  batch[n] = g;
  if (debug_vars.randomize) shuffle(batch, n + 1);
  // The Gs are ours now (no consumer can claim below the new head), so
  // their schedlink may be written.
  for (uint32_t i = 0; i <= n; i++) overflow->push_back(batch[i]);
  return true;
}

// runq_grab: claim about half of victim's ring (or, when the ring is empty
// and steal_runnext is set, its runnext) into dst's slots starting at
// dst_tail, without publishing them. Returns how many Gs were written.
// Executed by the owner of dst (Go's runqgrab).
uint32_t runq_grab(LocalRunq* dst, uint32_t dst_tail, LocalRunq* victim, bool steal_runnext,
                   bool victim_running) {
  for (;;) {
    // Acquire: pairs with the Release CAS of earlier claimers, so the tail
    // read next is normally at least this head (a stale pair is rejected
    // below).
    uint32_t h = victim->head.load(std::memory_order_acquire);
    // Acquire: pairs with the victim owner's Release store of tail in
    // runq_put / runq_steal; makes the slots below t and the Gs they point
    // to visible here.
    uint32_t t = victim->tail.load(std::memory_order_acquire);
    uint32_t n = t - h;
    n -= n / 2;
    if (n == 0) {
      if (!steal_runnext) return 0;
      // Relaxed: only a hint that there is something to take; the CAS
      // below re-reads the slot and is the one that acquires.
      G* next = victim->runnext.load(std::memory_order_relaxed);
      if (next == nullptr) return 0;
      if (victim_running) {
        // A running owner that just readied this G (and is about to block)
        // will schedule it itself within a few hundred nanoseconds; give it
        // the chance rather than move a cache-hot G to another P.
        usleep(kRunnextStealPauseUs);
      }
      // Acquire on success: pairs with the owner's Release exchange in
      // runq_put that stored this G, so the G's fields written before it
      // was queued are visible to the thief (the exchange that matters is
      // the latest one, which the CAS reads, even if this G has been out
      // and back since the load above). Relaxed on failure: the owner took
      // it or replaced it; start over, its ring may have filled meanwhile.
      if (!victim->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire,
                                                   std::memory_order_relaxed)) {
        continue;
      }
      // Relaxed: dst's slots are ours to write; runq_steal reads this one
      // back itself and publishes nothing for it.
      dst->ring[dst_tail % kRunqSize].store(next, std::memory_order_relaxed);
      return 1;
    }
    // With h read before t, t - h may span more than one ring if other
    // consumers and the owner moved on in between; such a pair is stale.
    if (n > kRunqSize / 2) continue;
    for (uint32_t i = 0; i < n; i++) {
      // Relaxed load: ordered by the Acquire load of tail above; if the
      // owner has since reused the slot, head has moved and the CAS below
      // fails. Relaxed store: dst's slots are published by runq_steal's
      // Release store of dst's tail.
      G* g = victim->ring[(h + i) % kRunqSize].load(std::memory_order_relaxed);
      dst->ring[(dst_tail + i) % kRunqSize].store(g, std::memory_order_relaxed);
    }
    // Release on success: the claim (invariant 3); orders the slot reads
    // above before the victim owner's next write of those slots, which
    // loads head with Acquire in runq_put. Relaxed on failure: someone else
    // claimed first; what we copied is discarded by the retry.
    if (victim->head.compare_exchange_strong(h, h + n, std::memory_order_release,
                                             std::memory_order_relaxed)) {
      return n;
    }
  }
}

}  // namespace

bool runq_put(LocalRunq* q, G* g, bool next, GQueue* overflow) {
  if (next && debug_vars.randomize && fastrandn(2) == 0) next = false;

  if (next) {
    // Release: publishes g's fields to a thief that takes it out of runnext
    // with its Acquire CAS in runq_grab. The value returned is the G we
    // evict (queued by this owner earlier), or null if runnext was empty or
    // a thief took it.
    G* old = q->runnext.exchange(g, std::memory_order_release);
    if (old == nullptr) return false;
    g = old;
  }

  for (;;) {
    // Acquire: pairs with consumers' Release CAS of head (runq_get,
    // runq_grab, runq_put_slow); their reads of the slots they claimed
    // happen before we overwrite those slots below.
    uint32_t h = q->head.load(std::memory_order_acquire);
    // Relaxed: only the owner stores tail.
    uint32_t t = q->tail.load(std::memory_order_relaxed);
    if (t - h < kRunqSize) {
      // Relaxed: published by the tail store that follows.
      q->ring[t % kRunqSize].store(g, std::memory_order_relaxed);
      // Release: publishes the slot and g's fields; pairs with the Acquire
      // loads of tail in runq_grab and runq_empty.
      q->tail.store(t + 1, std::memory_order_release);
      return false;
    }
    if (runq_put_slow(q, g, h, t, overflow)) return true;
  }
}

G* runq_take_next(LocalRunq* q) {
  // Relaxed: only the owner stores non-null values here; a stale value only
  // makes the CAS below fail or skip, and the CAS reads the latest one.
  G* next = q->runnext.load(std::memory_order_relaxed);
  // If the CAS fails, a thief took the G: nobody but us can put one back,
  // so there is no point in retrying.
  // Release on success: publishes this owner's earlier tail stores (a G
  // just evicted from runnext to the ring) to runq_empty's Acquire load of
  // runnext; see the file comment. Acquire on success: pairs with the
  // Release exchange in runq_put that stored the G, for a P that changed
  // hands since (its hand-off orders this too; the Acquire keeps the
  // argument local to this file). Relaxed on failure: nothing was taken.
  if (next != nullptr && q->runnext.compare_exchange_strong(
                             next, nullptr, std::memory_order_acq_rel, std::memory_order_relaxed))
    return next;
  return nullptr;
}

G* runq_get(LocalRunq* q, bool* inherit) {
  if (G* next = runq_take_next(q)) {
    if (inherit) *inherit = true;
    return next;
  }
  if (inherit) *inherit = false;

  for (;;) {
    // Acquire: pairs with thieves' Release CAS of head; with our own tail
    // it gives a consistent window (a stale head would only fail the CAS).
    uint32_t h = q->head.load(std::memory_order_acquire);
    // Relaxed: only the owner stores tail.
    uint32_t t = q->tail.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    // Relaxed: the owner wrote this slot itself.
    G* g = q->ring[h % kRunqSize].load(std::memory_order_relaxed);
    // Release on success: the claim (invariant 3); pairs with the Acquire
    // loads of head in runq_grab and runq_empty (head <= tail stays
    // visible). Relaxed on failure: a thief claimed this slot; retry.
    if (q->head.compare_exchange_weak(h, h + 1, std::memory_order_release,
                                      std::memory_order_relaxed)) {
      return g;
    }
  }
}

G* runq_steal(LocalRunq* dst, LocalRunq* victim, bool steal_runnext, bool victim_running) {
  // Relaxed: we own dst and are the only one to store its tail.
  uint32_t t = dst->tail.load(std::memory_order_relaxed);
  uint32_t n = runq_grab(dst, t, victim, steal_runnext, victim_running);
  if (n == 0) return nullptr;
  n--;
  // Relaxed: runq_grab wrote this slot on this thread.
  G* g = dst->ring[(t + n) % kRunqSize].load(std::memory_order_relaxed);
  if (n == 0) return g;
  // dst's ring had to be empty enough for the Gs just written (the caller's
  // contract); thieves of dst only ever make it emptier.
  GMP_ASSERT(t - dst->head.load(std::memory_order_acquire) + n < kRunqSize);
  // Release: publishes the n slots written by runq_grab (and the Gs, whose
  // fields we acquired from the victim) to dst's consumers: the Acquire
  // loads of tail in runq_grab and runq_empty.
  dst->tail.store(t + n, std::memory_order_release);
  return g;
}

bool runq_empty(const LocalRunq* q) {
  for (;;) {
    // Acquire on all four loads: each orders the loads after it (the
    // snapshot is taken in this order). The one that matters is runnext's,
    // which pairs with the owner's Release CAS in runq_get / runq_drain:
    // if it reads the null that CAS wrote, the owner's earlier tail store
    // is visible to the second tail load. head's pairs with the consumers'
    // Release CAS and tail's with the owner's Release store.
    uint32_t h = q->head.load(std::memory_order_acquire);
    uint32_t t = q->tail.load(std::memory_order_acquire);
    G* next = q->runnext.load(std::memory_order_acquire);
    if (t == q->tail.load(std::memory_order_acquire)) return h == t && next == nullptr;
  }
}

uint32_t runq_size(const LocalRunq* q) {
  // Acquire: as in runq_empty; the result is a snapshot, exact only when
  // nobody moves Gs meanwhile.
  uint32_t h = q->head.load(std::memory_order_acquire);
  uint32_t t = q->tail.load(std::memory_order_acquire);
  G* next = q->runnext.load(std::memory_order_acquire);
  uint32_t n = t - h;
  // A stale pair may give a "negative" or over-full count; clamp it.
  if (n > kRunqSize) n = int32_t(n) < 0 ? 0 : kRunqSize;
  return n + (next != nullptr ? 1 : 0);
}

void runq_drain(LocalRunq* q, GQueue* out) {
  if (G* next = runq_take_next(q)) out->push_back(next);

  for (;;) {
    // Acquire: as in runq_get.
    uint32_t h = q->head.load(std::memory_order_acquire);
    // Relaxed: only the owner stores tail.
    uint32_t t = q->tail.load(std::memory_order_relaxed);
    uint32_t n = t - h;
    if (n == 0) return;
    // Claim everything first and only then touch the Gs: writing schedlink
    // into a G that a thief may still claim would corrupt the thief's view
    // of it. Release on success: the claim (invariant 3), as in runq_get.
    // Relaxed on failure: a thief claimed some; retry with the rest.
    if (q->head.compare_exchange_weak(h, t, std::memory_order_release, std::memory_order_relaxed)) {
      for (uint32_t i = 0; i < n; i++) {
        // Relaxed: the owner wrote these slots itself.
        out->push_back(q->ring[(h + i) % kRunqSize].load(std::memory_order_relaxed));
      }
      return;
    }
  }
}

}  // namespace gmprt
