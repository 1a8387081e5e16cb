// chan.hpp -- Chan, Go's hchan: a lock, a ring buffer, and FIFO queues of
// waiting senders and receivers (chan.go).
//
// Invariants, under c->lock:
//   - at most one of sendq and recvq holds waiters that can proceed: a
//     sender that finds a receiver waiting hands its value over instead of
//     queueing (and the other way round). (A queue may also hold select
//     Sudogs already claimed by another case; they are skipped and removed
//     by whoever meets them.)
//   - buffered: a waiting sender implies a full buffer; a waiting receiver
//     implies an empty one. Unbuffered (dataqsiz 0): qcount is 0.
//   - closed never goes back to false; a closed channel has no waiting
//     senders (close wakes them all with GMP_ECLOSED) and no waiting
//     receivers once its buffer is drained.
//
// Lifetime. refs counts the user's references plus one per select Sudog
// queued on the channel (a select must lock it again after waking), so the
// channel outlives every select that waits on it. A plain blocked send or
// receive needs none: it never touches the channel after being served.
// A call that does not block touches the channel last when it releases the
// lock, before it wakes anybody: whoever it woke may drop the last
// reference and free the channel at once. That is the whole rule that lets
// a receiver release the channel right after taking its last value.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "../capi/include/gmprt.h"
#include "lock.hpp"
#include "sudog.hpp"

namespace gmprt {

struct Chan {
  Lock lock;
  bool closed = false;  // guarded by lock
  size_t qcount = 0;    // values in the buffer (guarded by lock)
  size_t dataqsiz = 0;  // capacity (constant)
  size_t elemsize = 0;  // constant
  size_t sendx = 0;     // next slot to fill (guarded by lock)
  size_t recvx = 0;     // next slot to take (guarded by lock)
  WaitQ recvq;          // blocked receivers (guarded by lock)
  WaitQ sendq;          // blocked senders (guarded by lock)
  std::atomic<int64_t> refs{1};
  char* buf = nullptr;  // dataqsiz * elemsize bytes, after the struct
};

// GMP_CHAN_ELEM_MAX and the largest buffer.
inline constexpr size_t kChanElemMax = 65536;
inline constexpr size_t kChanBufMax = size_t(1) << 40;

int chan_make(Chan** out, size_t elemsize, size_t capacity);  // 0, GMP_EINVAL, GMP_ENOMEM
void chan_retain(Chan* c);
void chan_release(Chan* c);

// chan_send / chan_recv: 0, GMP_ECLOSED, or (block false) GMP_EAGAIN.
// elem: the value (send), or where to store it (recv; null drops it).
int chan_send(Chan* c, const void* elem, bool block);
int chan_recv(Chan* c, void* elem, bool block);
int chan_close(Chan* c);  // 0 or GMP_ECLOSED
size_t chan_len(Chan* c);

// The halves select needs, called with c->lock held. chan_send_to and
// chan_recv_from complete the operation with a waiter s taken from the
// opposite queue (sudog_served); the caller then releases the lock(s) and
// calls sudog_wake(s).
void chan_send_to(Chan* c, Sudog* s, const void* elem);
void chan_recv_from(Chan* c, Sudog* s, void* elem);
// chan_buf_put / chan_buf_take: the buffer side (qcount < dataqsiz /
// qcount > 0), lock held and kept.
void chan_buf_put(Chan* c, const void* elem);
void chan_buf_take(Chan* c, void* elem);
// chan_recv_closed: a receive from a closed, drained channel: zero elem.
void chan_recv_closed(Chan* c, void* elem);

// select_go: Go's selectgo over the public case array (validated by the
// caller). Returns the chosen index, GMP_EAGAIN (timeout 0) or
// GMP_ETIMEDOUT; GMP_ENOMEM if a large select cannot get its scratch space.
int select_go(gmp_select_case_t* cases, size_t n, int64_t timeout_ns);

}  // namespace gmprt
