// time_test.cpp -- the Time section of gmprt.h: gmp_now, gmp_sleep,
// gmp_after, the timers (gmp_timer_start/stop/reset/free) and the tickers
// (gmp_ticker_start/stop), from goroutines and plain threads; timeouts of
// channel operations and selects on plain threads; stop and reset racing
// with firing; and every bad argument of the time calls.
//
// Ports the intent of Go's time/sleep_test.go (TestSleep, TestAfter,
// TestAfterFunc, TestAfterTick, TestAfterStop, TestAfterQueuing,
// TestReset, TestOverflowSleep, TestSleepZeroDeadlock, TestAfterStress,
// TestTimerStopStress) and time/tick_test.go (TestTicker, TestTeardown,
// TestNewTickerLtZeroDuration). Lower bounds on time are exact ("slept at
// least"); upper bounds are seconds, never milliseconds.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "chan_helpers.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

int64_t clock_monotonic_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * kSec + ts.tv_nsec;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Each test leaves no goroutine behind (timer callbacks included).
class TimeTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine(); }
};
class TimeNow : public TimeTest {};
class TimeSleep : public TimeTest {};
class TimeAfter : public TimeTest {};
class TimeTimer : public TimeTest {};
class TimeTicker : public TimeTest {};
class TimeBadInput : public TimeTest {};

class TimeP : public MaxprocsTest {
 protected:
  void TearDown() override {
    EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine();
    MaxprocsTest::TearDown();
  }
};
GMPRT_INSTANTIATE_MAXPROCS(TimeP);

// ------------------------------------------------------------------ gmp_now

// gmp_now reads CLOCK_MONOTONIC: never goes back, on any thread, and lies
// between two clock_gettime readings taken around it.
TEST_F(TimeNow, MonotonicClock) {
  for (int i = 0; i < 1000; i++) {
    const int64_t a = clock_monotonic_ns(), n = gmp_now(), b = clock_monotonic_ns();
    ASSERT_LE(a, n);
    ASSERT_LE(n, b);
  }
  auto back = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int t = 0; t < 4; t++) {
    g.spawn(t % 2 == 0, [back] {
      int64_t prev = gmp_now();
      for (int i = 0; i < 100000; i++) {
        const int64_t cur = gmp_now();
        if (cur < prev) (*back)++;
        prev = cur;
      }
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(back->load(), 0) << "gmp_now went backwards";
}

// ---------------------------------------------------------------- gmp_sleep

// TestSleep: gmp_sleep sleeps at least the duration, on a goroutine and on
// a plain thread.
TEST_P(TimeP, SleepAtLeastDuration) {
  for (int64_t d : {kMs, 10 * kMs, 30 * kMs}) {
    for (bool on_thread : {false, true}) {
      Group g;
      g.spawn(on_thread, [d] {
        Stopwatch sw;
        gmp_sleep(d);
        EXPECT_TRUE(sw.at_least(d)) << "slept " << sw.ns() << " ns of " << d;
      });
      ASSERT_TRUE(g.wait());
    }
  }
}

// A sleep of 0 or less returns at once (TestOverflowSleep's negative
// duration); TestSleepZeroDeadlock: Sleep(0) between channel operations
// leaves the goroutine runnable.
TEST_P(TimeP, SleepZeroOrNegativeReturnsAtOnce) {
  for (bool on_thread : {false, true}) {
    Group g;
    g.spawn(on_thread, [] {
      Stopwatch sw;
      ChanRef tmp = make_chan(sizeof(int64_t), 1);
      for (int i = 0; i < 100; i++) {
        gmp_sleep(0);
        gmp_sleep(-1);
        gmp_sleep(INT64_MIN);
        ASSERT_EQ(send_i64(tmp, i), GMP_OK);
        ASSERT_EQ(recv_i64(tmp).v, i);
      }
      EXPECT_LT(sw.ns(), 5 * kSec) << "300 non-positive sleeps took seconds";
    });
    ASSERT_TRUE(g.wait());
  }
}

// Many goroutines sleeping different durations all wake, each after at
// least its own duration.
TEST_P(TimeP, ManySleepersAllWake) {
  constexpr int kN = sized(10000, 2000);
  auto woke = std::make_shared<std::atomic<int>>(0);
  auto early = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int i = 0; i < kN; i++) {
    ASSERT_TRUE(g.go([i, woke, early] {
      const int64_t d = (i % 20 + 1) * kMs;
      const int64_t t0 = gmp_now();
      gmp_sleep(d);
      if (gmp_now() - t0 < d) (*early)++;
      (*woke)++;
    }));
  }
  ASSERT_TRUE(g.wait()) << woke->load() << " of " << kN << " woke";
  EXPECT_EQ(woke->load(), kN);
  EXPECT_EQ(early->load(), 0);
}

// A sleeping goroutine does not hold its thread: 10 goroutines sleeping
// 400 ms each finish together even with one P (serially they would take
// 4 s; the bound is 3 s).
TEST_P(TimeP, SleepersDoNotHoldTheirThread) {
  constexpr int kSleepers = 10;
  Stopwatch sw;
  Group g;
  for (int i = 0; i < kSleepers; i++) g.go([] { gmp_sleep(400 * kMs); });
  ASSERT_TRUE(g.wait());
  EXPECT_TRUE(sw.at_least(400 * kMs));
  EXPECT_LT(sw.ns(), 3 * kSec) << "the sleeps ran one after the other";
}

// --------------------------------------------------------------- gmp_after

// TestAfter: the channel (capacity 1) delivers one int64_t, a gmp_now()
// reading at least start + duration and no later than the receive; then
// nothing more (and it is not closed).
TEST_P(TimeP, AfterDeliversFiringTime) {
  for (bool on_thread : {false, true}) {
    Group g;
    g.spawn(on_thread, [] {
      const int64_t start = gmp_now();
      gmp_chan_t* raw = nullptr;
      ASSERT_EQ(gmp_after(30 * kMs, &raw), GMP_OK);
      ASSERT_NE(raw, nullptr);
      ChanRef c = ChanRef::adopt(raw);
      EXPECT_EQ(gmp_chan_cap(c), 1u);
      RecvResult r = recv_i64(c);
      const int64_t after = gmp_now();
      EXPECT_EQ(r.rc, GMP_OK);
      EXPECT_GE(r.v, start + 30 * kMs) << "fired early";
      EXPECT_LE(r.v, after) << "not a gmp_now() reading taken at firing";
      EXPECT_GE(after - start, 30 * kMs);
      int64_t more = 0;
      EXPECT_EQ(gmp_chan_recv_timeout(c, &more, 30 * kMs), GMP_ETIMEDOUT) << "a second value";
    });
    ASSERT_TRUE(g.wait());
  }
  // Unreceived, the value waits in the buffer (len 1).
  gmp_chan_t* raw = nullptr;
  ASSERT_EQ(gmp_after(kMs, &raw), GMP_OK);
  ChanRef c = ChanRef::adopt(raw);
  EXPECT_TRUE(wait_until([&] { return gmp_chan_len(c) == 1; }));
  sleep_ms(10);
  EXPECT_EQ(gmp_chan_len(c), 1u);
}

// A duration of 0 or less fires at once (TestOverflowSleep: a very
// negative one too); a huge one does not overflow into firing at once.
TEST_F(TimeAfter, ZeroNegativeAndHugeDurations) {
  for (int64_t d : {int64_t(0), int64_t(-1), INT64_MIN}) {
    const int64_t start = gmp_now();
    gmp_chan_t* raw = nullptr;
    ASSERT_EQ(gmp_after(d, &raw), GMP_OK);
    ChanRef c = ChanRef::adopt(raw);
    int64_t v = 0;
    EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 600 * kSec), GMP_OK) << d;
    EXPECT_GE(v, start);
  }
  // TestOverflowSleep: After(huge) must not fire; After(25 ms) wins.
  gmp_chan_t *big = nullptr, *small = nullptr;
  ASSERT_EQ(gmp_after(INT64_MAX, &big), GMP_OK);
  ASSERT_EQ(gmp_after(25 * kMs, &small), GMP_OK);
  int64_t vb = 0, vs = 0;
  gmp_select_case_t cases[] = {{big, GMP_RECV, &vb, 0}, {small, GMP_RECV, &vs, 0}};
  EXPECT_EQ(gmp_select(cases, 2, -1), 1) << "After(INT64_MAX) fired";
  EXPECT_EQ(gmp_chan_len(big), 0u);
  gmp_chan_release(big);  // its timer keeps its own reference
  gmp_chan_release(small);
}

// TestAfterQueuing: timers of many durations, each awaited by its own
// goroutine, all deliver, none before its time.
TEST_P(TimeP, AfterQueuing) {
  static const int kSlots[] = {5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0};
  constexpr int64_t kDelta = 20 * kMs;
  constexpr int kN = sizeof kSlots / sizeof kSlots[0];
  ChanRef result = make_chan(2 * sizeof(int64_t), kN);
  const int64_t t0 = gmp_now();
  Group g;
  for (int slot : kSlots) {
    gmp_chan_t* raw = nullptr;
    ASSERT_EQ(gmp_after(slot * kDelta, &raw), GMP_OK);
    g.go([result, after = ChanRef::adopt(raw), slot] {
      int64_t r[2] = {slot, 0};
      EXPECT_EQ(gmp_chan_recv(after, &r[1]), GMP_OK);
      EXPECT_EQ(gmp_chan_send(result, r), GMP_OK);
    });
  }
  std::vector<int> order;
  for (int i = 0; i < kN; i++) {
    int64_t r[2];
    ASSERT_EQ(gmp_chan_recv(result, r), GMP_OK);
    EXPECT_GE(r[1], t0 + r[0] * kDelta) << "slot " << r[0] << " fired early";
    order.push_back(int(r[0]));
  }
  ASSERT_TRUE(g.wait());
  std::sort(order.begin(), order.end());
  std::vector<int> want(kSlots, kSlots + kN);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(order, want);
}

// TestAfterTick: ten sequential Afters take at least ten durations.
TEST_F(TimeAfter, SequentialAfters) {
  Stopwatch sw;
  for (int i = 0; i < 10; i++) {
    gmp_chan_t* raw = nullptr;
    ASSERT_EQ(gmp_after(10 * kMs, &raw), GMP_OK);
    ChanRef c = ChanRef::adopt(raw);
    ASSERT_EQ(recv_i64(c).rc, GMP_OK);
  }
  EXPECT_TRUE(sw.at_least(100 * kMs)) << sw.ns();
}

// The caller may release an After channel before it fires (the timer holds
// its own reference) or after, without receiving: clean under ASan.
TEST_P(TimeP, AfterReleasedBeforeOrAfterFiring) {
  constexpr int kN = 200;
  for (int i = 0; i < kN; i++) {
    gmp_chan_t* raw = nullptr;
    ASSERT_EQ(gmp_after((i % 5) * kMs / 2, &raw), GMP_OK);
    gmp_chan_release(raw);
  }
  std::vector<gmp_chan_t*> fired;
  for (int i = 0; i < 20; i++) {
    gmp_chan_t* raw = nullptr;
    ASSERT_EQ(gmp_after(0, &raw), GMP_OK);
    fired.push_back(raw);
  }
  for (gmp_chan_t* c : fired) EXPECT_TRUE(wait_until([&] { return gmp_chan_len(c) == 1; }));
  for (gmp_chan_t* c : fired) gmp_chan_release(c);
  sleep_ms(20);  // the released timers fire into their channels meanwhile
}

// ------------------------------------------------------------------- timers

// Timer: what one gmp_timer_start callback saw.
struct Fired {
  std::atomic<int> count{0};
  std::atomic<int64_t> at{0};
  std::atomic<uint64_t> goid{0};
  std::atomic<bool> on_goroutine{false};
  std::atomic<void*> arg{nullptr};
};

void record_fire(void* arg) {
  auto* f = static_cast<Fired*>(arg);
  f->at = gmp_now();
  f->goid = gmp_goid();
  f->on_goroutine = gmp_self() != nullptr;
  f->arg = arg;
  f->count++;
}

// TestAfterFunc: fn(arg) runs after the delay on a goroutine of its own.
TEST_P(TimeP, TimerRunsFnOnGoroutineAfterDelay) {
  for (bool on_thread : {false, true}) {
    auto f = std::make_shared<Fired>();
    Group g;
    g.spawn(on_thread, [f] {
      gmp_timer_t* t = nullptr;
      const int64_t start = gmp_now();
      ASSERT_EQ(gmp_timer_start(&t, 20 * kMs, record_fire, f.get()), GMP_OK);
      ASSERT_NE(t, nullptr);
      ASSERT_TRUE(wait_until([&] { return f->count.load() == 1; }));
      EXPECT_GE(f->at.load(), start + 20 * kMs) << "fired early";
      EXPECT_TRUE(f->on_goroutine.load());
      EXPECT_NE(f->goid.load(), 0u);
      EXPECT_NE(f->goid.load(), gmp_goid()) << "fn ran on the caller";
      EXPECT_EQ(f->arg.load(), f.get());
      gmp_timer_free(t);
    });
    ASSERT_TRUE(g.wait());
    sleep_ms(10);
    EXPECT_EQ(f->count.load(), 1) << "fired twice";
  }
}

// TestAfterFunc's chain: each callback starts the next timer with delay 0
// and then sleeps, so each must run on a goroutine of its own.
struct Chain {
  std::atomic<int> left{10};
  std::atomic<int> ran{0};
  std::vector<gmp_timer_t*> timers = std::vector<gmp_timer_t*>(16, nullptr);
  std::atomic<int> started{0};
  ChanRef done = make_chan(0, 1);
};

void chain_step(void* arg) {
  auto* c = static_cast<Chain*>(arg);
  c->ran++;
  if (--c->left >= 0) {
    const int n = c->started++;
    EXPECT_EQ(gmp_timer_start(&c->timers[n], 0, chain_step, c), GMP_OK);
    gmp_sleep(200 * kMs);
  } else {
    EXPECT_EQ(gmp_chan_send(c->done, nullptr), GMP_OK);
  }
}

TEST_F(TimeTimer, ChainOfZeroDelayTimers) {
  auto c = std::make_shared<Chain>();
  gmp_timer_t* first = nullptr;
  ASSERT_EQ(gmp_timer_start(&first, 0, chain_step, c.get()), GMP_OK);
  EXPECT_EQ(gmp_chan_recv_timeout(c->done, nullptr, 600 * kSec), GMP_OK);
  EXPECT_EQ(c->ran.load(), 11);
  // The sleeping callbacks finish within 200 ms.
  EXPECT_TRUE(no_goroutines_left());
  gmp_timer_free(first);
  for (int i = 0; i < c->started.load(); i++) gmp_timer_free(c->timers[i]);
}

// TestAfterStop: gmp_timer_stop before firing returns 1 and fn never runs;
// a second stop returns 0; a timer not stopped does run.
TEST_P(TimeP, TimerStopBeforeFiring) {
  auto stopped = std::make_shared<Fired>(), kept = std::make_shared<Fired>();
  gmp_timer_t *t1 = nullptr, *t2 = nullptr;
  ASSERT_EQ(gmp_timer_start(&t1, 50 * kMs, record_fire, stopped.get()), GMP_OK);
  ASSERT_EQ(gmp_timer_start(&t2, 100 * kMs, record_fire, kept.get()), GMP_OK);
  EXPECT_EQ(gmp_timer_stop(t1), 1);
  EXPECT_EQ(gmp_timer_stop(t1), 0) << "stop returned 1 twice";
  gmp_chan_t* raw = nullptr;
  ASSERT_EQ(gmp_after(200 * kMs, &raw), GMP_OK);
  ChanRef after = ChanRef::adopt(raw);
  EXPECT_EQ(recv_i64(after).rc, GMP_OK);
  EXPECT_TRUE(wait_until([&] { return kept->count.load() == 1; }));
  EXPECT_EQ(stopped->count.load(), 0) << "a stopped timer fired";
  EXPECT_EQ(gmp_timer_stop(t2), 0) << "stop after firing";
  EXPECT_EQ(gmp_timer_stop(t1), 0);
  gmp_timer_free(t1);
  gmp_timer_free(t2);
}

// After firing: stop returns 0 (also a second time); reset returns 0 and
// re-arms, so fn runs again.
TEST_P(TimeP, TimerStopAndResetAfterFiring) {
  auto f = std::make_shared<Fired>();
  gmp_timer_t* t = nullptr;
  ASSERT_EQ(gmp_timer_start(&t, kMs, record_fire, f.get()), GMP_OK);
  ASSERT_TRUE(wait_until([&] { return f->count.load() == 1; }));
  EXPECT_EQ(gmp_timer_stop(t), 0);
  EXPECT_EQ(gmp_timer_stop(t), 0);
  const int64_t reset_at = gmp_now();
  EXPECT_EQ(gmp_timer_reset(t, 10 * kMs), 0) << "reset of a fired timer";
  ASSERT_TRUE(wait_until([&] { return f->count.load() == 2; })) << "reset did not re-arm";
  EXPECT_GE(f->at.load(), reset_at + 10 * kMs);
  EXPECT_EQ(gmp_timer_reset(t, 0), 0);
  ASSERT_TRUE(wait_until([&] { return f->count.load() == 3; }));
  sleep_ms(20);
  EXPECT_EQ(f->count.load(), 3);
  gmp_timer_free(t);
}

// TestReset: reset of a pending timer returns 1 and moves its deadline
// (earlier or later); it fires once, at the new time.
TEST_P(TimeP, TimerResetPending) {
  auto f = std::make_shared<Fired>();
  gmp_timer_t* t = nullptr;
  ASSERT_EQ(gmp_timer_start(&t, 600 * kSec, record_fire, f.get()), GMP_OK);
  int64_t reset_at = gmp_now();
  EXPECT_EQ(gmp_timer_reset(t, 20 * kMs), 1) << "reset of a pending timer";
  ASSERT_TRUE(wait_until([&] { return f->count.load() == 1; })) << "moved earlier: not fired";
  EXPECT_GE(f->at.load(), reset_at + 20 * kMs);

  // Later: a 20 ms timer reset to 150 ms fires no earlier than that.
  ASSERT_EQ(gmp_timer_reset(t, 20 * kMs), 0);
  reset_at = gmp_now();
  const int rc = gmp_timer_reset(t, 150 * kMs);
  if (rc == 1) {
    ASSERT_TRUE(wait_until([&] { return f->count.load() == 2; }));
    EXPECT_GE(f->at.load(), reset_at + 150 * kMs) << "fired at the old deadline";
    sleep_ms(20);
    EXPECT_EQ(f->count.load(), 2) << "fired at both deadlines";
  } else {
    // The machine stalled for 20 ms between the two resets: the first
    // deadline passed and fired, the second re-armed.
    ASSERT_TRUE(wait_until([&] { return f->count.load() == 3; }));
  }
  gmp_timer_free(t);
}

// Reset of a stopped timer returns 0 and re-arms it; it then fires once.
TEST_F(TimeTimer, ResetAfterStop) {
  auto f = std::make_shared<Fired>();
  gmp_timer_t* t = nullptr;
  ASSERT_EQ(gmp_timer_start(&t, 600 * kSec, record_fire, f.get()), GMP_OK);
  EXPECT_EQ(gmp_timer_stop(t), 1);
  EXPECT_EQ(gmp_timer_reset(t, 5 * kMs), 0) << "reset of a stopped timer";
  ASSERT_TRUE(wait_until([&] { return f->count.load() == 1; }));
  EXPECT_EQ(gmp_timer_stop(t), 0);
  // Stopped again, re-armed far away, then reset while pending.
  EXPECT_EQ(gmp_timer_reset(t, 600 * kSec), 0);
  EXPECT_EQ(gmp_timer_reset(t, 600 * kSec), 1);
  EXPECT_EQ(gmp_timer_stop(t), 1);
  sleep_ms(10);
  EXPECT_EQ(f->count.load(), 1);
  gmp_timer_free(t);
}

// A huge delay does not overflow into firing at once.
TEST_F(TimeTimer, HugeDelayDoesNotFire) {
  auto f = std::make_shared<Fired>();
  gmp_timer_t* t = nullptr;
  ASSERT_EQ(gmp_timer_start(&t, INT64_MAX, record_fire, f.get()), GMP_OK);
  sleep_ms(20);
  EXPECT_EQ(gmp_timer_reset(t, INT64_MAX - 1), 1);
  sleep_ms(20);
  EXPECT_EQ(f->count.load(), 0);
  EXPECT_EQ(gmp_timer_stop(t), 1);
  gmp_timer_free(t);
}

// Stop and reset racing with firing, from several goroutines and a thread:
// every arm (the start and each reset) ends exactly one way -- it fires,
// or a stop returning 1 ends it, or a reset returning 1 replaces it -- so
// fn runs at most once per arm and nothing is lost or doubled.
struct RaceTimer {
  gmp_timer_t* t = nullptr;
  std::atomic<int> fires{0}, stops_won{0}, resets_won{0}, resets{0};
};

void race_fire(void* arg) { static_cast<RaceTimer*>(arg)->fires++; }

TEST_P(TimeP, TimerStopResetRaceWithFiring) {
  constexpr int kTimers = 64, kWorkers = 5;
  constexpr int kOps = kSanitized ? 2000 : 10000;
  auto timers = std::make_shared<std::vector<RaceTimer>>(kTimers);
  for (auto& rt : *timers) ASSERT_EQ(gmp_timer_start(&rt.t, 50 * kUs, race_fire, &rt), GMP_OK);
  Group g;
  for (int w = 0; w < kWorkers; w++) {
    g.spawn(w == 0, [timers, w] {
      uint32_t x = 1234567u * (w + 1);
      for (int i = 0; i < kOps; i++) {
        x = x * 1103515245 + 12345;
        RaceTimer& rt = (*timers)[(x >> 8) % kTimers];
        if ((x >> 20) % 2) {
          rt.stops_won += gmp_timer_stop(rt.t);
        } else {
          rt.resets++;
          const int rc = gmp_timer_reset(rt.t, int64_t((x >> 22) % 100) * kUs);
          EXPECT_TRUE(rc == 0 || rc == 1) << rc;
          rt.resets_won += rc == 1;
        }
        if (i % 64 == 0) gmp_yield();
      }
    });
  }
  ASSERT_TRUE(g.wait());
  for (auto& rt : *timers) rt.stops_won += gmp_timer_stop(rt.t);
  auto arms_ended = [&](RaceTimer& rt) {
    return rt.fires.load() + rt.stops_won.load() + rt.resets_won.load();
  };
  for (int i = 0; i < kTimers; i++) {
    RaceTimer& rt = (*timers)[i];
    EXPECT_TRUE(wait_until([&] { return arms_ended(rt) >= 1 + rt.resets.load(); }))
        << "timer " << i << ": an arm never ended";
  }
  ASSERT_TRUE(no_goroutines_left());
  for (int i = 0; i < kTimers; i++) {
    RaceTimer& rt = (*timers)[i];
    EXPECT_EQ(arms_ended(rt), 1 + rt.resets.load())
        << "timer " << i << ": fires " << rt.fires << ", stops returning 1 " << rt.stops_won
        << ", resets returning 1 " << rt.resets_won << " of " << rt.resets;
    gmp_timer_free(rt.t);
  }
}

// TestTimerStopStress: many goroutines each start a timer and stop it
// before it fires; none fires.
TEST_P(TimeP, TimerStopStress) {
  constexpr int kN = 100;
  static std::atomic<int> fired{0};
  fired = 0;
  Group g;
  for (int i = 0; i < kN; i++) {
    g.go([] {
      gmp_timer_t* t = nullptr;
      ASSERT_EQ(gmp_timer_start(
                    &t, 2 * kSec, [](void*) { fired++; }, nullptr),
                GMP_OK);
      gmp_sleep(50 * kMs);
      EXPECT_EQ(gmp_timer_stop(t), 1);
      gmp_timer_free(t);
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(fired.load(), 0);
}

// gmp_timer_free of a pending timer: it never fires; free racing with
// firing is clean (fn runs at most once).
std::atomic<int> g_free_fired{0};

TEST_P(TimeP, TimerFree) {
  g_free_fired = 0;
  for (int i = 0; i < 100; i++) {
    gmp_timer_t* t = nullptr;
    ASSERT_EQ(gmp_timer_start(
                  &t, 20 * kMs, [](void*) { g_free_fired++; }, nullptr),
              GMP_OK);
    gmp_timer_free(t);
  }
  sleep_ms(60);
  EXPECT_EQ(g_free_fired.load(), 0) << "a freed timer fired";

  constexpr int kRacing = kSanitized ? 300 : 1000;
  for (int i = 0; i < kRacing; i++) {
    gmp_timer_t* t = nullptr;
    ASSERT_EQ(gmp_timer_start(
                  &t, (i % 10) * kUs, [](void*) { g_free_fired++; }, nullptr),
              GMP_OK);
    if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(i % 7));
    gmp_timer_free(t);
  }
  sleep_ms(20);
  EXPECT_TRUE(no_goroutines_left());
  EXPECT_LE(g_free_fired.load(), kRacing);
}

// Many timers at once all fire, none early, from a goroutine and a thread.
TEST_P(TimeP, ManyTimers) {
  constexpr int kN = sized(10000, 2000);
  struct State {
    std::vector<Fired> fired = std::vector<Fired>(kN);
    std::vector<gmp_timer_t*> timers = std::vector<gmp_timer_t*>(kN, nullptr);
    int64_t start = 0;
  };
  auto st = std::make_shared<State>();
  st->start = gmp_now();
  Group g;
  for (int half = 0; half < 2; half++) {
    g.spawn(half == 1, [st, half] {
      for (int i = half; i < kN; i += 2) {
        ASSERT_EQ(gmp_timer_start(&st->timers[i], (i % 50) * kMs, record_fire, &st->fired[i]),
                  GMP_OK);
      }
    });
  }
  ASSERT_TRUE(g.wait());
  int early = 0;
  for (int i = 0; i < kN; i++) {
    ASSERT_TRUE(wait_until([&] { return st->fired[i].count.load() == 1; })) << "timer " << i;
    early += st->fired[i].at.load() < st->start + (i % 50) * kMs;
  }
  EXPECT_EQ(early, 0);
  EXPECT_TRUE(no_goroutines_left());
  for (gmp_timer_t* t : st->timers) gmp_timer_free(t);
}

// ------------------------------------------------------------------ tickers

// ticker: a ticker and its channel, stopped and released at the end.
struct Ticker {
  gmp_ticker_t* t = nullptr;
  gmp_chan_t* c = nullptr;
  explicit Ticker(int64_t period) {
    EXPECT_EQ(gmp_ticker_start(&t, period, &c), GMP_OK);
    EXPECT_NE(t, nullptr);
    EXPECT_NE(c, nullptr);
  }
  ~Ticker() {
    gmp_ticker_stop(t);
    gmp_chan_release(c);
  }
};

// TestTicker: ticks arrive about every period: the k-th tick is a gmp_now()
// reading at least k periods after the start, and no later than its
// receipt; the channel has capacity 1.
TEST_P(TimeP, TickerTicksEveryPeriod) {
  for (bool on_thread : {false, true}) {
    Group g;
    g.spawn(on_thread, [] {
      constexpr int64_t kPeriod = 10 * kMs;
      const int64_t start = gmp_now();
      Ticker tk(kPeriod);
      EXPECT_EQ(gmp_chan_cap(tk.c), 1u);
      int64_t prev = 0;
      for (int k = 1; k <= 10; k++) {
        RecvResult r = recv_i64(tk.c);
        const int64_t now = gmp_now();
        ASSERT_EQ(r.rc, GMP_OK);
        EXPECT_GE(r.v, start + k * kPeriod) << "tick " << k << " early";
        EXPECT_LE(r.v, now);
        EXPECT_GT(r.v, prev);
        prev = r.v;
      }
      EXPECT_GE(gmp_now() - start, 10 * kPeriod);
    });
    ASSERT_TRUE(g.wait());
  }
}

// A slow reader finds at most one stale tick: the others were dropped, not
// queued. With a 1 ms period and a 300 ms nap, of the ticks drained at
// most one fired more than 50 ms before the reader woke.
TEST_P(TimeP, TickerDropsTicksForSlowReader) {
  Ticker tk(kMs);
  for (int i = 0; i < 30; i++) {
    sleep_ms(10);
    ASSERT_LE(gmp_chan_len(tk.c), 1u);
  }
  const int64_t woke = gmp_now();
  int stale = 0, drained = 0;
  for (int64_t v; gmp_chan_try_recv(tk.c, &v) == GMP_OK && drained < 1000; drained++) {
    stale += v < woke - 50 * kMs;
  }
  EXPECT_GE(drained, 1) << "no tick waiting after 300 ms";
  EXPECT_LE(stale, 1) << "ticks were queued for the slow reader";
  // Ticking goes on.
  int64_t v = 0;
  EXPECT_EQ(gmp_chan_recv_timeout(tk.c, &v, 600 * kSec), GMP_OK);
  EXPECT_GE(v, woke - 50 * kMs);
}

// After gmp_ticker_stop returns no tick is sent (at most the one already
// buffered remains); the channel stays valid, not closed, until released.
TEST_P(TimeP, TickerNoTickAfterStop) {
  gmp_ticker_t* t = nullptr;
  gmp_chan_t* c = nullptr;
  ASSERT_EQ(gmp_ticker_start(&t, kMs, &c), GMP_OK);
  for (int i = 0; i < 3; i++) ASSERT_EQ(recv_i64(c).rc, GMP_OK);
  gmp_ticker_stop(t);
  int buffered = 0;
  while (gmp_chan_try_recv(c, nullptr) == GMP_OK) buffered++;
  EXPECT_LE(buffered, 1);
  sleep_ms(30);
  EXPECT_EQ(gmp_chan_len(c), 0u) << "a tick after stop";
  int64_t v = kMs;
  EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 20 * kMs), GMP_ETIMEDOUT)
      << "stop closed the channel, or ticked";
  EXPECT_EQ(gmp_chan_cap(c), 1u);
  // Still an ordinary channel of the caller's.
  ASSERT_EQ(send_i64(c, 7), GMP_OK);
  EXPECT_EQ(recv_i64(c).v, 7);
  gmp_chan_release(c);
}

// TestTeardown: start, take one tick, stop -- repeatedly.
TEST_F(TimeTicker, Teardown) {
  for (int i = 0; i < 3; i++) {
    Ticker tk(20 * kMs);
    EXPECT_EQ(recv_i64(tk.c).rc, GMP_OK);
  }
}

// TestAfterStress: a 1 ns ticker delivers increasing ticks while another
// goroutine loops on 1 ns sleeps (each of which must go through the
// scheduler, or that goroutine would keep its P and its P's timers from
// running with GOMAXPROCS 1).
TEST_P(TimeP, TinyPeriodTicker) {
  auto stop = std::make_shared<std::atomic<int>>(0);
  auto spins = std::make_shared<std::atomic<int>>(0);
  Group g;
  g.go([stop, spins] {
    while (!stop->load()) {
      (*spins)++;
      gmp_sleep(1);
    }
  });
  ASSERT_TRUE(wait_until([&] { return spins->load() > 0; }));
  {
    Ticker tk(1);
    int64_t prev = 0;
    for (int i = 0; i < 100; i++) {
      RecvResult r = recv_i64(tk.c);
      ASSERT_EQ(r.rc, GMP_OK);
      EXPECT_GT(r.v, prev);
      prev = r.v;
    }
  }
  *stop = 1;
  ASSERT_TRUE(g.wait());
}

// Many tickers stopped while ticking fast, from goroutines and a thread,
// some readers mid-receive: clean under ASan, nothing hangs.
TEST_P(TimeP, TickersStoppedWhileTicking) {
  constexpr int kTickers = 40;
  Group g;
  for (int i = 0; i < kTickers; i++) {
    g.spawn(i % 8 == 0, [i] {
      gmp_ticker_t* t = nullptr;
      gmp_chan_t* c = nullptr;
      ASSERT_EQ(gmp_ticker_start(&t, (i % 10 + 1) * 10 * kUs, &c), GMP_OK);
      for (int k = 0; k < i % 4; k++) EXPECT_EQ(gmp_chan_recv(c, nullptr), GMP_OK);
      gmp_ticker_stop(t);
      gmp_chan_recv_timeout(c, nullptr, 0);
      gmp_chan_release(c);
    });
  }
  ASSERT_TRUE(g.wait());
}

// ----------------------------------------------- timeouts on plain threads

// Channel and select timeouts on many plain threads and goroutines at once
// all expire, each after at least its timeout.
TEST_P(TimeP, ConcurrentTimeoutsOnThreadsAndGoroutines) {
  constexpr int kParties = 8, kRounds = 5;
  ChanRef c = make_chan(sizeof(int64_t), 0);
  auto early = std::make_shared<std::atomic<int>>(0);
  auto wrong = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int p = 0; p < kParties; p++) {
    g.spawn(p % 2 == 0, [c, p, early, wrong] {
      for (int r = 0; r < kRounds; r++) {
        const int64_t d = (p + r) % 4 * kMs + kMs;
        int64_t v = 0;
        const int64_t t0 = gmp_now();
        int rc;
        if (r % 3 == 0) {
          rc = gmp_chan_recv_timeout(c, &v, d);
        } else if (r % 3 == 1) {
          rc = gmp_chan_send_timeout(c, &v, d);
        } else {
          gmp_select_case_t cases[] = {{c, GMP_RECV, &v, 0}, {nullptr, GMP_SEND, &v, 0}};
          rc = gmp_select(cases, 2, d);  // 0: the receive case
        }
        // A send and a receive on c from two parties may meet: fine.
        if (rc == GMP_OK) continue;
        if (rc != GMP_ETIMEDOUT) (*wrong)++;
        if (gmp_now() - t0 < d) (*early)++;
      }
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(wrong->load(), 0);
  EXPECT_EQ(early->load(), 0) << "a timeout expired early";
}

// ---------------------------------------------------------------- bad input

// NULL out, NULL fn, NULL handles and non-positive ticker periods: the
// documented codes, nothing written, nothing run.
std::atomic<int> g_bad_ran{0};
void bad_fn(void*) { g_bad_ran++; }

TEST_F(TimeBadInput, NullAndNonPositive) {
  g_bad_ran = 0;
  for (int64_t d : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    EXPECT_EQ(gmp_after(d, nullptr), GMP_EINVAL) << d;
    EXPECT_EQ(gmp_timer_start(nullptr, d, bad_fn, nullptr), GMP_EINVAL) << d;
    gmp_timer_t* t = reinterpret_cast<gmp_timer_t*>(uintptr_t(0x1234));
    EXPECT_EQ(gmp_timer_start(&t, d, nullptr, nullptr), GMP_EINVAL) << d;
    EXPECT_EQ(t, reinterpret_cast<gmp_timer_t*>(uintptr_t(0x1234))) << "*out written";
  }
  EXPECT_EQ(gmp_timer_stop(nullptr), 0);
  for (int64_t d : {int64_t(1), int64_t(0), int64_t(-1), INT64_MAX}) {
    EXPECT_EQ(gmp_timer_reset(nullptr, d), GMP_EINVAL) << d;
  }
  gmp_timer_free(nullptr);
  gmp_ticker_stop(nullptr);

  gmp_ticker_t* const tsent = reinterpret_cast<gmp_ticker_t*>(uintptr_t(0x5678));
  gmp_chan_t* const csent = reinterpret_cast<gmp_chan_t*>(uintptr_t(0x9abc));
  for (int64_t period : {int64_t(0), int64_t(-1), INT64_MIN}) {
    gmp_ticker_t* t = tsent;
    gmp_chan_t* c = csent;
    EXPECT_EQ(gmp_ticker_start(&t, period, &c), GMP_EINVAL) << period;
    EXPECT_EQ(t, tsent);
    EXPECT_EQ(c, csent);
  }
  gmp_ticker_t* t = tsent;
  gmp_chan_t* c = csent;
  EXPECT_EQ(gmp_ticker_start(nullptr, kMs, &c), GMP_EINVAL);
  EXPECT_EQ(gmp_ticker_start(&t, kMs, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_ticker_start(nullptr, kMs, nullptr), GMP_EINVAL);
  EXPECT_EQ(t, tsent);
  EXPECT_EQ(c, csent);
  sleep_ms(20);
  EXPECT_EQ(g_bad_ran.load(), 0);

  // From a goroutine too.
  auto rcs = std::make_shared<std::vector<int>>();
  ASSERT_TRUE(run_goroutine([rcs] {
    gmp_timer_t* tm = nullptr;
    rcs->push_back(gmp_after(kMs, nullptr));
    rcs->push_back(gmp_timer_start(&tm, kMs, nullptr, nullptr));
    rcs->push_back(gmp_timer_reset(nullptr, kMs));
    rcs->push_back(gmp_timer_stop(nullptr));
    gmp_timer_free(nullptr);
    gmp_ticker_stop(nullptr);
  }));
  EXPECT_EQ(*rcs, (std::vector<int>{GMP_EINVAL, GMP_EINVAL, GMP_EINVAL, 0}));
}

}  // namespace
