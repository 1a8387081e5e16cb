// stats_test.cpp -- gmp_stats: the struct_size contract (a short size is
// GMP_EINVAL and nothing is written; nothing is ever written past the
// caller's size), and each count against a program whose state is known
// (fresh child processes, so that no other test's goroutines count).
#include <gmprt.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

constexpr size_t kV1Size = 112;  // the first gmp_stats_t (API.md: smaller is GMP_EINVAL)
constexpr unsigned char kCanary = 0xA5;

// A gmp_stats_t at the start of a larger buffer filled with the canary.
struct Canaried {
  alignas(gmp_stats_t) unsigned char bytes[sizeof(gmp_stats_t) + 64];
  Canaried() { memset(bytes, kCanary, sizeof bytes); }
  gmp_stats_t* stats() { return reinterpret_cast<gmp_stats_t*>(bytes); }
  void set_size(size_t n) { memcpy(bytes, &n, sizeof n); }
  // untouched_from: every byte from offset `from` on still holds the canary.
  bool untouched_from(size_t from) const {
    for (size_t i = from; i < sizeof bytes; i++)
      if (bytes[i] != kCanary) return false;
    return true;
  }
};

gmp_stats_t read_stats() {
  gmp_stats_t s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  EXPECT_EQ(gmp_stats(&s), 0);
  return s;
}

}  // namespace

TEST(Stats, FirstVersionSizeIsPinned) { EXPECT_EQ(sizeof(gmp_stats_t), kV1Size); }

TEST(Stats, NullIsEinval) { EXPECT_EQ(gmp_stats(nullptr), GMP_EINVAL); }

// A struct_size below the first version: GMP_EINVAL and not one byte
// written, struct_size included.
TEST(Stats, ShortStructSizeIsEinvalAndWritesNothing) {
  ASSERT_EQ(gmp_init(), 0);
  for (size_t size : {size_t(0), size_t(8), size_t(16), kV1Size - 8, kV1Size - 1}) {
    Canaried c;
    c.set_size(size);
    EXPECT_EQ(gmp_stats(c.stats()), GMP_EINVAL) << size;
    size_t after = 0;
    memcpy(&after, c.bytes, sizeof after);
    EXPECT_EQ(after, size);
    EXPECT_TRUE(c.untouched_from(sizeof(size_t))) << "wrote past struct_size " << size;
  }
}

// Exactly the struct: filled up to its end, the canary behind it intact.
TEST(Stats, ExactSizeWritesNothingPastIt) {
  ASSERT_EQ(gmp_init(), 0);
  Canaried c;
  c.set_size(sizeof(gmp_stats_t));
  ASSERT_EQ(gmp_stats(c.stats()), 0);
  EXPECT_EQ(c.stats()->struct_size, sizeof(gmp_stats_t));
  EXPECT_GE(c.stats()->procs, 1);
  EXPECT_TRUE(c.untouched_from(sizeof(gmp_stats_t)));
}

// A caller built against a larger (future) struct: the known part is
// filled, the rest is left as the caller set it, and struct_size is kept.
TEST(Stats, LargerStructSizeFillsOnlyWhatTheLibraryKnows) {
  ASSERT_EQ(gmp_init(), 0);
  Canaried c;
  const size_t future = sizeof(gmp_stats_t) + 32;
  c.set_size(future);
  ASSERT_EQ(gmp_stats(c.stats()), 0);
  EXPECT_EQ(c.stats()->struct_size, future);
  EXPECT_GE(c.stats()->procs, 1);
  EXPECT_TRUE(c.untouched_from(sizeof(gmp_stats_t)));
}

// Invariants that hold in any snapshot, in the shared test runtime.
TEST(Stats, SnapshotIsConsistent) {
  run_goroutine([] {
    gmp_stats_t a = read_stats();
    EXPECT_GE(a.goroutines, 1);  // this one
    EXPECT_EQ(a.procs, gmp_maxprocs(0));
    EXPECT_GE(a.threads, 1);
    EXPECT_LE(a.idle_threads + a.spinning_threads, a.threads);
    EXPECT_GE(a.idle_procs, 0);
    EXPECT_LT(a.idle_procs, a.procs);  // ours is busy
    EXPECT_GE(a.global_runq, 0);
    EXPECT_GE(a.goroutines_created_total, 1u);
    EXPECT_GE(a.context_switches_total, 1u);
    // Cumulative counters never go back.
    gmp_yield();
    gmp_stats_t b = read_stats();
    EXPECT_GE(b.goroutines_created_total, a.goroutines_created_total);
    EXPECT_GE(b.context_switches_total, a.context_switches_total);
    EXPECT_GE(b.steals_total, a.steals_total);
    EXPECT_GE(b.parks_total, a.parks_total);
  });
}

// A fresh process: the main goroutine and kParked goroutines parked on a
// channel. Every count is then known exactly or bounded from below.
GMPRT_CHILD(StatsCountsKnownProgram) {
  constexpr int kParked = 5;
  static gmp_chan_t* c;
  static std::atomic<int> started{0};
  int rc = gmp_main(
      [](void*) {
        gmp_stats_t s0 = read_stats();
        CHILD_CHECK_EQ(s0.goroutines, 1);
        CHILD_CHECK_EQ(s0.goroutines_created_total, 1);  // the main goroutine
        CHILD_CHECK_EQ(s0.procs, 2);
        CHILD_CHECK_EQ(gmp_chan_make(&c, 0, 0), 0);
        for (int i = 0; i < kParked; i++) {
          CHILD_CHECK_EQ(gmp_go(
                             [](void*) {
                               started++;
                               gmp_chan_recv(c, nullptr);
                             },
                             nullptr),
                         0);
        }
        CHILD_CHECK(wait_until([] { return started.load() == kParked; }));
        // Each blocked receiver parks once; the main goroutine's own
        // yields in wait_until park nothing.
        CHILD_CHECK(wait_until([] { return read_stats().parks_total >= uint64_t(kParked); }));
        gmp_stats_t s1 = read_stats();
        CHILD_CHECK_EQ(s1.goroutines, kParked + 1);
        CHILD_CHECK_EQ(s1.goroutines_created_total, kParked + 1);
        CHILD_CHECK(s1.context_switches_total >= uint64_t(kParked + 1));
        CHILD_CHECK(s1.threads >= 1);
        CHILD_CHECK(s1.idle_threads + s1.spinning_threads <= s1.threads);

        // A pending timer counts until it is stopped.
        gmp_timer_t* t = nullptr;
        CHILD_CHECK_EQ(gmp_timer_start(
                           &t, 3600 * kSec, [](void*) {}, nullptr),
                       0);
        CHILD_CHECK_EQ(read_stats().timers_pending, s1.timers_pending + 1);
        CHILD_CHECK_EQ(gmp_timer_stop(t), 1);
        CHILD_CHECK(wait_until([&] { return read_stats().timers_pending == s1.timers_pending; }));
        gmp_timer_free(t);

        // A descriptor counts from its first runtime call until gmp_close.
        int sv[2];
        CHILD_CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        CHILD_CHECK_EQ(gmp_fd_wait(sv[0], GMP_READ, 0), GMP_EAGAIN);
        CHILD_CHECK_EQ(read_stats().fds_registered, s1.fds_registered + 1);
        CHILD_CHECK_EQ(gmp_close(sv[0]), 0);
        CHILD_CHECK_EQ(read_stats().fds_registered, s1.fds_registered);
        close(sv[1]);

        for (int i = 0; i < kParked; i++) gmp_chan_send(c, nullptr);
        CHILD_CHECK(wait_until([] { return gmp_num_goroutine() == 1; }));
        gmp_stats_t s2 = read_stats();
        CHILD_CHECK_EQ(s2.goroutines, 1);
        CHILD_CHECK_EQ(s2.goroutines_created_total, kParked + 1);
        gmp_chan_release(c);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  // Goroutines created from a plain thread count too.
  gmp_stats_t before = read_stats();
  static std::atomic<bool> ran{false};
  CHILD_CHECK_EQ(gmp_go([](void*) { ran = true; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load(); }));
  CHILD_CHECK_EQ(read_stats().goroutines_created_total, before.goroutines_created_total + 1);
  return 0;
}

TEST(Stats, CountsOfAKnownProgram) {
  auto r = run_child("StatsCountsKnownProgram", {"GMP_MAXPROCS=2", "GMP_DEBUG"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// Steals: with two Ps, a goroutine that queues work on its own P and then
// keeps that P busy (never yielding) leaves the other P nothing to do but
// steal it. The queued goroutines cannot run otherwise.
GMPRT_CHILD(StatsCountsSteals) {
  static std::atomic<int> ran{0};
  int rc = gmp_main(
      [](void*) {
        uint64_t before = read_stats().steals_total;
        for (int i = 0; i < 4; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
        CHILD_CHECK(spin_until([] { return ran.load() == 4; }));
        CHILD_CHECK(read_stats().steals_total >= before + 1);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(Stats, CountsSteals) {
  auto r = run_child("StatsCountsSteals", {"GMP_MAXPROCS=2", "GMP_DEBUG"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// Before the runtime starts, every count is zero (and the call does not
// start it).
GMPRT_CHILD(StatsBeforeStart) {
  gmp_stats_t s;
  memset(&s, 0xff, sizeof s);
  s.struct_size = sizeof s;
  CHILD_CHECK_EQ(gmp_stats(&s), 0);
  CHILD_CHECK_EQ(s.goroutines, 0);
  CHILD_CHECK_EQ(s.threads, 0);
  CHILD_CHECK_EQ(s.procs, 0);
  CHILD_CHECK_EQ(s.goroutines_created_total, 0);
  CHILD_CHECK_EQ(thread_count(), 1);
  return 0;
}

TEST(Stats, BeforeStartIsAllZero) {
  auto r = run_child("StatsBeforeStart");
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}
