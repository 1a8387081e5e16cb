// select.cpp -- select_go, Go's selectgo: wait on several channel
// operations at once and perform exactly one.
//
// The passes (names as in Go):
//   0. pollorder: the cases with a channel, in a uniformly random order
//      (so that among ready cases each is chosen with equal probability);
//      lockorder: the same cases sorted by channel address, so that every
//      select locks channels in one global order and duplicates sit side by
//      side (each channel is locked once).
//   1. Lock all; look for a case that can proceed now, in poll order.
//      Found: do it, unlock all, return it. None and timeout 0: GMP_EAGAIN.
//   2. Enqueue one Sudog per case on its channel (all led by the first, see
//      sudog.hpp), then block; the unlock of every channel happens in the
//      park commit, after this waiter is committed to sleeping.
//   3. Woken: by a counterpart that claimed the select (lead->param is the
//      Sudog it completed) or by the deadline (param null). Lock all again,
//      take the other Sudogs off their queues, unlock, drop their channel
//      references.
// Scratch space (the orders and the Sudogs) lives on the stack for up to
// kSelectStackCases cases, on the heap beyond.
#include <stdlib.h>
#include <string.h>

#include <new>

#include "chan.hpp"
#include "rand.hpp"
#include "sched.hpp"
#include "sleep.hpp"

namespace gmprt {

namespace {

constexpr size_t kSelectStackCases = 8;

struct Select {
  gmp_select_case_t* cases;
  uint32_t* pollorder;
  uint32_t* lockorder;
  Sudog* sudogs;  // one per entry of lockorder, in the same order
  uint32_t n;     // cases with a channel
};

Chan* chan_of(const gmp_select_case_t& c) { return reinterpret_cast<Chan*>(c.chan); }

// heap sort of lockorder by channel address (no allocation, O(n log n)),
// for large selects.
void sift(Select* s, uint32_t root, uint32_t end) {
  uint32_t* o = s->lockorder;
  for (;;) {
    uint32_t child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && chan_of(s->cases[o[child]]) < chan_of(s->cases[o[child + 1]])) child++;
    if (!(chan_of(s->cases[o[root]]) < chan_of(s->cases[o[child]]))) return;
    uint32_t t = o[root];
    o[root] = o[child];
    o[child] = t;
    root = child;
  }
}

// insertion sort: fewer steps than the heap for the usual handful of cases.
void insertion_sort_lockorder(Select* s) {
  uint32_t* o = s->lockorder;
  for (uint32_t i = 1; i < s->n; i++) {
    uint32_t x = o[i];
    Chan* c = chan_of(s->cases[x]);
    uint32_t j = i;
    for (; j > 0 && c < chan_of(s->cases[o[j - 1]]); j--) o[j] = o[j - 1];
    o[j] = x;
  }
}

void sort_lockorder(Select* s) {
  if (s->n <= kSelectStackCases) {
    insertion_sort_lockorder(s);
    return;
  }
  for (uint32_t i = s->n / 2; i-- > 0;) sift(s, i, s->n);
  for (uint32_t end = s->n; end-- > 1;) {
    uint32_t t = s->lockorder[0];
    s->lockorder[0] = s->lockorder[end];
    s->lockorder[end] = t;
    sift(s, 0, end);
  }
}

// make_orders: pass 0.
void make_orders(Select* s, size_t ncases) {
  uint32_t n = 0;
  for (size_t i = 0; i < ncases; i++) {
    if (!s->cases[i].chan) continue;
    // Inside-out Fisher-Yates: case i lands at a uniform position.
    uint32_t j = fastrandn(n + 1);
    s->pollorder[n] = s->pollorder[j];
    s->pollorder[j] = uint32_t(i);
    n++;
  }
  s->n = n;
  memcpy(s->lockorder, s->pollorder, n * sizeof(uint32_t));
  sort_lockorder(s);
}

void sel_lock(Select* s) {
  Chan* prev = nullptr;
  for (uint32_t k = 0; k < s->n; k++) {
    Chan* c = chan_of(s->cases[s->lockorder[k]]);
    if (c != prev) c->lock.lock();
    prev = c;
  }
}

void sel_unlock(Select* s) {
  // Backwards, each channel once (its first occurrence in lock order is
  // where it was locked).
  for (uint32_t k = s->n; k-- > 0;) {
    Chan* c = chan_of(s->cases[s->lockorder[k]]);
    if (k > 0 && chan_of(s->cases[s->lockorder[k - 1]]) == c) continue;
    c->lock.unlock();
  }
}

void sel_unlock_fn(void* arg) { sel_unlock(static_cast<Select*>(arg)); }

// poll: pass 1, with every channel locked. Returns the index of the case
// it performed (and unlocked everything), or -1 with the locks kept.
int poll(Select* s) {
  for (uint32_t k = 0; k < s->n; k++) {
    uint32_t i = s->pollorder[k];
    gmp_select_case_t* cas = &s->cases[i];
    Chan* c = chan_of(*cas);
    Sudog* w = nullptr;
    if (cas->dir == GMP_RECV) {
      if ((w = c->sendq.dequeue())) {
        chan_recv_from(c, w, cas->elem);
      } else if (c->qcount > 0) {
        chan_buf_take(c, cas->elem);
      } else if (c->closed) {
        chan_recv_closed(c, cas->elem);
        cas->result = GMP_ECLOSED;
        sel_unlock(s);
        return int(i);
      } else {
        continue;
      }
    } else {
      if (c->closed) {
        cas->result = GMP_ECLOSED;
        sel_unlock(s);
        return int(i);
      }
      if ((w = c->recvq.dequeue())) {
        chan_send_to(c, w, cas->elem);
      } else if (c->qcount < c->dataqsiz) {
        chan_buf_put(c, cas->elem);
      } else {
        continue;
      }
    }
    cas->result = 0;
    sel_unlock(s);
    if (w) sudog_wake(w);
    return int(i);
  }
  return -1;
}

// init_sudogs: one Sudog per case in lock order, all led by the first. The
// scratch space is raw memory: construct them here.
void init_sudogs(Select* s) {
  Sudog* lead = &s->sudogs[0];
  G* g = current_g();
  for (uint32_t k = 0; k < s->n; k++) {
    gmp_select_case_t* cas = &s->cases[s->lockorder[k]];
    Sudog* sg = new (&s->sudogs[k]) Sudog();  // what sudog_init would set
    sg->g = g;
    sg->lead = lead;
    sg->is_select = true;
    sg->elem = cas->elem;
    sg->c = chan_of(*cas);
  }
}

// enqueue_all: pass 2 up to the block. Locks held.
void enqueue_all(Select* s) {
  for (uint32_t k = 0; k < s->n; k++) {
    gmp_select_case_t* cas = &s->cases[s->lockorder[k]];
    Chan* c = chan_of(*cas);
    Sudog* sg = &s->sudogs[k];
    (cas->dir == GMP_RECV ? c->recvq : c->sendq).enqueue(sg);
    // Relaxed: under c->lock; the reference keeps c alive for pass 3.
    c->refs.fetch_add(1, std::memory_order_relaxed);
  }
}

// dequeue_all: pass 3. Returns the index of the case that completed, or -1
// for a timeout.
int dequeue_all(Select* s) {
  Sudog* won = s->sudogs[0].param;
  int chosen = -1;
  sel_lock(s);
  for (uint32_t k = 0; k < s->n; k++) {
    Sudog* sg = &s->sudogs[k];
    gmp_select_case_t* cas = &s->cases[s->lockorder[k]];
    if (sg == won) {
      chosen = int(s->lockorder[k]);
      cas->result = sg->success ? 0 : GMP_ECLOSED;
      continue;
    }
    Chan* c = chan_of(*cas);
    (cas->dir == GMP_RECV ? c->recvq : c->sendq).remove(sg);
  }
  sel_unlock(s);
  for (uint32_t k = 0; k < s->n; k++) chan_release(chan_of(s->cases[s->lockorder[k]]));
  return chosen;
}

// block_forever: select {} (or only NULL channels): park for good, counted
// asleep by the deadlock detector.
void block_forever(WaitReason reason) {
  Sudog s;
  sudog_init(&s);
  sudog_block(
      &s, [](void*) {}, nullptr, reason);
}

// select_nothing: no case can ever proceed.
int select_nothing(size_t ncases, int64_t timeout_ns) {
  if (timeout_ns == 0) return GMP_EAGAIN;
  if (timeout_ns > 0) {
    time_sleep(timeout_ns);
    return GMP_ETIMEDOUT;
  }
  for (;;) block_forever(ncases == 0 ? WaitReason::select_no_cases : WaitReason::select);
}

int select_run(Select* s, size_t ncases, int64_t timeout_ns) {
  make_orders(s, ncases);
  if (s->n == 0) return select_nothing(ncases, timeout_ns);
  Sudog* lead = &s->sudogs[0];
  int64_t deadline = timeout_ns > 0 ? deadline_after(timeout_ns) : -1;
  // The Sudogs are needed only to block; a goroutine's deadline needs its
  // lead before any lock is taken.
  bool timed = deadline >= 0 && current_g();
  if (timed) init_sudogs(s);
  SudogDeadline d;
  if (timed) sudog_deadline_arm(&d, lead, deadline, WaitReason::select);
  sel_lock(s);
  int i = poll(s);
  if (i < 0 && timeout_ns == 0) {
    sel_unlock(s);
    i = GMP_EAGAIN;
  }
  if (i != -1) {
    sudog_deadline_disarm(&d, false);
    return i;
  }
  if (!timed) init_sudogs(s);
  enqueue_all(s);
  sudog_block_until(lead, sel_unlock_fn, s, WaitReason::select, deadline);
  sudog_deadline_disarm(&d, true);
  i = dequeue_all(s);
  return i >= 0 ? i : GMP_ETIMEDOUT;
}

}  // namespace

int select_go(gmp_select_case_t* cases, size_t n, int64_t timeout_ns) {
  Select s;
  s.cases = cases;
  uint32_t orders[2 * kSelectStackCases];
  // Raw storage: only the Sudogs a blocking select queues are constructed
  // (enqueue_all); Sudog is trivially destructible.
  alignas(Sudog) unsigned char sudogs[kSelectStackCases * sizeof(Sudog)];
  void* heap = nullptr;
  if (n <= kSelectStackCases) {
    s.pollorder = orders;
    s.lockorder = orders + kSelectStackCases;
    s.sudogs = reinterpret_cast<Sudog*>(sudogs);
  } else {
    heap = malloc(n * (2 * sizeof(uint32_t) + sizeof(Sudog)));
    if (!heap) return GMP_ENOMEM;
    s.sudogs = static_cast<Sudog*>(heap);
    s.pollorder = reinterpret_cast<uint32_t*>(s.sudogs + n);
    s.lockorder = s.pollorder + n;
  }
  int rc = select_run(&s, n, timeout_ns);
  free(heap);
  return rc;
}

}  // namespace gmprt
