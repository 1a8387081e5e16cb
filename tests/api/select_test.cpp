// select_test.cpp -- the Select section of gmprt.h: gmp_select over
// receive and send cases, from goroutines and plain threads: the uniform
// choice among ready cases, NULL-channel cases, the default clause
// (timeout 0), timeouts, n == 0, the same channel in several cases (also a
// send and a receive), closed channels, waking and dequeueing a blocked
// select, stress with exact accounting, the lifetime rule through a select,
// and every bad argument.
//
// Ports the intent of Go's runtime/chan_test.go (TestSelectFairness,
// TestPseudoRandomSend, TestSelfSelect, TestSelectStress,
// TestSelectDuplicateChannel, TestNonblockSelectRace{,2}) and test/chan
// (select3.go, doubleselect.go). Deadlock reports of a blocked select:
// chan_deadlock_test.cpp.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "chan_helpers.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

constexpr int64_t kPattern = INT64_C(0x5a5a5a5a5a5a5a5a);
constexpr int kUntouched = 12345;  // a result member nobody should write

void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

gmp_select_case_t recv_case(gmp_chan_t* c, void* elem) {
  return gmp_select_case_t{c, GMP_RECV, elem, kUntouched};
}
gmp_select_case_t send_case(gmp_chan_t* c, const void* elem) {
  return gmp_select_case_t{c, GMP_SEND, const_cast<void*>(elem), kUntouched};
}

// chi_square: Pearson's statistic of counts against a uniform expectation.
double chi_square(const std::vector<int>& counts) {
  double total = 0;
  for (int n : counts) total += n;
  const double expected = total / double(counts.size());
  double x2 = 0;
  for (int n : counts) x2 += (n - expected) * (n - expected) / expected;
  return x2;
}

// With 3 degrees of freedom, P(chi2 > 40) is about 1e-8: a fair choice
// essentially never fails, a biased one (e.g. "first ready case") always.
constexpr double kChiSquareCritical3 = 40.0;

class Select : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine(); }
};

class SelectP : public MaxprocsTest {
 protected:
  void TearDown() override {
    EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine();
    MaxprocsTest::TearDown();
  }
};
GMPRT_INSTANTIATE_MAXPROCS(SelectP);

// ------------------------------------------------------------- uniformity

// Go picks uniformly among ready cases: 4 ready receive cases, 10,000
// selects, a chi-square test; each channel's values still come in order.
TEST_P(SelectP, ReadyRecvCasesChosenUniformly) {
  constexpr int kCases = 4, kSelects = 10000;
  std::vector<ChanRef> cs;
  for (int k = 0; k < kCases; k++) {
    cs.push_back(make_chan(sizeof(int64_t), kSelects));
    for (int i = 0; i < kSelects; i++) ASSERT_EQ(send_i64(cs[k], i), GMP_OK);
  }
  std::vector<int> counts(kCases, 0);
  auto run = [&] {
    int64_t got[kCases];
    for (int i = 0; i < kSelects; i++) {
      gmp_select_case_t cases[kCases];
      for (int k = 0; k < kCases; k++) cases[k] = recv_case(cs[k], &got[k]);
      int idx = gmp_select(cases, kCases, -1);
      ASSERT_TRUE(idx >= 0 && idx < kCases) << idx;
      ASSERT_EQ(cases[idx].result, GMP_OK);
      ASSERT_EQ(got[idx], counts[idx]) << "case " << idx << ": FIFO broken";
      counts[idx]++;
    }
  };
  ASSERT_TRUE(run_goroutine(run));
  const double x2 = chi_square(counts);
  EXPECT_LT(x2, kChiSquareCritical3)
      << counts[0] << " " << counts[1] << " " << counts[2] << " " << counts[3];
  for (int k = 0; k < kCases; k++) EXPECT_EQ(gmp_chan_len(cs[k]), size_t(kSelects - counts[k]));
}

// The same for ready send cases, from a plain thread.
TEST_P(SelectP, ReadySendCasesChosenUniformly) {
  constexpr int kCases = 4, kSelects = 10000;
  std::vector<ChanRef> cs;
  for (int k = 0; k < kCases; k++) cs.push_back(make_chan(sizeof(int64_t), kSelects));
  std::vector<int> counts(kCases, 0);
  for (int i = 0; i < kSelects; i++) {
    const int64_t v = i;
    gmp_select_case_t cases[kCases];
    for (int k = 0; k < kCases; k++) cases[k] = send_case(cs[k], &v);
    int idx = gmp_select(cases, kCases, -1);
    ASSERT_TRUE(idx >= 0 && idx < kCases) << idx;
    ASSERT_EQ(cases[idx].result, GMP_OK);
    counts[idx]++;
  }
  EXPECT_LT(chi_square(counts), kChiSquareCritical3)
      << counts[0] << " " << counts[1] << " " << counts[2] << " " << counts[3];
  for (int k = 0; k < kCases; k++) {
    ASSERT_EQ(gmp_chan_len(cs[k]), size_t(counts[k]));
    int64_t last = -1;
    for (int i = 0; i < counts[k]; i++) {
      RecvResult r = recv_i64(cs[k]);
      EXPECT_GT(r.v, last);
      last = r.v;
    }
  }
}

// TestSelectFairness: two ready cases among two never-ready ones are each
// chosen half the time (Go's bound: six nines of confidence).
TEST_P(SelectP, FairnessWithUnreadyCases) {
  constexpr int kTrials = 10000;
  ChanRef c1 = make_chan(1, kTrials + 1), c2 = make_chan(1, kTrials + 1);
  ChanRef c3 = make_chan(1, 0), c4 = make_chan(1, 0);
  for (int i = 0; i < kTrials + 1; i++) {
    const char one = 1, two = 2;
    ASSERT_EQ(gmp_chan_send(c1, &one), GMP_OK);
    ASSERT_EQ(gmp_chan_send(c2, &two), GMP_OK);
  }
  int cnt1 = 0, cnt2 = 0;
  ASSERT_TRUE(run_goroutine([&] {
    for (int i = 0; i < kTrials; i++) {
      char b = 0;
      gmp_select_case_t cases[] = {recv_case(c3, &b), recv_case(c4, &b), recv_case(c1, &b),
                                   recv_case(c2, &b)};
      int idx = gmp_select(cases, 4, -1);
      ASSERT_TRUE(idx == 2 || idx == 3) << idx;
      ASSERT_EQ(b, idx - 1);
      (b == 1 ? cnt1 : cnt2)++;
    }
  }));
  const double e = std::fabs(double(cnt1) / kTrials - 0.5);
  EXPECT_LE(e, 4.891676 / (2 * std::sqrt(double(kTrials))))
      << "unfair select: " << cnt1 << " vs " << cnt2;
}

// TestPseudoRandomSend: two send cases on the same channel (values 0 and
// 1) are both chosen, on unbuffered and buffered channels.
TEST_P(SelectP, PseudoRandomSendOnSameChannel) {
  constexpr int kN = 100;
  for (size_t cap : {size_t(0), size_t(kN)}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    auto got = std::make_shared<std::vector<int64_t>>(kN, -1);
    Group g;
    g.go([c, got] {
      for (int i = 0; i < kN; i++) {
        gmp_yield();
        (*got)[i] = recv_i64(c).v;
      }
    });
    for (int i = 0; i < kN; i++) {
      const int64_t one = 1, zero = 0;
      gmp_select_case_t cases[] = {send_case(c, &one), send_case(c, &zero)};
      int idx = gmp_select(cases, 2, -1);
      ASSERT_TRUE(idx == 0 || idx == 1);
    }
    ASSERT_TRUE(g.wait());
    int n0 = 0, n1 = 0;
    for (int64_t v : *got) {
      ASSERT_TRUE(v == 0 || v == 1) << v;
      (v ? n1 : n0)++;
    }
    EXPECT_GT(n0, kN / 10) << "cap " << cap;
    EXPECT_GT(n1, kN / 10) << "cap " << cap;
  }
}

// A ready send and a ready receive are both chosen over many selects.
TEST_F(Select, ReadySendAndRecvBothChosen) {
  ChanRef in = make_chan(sizeof(int64_t), 1000), out = make_chan(sizeof(int64_t), 1000);
  for (int i = 0; i < 1000; i++) ASSERT_EQ(send_i64(in, i), GMP_OK);
  int sends = 0, recvs = 0;
  for (int i = 0; i < 1000; i++) {
    int64_t r = -1;
    const int64_t s = i;
    gmp_select_case_t cases[] = {recv_case(in, &r), send_case(out, &s)};
    int idx = gmp_select(cases, 2, 0);
    ASSERT_TRUE(idx == 0 || idx == 1) << idx;
    EXPECT_EQ(cases[idx].result, GMP_OK);
    EXPECT_EQ(cases[1 - idx].result, kUntouched) << "the case not chosen was written";
    if (idx == 0) {
      EXPECT_EQ(r, recvs);
      recvs++;
    } else {
      EXPECT_EQ(r, -1) << "the receive case not chosen wrote its element";
      sends++;
    }
  }
  EXPECT_GT(sends, 100);
  EXPECT_GT(recvs, 100);
  EXPECT_EQ(gmp_chan_len(out), size_t(sends));
}

// ------------------------------------------------------- NULL and default

// select3.go: a NULL channel case is never ready: with a default clause it
// is skipped, with a timeout it times out, beside a ready case it is never
// chosen.
TEST_F(Select, NullChannelCasesNeverReady) {
  int64_t v = kPattern;
  gmp_select_case_t nulls[] = {recv_case(nullptr, &v), send_case(nullptr, &v),
                               recv_case(nullptr, nullptr)};
  EXPECT_EQ(gmp_select(nulls, 3, 0), GMP_EAGAIN);
  Stopwatch sw;
  EXPECT_EQ(gmp_select(nulls, 3, 20 * kMs), GMP_ETIMEDOUT);
  EXPECT_TRUE(sw.at_least(20 * kMs)) << sw.ns();
  EXPECT_EQ(v, kPattern);
  for (auto& c : nulls) EXPECT_EQ(c.result, kUntouched);

  ChanRef ready = make_chan(sizeof(int64_t), 1000);
  for (int i = 0; i < 1000; i++) ASSERT_EQ(send_i64(ready, i), GMP_OK);
  for (int i = 0; i < 1000; i++) {
    int64_t got = -1;
    gmp_select_case_t cases[] = {recv_case(nullptr, &v), send_case(nullptr, &v),
                                 recv_case(ready, &got), recv_case(nullptr, &v)};
    ASSERT_EQ(gmp_select(cases, 4, i % 2 ? -1 : 0), 2);
    EXPECT_EQ(got, i);
  }
  EXPECT_EQ(v, kPattern);
}

// A default clause (timeout 0) returns GMP_EAGAIN at once when nothing is
// ready, and changes nothing.
TEST_F(Select, DefaultWhenNoneReady) {
  ChanRef empty = make_chan(sizeof(int64_t), 1), full = make_chan(sizeof(int64_t), 1),
          unbuf = make_chan(sizeof(int64_t), 0);
  ASSERT_EQ(send_i64(full, 1), GMP_OK);
  int64_t r1 = kPattern, r2 = kPattern;
  const int64_t s = 2;
  gmp_select_case_t cases[] = {recv_case(empty, &r1), send_case(full, &s), recv_case(unbuf, &r2),
                               send_case(unbuf, &s)};
  EXPECT_EQ(gmp_select(cases, 4, 0), GMP_EAGAIN);
  EXPECT_EQ(r1, kPattern);
  EXPECT_EQ(r2, kPattern);
  for (auto& c : cases) EXPECT_EQ(c.result, kUntouched);
  EXPECT_EQ(gmp_chan_len(full), 1u);
  EXPECT_EQ(gmp_chan_len(empty), 0u);
}

// n == 0: the default clause alone returns GMP_EAGAIN; with a timeout it
// times out after at least that long (goroutine and plain thread).
TEST_F(Select, NoCases) {
  EXPECT_EQ(gmp_select(nullptr, 0, 0), GMP_EAGAIN);
  gmp_select_case_t one[1] = {};
  EXPECT_EQ(gmp_select(one, 0, 0), GMP_EAGAIN);
  for (bool on_thread : {false, true}) {
    Group g;
    g.spawn(on_thread, [] {
      Stopwatch sw;
      EXPECT_EQ(gmp_select(nullptr, 0, 20 * kMs), GMP_ETIMEDOUT);
      EXPECT_TRUE(sw.at_least(20 * kMs)) << sw.ns();
      EXPECT_EQ(gmp_select(nullptr, 0, 0), GMP_EAGAIN);
    });
    ASSERT_TRUE(g.wait());
  }
}

// A positive timeout with nothing ready gives GMP_ETIMEDOUT after at least
// that long, and changes nothing.
TEST_P(SelectP, TimeoutExpires) {
  for (bool on_thread : {false, true}) {
    ChanRef empty = make_chan(sizeof(int64_t), 0), full = make_chan(sizeof(int64_t), 1);
    ASSERT_EQ(send_i64(full, 1), GMP_OK);
    Group g;
    g.spawn(on_thread, [empty, full] {
      int64_t r = kPattern;
      const int64_t s = 2;
      gmp_select_case_t cases[] = {recv_case(empty, &r), send_case(full, &s), send_case(empty, &s)};
      Stopwatch sw;
      EXPECT_EQ(gmp_select(cases, 3, 20 * kMs), GMP_ETIMEDOUT);
      EXPECT_TRUE(sw.at_least(20 * kMs)) << sw.ns();
      EXPECT_EQ(r, kPattern);
      for (auto& c : cases) EXPECT_EQ(c.result, kUntouched);
    });
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(gmp_chan_len(full), 1u);
    EXPECT_EQ(recv_i64(full).v, 1);
    EXPECT_EQ(gmp_chan_try_recv(full, nullptr), GMP_EAGAIN) << "the timed-out send happened";
    EXPECT_EQ(gmp_chan_try_recv(empty, nullptr), GMP_EAGAIN);
  }
}

// A case becoming ready before the timeout completes the select; a huge
// timeout does not overflow into an immediate one.
TEST_P(SelectP, ReadyBeforeTimeout) {
  for (int64_t t : {int64_t(600) * kSec, INT64_MAX, int64_t(-1)}) {
    ChanRef a = make_chan(sizeof(int64_t), 0), b = make_chan(sizeof(int64_t), 0);
    Stopwatch sw;  // before the sender starts its 20 ms
    Group g;
    g.go([b] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      EXPECT_EQ(send_i64(b, 7), GMP_OK);
    });
    int64_t ra = kPattern, rb = kPattern;
    gmp_select_case_t cases[] = {recv_case(a, &ra), recv_case(b, &rb)};
    EXPECT_EQ(gmp_select(cases, 2, t), 1) << "timeout " << t;
    EXPECT_EQ(cases[1].result, GMP_OK);
    EXPECT_EQ(rb, 7);
    EXPECT_EQ(ra, kPattern);
    EXPECT_TRUE(sw.at_least(20 * kMs));
    ASSERT_TRUE(g.wait());
  }
}

// ------------------------------------------------- waking a blocked select

// A blocked select is woken by a sender on one of its channels, and leaves
// the wait queues of its other channels: afterwards nobody waits on them.
TEST_P(SelectP, BlockedSelectWokenAndDequeued) {
  for (bool on_thread : {false, true}) {
    ChanRef a = make_chan(sizeof(int64_t), 0), b = make_chan(sizeof(int64_t), 0),
            c = make_chan(sizeof(int64_t), 0);
    auto idx = std::make_shared<std::atomic<int>>(-1);
    auto val = std::make_shared<std::atomic<int64_t>>(0);
    Group g;
    g.spawn(on_thread, [a, b, c, idx, val] {
      int64_t ra = kPattern, rb = kPattern;
      const int64_t sc = 5;
      gmp_select_case_t cases[] = {recv_case(a, &ra), recv_case(b, &rb), send_case(c, &sc)};
      *idx = gmp_select(cases, 3, -1);
      *val = rb;
      EXPECT_EQ(ra, kPattern);
    });
    settle();
    ASSERT_EQ(send_i64(b, 9), GMP_OK);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(idx->load(), 1);
    EXPECT_EQ(val->load(), 9);
    const int64_t x = 1;
    EXPECT_EQ(gmp_chan_try_send(a, &x), GMP_EAGAIN) << "the select still waits on a";
    EXPECT_EQ(gmp_chan_try_recv(c, nullptr), GMP_EAGAIN) << "the select still offers on c";

    // Woken through its send case by a receiver.
    g.spawn(on_thread, [a, c, idx] {
      int64_t ra = kPattern;
      const int64_t sc = 6;
      gmp_select_case_t cases[] = {recv_case(a, &ra), send_case(c, &sc)};
      *idx = gmp_select(cases, 2, -1);
    });
    settle();
    EXPECT_EQ(recv_i64(c).v, 6);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(idx->load(), 1);
    EXPECT_EQ(gmp_chan_try_send(a, &x), GMP_EAGAIN);
  }
}

// TestSelectDuplicateChannel: a goroutine queued twice on c (and on d) is
// woken through d and dequeues itself from c entirely: a later send on c
// reaches the other receiver queued there.
TEST_P(SelectP, DuplicateChannel) {
  ChanRef c = make_chan(sizeof(int64_t), 0), d = make_chan(sizeof(int64_t), 0),
          e = make_chan(sizeof(int64_t), 0);
  Group g;
  g.go([c, d, e] {  // goroutine A
    int64_t v1 = 0, v2 = 0, v3 = 0;
    gmp_select_case_t cases[] = {recv_case(c, &v1), recv_case(c, &v2), recv_case(d, &v3)};
    EXPECT_EQ(gmp_select(cases, 3, -1), 2);
    EXPECT_EQ(v3, 7);
    EXPECT_EQ(send_i64(e, 9), GMP_OK);
  });
  settle();  // A is queued first on c
  auto b_got = std::make_shared<std::atomic<int64_t>>(0);
  g.go([c, b_got] { *b_got = recv_i64(c).v; });  // goroutine B
  settle();
  ASSERT_EQ(send_i64(d, 7), GMP_OK);  // wakes A, which leaves c's queue
  EXPECT_EQ(recv_i64(e).v, 9);
  ASSERT_EQ(send_i64(c, 8), GMP_OK);  // must reach B
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(b_got->load(), 8);
}

// The same channel in several receive cases: a value arrives through one
// of them, only once.
TEST_P(SelectP, SameChannelInSeveralCases) {
  constexpr int kN = 2000;
  ChanRef c = make_chan(sizeof(int64_t), 0);
  Group g;
  g.go([c] {
    for (int i = 0; i < kN; i++) ASSERT_EQ(send_i64(c, i), GMP_OK);
    EXPECT_EQ(gmp_chan_close(c), GMP_OK);
  });
  std::vector<int> hits(3, 0);
  for (int i = 0; i < kN; i++) {
    int64_t v[3] = {-1, -1, -1};
    gmp_select_case_t cases[] = {recv_case(c, &v[0]), recv_case(c, &v[1]), recv_case(c, &v[2])};
    int idx = gmp_select(cases, 3, -1);
    ASSERT_TRUE(idx >= 0 && idx < 3);
    ASSERT_EQ(v[idx], i);
    for (int k = 0; k < 3; k++) {
      if (k != idx) {
        EXPECT_EQ(v[k], -1);
      }
    }
    hits[idx]++;
  }
  ASSERT_TRUE(g.wait());
  for (int k = 0; k < 3; k++) EXPECT_GT(hits[k], 0) << "case " << k << " never chosen";
}

// select3.go "select should not get confused if it sees itself": a send
// and a receive on the same unbuffered channel in one select never meet
// each other.
TEST_F(Select, SelectDoesNotMatchItself) {
  ChanRef c = make_chan(sizeof(int64_t), 0);
  int64_t r = kPattern;
  const int64_t s = 1;
  gmp_select_case_t cases[] = {send_case(c, &s), recv_case(c, &r)};
  EXPECT_EQ(gmp_select(cases, 2, 0), GMP_EAGAIN);
  ASSERT_TRUE(run_goroutine([&] { EXPECT_EQ(gmp_select(cases, 2, 10 * kMs), GMP_ETIMEDOUT); }));
  EXPECT_EQ(gmp_select(cases, 2, 10 * kMs), GMP_ETIMEDOUT);
  EXPECT_EQ(r, kPattern);
}

// TestSelfSelect: two goroutines each selecting a send and a receive on the
// same channel make progress (on an unbuffered channel they must pair up;
// with a buffer one case is always ready); on an unbuffered channel neither
// ever receives its own value.
TEST_P(SelectP, SelfSelect) {
  constexpr int kIter = 1000;
  for (size_t cap : {0, 10}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    auto self_recv = std::make_shared<std::atomic<int>>(0);
    Group g;
    for (int p = 0; p < 2; p++) {
      g.go([c, p, cap, self_recv] {
        for (int i = 0; i < kIter; i++) {
          const int64_t mine = p;
          int64_t v = -1;
          gmp_select_case_t cases[2];
          if (p == 0 || i % 2 == 0) {
            cases[0] = send_case(c, &mine);
            cases[1] = recv_case(c, &v);
          } else {
            cases[0] = recv_case(c, &v);
            cases[1] = send_case(c, &mine);
          }
          int idx = gmp_select(cases, 2, -1);
          ASSERT_TRUE(idx == 0 || idx == 1);
          if (cases[idx].dir == GMP_RECV && cap == 0 && v == p) (*self_recv)++;
        }
      });
    }
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(self_recv->load(), 0) << "a select received its own value";
  }
}

// ---------------------------------------------------------- closed channels

// select3.go "selects with closed channels behave like ordinary
// operations": a receive case on a closed, drained channel proceeds with
// GMP_ECLOSED and a zero-filled element (after the buffered values); a send
// case on a closed channel proceeds with GMP_ECLOSED; both count as ready.
TEST_F(Select, ClosedChannelCases) {
  ChanRef c = make_chan(sizeof(int64_t), 2);
  ASSERT_EQ(send_i64(c, 1), GMP_OK);
  ASSERT_EQ(gmp_chan_close(c), GMP_OK);
  int64_t v = kPattern;
  gmp_select_case_t r[] = {recv_case(c, &v)};
  EXPECT_EQ(gmp_select(r, 1, 0), 0);
  EXPECT_EQ(r[0].result, GMP_OK);
  EXPECT_EQ(v, 1);
  for (int64_t t : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    v = kPattern;
    r[0].result = kUntouched;
    EXPECT_EQ(gmp_select(r, 1, t), 0);
    EXPECT_EQ(r[0].result, GMP_ECLOSED);
    EXPECT_EQ(v, 0) << "not zero-filled";
  }
  r[0].elem = nullptr;
  EXPECT_EQ(gmp_select(r, 1, 0), 0);
  EXPECT_EQ(r[0].result, GMP_ECLOSED);

  const int64_t s = 3;
  gmp_select_case_t w[] = {send_case(c, &s)};
  for (int64_t t : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    w[0].result = kUntouched;
    EXPECT_EQ(gmp_select(w, 1, t), 0);
    EXPECT_EQ(w[0].result, GMP_ECLOSED);
  }
  EXPECT_EQ(gmp_chan_len(c), 0u);

  // Beside a never-ready case the closed one is always chosen.
  ChanRef never = make_chan(sizeof(int64_t), 0);
  for (int i = 0; i < 100; i++) {
    int64_t a = kPattern, b = kPattern;
    gmp_select_case_t cases[] = {recv_case(never, &a), recv_case(c, &b)};
    EXPECT_EQ(gmp_select(cases, 2, -1), 1);
    EXPECT_EQ(cases[1].result, GMP_ECLOSED);
    EXPECT_EQ(b, 0);
    EXPECT_EQ(a, kPattern);
  }
}

// Close wakes a blocked select through its receive case or its send case
// (GMP_ECLOSED in the chosen case's result).
TEST_P(SelectP, CloseWakesBlockedSelect) {
  for (int dir : {GMP_RECV, GMP_SEND}) {
    for (bool on_thread : {false, true}) {
      ChanRef c = make_chan(sizeof(int64_t), 0), other = make_chan(sizeof(int64_t), 0);
      auto idx = std::make_shared<std::atomic<int>>(-100);
      auto result = std::make_shared<std::atomic<int>>(kUntouched);
      auto elem = std::make_shared<std::atomic<int64_t>>(0);
      Group g;
      g.spawn(on_thread, [c, other, dir, idx, result, elem] {
        int64_t v = kPattern, o = kPattern;
        gmp_select_case_t cases[] = {recv_case(other, &o),
                                     gmp_select_case_t{c, dir, &v, kUntouched}};
        *idx = gmp_select(cases, 2, -1);
        *result = cases[1].result;
        *elem = v;
        EXPECT_EQ(o, kPattern);
      });
      settle();
      ASSERT_EQ(gmp_chan_close(c), GMP_OK);
      ASSERT_TRUE(g.wait());
      EXPECT_EQ(idx->load(), 1);
      EXPECT_EQ(result->load(), GMP_ECLOSED);
      EXPECT_EQ(elem->load(), dir == GMP_RECV ? 0 : kPattern);
    }
  }
}

// --------------------------------------------------------------- races

// TestNonblockSelectRace: from the moment the goroutine starts, c1 or c2
// is always ready, so its default clause must never run.
TEST_P(SelectP, NonblockSelectRace) {
  constexpr int kN = kSanitized ? 2000 : 20000;
  auto defaults = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kN; i++) {
    ChanRef c1 = make_chan(sizeof(int64_t), 1), c2 = make_chan(sizeof(int64_t), 1);
    ASSERT_EQ(send_i64(c1, 1), GMP_OK);
    Group g;
    g.go([c1, c2, defaults] {
      gmp_select_case_t cases[] = {recv_case(c1, nullptr), recv_case(c2, nullptr)};
      if (gmp_select(cases, 2, 0) == GMP_EAGAIN) (*defaults)++;
    });
    ASSERT_EQ(send_i64(c2, 1), GMP_OK);
    gmp_select_case_t mine[] = {recv_case(c1, nullptr)};
    gmp_select(mine, 1, 0);
    ASSERT_TRUE(g.wait());
    ASSERT_EQ(defaults->load(), 0) << "round " << i << ": no channel was ready";
  }
}

// TestNonblockSelectRace2: the same with close(c2) instead of a send.
TEST_P(SelectP, NonblockSelectRaceWithClose) {
  constexpr int kN = kSanitized ? 2000 : 20000;
  auto defaults = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kN; i++) {
    ChanRef c1 = make_chan(sizeof(int64_t), 1), c2 = make_chan(sizeof(int64_t), 0);
    ASSERT_EQ(send_i64(c1, 1), GMP_OK);
    Group g;
    g.go([c1, c2, defaults] {
      gmp_select_case_t cases[] = {recv_case(c1, nullptr), recv_case(c2, nullptr)};
      if (gmp_select(cases, 2, 0) == GMP_EAGAIN) (*defaults)++;
    });
    ASSERT_EQ(gmp_chan_close(c2), GMP_OK);
    gmp_select_case_t mine[] = {recv_case(c1, nullptr)};
    gmp_select(mine, 1, 0);
    ASSERT_TRUE(g.wait());
    ASSERT_EQ(defaults->load(), 0) << "round " << i << ": no channel was ready";
  }
}

// TestSelectStress: on 4 channels (2 unbuffered, capacities 2 and 3), a
// sender and a receiver per channel plus one goroutine sending N on each
// through a single select and one receiving N from each the same way
// (dropping a channel's case, as a NULL channel, once done). Some parties
// are plain threads. Every value arrives exactly once, on its channel.
TEST_P(SelectP, Stress) {
  constexpr int kChans = 4;
  constexpr int64_t kN = kSanitized ? 2000 : 20000;
  std::vector<ChanRef> c = {make_chan(sizeof(int64_t), 0), make_chan(sizeof(int64_t), 0),
                            make_chan(sizeof(int64_t), 2), make_chan(sizeof(int64_t), 3)};
  // value = (source * kChans + channel) * kN + i, source 0 plain, 1 select
  auto seen = std::make_shared<std::vector<std::atomic<int>>>(2 * kChans * kN);
  auto wrong_chan = std::make_shared<std::atomic<int>>(0);
  auto note = [seen, wrong_chan](int k, int64_t v) {
    ASSERT_TRUE(v >= 0 && v < 2 * kChans * kN) << v;
    (*seen)[v]++;
    if ((v / kN) % kChans != k) (*wrong_chan)++;
  };
  Group g;
  for (int k = 0; k < kChans; k++) {
    g.spawn(k == 1, [ch = c[k], k] {
      for (int64_t i = 0; i < kN; i++) ASSERT_EQ(send_i64(ch, (0 * kChans + k) * kN + i), GMP_OK);
    });
    g.spawn(k == 2, [ch = c[k], k, note] {
      for (int64_t i = 0; i < kN; i++) {
        RecvResult r = recv_i64(ch);
        ASSERT_EQ(r.rc, GMP_OK);
        note(k, r.v);
      }
    });
  }
  g.go([c] {  // the select sender
    int64_t n[kChans] = {}, vals[kChans];
    for (int64_t i = 0; i < kChans * kN; i++) {
      gmp_select_case_t cases[kChans];
      // Go's order: c[3], c[2], c[0], c[1].
      const int order[kChans] = {3, 2, 0, 1};
      for (int j = 0; j < kChans; j++) {
        const int k = order[j];
        vals[k] = (1 * kChans + k) * kN + n[k];
        cases[j] = send_case(n[k] < kN ? c[k].get() : nullptr, &vals[k]);
      }
      int idx = gmp_select(cases, kChans, -1);
      ASSERT_TRUE(idx >= 0 && idx < kChans) << idx;
      ASSERT_EQ(cases[idx].result, GMP_OK);
      n[order[idx]]++;
    }
  });
  g.thread([c, note] {  // the select receiver, on a plain thread
    int64_t n[kChans] = {}, vals[kChans];
    for (int64_t i = 0; i < kChans * kN; i++) {
      gmp_select_case_t cases[kChans];
      for (int k = 0; k < kChans; k++) {
        cases[k] = recv_case(n[k] < kN ? c[k].get() : nullptr, &vals[k]);
      }
      int idx = gmp_select(cases, kChans, -1);
      ASSERT_TRUE(idx >= 0 && idx < kChans) << idx;
      ASSERT_EQ(cases[idx].result, GMP_OK);
      note(idx, vals[idx]);
      n[idx]++;
    }
  });
  ASSERT_TRUE(g.wait());
  int missing = 0, dup = 0;
  for (auto& s : *seen) {
    missing += s.load() == 0;
    dup += s.load() > 1;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(dup, 0);
  EXPECT_EQ(wrong_chan->load(), 0);
  for (auto& ch : c) EXPECT_EQ(gmp_chan_len(ch), 0u);
}

// doubleselect.go: a sender selecting over 4 unbuffered channels, 4
// goroutines forwarding them into one, a receiver checking that no value
// is duplicated (or lost).
TEST_P(SelectP, DoubleSelect) {
  constexpr int64_t kIter = kSanitized ? 5000 : 50000;
  std::vector<ChanRef> c;
  for (int k = 0; k < 4; k++) c.push_back(make_chan(sizeof(int64_t), 0));
  ChanRef cmux = make_chan(sizeof(int64_t), 0);
  auto muxes_left = std::make_shared<std::atomic<int>>(4);
  Group g;
  g.go([c] {
    for (int64_t i = 0; i < kIter; i++) {
      gmp_select_case_t cases[4];
      for (int k = 0; k < 4; k++) cases[k] = send_case(c[k], &i);
      ASSERT_GE(gmp_select(cases, 4, -1), 0);
    }
    for (auto& ch : c) EXPECT_EQ(gmp_chan_close(ch), GMP_OK);
  });
  for (int k = 0; k < 4; k++) {
    g.spawn(k == 3, [in = c[k], cmux, muxes_left] {
      for (RecvResult r; (r = recv_i64(in)).rc == GMP_OK;) {
        ASSERT_EQ(send_i64(cmux, r.v), GMP_OK);
      }
      if (--*muxes_left == 0) {
        EXPECT_EQ(gmp_chan_close(cmux), GMP_OK);
      }
    });
  }
  std::vector<char> seen(kIter, 0);
  int64_t n = 0, dups = 0;
  for (RecvResult r; (r = recv_i64(cmux)).rc == GMP_OK;) {
    ASSERT_TRUE(r.v >= 0 && r.v < kIter);
    dups += seen[r.v]++ != 0;
    n++;
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(dups, 0);
  EXPECT_EQ(n, kIter);
}

// Selects from plain threads against goroutines, both directions, with
// exact accounting.
TEST_P(SelectP, FromPlainThreads) {
  // (Under TSan this test found a lost wakeup: startm undid a spinning M's
  // count after dropping sched.lock; see uncount_spinning_locked.)
  constexpr int kThreads = 3;
  constexpr int64_t kPer = kSanitized ? 2000 : 10000;
  ChanRef a = make_chan(sizeof(int64_t), 0), b = make_chan(sizeof(int64_t), 4);
  auto sum = std::make_shared<std::atomic<int64_t>>(0);
  auto count = std::make_shared<std::atomic<int64_t>>(0);
  Group producers, consumers;
  // Goroutines produce on a and b; plain threads select-receive from both.
  for (int p = 0; p < 2; p++) {
    producers.go([ch = p ? b : a, p] {
      for (int64_t i = 1; i <= kPer; i++) ASSERT_EQ(send_i64(ch, p * kPer + i), GMP_OK);
    });
  }
  for (int t = 0; t < kThreads; t++) {
    consumers.thread([a, b, sum, count] {
      for (;;) {
        int64_t va = 0, vb = 0;
        gmp_select_case_t cases[] = {recv_case(a, &va), recv_case(b, &vb)};
        int idx = gmp_select(cases, 2, -1);
        ASSERT_TRUE(idx == 0 || idx == 1);
        if (cases[idx].result == GMP_ECLOSED) break;
        *sum += idx ? vb : va;
        (*count)++;
      }
    });
  }
  ASSERT_TRUE(producers.wait());
  // Both closed: a select ends once it sees either closed and drained.
  ASSERT_TRUE(wait_until([&] { return count->load() == 2 * kPer; }));
  ASSERT_EQ(gmp_chan_close(a), GMP_OK);
  ASSERT_EQ(gmp_chan_close(b), GMP_OK);
  ASSERT_TRUE(consumers.wait());
  EXPECT_EQ(count->load(), 2 * kPer);
  EXPECT_EQ(sum->load(), (2 * kPer) * (2 * kPer + 1) / 2);

  // Plain threads select-send; goroutines receive.
  ChanRef c = make_chan(sizeof(int64_t), 0), d = make_chan(sizeof(int64_t), 2);
  auto got = std::make_shared<std::atomic<int64_t>>(0);
  Group receivers, senders;
  for (int r = 0; r < 2; r++) {
    receivers.go([ch = r ? d : c, got] {
      for (RecvResult x; (x = recv_i64(ch)).rc == GMP_OK;) *got += x.v;
    });
  }
  for (int t = 0; t < kThreads; t++) {
    senders.thread([c, d] {
      for (int64_t i = 1; i <= kPer; i++) {
        gmp_select_case_t cases[] = {send_case(c, &i), send_case(d, &i)};
        ASSERT_GE(gmp_select(cases, 2, -1), 0);
      }
    });
  }
  ASSERT_TRUE(senders.wait());
  ASSERT_EQ(gmp_chan_close(c), GMP_OK);
  ASSERT_EQ(gmp_chan_close(d), GMP_OK);
  ASSERT_TRUE(receivers.wait());
  EXPECT_EQ(got->load(), kThreads * kPer * (kPer + 1) / 2);
}

// Selects with short timeouts racing with senders (and timed sends racing
// with receivers) lose and duplicate nothing: every value whose send
// succeeded is received once or still buffered; a timed-out send is never
// received.
TEST_P(SelectP, TimeoutRacesWithSender) {
  constexpr int kN = kSanitized ? 2000 : 10000;
  for (size_t cap : {0, 1}) {
    for (bool receiver_on_thread : {false, true}) {
      ChanRef c = make_chan(sizeof(int64_t), cap), never = make_chan(sizeof(int64_t), 0);
      auto sent = std::make_shared<std::vector<char>>(kN, 0);
      auto received = std::make_shared<std::vector<char>>(kN, 0);
      auto sender_done = std::make_shared<std::atomic<int>>(0);
      Group g;
      g.go([c, never, sent, sender_done] {
        uint32_t x = 4242;
        for (int64_t i = 0; i < kN; i++) {
          x = x * 1103515245 + 12345;
          int64_t t = int64_t(x >> 16) % (50 * kUs) + 1;
          int rc;
          if (i % 2) {
            int64_t nv = 0;
            gmp_select_case_t cases[] = {send_case(c, &i), recv_case(never, &nv)};
            rc = gmp_select(cases, 2, t);  // 0: the send case
            EXPECT_TRUE(rc == 0 || rc == GMP_ETIMEDOUT) << rc;
          } else {
            rc = gmp_chan_send_timeout(c, &i, t);
          }
          (*sent)[i] = rc == GMP_OK;
        }
        *sender_done = 1;
      });
      g.spawn(receiver_on_thread, [c, never, received, sender_done] {
        uint32_t x = 99;
        for (;;) {
          x = x * 1103515245 + 12345;
          int64_t v = -1, nv = 0;
          gmp_select_case_t cases[] = {recv_case(never, &nv), recv_case(c, &v)};
          int rc = gmp_select(cases, 2, int64_t(x >> 16) % (50 * kUs) + 1);
          if (rc == 1) {
            ASSERT_EQ(cases[1].result, GMP_OK);
            ASSERT_TRUE(v >= 0 && v < kN) << v;
            (*received)[v]++;
          } else {
            EXPECT_EQ(rc, GMP_ETIMEDOUT);
            if (sender_done->load()) break;
          }
        }
      });
      ASSERT_TRUE(g.wait());
      for (int64_t v; gmp_chan_try_recv(c, &v) == GMP_OK;) (*received)[v]++;
      int lost = 0, phantom = 0, dup = 0;
      for (int i = 0; i < kN; i++) {
        lost += (*sent)[i] && !(*received)[i];
        phantom += !(*sent)[i] && (*received)[i];
        dup += (*received)[i] > 1;
      }
      EXPECT_EQ(lost, 0) << "cap " << cap << ": sent but never received";
      EXPECT_EQ(phantom, 0) << "cap " << cap << ": timed out but received";
      EXPECT_EQ(dup, 0) << "cap " << cap;
    }
  }
}

// API.md "Channel lifetime" through a select: the receiver releases the
// channel right after its select took the final value (or the close),
// while the sender or closer is still returning.
TEST_P(SelectP, ReleaseRightAfterSelectReceive) {
  constexpr int kRounds = kSanitized ? 300 : 1000;
  for (int i = 0; i < kRounds; i++) {
    gmp_chan_t* c = nullptr;
    ASSERT_EQ(gmp_chan_make(&c, sizeof(int64_t), 0), GMP_OK);
    const bool close = i % 3 == 2, sender_selects = i % 2 == 1, receiver_first = i % 4 < 2;
    Group g;
    g.spawn(i % 8 == 5, [c, close, receiver_first] {
      if (!receiver_first) std::this_thread::sleep_for(std::chrono::microseconds(50));
      int64_t v = -1;
      gmp_select_case_t cases[] = {recv_case(nullptr, nullptr), recv_case(c, &v)};
      int idx = gmp_select(cases, 2, -1);
      const int result = cases[1].result;
      gmp_chan_release(c);  // the last reference, at once
      EXPECT_EQ(idx, 1);
      EXPECT_EQ(result, close ? GMP_ECLOSED : GMP_OK);
      EXPECT_EQ(v, close ? 0 : 42);
    });
    g.spawn(i % 8 == 2, [c, close, sender_selects, receiver_first] {
      if (receiver_first) std::this_thread::sleep_for(std::chrono::microseconds(50));
      const int64_t v = 42;
      if (close) {
        EXPECT_EQ(gmp_chan_close(c), GMP_OK);
      } else if (sender_selects) {
        gmp_select_case_t cases[] = {send_case(c, &v)};
        EXPECT_EQ(gmp_select(cases, 1, -1), 0);
      } else {
        EXPECT_EQ(gmp_chan_send(c, &v), GMP_OK);
      }
      // c may be freed now: not touched again.
    });
    ASSERT_TRUE(g.wait()) << "round " << i;
  }
}

// A receive case with a NULL elem drops the value.
TEST_F(Select, RecvNullElemDropsValue) {
  ChanRef c = make_chan(sizeof(int64_t), 2);
  ASSERT_EQ(send_i64(c, 1), GMP_OK);
  ASSERT_EQ(send_i64(c, 2), GMP_OK);
  gmp_select_case_t cases[] = {recv_case(c, nullptr)};
  EXPECT_EQ(gmp_select(cases, 1, 0), 0);
  EXPECT_EQ(cases[0].result, GMP_OK);
  EXPECT_EQ(recv_i64(c).v, 2);
}

// Zero-size elements: a NULL elem on a send case is fine, and a non-NULL
// one is never read or written.
TEST_F(Select, ZeroSizeElements) {
  ChanRef c = make_chan(0, 1);
  gmp_select_case_t s[] = {send_case(c, nullptr)};
  EXPECT_EQ(gmp_select(s, 1, 0), 0);
  unsigned char canary = 0xcd;
  gmp_select_case_t r[] = {recv_case(c, &canary)};
  EXPECT_EQ(gmp_select(r, 1, 0), 0);
  EXPECT_EQ(canary, 0xcd);
  ASSERT_EQ(gmp_chan_close(c), GMP_OK);
  EXPECT_EQ(gmp_select(r, 1, 0), 0);
  EXPECT_EQ(r[0].result, GMP_ECLOSED);
  EXPECT_EQ(canary, 0xcd) << "zero bytes zero-filled: nothing written";
}

// ---------------------------------------------------------------- bad input

class SelectBadInput : public Select {};

// NULL cases with n > 0, n above 65536, a dir other than GMP_SEND or
// GMP_RECV, and a NULL elem on a send case of a non-zero-size channel are
// GMP_EINVAL before anything is done: a ready case beside a bad one is not
// performed.
TEST_F(SelectBadInput, Rejected) {
  for (int64_t t : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    EXPECT_EQ(gmp_select(nullptr, 1, t), GMP_EINVAL) << t;
    EXPECT_EQ(gmp_select(nullptr, 65536, t), GMP_EINVAL) << t;
    EXPECT_EQ(gmp_select(nullptr, SIZE_MAX, t), GMP_EINVAL) << t;
  }
  std::vector<gmp_select_case_t> many(65537, recv_case(nullptr, nullptr));
  EXPECT_EQ(gmp_select(many.data(), many.size(), 0), GMP_EINVAL) << "n above 65536";
  EXPECT_EQ(gmp_select(many.data(), 65536, 0), GMP_EAGAIN) << "n == 65536 is allowed";

  ChanRef ready = make_chan(sizeof(int64_t), 1), other = make_chan(sizeof(int64_t), 1);
  ASSERT_EQ(send_i64(ready, 5), GMP_OK);
  int64_t got = kPattern;
  for (int dir : {0, 3, -1, GMP_SEND | GMP_RECV, 4, 1000}) {
    for (int64_t t : {int64_t(0), int64_t(-1)}) {
      int64_t x = 1;
      gmp_select_case_t cases[] = {recv_case(ready, &got), gmp_select_case_t{other, dir, &x, 0}};
      EXPECT_EQ(gmp_select(cases, 2, t), GMP_EINVAL) << "dir " << dir;
    }
  }
  // A bad dir on a NULL channel case is still a bad dir.
  gmp_select_case_t bad_null[] = {recv_case(ready, &got), gmp_select_case_t{nullptr, 7, &got, 0}};
  EXPECT_EQ(gmp_select(bad_null, 2, 0), GMP_EINVAL);
  for (int64_t t : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    gmp_select_case_t cases[] = {recv_case(ready, &got), send_case(other, nullptr)};
    EXPECT_EQ(gmp_select(cases, 2, t), GMP_EINVAL) << "NULL send elem, timeout " << t;
    EXPECT_EQ(cases[0].result, kUntouched);
  }
  EXPECT_EQ(got, kPattern) << "a rejected select received";
  EXPECT_EQ(gmp_chan_len(ready), 1u) << "a rejected select received";
  EXPECT_EQ(gmp_chan_len(other), 0u) << "a rejected select sent";

  // From a goroutine too.
  auto rc = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(run_goroutine([rc] { *rc = gmp_select(nullptr, 3, -1); }));
  EXPECT_EQ(rc->load(), GMP_EINVAL);
}

}  // namespace
