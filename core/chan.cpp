// chan.cpp -- channels (Go's chan.go): send, receive, close, and the wait
// queues. Invariants and the lifetime rule are in chan.hpp.
//
// Every operation takes c->lock and then, in Go's order:
//   send: closed -> GMP_ECLOSED; a waiting receiver -> copy straight into
//         its destination (chan_send_to); room in the buffer -> enqueue the
//         value; else block (or GMP_EAGAIN) on sendq.
//   recv: a waiting sender -> take from it (unbuffered: straight from the
//         sender; full buffer: the head, and the sender's value goes to the
//         tail, chan_recv_from); a value in the buffer -> take it; closed ->
//         GMP_ECLOSED with a zeroed value; else block on recvq.
// A blocked waiter is completed by its counterpart, which copies the value
// and sets success (false for close) before waking it; the waiter itself
// never touches the channel again except to drop its queue reference.
#include <stdlib.h>
#include <string.h>

#include <new>

#include "chan.hpp"
#include "sched.hpp"

namespace gmprt {

// ---------------------------------------------------------------------------
// Life cycle.

int chan_make(Chan** out, size_t elemsize, size_t capacity) {
  if (elemsize > kChanElemMax) return GMP_EINVAL;
  if (elemsize && capacity > kChanBufMax / elemsize) return GMP_EINVAL;
  size_t head = (sizeof(Chan) + 15) & ~size_t(15);  // the buffer is 16-aligned
  void* mem = malloc(head + elemsize * capacity);
  if (!mem) return GMP_ENOMEM;
  Chan* c = new (mem) Chan();
  c->dataqsiz = capacity;
  c->elemsize = elemsize;
  c->buf = static_cast<char*>(mem) + head;
  *out = c;
  return 0;
}

void chan_retain(Chan* c) {
  // Relaxed: the caller already holds a reference, so the count cannot
  // reach zero meanwhile (as for shared_ptr).
  c->refs.fetch_add(1, std::memory_order_relaxed);
}

void chan_release(Chan* c) {
  // acq_rel: the last releaser sees every other holder's writes (Acquire)
  // and publishes its own (Release) before freeing.
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  c->~Chan();
  free(c);
}

size_t chan_len(Chan* c) {
  LockGuard guard(c->lock);
  return c->qcount;
}

// ---------------------------------------------------------------------------
// The buffer.

namespace {

char* slot(Chan* c, size_t i) { return c->buf + i * c->elemsize; }

void copy_elem(Chan* c, void* dst, const void* src) {
  if (!dst) return;
  if (c->elemsize == sizeof(uint64_t)) {
    memcpy(dst, src, sizeof(uint64_t));  // the common word-sized element, inline
  } else if (c->elemsize) {
    memcpy(dst, src, c->elemsize);
  }
}

size_t next_index(Chan* c, size_t i) { return ++i == c->dataqsiz ? 0 : i; }

void unlock_chan(void* arg) { static_cast<Chan*>(arg)->lock.unlock(); }

}  // namespace

void chan_buf_put(Chan* c, const void* elem) {
  copy_elem(c, slot(c, c->sendx), elem);
  c->sendx = next_index(c, c->sendx);
  c->qcount++;
}

void chan_buf_take(Chan* c, void* elem) {
  char* p = slot(c, c->recvx);
  copy_elem(c, elem, p);
  c->recvx = next_index(c, c->recvx);
  c->qcount--;
}

void chan_recv_closed(Chan* c, void* elem) {
  if (elem && c->elemsize) memset(elem, 0, c->elemsize);
}

void chan_send_to(Chan* c, Sudog* s, const void* elem) {
  copy_elem(c, s->elem, elem);  // straight into the receiver's destination
  sudog_served(s, true);
}

void chan_recv_from(Chan* c, Sudog* s, void* elem) {
  if (c->dataqsiz == 0) {
    copy_elem(c, elem, s->elem);  // straight from the sender
  } else {
    // The buffer is full: take its head, and the sender's value becomes
    // the tail (the slot just freed), so FIFO order holds.
    char* p = slot(c, c->recvx);
    copy_elem(c, elem, p);
    copy_elem(c, p, s->elem);
    c->recvx = next_index(c, c->recvx);
    c->sendx = c->recvx;
  }
  sudog_served(s, true);
}

// ---------------------------------------------------------------------------
// Send, receive, close.

namespace {

// block_on: queue a Sudog for the calling goroutine or thread on q and
// sleep until served (c->lock held on entry, released). Returns success.
// Unlike a select's, this Sudog takes no channel reference: only a
// counterpart that holds one can serve it, and once served the waiter never
// touches the channel again. (A channel whose last reference goes while
// somebody waits on it can never wake that waiter: freeing it is unseen.)
bool block_on(Chan* c, WaitQ* q, void* elem, WaitReason reason) {
  Sudog s;
  sudog_init(&s);
  s.elem = elem;
  s.c = c;
  q->enqueue(&s);
  sudog_block(&s, unlock_chan, c, reason);
  return s.success;
}

}  // namespace

int chan_send(Chan* c, const void* elem, bool block) {
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    return GMP_ECLOSED;
  }
  if (Sudog* s = c->recvq.dequeue()) {
    chan_send_to(c, s, elem);
    c->lock.unlock();
    sudog_wake(s);
    return 0;
  }
  if (c->qcount < c->dataqsiz) {
    chan_buf_put(c, elem);
    c->lock.unlock();
    return 0;
  }
  if (!block) {
    c->lock.unlock();
    return GMP_EAGAIN;
  }
  return block_on(c, &c->sendq, const_cast<void*>(elem), WaitReason::chan_send) ? 0 : GMP_ECLOSED;
}

int chan_recv(Chan* c, void* elem, bool block) {
  c->lock.lock();
  if (Sudog* s = c->sendq.dequeue()) {
    chan_recv_from(c, s, elem);
    c->lock.unlock();
    sudog_wake(s);
    return 0;
  }
  if (c->qcount > 0) {
    chan_buf_take(c, elem);
    c->lock.unlock();
    return 0;
  }
  if (c->closed) {
    c->lock.unlock();
    chan_recv_closed(c, elem);
    return GMP_ECLOSED;
  }
  if (!block) {
    c->lock.unlock();
    return GMP_EAGAIN;
  }
  // Woken by close: chan_close has zeroed the value.
  return block_on(c, &c->recvq, elem, WaitReason::chan_receive) ? 0 : GMP_ECLOSED;
}

namespace {

// serve_closed: every waiter of q learns the channel closed (receivers get
// a zeroed value) and joins the list to wake once the lock is released.
void serve_closed(Chan* c, WaitQ* q, bool receivers, Sudog** woken) {
  while (Sudog* s = q->dequeue()) {
    if (receivers) chan_recv_closed(c, s->elem);
    sudog_served(s, false);
    s->waitlink = *woken;
    *woken = s;
  }
}

}  // namespace

int chan_close(Chan* c) {
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    return GMP_ECLOSED;
  }
  c->closed = true;
  // Collect every waiter under the lock, wake them after releasing it (the
  // first woken may free the channel). Receivers get a zeroed value.
  Sudog* woken = nullptr;
  serve_closed(c, &c->recvq, true, &woken);
  serve_closed(c, &c->sendq, false, &woken);
  c->lock.unlock();
  while (woken) {
    Sudog* s = woken;
    woken = s->waitlink;  // read before the wake: s may vanish after it
    sudog_wake(s);
  }
  return 0;
}

}  // namespace gmprt
