// park_test.cpp -- the Parking section of gmprt.h: gmp_self, gmp_park,
// gmp_ready, from goroutines and from plain threads, including a ready that
// arrives before the park and the commit protocol.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

class Park : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(Park);

TEST(ParkPlain, SelfIsNullOnPlainThread) {
  EXPECT_EQ(gmp_self(), nullptr);
  gmp_g_t* in_thread = reinterpret_cast<gmp_g_t*>(1);
  std::thread([&] { in_thread = gmp_self(); }).join();
  EXPECT_EQ(in_thread, nullptr);
}

TEST(ParkPlain, SelfIsStableAndDistinct) {
  constexpr int kN = 64;
  auto selves = std::make_shared<std::vector<std::atomic<gmp_g_t*>>>(kN);
  auto stable = std::make_shared<std::atomic<int>>(0);
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto done = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kN; i++) {
    ASSERT_EQ(go([=] {
                gmp_g_t* me = gmp_self();
                (*selves)[i] = me;
                bool same = me != nullptr;
                // All of them stay alive until every handle is recorded, so
                // no two can share a handle by reuse.
                while (!release->load()) {
                  gmp_yield();
                  same &= gmp_self() == me;
                }
                if (same) (*stable)++;
                (*done)++;
              }),
              GMP_OK);
  }
  ASSERT_TRUE(wait_until([&] {
    for (auto& s : *selves) {
      if (!s.load()) return false;
    }
    return true;
  }));
  *release = true;
  ASSERT_TRUE(wait_until([&] { return done->load() == kN; }));
  EXPECT_EQ(stable->load(), kN);
  std::vector<gmp_g_t*> v;
  for (auto& s : *selves) v.push_back(s.load());
  std::sort(v.begin(), v.end());
  EXPECT_EQ(std::adjacent_find(v.begin(), v.end()), v.end());
}

TEST_P(Park, ReadyFromGoroutine) {
  constexpr int kPairs = 50;
  std::vector<std::shared_ptr<Parked>> ps;
  for (int i = 0; i < kPairs; i++) {
    auto p = std::make_shared<Parked>();
    ps.push_back(p);
    ASSERT_EQ(go([p] { park_here(p.get()); }), GMP_OK);
    ASSERT_EQ(go([p] { EXPECT_TRUE(wake_when_parked(p.get())); }), GMP_OK);
  }
  for (auto& p : ps) EXPECT_TRUE(wait_until([&] { return p->resumed.load() == 1; }));
}

TEST_P(Park, ReadyFromStdThread) {
  for (int i = 0; i < 100; i++) {
    auto p = std::make_shared<Parked>();
    ASSERT_EQ(go([p] { park_here(p.get()); }), GMP_OK);
    std::thread waker([p] { EXPECT_TRUE(wake_when_parked(p.get())); });
    waker.join();
    ASSERT_TRUE(wait_until([&] { return p->resumed.load() == 1; })) << "round " << i;
  }
}

void* pthread_waker(void* arg) {
  wake_when_parked(static_cast<Parked*>(arg));
  return nullptr;
}

TEST_P(Park, ReadyFromPthread) {
  for (int i = 0; i < 50; i++) {
    auto p = std::make_shared<Parked>();
    ASSERT_EQ(go([p] { park_here(p.get()); }), GMP_OK);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, nullptr, pthread_waker, p.get()), 0);
    ASSERT_EQ(pthread_join(t, nullptr), 0);
    ASSERT_TRUE(wait_until([&] { return p->resumed.load() == 1; })) << "round " << i;
  }
}

// Many parked goroutines, readied by several threads at once.
TEST_P(Park, ReadyManyFromManyThreads) {
  constexpr int kN = 2000, kThreads = 4;
  std::vector<std::shared_ptr<Parked>> ps;
  for (int i = 0; i < kN; i++) {
    auto p = std::make_shared<Parked>();
    ps.push_back(p);
    ASSERT_EQ(go([p] { park_here(p.get()); }), GMP_OK);
  }
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&ps, t] {
      for (int i = t; i < kN; i += kThreads) EXPECT_TRUE(wake_when_parked(ps[i].get()));
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_TRUE(wait_until([&] {
    for (auto& p : ps) {
      if (!p->resumed.load()) return false;
    }
    return true;
  }));
}

// A ready that arrives before the goroutine parks is not lost: the next
// gmp_park runs its commit and returns at once.
struct Early {
  std::atomic<gmp_g_t*> g{nullptr};
  std::atomic<bool> readied{false};
  std::atomic<int> commits{0};
  std::atomic<bool> resumed{false};
};

int count_commit(gmp_g_t*, void* arg) {
  static_cast<Early*>(arg)->commits++;
  return 1;  // "stay parked" -- but a ready is already pending
}

void park_after_early_ready(const std::shared_ptr<Early>& e) {
  e->g = gmp_self();
  EXPECT_TRUE(wait_until([&] { return e->readied.load(); }));
  gmp_park(count_commit, e.get());
  e->resumed = true;
}

TEST_P(Park, ReadyBeforeParkFromPlainThread) {
  auto e = std::make_shared<Early>();
  ASSERT_EQ(go([e] { park_after_early_ready(e); }), GMP_OK);
  ASSERT_TRUE(wait_until([&] { return e->g.load() != nullptr; }));
  gmp_ready(e->g.load());
  e->readied = true;
  EXPECT_TRUE(wait_until([&] { return e->resumed.load(); })) << "the early ready was lost";
  EXPECT_EQ(e->commits.load(), 1) << "the commit runs once";
}

TEST_P(Park, ReadyBeforeParkFromGoroutine) {
  auto e = std::make_shared<Early>();
  ASSERT_EQ(go([e] { park_after_early_ready(e); }), GMP_OK);
  ASSERT_EQ(go([e] {
              ASSERT_TRUE(wait_until([&] { return e->g.load() != nullptr; }));
              gmp_ready(e->g.load());
              e->readied = true;
            }),
            GMP_OK);
  EXPECT_TRUE(wait_until([&] { return e->resumed.load(); })) << "the early ready was lost";
  EXPECT_EQ(e->commits.load(), 1);
}

// The ready races with the park: the waker readies as soon as it sees the
// handle, which the parker publishes just before gmp_park. Whichever comes
// first, each ready ends exactly one park.
struct Race {
  std::atomic<gmp_g_t*> slot{nullptr};
  std::atomic<int> parks{0};
  std::atomic<bool> parker_done{false};
  std::atomic<bool> waker_done{false};
};

void race_parker(const std::shared_ptr<Race>& r, int rounds) {
  for (int i = 0; i < rounds; i++) {
    r->slot.store(gmp_self());
    gmp_park(nullptr, nullptr);
    r->parks++;
  }
  r->parker_done = true;
}

void race_waker(const std::shared_ptr<Race>& r, int rounds) {
  for (int i = 0; i < rounds; i++) {
    gmp_g_t* g = nullptr;
    if (!wait_until([&] { return (g = r->slot.exchange(nullptr)) != nullptr; })) break;
    gmp_ready(g);
  }
  r->waker_done = true;
}

TEST_P(Park, ReadyRacesWithParkFromGoroutine) {
  constexpr int kRounds = kSanitized ? 5000 : 50000;
  auto r = std::make_shared<Race>();
  ASSERT_EQ(go([r] { race_parker(r, kRounds); }), GMP_OK);
  ASSERT_EQ(go([r] { race_waker(r, kRounds); }), GMP_OK);
  EXPECT_TRUE(wait_until([&] { return r->parker_done.load() && r->waker_done.load(); }))
      << r->parks.load() << " of " << kRounds << " parks ended";
}

TEST_P(Park, ReadyRacesWithParkFromThread) {
  constexpr int kRounds = kSanitized ? 5000 : 20000;
  auto r = std::make_shared<Race>();
  ASSERT_EQ(go([r] { race_parker(r, kRounds); }), GMP_OK);
  std::thread waker([r] { race_waker(r, kRounds); });
  waker.join();
  EXPECT_TRUE(wait_until([&] { return r->parker_done.load(); }))
      << r->parks.load() << " of " << kRounds << " parks ended";
}

// Two goroutines park and ready each other in turn (the runnext path).
TEST_P(Park, PingPong) {
  constexpr int kRounds = kSanitized ? 10000 : 100000;
  struct State {
    std::atomic<gmp_g_t*> a{nullptr}, b{nullptr};
    std::atomic<int> done{0};
  };
  auto st = std::make_shared<State>();
  ASSERT_EQ(go([st] {
              st->a = gmp_self();
              ASSERT_TRUE(wait_until([&] { return st->b.load() != nullptr; }));
              for (int i = 0; i < kRounds; i++) {
                gmp_ready(st->b.load());
                gmp_park(nullptr, nullptr);
              }
              st->done++;
            }),
            GMP_OK);
  ASSERT_EQ(go([st] {
              st->b = gmp_self();
              for (int i = 0; i < kRounds; i++) {
                gmp_park(nullptr, nullptr);
                gmp_ready(st->a.load());
              }
              st->done++;
            }),
            GMP_OK);
  EXPECT_TRUE(wait_until([&] { return st->done.load() == 2; }));
}

// The commit: called once with the goroutine's handle and the arg, on the
// same thread, off the goroutine's stack; returning 0 resumes at once.
struct CommitSeen {
  std::atomic<int> calls{0};
  gmp_g_t* g = nullptr;
  void* arg = nullptr;
  pid_t thread = 0;
  uintptr_t stack_addr = 0;
};
CommitSeen* g_seen;

int observing_commit(gmp_g_t* g, void* arg) {
  volatile char here = 0;
  g_seen->g = g;
  g_seen->arg = arg;
  g_seen->thread = tid();
  g_seen->stack_addr = reinterpret_cast<uintptr_t>(&here);
  g_seen->calls++;
  return 0;
}

TEST_P(Park, CommitReturningZeroResumesAtOnce) {
  CommitSeen seen;
  g_seen = &seen;
  gmp_g_t* self = nullptr;
  pid_t thread = 0;
  uintptr_t goroutine_stack = 0;
  int marker = 7;
  EXPECT_TRUE(run_goroutine([&] {
    volatile char here = 0;
    goroutine_stack = reinterpret_cast<uintptr_t>(&here);
    self = gmp_self();
    thread = tid();
    gmp_park(observing_commit, &marker);
    // Resumed without any gmp_ready.
    EXPECT_EQ(tid(), thread) << "nothing else ran: still on the same thread";
  }));
  EXPECT_EQ(seen.calls.load(), 1);
  EXPECT_EQ(seen.g, self);
  EXPECT_EQ(seen.arg, &marker);
  EXPECT_EQ(seen.thread, thread) << "the commit runs on the parking goroutine's thread";
  // Off the goroutine's stack: not within the default stack below the
  // goroutine's frame (nor just above it).
  const uintptr_t lo = goroutine_stack - GMP_STACK_DEFAULT, hi = goroutine_stack + (64 << 10);
  EXPECT_FALSE(seen.stack_addr > lo && seen.stack_addr < hi)
      << "commit ran on the goroutine's stack";
}

TEST_P(Park, CommitCanUnlockAWaitQueue) {
  // The typical use: put yourself on a queue under a lock, park, and let
  // the commit unlock. A waker that takes the lock and finds you on the
  // queue always finds you parked.
  constexpr int kWaiters = 100;
  struct Queue {
    std::atomic<bool> locked{false};  // a spin lock: the commit unlocks it on g0
    std::vector<gmp_g_t*> waiting;
    std::atomic<int> resumed{0};
    void lock() {
      bool f = false;
      while (!locked.compare_exchange_weak(f, true, std::memory_order_acquire)) f = false;
    }
    void unlock() { locked.store(false, std::memory_order_release); }
  };
  auto q = std::make_shared<Queue>();
  for (int i = 0; i < kWaiters; i++) {
    ASSERT_EQ(go([q] {
                q->lock();
                q->waiting.push_back(gmp_self());
                gmp_park(
                    [](gmp_g_t*, void* queue) {
                      static_cast<Queue*>(queue)->unlock();
                      return 1;
                    },
                    q.get());
                q->resumed++;
              }),
              GMP_OK);
  }
  int woken = 0;
  EXPECT_TRUE(wait_until([&] {
    q->lock();
    for (gmp_g_t* g : q->waiting) gmp_ready(g);
    woken += static_cast<int>(q->waiting.size());
    q->waiting.clear();
    q->unlock();
    return woken == kWaiters;
  }));
  EXPECT_TRUE(wait_until([&] { return q->resumed.load() == kWaiters; }));
}

// commit NULL: the goroutine stays parked until readied.
TEST_P(Park, NullCommitStaysParkedUntilReady) {
  struct State {
    std::atomic<gmp_g_t*> g{nullptr};
    std::atomic<bool> resumed{false};
  };
  auto st = std::make_shared<State>();
  ASSERT_EQ(go([st] {
              st->g = gmp_self();
              gmp_park(nullptr, nullptr);
              st->resumed = true;
            }),
            GMP_OK);
  ASSERT_TRUE(wait_until([&] { return st->g.load() != nullptr; }));
  // Give a wrong wake-up every chance to happen (this sleep decides no
  // pass/fail for a correct runtime: nothing may wake the goroutine).
  for (int i = 0; i < 20; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(run_goroutine([] { gmp_yield(); }));
  }
  EXPECT_FALSE(st->resumed.load()) << "a parked goroutine resumed without gmp_ready";
  gmp_ready(st->g.load());
  EXPECT_TRUE(wait_until([&] { return st->resumed.load(); }));
}

TEST(ParkPlain, ParkOnPlainThreadReturnsAtOnce) {
  std::atomic<int> commits{0};
  auto park_twice = [&] {
    gmp_park(nullptr, nullptr);
    gmp_park(
        [](gmp_g_t*, void* n) {
          ++*static_cast<std::atomic<int>*>(n);
          return 1;
        },
        &commits);
  };
  park_twice();
  std::thread(park_twice).join();
  EXPECT_EQ(commits.load(), 0) << "on a plain thread gmp_park does nothing";
}

TEST(ParkPlain, ReadyNullIsIgnored) {
  gmp_ready(nullptr);
  EXPECT_TRUE(run_goroutine([] { gmp_ready(nullptr); }));
}

}  // namespace
