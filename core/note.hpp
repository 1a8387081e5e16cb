// note.hpp -- one-shot sleep and wakeup for an M (Go's note, lock_futex.go).
//
// Blocks the M. note_sleep waits until note_wakeup has been called once since
// the last note_clear; a wakeup before the sleep is not lost. Exactly one
// thread sleeps on a note; any thread may wake it. An M sleeps on m->park when
// idle, the stopper of the world on sched.stopnote.
#pragma once

#include <stdint.h>

#include <atomic>

#include "futex.hpp"

namespace gmprt {

struct Note {
  std::atomic<uint32_t> key{0};
};

// note_clear: rearm. Only the sleeper calls it, when no wakeup is in flight.
inline void note_clear(Note* n) {
  // Relaxed: the next note_wakeup is ordered after this by the protocol that
  // hands the note out (a lock or another note).
  n->key.store(0, std::memory_order_relaxed);
}

// note_wakeup: wake the sleeper (or let its next sleep return at once).
inline void note_wakeup(Note* n) {
  // Release: everything written before the wakeup (m->nextp, say) is visible
  // to the sleeper after its Acquire load sees 1.
  if (n->key.exchange(1, std::memory_order_release) == 0) futex_wake(&n->key, 1);
}

// note_sleep: wait for the wakeup.
inline void note_sleep(Note* n) {
  // Acquire: pairs with note_wakeup's Release.
  while (n->key.load(std::memory_order_acquire) == 0) futex_wait(&n->key, 0, -1);
}

// note_tsleep: wait at most ns (< 0: forever); true if woken.
inline bool note_tsleep(Note* n, int64_t ns) {
  if (ns < 0) {
    note_sleep(n);
    return true;
  }
  int64_t now = nanotime();
  int64_t deadline = ns > INT64_MAX - now ? INT64_MAX : now + ns;  // saturate: no overflow
  for (;;) {
    // Acquire: as in note_sleep.
    if (n->key.load(std::memory_order_acquire) != 0) return true;
    int64_t left = deadline - nanotime();
    if (left <= 0) return false;
    futex_wait(&n->key, 0, left);
  }
}

}  // namespace gmprt
