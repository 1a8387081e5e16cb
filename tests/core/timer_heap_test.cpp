// timer_heap_test.cpp -- the per-P timer heap (core/time.cpp), white-box:
// heap order and positions after every add and stop, run_timers firing in
// deadline order, periodic timers re-armed past now, and timer_stop's
// answers. Runs on a goroutine so that every timer lands on its P.
#include "core/time.hpp"

#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <vector>

#include "core/sched.hpp"

namespace {

using gmprt::Timer;
using gmprt::TimerHeap;

// check_heap: every invariant of the heap of the calling goroutine's P.
void check_heap(TimerHeap* h) {
  gmprt::LockGuard guard(h->lock);
  for (int32_t i = 0; i < h->len; i++) {
    ASSERT_EQ(h->heap[i]->idx, i);
    if (i > 0) {
      ASSERT_LE(h->heap[(i - 1) / 4]->when, h->heap[i]->when) << "at " << i;
    }
  }
  ASSERT_EQ(h->when0.load(), h->len ? h->heap[0]->when : 0);
}

// run_on_goroutine: run body on a goroutine and wait for it.
template <typename F>
void run_on_goroutine(F body) {
  std::atomic<bool> done{false};
  struct Ctx {
    F* body;
    std::atomic<bool>* done;
  } ctx{&body, &done};
  ASSERT_EQ(gmp_go(
                [](void* a) {
                  auto* c = static_cast<Ctx*>(a);
                  (*c->body)();
                  c->done->store(true);
                },
                &ctx),
            0);
  while (!done.load()) gmp_sleep(1000000);
}

struct Probe {
  Timer timer;
  std::vector<int64_t>* log;
};

void log_when(void* arg, int64_t) {
  auto* p = static_cast<Probe*>(arg);
  p->log->push_back(p->timer.when);
}

TEST(TimerHeap, OrderAfterAddsAndStops) {
  run_on_goroutine([] {
    gmprt::P* p = gmprt::current_m()->p;
    constexpr int kN = 1000;
    std::vector<Probe> probes(kN);
    std::vector<int64_t> log;
    std::mt19937_64 rng(7);
    int64_t far = gmprt::nanotime() + int64_t(3600) * 1000000000;
    for (auto& pr : probes) {
      pr.timer.f = log_when;
      pr.timer.arg = &pr;
      pr.log = &log;
      ASSERT_TRUE(gmprt::timer_add(&pr.timer, far + int64_t(rng() % 1000000)));
    }
    check_heap(&p->timers);
    // Stop every other one: each is queued once, so the first stop says
    // true and the second false.
    for (int i = 0; i < kN; i += 2) {
      ASSERT_TRUE(gmprt::timer_stop(&probes[i].timer));
      ASSERT_FALSE(gmprt::timer_stop(&probes[i].timer));
    }
    check_heap(&p->timers);
    for (int i = 1; i < kN; i += 2) ASSERT_TRUE(gmprt::timer_stop(&probes[i].timer));
    check_heap(&p->timers);
    EXPECT_TRUE(log.empty());
  });
}

TEST(TimerHeap, RunTimersFiresInDeadlineOrder) {
  run_on_goroutine([] {
    gmprt::P* p = gmprt::current_m()->p;
    constexpr int kN = 500;
    std::vector<Probe> probes(kN);
    std::vector<int64_t> log;
    std::mt19937_64 rng(11);
    // Deadlines far in the future, so that no scheduler runs them before
    // this test does (with a `now` past all of them).
    int64_t base = gmprt::nanotime() + int64_t(3600) * 1000000000;
    for (auto& pr : probes) {
      pr.timer.f = log_when;
      pr.timer.arg = &pr;
      pr.log = &log;
      ASSERT_TRUE(gmprt::timer_add(&pr.timer, base + int64_t(rng() % 1000)));
    }
    gmprt::run_timers(&p->timers, base + 500);
    check_heap(&p->timers);
    size_t first = log.size();
    EXPECT_GT(first, 0u);
    for (int64_t w : log) EXPECT_LE(w, base + 500);
    gmprt::run_timers(&p->timers, base + 1000);
    ASSERT_EQ(log.size(), size_t(kN));
    for (size_t i = 1; i < log.size(); i++) ASSERT_LE(log[i - 1], log[i]) << "at " << i;
    EXPECT_EQ(p->timers.len, 0);
    for (auto& pr : probes) EXPECT_FALSE(gmprt::timer_stop(&pr.timer));
  });
}

TEST(TimerHeap, PeriodicTimerIsRearmedPastNow) {
  run_on_goroutine([] {
    gmprt::P* p = gmprt::current_m()->p;
    std::vector<int64_t> log;
    Probe pr;
    pr.timer.f = log_when;
    pr.timer.arg = &pr;
    pr.timer.period = 100;
    pr.log = &log;
    int64_t base = gmprt::nanotime() + int64_t(3600) * 1000000000;
    ASSERT_TRUE(gmprt::timer_add(&pr.timer, base));
    // Far behind: one firing, then the next deadline after now (no burst
    // of missed ticks).
    gmprt::run_timers(&p->timers, base + 1050);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(pr.timer.when, base + 1100);
    check_heap(&p->timers);
    EXPECT_TRUE(gmprt::timer_stop(&pr.timer));
  });
}

}  // namespace
