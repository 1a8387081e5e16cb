// sema_test.cpp -- white-box tests of the semtable, the notify list and the
// sync types' words (core/sema.hpp, core/sync.hpp): queue order observed
// through sema_nwait, hand-off against barging, tickets served before their
// waiter queues, refused calls leaving every word as it was, starvation mode
// engaging and disengaging, and all-zero bytes being each type's initial
// state.
#include "core/sema.hpp"

#include <gmprt.h>
#include <gtest/gtest.h>
#include <string.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <new>
#include <thread>
#include <vector>

#include "core/sync.hpp"

namespace {

using namespace gmprt;

// wait_for: poll pred (bounded; liveness only).
template <class Pred>
bool wait_for(Pred&& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (gmp_self())
      gmp_yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

void run_closure(void* arg) {
  auto* f = static_cast<std::function<void()>*>(arg);
  (*f)();
  delete f;
}

// start: body on a goroutine (even i) or a plain thread (odd i).
void start(int i, std::vector<std::thread>* threads, std::function<void()> body) {
  if (i % 2) {
    threads->emplace_back(std::move(body));
    return;
  }
  ASSERT_EQ(gmp_go(run_closure, new std::function<void()>(std::move(body))), 0);
}

// zero_initialised: constructing T over zero bytes leaves them all zero,
// i.e. every member's initial value is 0 and all-zero storage is a T ready
// to use (what the public zero-value types rely on).
template <class T>
bool zero_initialised() {
  alignas(T) unsigned char buf[sizeof(T)];
  memset(buf, 0, sizeof buf);
  T* t = new (buf) T();
  static const unsigned char zero[sizeof(T)] = {};
  bool ok = memcmp(buf, zero, sizeof buf) == 0;
  t->~T();
  return ok;
}

TEST(SyncCore, AllZeroIsTheInitialState) {
  EXPECT_TRUE(zero_initialised<Mutex>());
  EXPECT_TRUE(zero_initialised<RWMutex>());
  EXPECT_TRUE(zero_initialised<NotifyList>());
  EXPECT_TRUE(zero_initialised<WaitGroup>());
  EXPECT_TRUE(zero_initialised<Once>());
  EXPECT_TRUE(zero_initialised<Sema>());
}

// Waiters, goroutines and threads alternately, queue in the order they
// arrive; releases serve them in that order, with or without hand-off.
TEST(SyncCore, SemaServesWaitersFirstInFirstOut) {
  ASSERT_EQ(gmp_init(), 0);
  for (bool handoff : {false, true}) {
    constexpr int kWaiters = 8;
    std::atomic<uint32_t> word{0};
    std::atomic<int> seq{0}, recorded{0};
    std::atomic<int> order[kWaiters];
    for (auto& o : order) o = -1;
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; i++) {
      start(i, &threads, [&, i] {
        semacquire(&word, false, WaitReason::semacquire);
        order[i] = seq++;
        recorded++;  // after order[i]: the test thread reads it then
      });
      ASSERT_TRUE(wait_for([&] { return sema_nwait(&word) == i + 1; })) << i;
    }
    for (int k = 0; k < kWaiters; k++) {
      semrelease(&word, handoff);
      ASSERT_TRUE(wait_for([&] { return recorded.load() == k + 1; }));
      EXPECT_EQ(order[k].load(), k) << "handoff " << handoff;
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(word.load(), 0u);
    EXPECT_EQ(sema_nwait(&word), 0);
  }
}

// With hand-off the unit is the waiter's before semrelease returns: a caller
// trying to take it right after cannot.
TEST(SyncCore, HandoffCannotBeBargedInto) {
  ASSERT_EQ(gmp_init(), 0);
  for (int i = 0; i < 20; i++) {
    std::atomic<uint32_t> word{0};
    std::atomic<bool> got{false};
    std::vector<std::thread> threads;
    start(i, &threads, [&] {
      semacquire(&word, false, WaitReason::semacquire);
      got = true;
    });
    ASSERT_TRUE(wait_for([&] { return sema_nwait(&word) == 1; }));
    semrelease(&word, true);
    EXPECT_FALSE(cansemacquire(&word)) << "round " << i;
    ASSERT_TRUE(wait_for([&] { return got.load(); }));
    for (auto& t : threads) t.join();
    EXPECT_EQ(word.load(), 0u);
  }
}

// Without hand-off a caller may take the unit before the woken waiter runs;
// the waiter then goes back to the head of the queue, ahead of later ones.
TEST(SyncCore, WaiterThatLostTheUnitKeepsItsPlace) {
  ASSERT_EQ(gmp_init(), 0);
  for (int round = 0; round < 20; round++) {
    std::atomic<uint32_t> word{0};
    std::atomic<int> seq{0}, a_order{-1}, b_order{-1};
    std::vector<std::thread> threads;
    start(round, &threads, [&] {
      semacquire(&word, false, WaitReason::semacquire);
      a_order = seq++;
    });
    ASSERT_TRUE(wait_for([&] { return sema_nwait(&word) == 1; }));
    start(round + 1, &threads, [&] {
      semacquire(&word, false, WaitReason::semacquire);
      b_order = seq++;
    });
    ASSERT_TRUE(wait_for([&] { return sema_nwait(&word) == 2; }));
    semrelease(&word, false);
    if (cansemacquire(&word)) {  // stolen: A must queue again, at the head
      ASSERT_TRUE(wait_for([&] { return sema_nwait(&word) == 2; }));
      EXPECT_EQ(a_order.load(), -1);
      semrelease(&word, false);
    }
    ASSERT_TRUE(wait_for([&] { return a_order.load() != -1 || b_order.load() != -1; }));
    EXPECT_EQ(a_order.load(), 0) << "round " << round;
    EXPECT_EQ(b_order.load(), -1) << "round " << round;
    semrelease(&word, false);
    ASSERT_TRUE(wait_for([&] { return b_order.load() != -1; }));
    EXPECT_EQ(b_order.load(), 1);
    for (auto& t : threads) t.join();
  }
}

// Waiters on different words of one bucket do not wake each other. Words
// 251 * 8 bytes apart share a bucket.
TEST(SyncCore, WordsSharingABucketAreSeparate) {
  ASSERT_EQ(gmp_init(), 0);
  static std::atomic<uint32_t> words[251 * 2 + 1];
  std::atomic<uint32_t>* a = &words[0];
  std::atomic<uint32_t>* b = &words[251 * 2];  // 251 * 8 bytes further on
  std::atomic<int> a_done{0}, b_done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    start(i, &threads, [&, i] {
      if (i < 2) {
        semacquire(a, false, WaitReason::semacquire);
        a_done++;
      } else {
        semacquire(b, false, WaitReason::semacquire);
        b_done++;
      }
    });
  }
  ASSERT_TRUE(wait_for([&] { return sema_nwait(a) == 2 && sema_nwait(b) == 2; }));
  semrelease(b, false);
  semrelease(b, true);
  ASSERT_TRUE(wait_for([&] { return b_done.load() == 2; }));
  EXPECT_EQ(a_done.load(), 0);
  EXPECT_EQ(sema_nwait(a), 2);
  semrelease(a, true);
  semrelease(a, false);
  ASSERT_TRUE(wait_for([&] { return a_done.load() == 2; }));
  for (auto& t : threads) t.join();
}

// A ticket served before its waiter queues: the wait returns at once.
TEST(SyncCore, NotifyListTicketServedBeforeWait) {
  NotifyList l;
  notify_list_notify_one(&l);  // no ticket: nothing to serve
  notify_list_notify_all(&l);
  EXPECT_EQ(l.notify.load(), 0u);
  uint32_t t0 = notify_list_add(&l);
  uint32_t t1 = notify_list_add(&l);
  uint32_t t2 = notify_list_add(&l);
  notify_list_notify_one(&l);  // serves t0 only
  EXPECT_EQ(l.notify.load(), 1u);
  notify_list_wait(&l, t0, WaitReason::sync_cond_wait);  // returns at once
  notify_list_notify_all(&l);                            // serves t1 and t2
  notify_list_wait(&l, t1, WaitReason::sync_cond_wait);
  notify_list_wait(&l, t2, WaitReason::sync_cond_wait);
  EXPECT_EQ(l.notify.load(), l.wait.load());
  EXPECT_EQ(l.head, nullptr);
}

// Tickets near the wrap-around of the 32-bit counters still order right.
TEST(SyncCore, NotifyListTicketsWrap) {
  NotifyList l;
  l.wait = l.notify = 0xfffffffeu;
  uint32_t t[4];
  for (auto& x : t) x = notify_list_add(&l);
  EXPECT_EQ(t[2], 0u);
  notify_list_notify_one(&l);
  notify_list_notify_one(&l);
  notify_list_notify_one(&l);
  for (int i = 0; i < 3; i++) notify_list_wait(&l, t[i], WaitReason::sync_cond_wait);
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    notify_list_wait(&l, t[3], WaitReason::sync_cond_wait);
    returned = true;
  });
  ASSERT_TRUE(wait_for([&] {
    LockGuard g(l.lock);
    return l.head != nullptr;
  }));
  EXPECT_FALSE(returned.load());
  notify_list_notify_one(&l);
  waiter.join();
  EXPECT_TRUE(returned.load());
}

// Refused unlocks leave the state word exactly as it was, whatever the
// other bits say.
TEST(SyncCore, RefusedMutexUnlockChangesNothing) {
  Mutex m;
  EXPECT_EQ(mutex_unlock(&m), GMP_EPERM);
  EXPECT_EQ(m.state.load(), 0);
  const int32_t odd_states[] = {kMutexWoken, kMutexStarving | (2 << kMutexWaiterShift),
                                kMutexWoken | (5 << kMutexWaiterShift)};
  for (int32_t s : odd_states) {
    m.state = s;
    EXPECT_EQ(mutex_unlock(&m), GMP_EPERM);
    EXPECT_EQ(m.state.load(), s);
    EXPECT_EQ(m.sema.load(), 0u);
    if (s & kMutexStarving) {
      EXPECT_FALSE(mutex_trylock(&m)) << "took it from a starving waiter";
    }
  }
}

TEST(SyncCore, RWMutexWordsThroughLockAndMisuse) {
  RWMutex rw;
  const uint64_t writer_holds = uint64_t(uint32_t(-kRWMutexMaxReaders)) << 32;
  rwmutex_lock(&rw);
  EXPECT_EQ(rw.readers.load(), writer_holds);
  EXPECT_EQ(rwmutex_runlock(&rw), GMP_EPERM);
  EXPECT_EQ(rw.readers.load(), writer_holds);
  EXPECT_EQ(rwmutex_unlock(&rw), 0);
  EXPECT_EQ(rw.readers.load(), 0u);
  EXPECT_EQ(rwmutex_unlock(&rw), GMP_EPERM);
  rwmutex_rlock(&rw);
  rwmutex_rlock(&rw);
  EXPECT_EQ(rw.readers.load(), 2 * kOneReader);
  EXPECT_EQ(rwmutex_unlock(&rw), GMP_EPERM);
  EXPECT_EQ(rw.readers.load(), 2 * kOneReader);
  EXPECT_EQ(rwmutex_runlock(&rw), 0);
  EXPECT_EQ(rwmutex_runlock(&rw), 0);
  EXPECT_EQ(rw.readers.load(), 0u);
  EXPECT_EQ(rw.w.state.load(), 0);
  EXPECT_EQ(rw.writer_sem.load(), 0u);
  EXPECT_EQ(rw.reader_sem.load(), 0u);
}

// A writer waiting for two readers: readerWait counts exactly the readers
// still inside; the last one out lets the writer in.
TEST(SyncCore, RWMutexWriterWaitsForTheReadersInside) {
  RWMutex rw;
  rwmutex_rlock(&rw);
  rwmutex_rlock(&rw);
  std::atomic<bool> in{false};
  std::thread writer([&] {
    rwmutex_lock(&rw);
    in = true;
    EXPECT_EQ(rwmutex_unlock(&rw), 0);
  });
  ASSERT_TRUE(wait_for([&] { return sema_nwait(&rw.writer_sem) == 1; }));
  uint64_t word = rw.readers.load();
  EXPECT_EQ(int32_t(uint32_t(word >> 32)), 2 - kRWMutexMaxReaders);
  EXPECT_EQ(uint32_t(word), 2u);
  EXPECT_EQ(rwmutex_runlock(&rw), 0);
  EXPECT_EQ(uint32_t(rw.readers.load()), 1u);
  EXPECT_FALSE(in.load());
  EXPECT_EQ(rwmutex_runlock(&rw), 0);
  writer.join();
  EXPECT_TRUE(in.load());
  EXPECT_EQ(rw.readers.load(), 0u);
}

// A waitgroup's add that reaches 0 clears the waiter count in the same
// step; a refused add leaves the word alone.
TEST(SyncCore, WaitGroupWord) {
  WaitGroup wg;
  EXPECT_EQ(waitgroup_add(&wg, 3), 0);
  EXPECT_EQ(wg.state.load(), uint64_t(3) << 32);
  std::thread waiter([&] { waitgroup_wait(&wg); });
  ASSERT_TRUE(wait_for([&] { return sema_nwait(&wg.sema) == 1; }));
  EXPECT_EQ(wg.state.load(), (uint64_t(3) << 32) | 1);
  EXPECT_EQ(waitgroup_add(&wg, -4), GMP_EINVAL);
  EXPECT_EQ(wg.state.load(), (uint64_t(3) << 32) | 1);
  EXPECT_EQ(waitgroup_add(&wg, -3), 0);
  EXPECT_EQ(wg.state.load(), 0u);
  waiter.join();
  EXPECT_EQ(wg.sema.load(), 0u);
}

// A hog holding the mutex nearly all the time (2 ms per round, relocking at
// once): a waiter that loses to it after sleeping past the threshold sets
// starvation mode and gets the lock handed over, and the mutex leaves
// starvation mode again once the queue is empty. Liveness only: the waiter
// tries until the hog has seen the mode (a bounded number of rounds).
TEST(SyncCore, StarvationModeEngagesAndEnds) {
  ASSERT_EQ(gmp_init(), 0);
  Mutex m;
  std::atomic<bool> stop{false}, seen_starving{false};
  std::thread hog([&] {
    while (!stop.load()) {
      mutex_lock(&m, WaitReason::sync_mutex_lock);
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
      while (std::chrono::steady_clock::now() < until) {
      }
      if (m.state.load() & kMutexStarving) seen_starving = true;  // set by the waiter meanwhile
      EXPECT_EQ(mutex_unlock(&m), 0);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int rounds = 0;
  while (!seen_starving.load() && std::chrono::steady_clock::now() < deadline) {
    mutex_lock(&m, WaitReason::sync_mutex_lock);
    EXPECT_EQ(mutex_unlock(&m), 0);
    rounds++;
  }
  stop = true;
  hog.join();
  EXPECT_TRUE(seen_starving.load()) << "no waiter starved in " << rounds << " rounds";
  EXPECT_EQ(m.state.load(), 0);
}

TEST(SyncCore, CanSpinOnlyAFewTimes) {
  EXPECT_FALSE(can_spin(4));
  EXPECT_FALSE(can_spin(100));
}

}  // namespace
