// park_yield_race_test.cpp -- early wakeups that land while the goroutine
// is switching away: while it yields (the yield fast path changes its state
// under sched.lock, and gmp_ready sets the early-wakeup bit under the same
// lock) and while a direct park hands its M to the goroutine in runnext
// (which finishes the park, core/park.cpp). None may be lost.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/sched.hpp"

namespace {

#if defined(GMPRT_TEST_SANITIZED)
constexpr int kRounds = 3000;
#else
constexpr int kRounds = 30000;
#endif

struct Race {
  std::atomic<gmp_g_t*> slot{nullptr};
  std::atomic<int> parks{0};
  std::atomic<int> helpers{0};  // goroutines the parker started that ran
  std::atomic<bool> parker_done{false};
  std::atomic<bool> waker_done{false};
};

// waker: ready each handle the parker publishes, once.
void waker(void* arg) {
  auto* r = static_cast<Race*>(arg);
  for (int i = 0; i < kRounds; i++) {
    gmp_g_t* g;
    while ((g = r->slot.exchange(nullptr)) == nullptr) {
      if (gmp_self())
        gmp_yield();
      else
        std::this_thread::yield();
    }
    gmp_ready(g);
  }
  r->waker_done.store(true);
}

// run_race: parker and waker (a goroutine, or a plain thread) on 1, 2 and 4
// Ps; both must finish, and every helper the parker started must have run.
void run_race(gmp_fn parker, bool waker_on_thread, int helpers) {
  ASSERT_EQ(gmp_init(), 0);
  for (int procs : {1, 2, 4}) {
    int prev = gmp_maxprocs(procs);
    Race r;
    ASSERT_EQ(gmp_go(parker, &r), 0);
    std::thread thread;
    if (waker_on_thread)
      thread = std::thread(waker, &r);
    else
      ASSERT_EQ(gmp_go(waker, &r), 0);
    auto done = [&] {
      return r.parker_done.load() && r.waker_done.load() && r.helpers.load() == helpers;
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(done()) << "procs " << procs << ": " << r.parks.load() << " of " << kRounds
                        << " parks ended, " << r.helpers.load() << " of " << helpers
                        << " helpers ran";
    gmp_maxprocs(prev);
    if (!done()) std::abort();  // goroutines still use r
    if (thread.joinable()) thread.join();
  }
}

TEST(ParkYieldRace, ReadyDuringYieldIsNotLost) {
  run_race(
      [](void* arg) {
        auto* r = static_cast<Race*>(arg);
        for (int i = 0; i < kRounds; i++) {
          r->slot.store(gmp_self());
          for (int k = 0; k < i % 3; k++) gmp_yield();  // the ready may land here
          gmp_park(nullptr, nullptr);
          r->parks.fetch_add(1);
        }
        r->parker_done.store(true);
      },
      false, 0);
}

// Before every park a fresh goroutine waits in runnext, so each park is a
// direct one; the ready lands before it, during the switch or after it.
void direct_parker(void* arg) {
  auto* r = static_cast<Race*>(arg);
  for (int i = 0; i < kRounds; i++) {
    r->slot.store(gmp_self());
    ASSERT_EQ(gmp_go([](void* a) { static_cast<Race*>(a)->helpers++; }, r), GMP_OK);
    if (i % 3 == 0) gmp_yield();  // the ready may land before the park
    // gmprt::park, not gmp_park: gmp_park's commit runs in the scheduler.
    gmprt::park(nullptr, nullptr, gmprt::WaitReason::sleep);
    r->parks.fetch_add(1);
  }
  r->parker_done.store(true);
}

TEST(ParkYieldRace, ReadyAcrossADirectParkIsNotLost) {
  run_race(direct_parker, false, kRounds);
  run_race(direct_parker, true, kRounds);
}

}  // namespace
