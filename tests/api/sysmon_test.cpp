// sysmon_test.cpp -- the monitor (core/sysmon.cpp) as seen from the API:
// long time slices end at gmp_preempt_point, a stall is reported once with
// GMP_DEBUG=stallreport=MS, and an idle runtime burns no CPU (the monitor
// parks while every P is idle).
#include <gmprt.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <string>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

int64_t cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t(ru.ru_utime.tv_sec) + ru.ru_stime.tv_sec) * kSec +
         (int64_t(ru.ru_utime.tv_usec) + ru.ru_stime.tv_usec) * kUs;
}

size_t count_lines_with(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) n++;
  return n;
}

// With one P, a goroutine that spins calling only gmp_preempt_point lets
// another goroutine run: the monitor ends its slice after ~10 ms. (Without
// the monitor the spinner would keep the P until the other one's flag,
// which only the other one sets: a hang.)
GMPRT_CHILD(SysmonPreemptsLongSlice) {
  static std::atomic<bool> other_ran{false};
  static std::atomic<int64_t> points{0};
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_go([](void*) { other_ran = true; }, nullptr), 0);
        int64_t deadline = gmp_now() + 20 * kSec;
        while (!other_ran.load() && gmp_now() < deadline) {
          points++;
          gmp_preempt_point();
        }
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK(other_ran.load());
  return 0;
}

TEST(Sysmon, PreemptPointEndsLongSlices) {
  auto r = run_child("SysmonPreemptsLongSlice", {"GMP_MAXPROCS=1"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// GMP_DEBUG=stallreport=50: a goroutine that keeps its P for 400 ms without
// a preemption point is reported once, by id and name; a goroutine that
// reaches preemption points is not.
GMPRT_CHILD(SysmonStallReport) {
  int rc = gmp_main(
      [](void*) {
        gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, "spinner", 0};
        static std::atomic<bool> done{false};
        CHILD_CHECK_EQ(gmp_go_ex(
                           [](void*) {
                             int64_t end = gmp_now() + 400 * kMs;
                             while (gmp_now() < end) {
                             }
                             done = true;
                           },
                           nullptr, &o),
                       0);
        while (!done.load()) gmp_sleep(kMs);
        // Well behaved: 300 ms of short slices.
        int64_t end = gmp_now() + 300 * kMs;
        while (gmp_now() < end) gmp_preempt_point();
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(Sysmon, StallIsReportedOnce) {
  auto r = run_child("SysmonStallReport", {"GMP_DEBUG=stallreport=50", "GMP_MAXPROCS=2"});
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  EXPECT_EQ(count_lines_with(r.err, "gmp: goroutine "), 1u) << r.describe();
  EXPECT_EQ(count_lines_with(r.err, " spinner has kept P "), 1u) << r.describe();
}

// 10,000 goroutines (2,000 under TSan) parked on a channel and nothing else to do: over a
// second the process uses next to no CPU (the monitor and the Ms sleep).
GMPRT_CHILD(SysmonIdleCpu) {
  constexpr int kParked = sized(10000, 2000);
  gmp_chan_t* c = nullptr;
  CHILD_CHECK_EQ(gmp_chan_make(&c, 0, 0), 0);
  static std::atomic<int> started{0};
  for (int i = 0; i < kParked; i++) {
    CHILD_CHECK_EQ(gmp_go(
                       [](void* arg) {
                         started++;
                         gmp_chan_recv(static_cast<gmp_chan_t*>(arg), nullptr);
                       },
                       c),
                   0);
  }
  CHILD_CHECK(wait_until([] { return started.load() == kParked; }));
  usleep(200 * 1000);  // settle: the monitor backs off, then parks
  int64_t cpu0 = cpu_ns(), wall0 = gmp_now();
  usleep(1000 * 1000);
  int64_t cpu = cpu_ns() - cpu0, wall = gmp_now() - wall0;
  fprintf(stdout, "cpu %lld us over %lld ms\n", (long long)(cpu / kUs), (long long)(wall / kMs));
  CHILD_CHECK(cpu * 100 < wall * 2);  // under 2 % of one CPU
  CHILD_CHECK_EQ(gmp_chan_close(c), 0);
  gmp_chan_release(c);
  return 0;
}

TEST(Sysmon, IdleRuntimeUsesNoCpu) {
  auto r = run_child("SysmonIdleCpu");
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

}  // namespace
