// park_yield_race_test.cpp -- early wakeups that land while the goroutine
// is yielding (the yield fast path changes its state under sched.lock, and
// gmp_ready sets the early-wakeup bit under the same lock): none may be lost.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

#if defined(GMPRT_TEST_SANITIZED)
constexpr int kRounds = 3000;
#else
constexpr int kRounds = 30000;
#endif

struct Race {
  std::atomic<gmp_g_t*> slot{nullptr};
  std::atomic<int> parks{0};
  std::atomic<bool> parker_done{false};
  std::atomic<bool> waker_done{false};
};

void parker(void* arg) {
  auto* r = static_cast<Race*>(arg);
  for (int i = 0; i < kRounds; i++) {
    r->slot.store(gmp_self());
    for (int k = 0; k < i % 3; k++) gmp_yield();  // the ready may land here
    gmp_park(nullptr, nullptr);
    r->parks.fetch_add(1);
  }
  r->parker_done.store(true);
}

void waker(void* arg) {
  auto* r = static_cast<Race*>(arg);
  for (int i = 0; i < kRounds; i++) {
    gmp_g_t* g;
    while ((g = r->slot.exchange(nullptr)) == nullptr) gmp_yield();
    gmp_ready(g);
  }
  r->waker_done.store(true);
}

TEST(ParkYieldRace, ReadyDuringYieldIsNotLost) {
  ASSERT_EQ(gmp_init(), 0);
  for (int procs : {1, 2, 4}) {
    int prev = gmp_maxprocs(procs);
    Race r;
    ASSERT_EQ(gmp_go(parker, &r), 0);
    ASSERT_EQ(gmp_go(waker, &r), 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!(r.parker_done.load() && r.waker_done.load()) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(r.parker_done.load() && r.waker_done.load())
        << "procs " << procs << ": " << r.parks.load() << " of " << kRounds << " parks ended";
    gmp_maxprocs(prev);
    if (!(r.parker_done.load() && r.waker_done.load())) std::abort();  // goroutines still use r
  }
}

}  // namespace
