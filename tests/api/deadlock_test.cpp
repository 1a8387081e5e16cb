// deadlock_test.cpp -- gmp_main's deadlock detection (checkdead). Each case
// runs in a child process: a fresh runtime whose only goroutines are the
// case's own, with its stderr captured.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

const std::string kDeadlockLine = "gmp: all goroutines are asleep - deadlock!";
constexpr int kAfterDeadlock = 42;  // the exit code of a child that saw GMP_EDEADLOCK

// The main goroutine parks forever (commit NULL): the report, GMP_EDEADLOCK,
// and gmp_main can be called again afterwards.
GMPRT_CHILD(DeadlockMainParksForever) {
  int rc = gmp_main([](void*) { gmp_park(nullptr, nullptr); }, nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  fprintf(stderr, "=== gmp_main returned\n");
  static std::atomic<bool> again{false};
  CHILD_CHECK_EQ(gmp_main([](void*) { again = true; }, nullptr), 0);
  CHILD_CHECK(again.load());
  return kAfterDeadlock;
}

TEST(Deadlock, MainParkedForeverIsReported) {
  auto r = run_child("DeadlockMainParksForever");
  ASSERT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 1) << r.describe();
  const size_t report = r.err.find(kDeadlockLine), after = r.err.find("=== gmp_main returned");
  EXPECT_LT(report, after) << "reported before gmp_main returned\n" << r.describe();
  EXPECT_EQ(r.err.find(kDeadlockLine, report + 1), std::string::npos);
}

// Every blocked goroutine is listed under the report, with its name (the
// name gmp_go_ex copied: the caller's buffer is overwritten afterwards).
GMPRT_CHILD(DeadlockListsNamedGoroutines) {
  int rc = gmp_main(
      [](void*) {
        for (int i = 0; i < 3; i++) {
          char name[GMP_NAME_MAX];
          snprintf(name, sizeof name, "sleeper-%d", i);
          gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, name, 0};
          CHILD_CHECK_EQ(gmp_go_ex([](void*) { gmp_park(nullptr, nullptr); }, nullptr, &o), 0);
          memset(name, 'X', sizeof name - 1);
        }
        gmp_park(nullptr, nullptr);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(Deadlock, ReportListsBlockedGoroutinesByName) {
  auto r = run_child("DeadlockListsNamedGoroutines");
  ASSERT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 1) << r.describe();
  const size_t report = r.err.find(kDeadlockLine);
  for (int i = 0; i < 3; i++) {
    const std::string name = "sleeper-" + std::to_string(i);
    EXPECT_NE(r.err.find(name, report), std::string::npos) << name << "\n" << r.describe();
  }
  EXPECT_EQ(r.err.find("XXXX"), std::string::npos) << "the name was not copied\n" << r.describe();
  // One line per goroutine after the report: at least the four blocked ones.
  EXPECT_GE(lines(r.err.substr(report)).size(), 5u) << r.describe();
}

// A locked main goroutine that parks forever is a deadlock too.
GMPRT_CHILD(DeadlockLockedMain) {
  int rc = gmp_main(
      [](void*) {
        gmp_lock_os_thread();
        gmp_park(nullptr, nullptr);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(Deadlock, LockedMainParkedForeverIsReported) {
  auto r = run_child("DeadlockLockedMain");
  ASSERT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 1) << r.describe();
}

// No report while some goroutine can still run: the main goroutine parks,
// a chain of goroutines (each yielding many times, then readying the next)
// ends by readying it.
GMPRT_CHILD(NoDeadlockWhileGoroutinesRun) {
  static Parked main_p, mid_p;
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             park_here(&mid_p);  // readied by the worker below
                             for (int i = 0; i < 1000; i++) gmp_yield();
                             wake_when_parked(&main_p);
                           },
                           nullptr),
                       0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             for (int i = 0; i < 20000; i++) gmp_yield();
                             wake_when_parked(&mid_p);
                           },
                           nullptr),
                       0);
        park_here(&main_p);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(Deadlock, NotReportedWhileGoroutinesCanRun) {
  auto r = run_child("NoDeadlockWhileGoroutinesRun");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find(kDeadlockLine), std::string::npos) << r.describe();
}

// A live plain thread that has called into the runtime could still ready a
// goroutine: no report while it lives. Here it does ready the main goroutine
// (after a pause that gives a wrong report every chance).
GMPRT_CHILD(NoDeadlockWhilePlainThreadLives) {
  static Parked main_p;
  static std::atomic<bool> registered{false};
  std::thread t([] {
    static std::atomic<int> ran{0};
    CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);  // calls into the runtime
    registered = true;
    CHILD_CHECK(wait_until([] { return main_p.parked.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    gmp_ready(main_p.g.load());
  });
  CHILD_CHECK(wait_until([] { return registered.load(); }));
  int rc = gmp_main([](void*) { park_here(&main_p); }, nullptr);
  t.join();
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK_EQ(main_p.resumed.load(), 1);
  return 0;
}

TEST(Deadlock, LivePlainThreadPreventsReport) {
  auto r = run_child("NoDeadlockWhilePlainThreadLives");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find(kDeadlockLine), std::string::npos) << r.describe();
}

// ... and once that thread has exited without readying anyone, the
// deadlock is reported.
GMPRT_CHILD(DeadlockAfterPlainThreadExits) {
  static Parked main_p;
  static std::atomic<bool> registered{false}, thread_ending{false};
  std::thread t([] {
    static std::atomic<int> ran{0};
    CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
    registered = true;
    CHILD_CHECK(wait_until([] { return main_p.parked.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    thread_ending = true;
  });
  CHILD_CHECK(wait_until([] { return registered.load(); }));
  int rc = gmp_main([](void*) { park_here(&main_p); }, nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  CHILD_CHECK(thread_ending.load());  // not reported while the thread lived
  t.join();
  return kAfterDeadlock;
}

TEST(Deadlock, ReportedAfterPlainThreadExits) {
  auto r = run_child("DeadlockAfterPlainThreadExits");
  EXPECT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 1) << r.describe();
}

// Never a false report: with one goroutine parked for good, many gmp_main
// calls whose bodies simply return (while other goroutines come and go and
// threads go idle around them) all return 0.
GMPRT_CHILD(NoFalseDeadlockReport) {
  static Parked forever;
  CHILD_CHECK_EQ(gmp_go([](void*) { park_here(&forever); }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return forever.parked.load() == 1; }));
  static std::atomic<int> ran{0};
  for (int i = 0; i < 2000; i++) {
    for (int j = 0; j < 4; j++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
    const int rc = gmp_main([](void*) { ran++; }, nullptr);
    if (rc != 0) {
      fprintf(stderr, "gmp_main call %d returned %d\n", i, rc);
      return 1;
    }
  }
  CHILD_CHECK(wait_until([] { return ran.load() == 2000 * 5; }));
  gmp_ready(forever.g.load());
  CHILD_CHECK(wait_until([] { return forever.resumed.load() == 1; }));
  return 0;
}

TEST(Deadlock, NoFalseReportWhenMainGoroutineCanRun) {
  auto r = run_child("NoFalseDeadlockReport");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find(kDeadlockLine), std::string::npos) << r.describe();
}

// Repeated deadlocks: each gmp_main that deadlocks reports once and
// returns; the runtime keeps working in between.
GMPRT_CHILD(DeadlockRepeated) {
  for (int i = 0; i < 3; i++) {
    CHILD_CHECK_EQ(gmp_main([](void*) { gmp_park(nullptr, nullptr); }, nullptr), GMP_EDEADLOCK);
    static std::atomic<int> ran{0};
    CHILD_CHECK_EQ(gmp_main([](void*) { ran++; }, nullptr), 0);
  }
  return kAfterDeadlock;
}

TEST(Deadlock, ReportedEachTime) {
  auto r = run_child("DeadlockRepeated");
  EXPECT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 3) << r.describe();
}

}  // namespace
