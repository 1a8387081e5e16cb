// timer_maxprocs_test.cpp -- timers outlive the P they were armed on:
// gmp_maxprocs removing Ps hands their timers to a surviving P (Go's
// moveTimers), so sleepers, AfterFunc timers and gmp_after channels armed on
// every P all fire after GOMAXPROCS drops to 1, and a timer stopped after
// the move is still found and stopped.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

constexpr int64_t kMs = 1000000;

TEST(TimerMaxprocs, TimersOfRemovedPsStillFire) {
  const int prev = gmp_maxprocs(4);
  ASSERT_GT(prev, 0);
  constexpr int kPerKind = 16;
  auto fired = std::make_shared<std::atomic<int>>(0);
  auto woke = std::make_shared<std::atomic<int>>(0);
  auto received = std::make_shared<std::atomic<int>>(0);
  auto armed = std::make_shared<std::atomic<int>>(0);
  std::vector<gmp_timer_t*> timers(kPerKind, nullptr);
  std::vector<gmp_timer_t*> stopped(kPerKind, nullptr);
  // Goroutines on whatever Ps they land on arm every kind of timer, then
  // wait on them; meanwhile GOMAXPROCS drops to 1.
  for (int i = 0; i < kPerKind; i++) {
    ASSERT_EQ(go([i, fired, woke, received, armed, &timers, &stopped] {
                ASSERT_EQ(gmp_timer_start(
                              &timers[i], 200 * kMs,
                              [](void* a) { static_cast<std::atomic<int>*>(a)->fetch_add(1); },
                              fired.get()),
                          GMP_OK);
                ASSERT_EQ(gmp_timer_start(
                              &stopped[i], 2000 * kMs, [](void*) { ADD_FAILURE(); }, nullptr),
                          GMP_OK);
                gmp_chan_t* c = nullptr;
                ASSERT_EQ(gmp_after(150 * kMs, &c), GMP_OK);
                armed->fetch_add(1);
                gmp_sleep(100 * kMs);
                woke->fetch_add(1);
                int64_t when = 0;
                if (gmp_chan_recv(c, &when) == GMP_OK && when > 0) received->fetch_add(1);
                gmp_chan_release(c);
              }),
              GMP_OK);
  }
  ASSERT_TRUE(wait_until([&] { return armed->load() == kPerKind; }, kLiveness));
  EXPECT_EQ(gmp_maxprocs(1), 4);
  // The stopped kind is stopped after the move: found on its new P.
  for (auto* t : stopped) EXPECT_EQ(gmp_timer_stop(t), 1);
  EXPECT_TRUE(wait_until(
      [&] {
        return fired->load() == kPerKind && woke->load() == kPerKind &&
               received->load() == kPerKind;
      },
      kLiveness))
      << "fired " << fired->load() << " woke " << woke->load() << " received " << received->load();
  for (auto* t : timers) {
    EXPECT_EQ(gmp_timer_stop(t), 0) << "already fired";
    gmp_timer_free(t);
  }
  for (auto* t : stopped) gmp_timer_free(t);
  gmp_maxprocs(prev);
}

}  // namespace
