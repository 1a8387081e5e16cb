// sync.cpp -- Go's sync.RWMutex, Cond, WaitGroup and Once on the semtable.
//
// RWMutex (Go's rwmutex.go). Readers count themselves in readerCount with
// one atomic add; a writer first takes the mutex w (one writer at a time),
// then subtracts kRWMutexMaxReaders from readerCount: from then on the count
// is negative, and a reader that adds itself to a negative count sleeps on
// reader_sem. The writer waits on writer_sem until the r readers that were
// inside when it arrived have left: readerWait counts them down, and the
// reader that takes it to 0 wakes the writer. unlock adds the constant back
// and wakes the readers that queued meanwhile (the count now says how many),
// then unlocks w. So a pending writer blocks new readers and cannot be
// starved by them, and the readers it blocked go in before the next writer.
//
// One difference from Go: readerCount and readerWait share one 64-bit word
// (RWMutex::readers, count in the high half), and the writer sets readerWait
// to r in the same CAS that makes the count negative. readerWait is then
// always exactly the number of readers still inside while a writer is
// pending (Go's may run negative for a moment), which makes misuse exactly
// detectable with one CAS that changes nothing when it fails:
//   runlock is valid iff count > 0 (no writer) or readerWait > 0 (a writer
//     pending, readers still inside);
//   unlock is valid iff count < 0 and readerWait == 0 (a writer past its
//     wait for the readers).
// Readers still enter with a single fetch_add: the count is the high half,
// so a carry out of it falls off the top of the word.
//
// Cond. Go's Cond over the notify list (sema.cpp); the ticket is taken while
// the caller still holds the mutex, so the order of tickets is the order in
// which the waiters arrived, and signal wakes the oldest.
//
// WaitGroup. Go's state word: counter in the high 32 bits, waiters in the
// low 32. add is a CAS loop (a rejected add changes nothing); the add that
// brings the counter to 0 sets the whole word to 0 in the same CAS and then
// releases one unit per waiter, so no caller ever sees "counter 0, waiters
// left". Reuse is allowed once the woken waiters have returned (as in Go).
//
// Once. Go's: done is read with one Acquire load; the first callers
// serialise on a Mutex, the winner runs fn, then publishes done (Release)
// before unlocking, so every caller returns after fn has returned.
#include "sync.hpp"
#include "../capi/include/gmprt.h"
#include "fatal.hpp"

namespace gmprt {

namespace {

int32_t reader_count(uint64_t word) { return int32_t(uint32_t(word >> 32)); }
uint32_t reader_wait(uint64_t word) { return uint32_t(word); }
uint64_t readers_word(int32_t count, uint32_t wait) {
  return uint64_t(uint32_t(count)) << 32 | wait;
}

}  // namespace

// ---------------------------------------------------------------- RWMutex

void rwmutex_rlock_slow(RWMutex* rw) {
  // A writer is pending: it will wake us (and everyone who queued with us)
  // when it unlocks.
  semacquire(&rw->reader_sem, false, WaitReason::sync_rwmutex_rlock);
}

int rwmutex_runlock(RWMutex* rw) {
  // Relaxed: validated by the CAS.
  uint64_t old = rw->readers.load(std::memory_order_relaxed);
  for (;;) {
    int32_t count = reader_count(old);
    uint32_t wait = reader_wait(old);
    if (count == 0 || (count < 0 && wait == 0)) return GMP_EPERM;  // no reader inside
    uint64_t next = readers_word(count - 1, count < 0 ? wait - 1 : wait);
    // Release: our reads happen before the writer that comes next (it
    // acquires this word, or the writer_sem unit we release below).
    if (rw->readers.compare_exchange_weak(old, next, std::memory_order_release,
                                          std::memory_order_relaxed)) {
      if (count < 0 && wait == 1) semrelease(&rw->writer_sem, false);  // the last one out
      return 0;
    }
  }
}

void rwmutex_lock(RWMutex* rw) {
  mutex_lock(&rw->w, WaitReason::sync_rwmutex_lock);  // no other writer from here on
  // Relaxed: validated by the CAS.
  uint64_t old = rw->readers.load(std::memory_order_relaxed);
  int32_t inside;
  for (;;) {
    inside = reader_count(old);  // readers holding it now (none can be waiting)
    GMP_ASSERT(inside >= 0 && reader_wait(old) == 0);
    // Acquire: when no reader is inside we hold it now, after the Release
    // CAS of the last reader that left.
    if (rw->readers.compare_exchange_weak(
            old, readers_word(inside - kRWMutexMaxReaders, uint32_t(inside)),
            std::memory_order_acquire, std::memory_order_relaxed))
      break;
  }
  if (inside != 0) semacquire(&rw->writer_sem, false, WaitReason::sync_rwmutex_lock);
}

int rwmutex_unlock(RWMutex* rw) {
  // Relaxed: validated by the CAS.
  uint64_t old = rw->readers.load(std::memory_order_relaxed);
  int32_t queued;
  for (;;) {
    int32_t count = reader_count(old);
    if (count >= 0 || reader_wait(old) != 0) return GMP_EPERM;  // no writer holds it
    queued = count + kRWMutexMaxReaders;  // readers that arrived while we were pending
    // Release: publishes the writer's critical section to the readers let
    // in from here on (and, through reader_sem, to the queued ones).
    if (rw->readers.compare_exchange_weak(old, readers_word(queued, 0), std::memory_order_release,
                                          std::memory_order_relaxed))
      break;
  }
  for (int32_t i = 0; i < queued; i++) semrelease(&rw->reader_sem, false);
  int rc = mutex_unlock(&rw->w);
  GMP_ASSERT(rc == 0);  // w is held by whichever writer holds rw
  (void)rc;
  return 0;
}

// ------------------------------------------------------------------- Cond

int cond_wait(NotifyList* c, Mutex* m) {
  if (!mutex_locked(m)) return GMP_EPERM;
  uint32_t t = notify_list_add(c);
  // A holder always finds m locked; should a racing misuse have unlocked it
  // meanwhile, we still wait for our ticket, so that no signal is lost.
  (void)mutex_unlock(m);
  notify_list_wait(c, t, WaitReason::sync_cond_wait);
  mutex_lock(m, WaitReason::sync_mutex_lock);
  return 0;
}

// -------------------------------------------------------------- WaitGroup

int waitgroup_add(WaitGroup* wg, int64_t delta) {
  // Relaxed: validated by the CAS.
  uint64_t old = wg->state.load(std::memory_order_relaxed);
  for (;;) {
    int64_t counter = int32_t(uint32_t(old >> 32));
    uint32_t waiters = uint32_t(old);
    if (delta > int64_t(INT32_MAX) - counter || delta < -counter) return GMP_EINVAL;
    int64_t next_counter = counter + delta;
    uint64_t next = next_counter == 0 ? 0 : uint64_t(next_counter) << 32 | waiters;
    // acq_rel: Release publishes the caller's work to the waiters (through
    // this word's release sequence, then the semaphore); Acquire keeps the
    // chain of adds ordered for the one that reaches 0.
    if (wg->state.compare_exchange_weak(old, next, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
      if (next_counter == 0)
        for (; waiters != 0; waiters--) semrelease(&wg->sema, false);
      return 0;
    }
  }
}

void waitgroup_wait(WaitGroup* wg) {
  // Acquire: a 0 seen here (or by the failed CAS below) orders us after the
  // adds that brought the counter there.
  uint64_t old = wg->state.load(std::memory_order_acquire);
  for (;;) {
    if ((old >> 32) == 0) return;
    // Acquire on failure: old may show the counter at 0 (then as above).
    // On success the semaphore orders us after the last add; Acquire there
    // is only for symmetry.
    if (wg->state.compare_exchange_weak(old, old + 1, std::memory_order_acquire,
                                        std::memory_order_acquire)) {
      semacquire(&wg->sema, false, WaitReason::sync_waitgroup_wait);
      return;
    }
  }
}

// ------------------------------------------------------------------- Once

void once_do_slow(Once* o, gmp_fn fn, void* arg) {
  mutex_lock(&o->m, WaitReason::sync_mutex_lock);
  // Relaxed: done is written only under o->m, which we hold.
  if (o->done.load(std::memory_order_relaxed) == 0) {
    fn(arg);
    // Release: fast-path callers that see 1 see what fn did.
    o->done.store(1, std::memory_order_release);
  }
  mutex_unlock(&o->m);
}

}  // namespace gmprt
