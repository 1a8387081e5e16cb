// list.hpp -- intrusive lists of Gs linked through G::schedlink (Go's gList
// and gQueue). A G is on at most one such list at a time: a run queue, a
// free list or a batch in transit. Not thread-safe: the owner of the list
// (a lock, or a single thread) guards it.
#pragma once

#include <stdint.h>

namespace gmprt {

struct G;
G*& schedlink(G* g);

// GList: a LIFO stack.
struct GList {
  G* head = nullptr;

  bool empty() const { return head == nullptr; }
  void push(G* g) {
    schedlink(g) = head;
    head = g;
  }
  G* pop() {
    G* g = head;
    if (g) head = schedlink(g);
    return g;
  }
};

// GQueue: a FIFO queue with O(1) push at both ends and batch append.
struct GQueue {
  G* head = nullptr;
  G* tail = nullptr;

  bool empty() const { return head == nullptr; }
  void push_back(G* g) {
    schedlink(g) = nullptr;
    if (tail)
      schedlink(tail) = g;
    else
      head = g;
    tail = g;
  }
  void push_front(G* g) {
    schedlink(g) = head;
    head = g;
    if (!tail) tail = g;
  }
  // push_back_all: move every G of q to the back of this queue.
  void push_back_all(GQueue& q) {
    if (q.empty()) return;
    if (tail)
      schedlink(tail) = q.head;
    else
      head = q.head;
    tail = q.tail;
    q.head = q.tail = nullptr;
  }
  G* pop() {
    G* g = head;
    if (g) {
      head = schedlink(g);
      if (!head) tail = nullptr;
    }
    return g;
  }
  // count: the number of Gs (a walk: for batches about to be queued).
  int32_t count() const {
    int32_t n = 0;
    for (G* g = head; g; g = schedlink(g)) n++;
    return n;
  }
};

}  // namespace gmprt
