// chan_deadlock_test.cpp -- gmp_main's deadlock detection with channels,
// selects and timers: a main goroutine blocked for good in a receive, a
// send, a select or a select with no cases is reported with Go's wait
// reason ("[chan receive]", "[chan send]", "[select]", "[select (no
// cases)]"); a pending timer (a sleeper, gmp_after, gmp_timer_start, a
// timeout) counts as a possible waker, a stopped one does not; a plain
// thread blocked for good in a channel call counts as blocked. Each case
// runs in a child process (fresh runtime, stderr captured), as in
// deadlock_test.cpp.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

const std::string kDeadlockLine = "gmp: all goroutines are asleep - deadlock!";
constexpr int kAfterDeadlock = 42;  // the exit code of a child that saw GMP_EDEADLOCK

// has_report_line: the report lists a goroutine line containing `what`.
bool has_report_line(const std::string& err, const std::string& what) {
  const size_t report = err.find(kDeadlockLine);
  if (report == std::string::npos) return false;
  for (const auto& l : lines(err.substr(report))) {
    if (l.rfind("goroutine ", 0) == 0 && l.find(what) != std::string::npos) return true;
  }
  return false;
}

void expect_report(const ChildResult& r, const std::string& reason) {
  ASSERT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 1) << r.describe();
  EXPECT_TRUE(has_report_line(r.err, reason)) << "no goroutine line with " << reason << "\n"
                                              << r.describe();
}

void expect_no_report(const ChildResult& r) {
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find(kDeadlockLine), std::string::npos) << r.describe();
}

gmp_chan_t* g_c = nullptr;  // the channel of the child that runs

// Go: "fatal error: all goroutines are asleep - deadlock!" with
// "goroutine 1 [chan receive]". The blocked main goroutine stays blocked:
// a value sent afterwards (from this plain thread) still reaches it.
GMPRT_CHILD(DeadlockChanReceive) {
  static std::atomic<int64_t> got{0};
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 0), 0);
        int64_t v = 0;
        CHILD_CHECK_EQ(gmp_chan_recv(g_c, &v), 0);
        got = v;
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  CHILD_CHECK_EQ(send_i64(g_c, 17), 0);
  CHILD_CHECK(wait_until([] { return got.load() == 17; }));
  static std::atomic<int> again{0};
  CHILD_CHECK_EQ(gmp_main([](void*) { again = 1; }, nullptr), 0);
  CHILD_CHECK_EQ(again.load(), 1);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, BlockedReceiveIsReported) {
  auto r = run_child("DeadlockChanReceive");
  expect_report(r, "[chan receive]");
  EXPECT_TRUE(has_report_line(r.err, "goroutine 1 [chan receive]")) << r.describe();
}

// "goroutine 1 [chan send]" -- on an unbuffered and on a full channel.
GMPRT_CHILD(DeadlockChanSend) {
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 1), 0);
        CHILD_CHECK_EQ(send_i64(g_c, 1), 0);
        send_i64(g_c, 2);  // full: blocks for good
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, BlockedSendIsReported) {
  expect_report(run_child("DeadlockChanSend"), "[chan send]");
}

// select {}: "[select (no cases)]".
GMPRT_CHILD(DeadlockSelectNoCases) {
  int rc = gmp_main([](void*) { gmp_select(nullptr, 0, -1); }, nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, SelectWithNoCasesIsReported) {
  expect_report(run_child("DeadlockSelectNoCases"), "[select (no cases)]");
}

// A select on channels nobody uses: "[select]".
GMPRT_CHILD(DeadlockSelect) {
  int rc = gmp_main(
      [](void*) {
        gmp_chan_t *a = nullptr, *b = nullptr;
        CHILD_CHECK_EQ(gmp_chan_make(&a, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_chan_make(&b, sizeof(int64_t), 1), 0);
        CHILD_CHECK_EQ(send_i64(b, 1), 0);
        int64_t va = 0, vb = 2;
        gmp_select_case_t cases[] = {{a, GMP_RECV, &va, 0}, {b, GMP_SEND, &vb, 0}};
        gmp_select(cases, 2, -1);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, BlockedSelectIsReported) {
  expect_report(run_child("DeadlockSelect"), "[select]");
}

// A select whose cases are all NULL channels blocks for good too.
GMPRT_CHILD(DeadlockSelectNullCases) {
  int rc = gmp_main(
      [](void*) {
        int64_t v = 0;
        gmp_select_case_t cases[] = {{nullptr, GMP_RECV, &v, 0}, {nullptr, GMP_SEND, &v, 0}};
        gmp_select(cases, 2, -1);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, SelectOnNullChannelsIsReported) {
  expect_report(run_child("DeadlockSelectNullCases"), "[select");
}

// Every blocked goroutine is listed with its reason and name: a named
// receiver, a named sender on another channel, main in a select.
GMPRT_CHILD(DeadlockListsChannelWaiters) {
  int rc = gmp_main(
      [](void*) {
        static gmp_chan_t *a = nullptr, *b = nullptr;
        CHILD_CHECK_EQ(gmp_chan_make(&a, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_chan_make(&b, sizeof(int64_t), 0), 0);
        gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, "chan-receiver", 0};
        CHILD_CHECK_EQ(gmp_go_ex([](void*) { recv_i64(a); }, nullptr, &o), 0);
        o.name = "chan-sender";
        CHILD_CHECK_EQ(gmp_go_ex([](void*) { send_i64(b, 1); }, nullptr, &o), 0);
        gmp_select_case_t cases[] = {{nullptr, GMP_RECV, nullptr, 0}};
        gmp_select(cases, 1, -1);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, ReportListsChannelWaitersByName) {
  auto r = run_child("DeadlockListsChannelWaiters");
  expect_report(r, "[select");
  EXPECT_TRUE(has_report_line(r.err, "[chan receive]: chan-receiver")) << r.describe();
  EXPECT_TRUE(has_report_line(r.err, "[chan send]: chan-sender")) << r.describe();
}

// A plain thread blocked for good in gmp_chan_recv cannot wake anyone by
// itself: with the main goroutine blocked too, the deadlock is reported.
GMPRT_CHILD(DeadlockWithPlainThreadBlockedInRecv) {
  static gmp_chan_t* t_c = nullptr;
  CHILD_CHECK_EQ(gmp_init(), 0);
  CHILD_CHECK_EQ(gmp_chan_make(&t_c, sizeof(int64_t), 0), 0);
  static std::atomic<int> thread_rc{1};
  std::thread t([] { thread_rc = recv_i64(t_c).rc; });
  t.detach();  // stays blocked until the process exits (or is woken below)
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 0), 0);
        recv_i64(g_c);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  // Both stay usable: closing the thread's channel wakes it.
  CHILD_CHECK_EQ(gmp_chan_close(t_c), 0);
  CHILD_CHECK(wait_until([] { return thread_rc.load() == GMP_ECLOSED; }));
  return kAfterDeadlock;
}

TEST(ChanDeadlock, PlainThreadBlockedInRecvDoesNotPreventReport) {
  expect_report(run_child("DeadlockWithPlainThreadBlockedInRecv"), "[chan receive]");
}

// A goroutine in gmp_sleep will wake (its timer is pending): the main
// goroutine waiting for what it sends after waking is no deadlock.
GMPRT_CHILD(NoDeadlockWhileSleeperWillSend) {
  static std::atomic<int64_t> got{0};
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             gmp_sleep(300 * kMs);
                             CHILD_CHECK_EQ(send_i64(g_c, 5), 0);
                           },
                           nullptr),
                       0);
        got = recv_i64(g_c).v;
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK_EQ(got.load(), 5);
  return 0;
}

TEST(ChanDeadlock, SleepingGoroutineIsAWaker) {
  expect_no_report(run_child("NoDeadlockWhileSleeperWillSend"));
}

// A pending gmp_timer_start timer whose fn sends on the channel prevents
// the report.
GMPRT_CHILD(NoDeadlockWhileAfterFuncPending) {
  static std::atomic<int64_t> got{0};
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 0), 0);
        gmp_timer_t* t = nullptr;
        CHILD_CHECK_EQ(
            gmp_timer_start(
                &t, 300 * kMs, [](void*) { CHILD_CHECK_EQ(send_i64(g_c, 6), 0); }, nullptr),
            0);
        got = recv_i64(g_c).v;
        gmp_timer_free(t);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK_EQ(got.load(), 6);
  return 0;
}

TEST(ChanDeadlock, PendingTimerIsAWaker) {
  expect_no_report(run_child("NoDeadlockWhileAfterFuncPending"));
}

// A stopped timer never fires and is no waker: the main goroutine blocked
// on the channel its fn would have sent on is reported.
GMPRT_CHILD(DeadlockAfterTimerStopped) {
  static std::atomic<int> ran{0};
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 1), 0);
        gmp_timer_t* t = nullptr;
        CHILD_CHECK_EQ(gmp_timer_start(
                           &t, 200 * kMs,
                           [](void*) {
                             ran = 1;
                             send_i64(g_c, 7);
                           },
                           nullptr),
                       0);
        CHILD_CHECK_EQ(gmp_timer_stop(t), 1);
        recv_i64(g_c);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  CHILD_CHECK_EQ(ran.load(), 0);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, StoppedTimerIsNoWaker) {
  expect_report(run_child("DeadlockAfterTimerStopped"), "[chan receive]");
}

// The same for a timer freed while pending.
GMPRT_CHILD(DeadlockAfterTimerFreed) {
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 1), 0);
        gmp_timer_t* t = nullptr;
        CHILD_CHECK_EQ(gmp_timer_start(
                           &t, 200 * kMs, [](void*) { send_i64(g_c, 7); }, nullptr),
                       0);
        gmp_timer_free(t);
        recv_i64(g_c);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

TEST(ChanDeadlock, FreedTimerIsNoWaker) {
  expect_report(run_child("DeadlockAfterTimerFreed"), "[chan receive]");
}

// Waiting on a gmp_after channel is no deadlock: the value arrives.
GMPRT_CHILD(NoDeadlockWaitingForAfter) {
  int rc = gmp_main(
      [](void*) {
        gmp_chan_t* c = nullptr;
        const int64_t start = gmp_now();
        CHILD_CHECK_EQ(gmp_after(300 * kMs, &c), 0);
        RecvResult r = recv_i64(c);
        CHILD_CHECK_EQ(r.rc, 0);
        CHILD_CHECK(r.v >= start + 300 * kMs);
        gmp_chan_release(c);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(ChanDeadlock, AfterChannelIsNoDeadlock) {
  expect_no_report(run_child("NoDeadlockWaitingForAfter"));
}

// Timed waits end by themselves: a receive, a select and an empty select
// with timeouts time out instead of being reported.
GMPRT_CHILD(NoDeadlockTimedWaits) {
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&g_c, sizeof(int64_t), 0), 0);
        int64_t v = 0;
        CHILD_CHECK_EQ(gmp_chan_recv_timeout(g_c, &v, 200 * kMs), GMP_ETIMEDOUT);
        CHILD_CHECK_EQ(gmp_chan_send_timeout(g_c, &v, 200 * kMs), GMP_ETIMEDOUT);
        gmp_select_case_t cases[] = {{g_c, GMP_RECV, &v, 0}};
        CHILD_CHECK_EQ(gmp_select(cases, 1, 200 * kMs), GMP_ETIMEDOUT);
        CHILD_CHECK_EQ(gmp_select(nullptr, 0, 200 * kMs), GMP_ETIMEDOUT);
        gmp_sleep(200 * kMs);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(ChanDeadlock, TimedWaitsAreNoDeadlock) { expect_no_report(run_child("NoDeadlockTimedWaits")); }

// The main goroutine blocks on a channel a chain of goroutines feeds after
// much work (no sleeps): no false report while they run.
GMPRT_CHILD(NoDeadlockWhileChainRuns) {
  static std::atomic<int64_t> got{0};
  int rc = gmp_main(
      [](void*) {
        static gmp_chan_t *in = nullptr, *out = nullptr;
        CHILD_CHECK_EQ(gmp_chan_make(&in, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_chan_make(&out, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             int64_t sum = 0;
                             for (RecvResult r; (r = recv_i64(in)).rc == 0;) sum += r.v;
                             CHILD_CHECK_EQ(send_i64(out, sum), 0);
                           },
                           nullptr),
                       0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             for (int64_t i = 1; i <= 20000; i++) {
                               CHILD_CHECK_EQ(send_i64(in, i), 0);
                             }
                             CHILD_CHECK_EQ(gmp_chan_close(in), 0);
                           },
                           nullptr),
                       0);
        got = recv_i64(out).v;
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK_EQ(got.load(), int64_t(20000) * 20001 / 2);
  return 0;
}

TEST(ChanDeadlock, NoFalseReportWhileChannelChainRuns) {
  expect_no_report(run_child("NoDeadlockWhileChainRuns"));
}

}  // namespace
