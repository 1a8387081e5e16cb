// sudog_test.cpp -- the waiter type: goroutines and plain threads block on
// one queue and are woken by goroutines and plain threads alike.
#include "core/sudog.hpp"

#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/lock.hpp"

namespace {

using gmprt::Lock;
using gmprt::Sudog;

// WaitQueue: the smallest blocking object: a FIFO of Sudogs under a Lock.
struct WaitQueue {
  Lock lock;
  Sudog* head = nullptr;
  Sudog* tail = nullptr;
  int tokens = 0;  // wakeups not yet consumed (so no wakeup is lost)

  static void unlock(void* q) { static_cast<WaitQueue*>(q)->lock.unlock(); }

  // wait: consume a token or block until one is handed over.
  void wait() {
    lock.lock();
    if (tokens > 0) {
      tokens--;
      lock.unlock();
      return;
    }
    Sudog s;
    gmprt::sudog_init(&s);
    s.prev = tail;
    if (tail)
      tail->next = &s;
    else
      head = &s;
    tail = &s;
    gmprt::sudog_block(&s, unlock, this, gmprt::WaitReason::semacquire);
    EXPECT_TRUE(s.success);
  }

  // post: hand a token to the longest waiter, or keep it.
  void post() {
    lock.lock();
    Sudog* s = head;
    if (!s) {
      tokens++;
      lock.unlock();
      return;
    }
    head = s->next;
    if (head)
      head->prev = nullptr;
    else
      tail = nullptr;
    s->success = true;
    lock.unlock();
    gmprt::sudog_wake(s);
  }
};

struct Shared {
  WaitQueue q;
  std::atomic<int> woken{0};
  std::atomic<int> done{0};
};

void goroutine_waiter(void* arg) {
  auto* sh = static_cast<Shared*>(arg);
  sh->q.wait();
  sh->woken.fetch_add(1);
  sh->done.fetch_add(1);
}

void goroutine_poster(void* arg) {
  auto* sh = static_cast<Shared*>(arg);
  sh->q.post();
  sh->done.fetch_add(1);
}

TEST(Sudog, GoroutinesAndThreadsWaitAndWakeEachOther) {
  ASSERT_EQ(gmp_init(), 0);
  constexpr int kG = 200, kT = 4;
  Shared sh;
  // Waiters: kG goroutines and kT plain threads. Posters: as many, half from
  // goroutines and half from plain threads, interleaved with the waiters.
  std::vector<std::thread> threads;
  for (int i = 0; i < kT; i++) threads.emplace_back([&] {
    sh.q.wait();
    sh.woken.fetch_add(1);
  });
  for (int i = 0; i < kG; i++) ASSERT_EQ(gmp_go(goroutine_waiter, &sh), 0);
  for (int i = 0; i < (kG + kT) / 2; i++) ASSERT_EQ(gmp_go(goroutine_poster, &sh), 0);
  for (int i = 0; i < (kG + kT) - (kG + kT) / 2; i++) threads.emplace_back([&] { sh.q.post(); });
  for (auto& t : threads) t.join();
  // Every waiter got exactly one wakeup: bounded wait for the goroutines.
  for (int i = 0; i < 60000 && sh.woken.load() < kG + kT; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(sh.woken.load(), kG + kT);
  EXPECT_EQ(sh.q.tokens, 0);
  for (int i = 0; i < 60000 && sh.done.load() < kG + (kG + kT) / 2; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST(Sudog, InitRecordsTheCallerKind) {
  Sudog s;
  gmprt::sudog_init(&s);
  EXPECT_EQ(s.g, nullptr);  // a plain thread
  EXPECT_EQ(s.woken.load(), 0u);
}

}  // namespace
