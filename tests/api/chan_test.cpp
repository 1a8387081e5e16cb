// chan_test.cpp -- the Channels section of gmprt.h: gmp_chan_make, send,
// recv, the try_ and _timeout forms, close, len/cap and retain/release, from
// goroutines and plain threads, on unbuffered, buffered and zero-size
// channels; the lifetime rule (a receiver may release the channel right
// after its final value); and every bad argument of the channel calls.
//
// Ports the intent of Go's runtime/chan_test.go (TestChan,
// TestNonblockRecvRace, TestMultiConsumer) and test/chan (fifo.go,
// sieve1.go, goroutines.go, zerosize.go, nonblock.go). Select: select_test.cpp;
// deadlock reports of blocked channel operations: chan_deadlock_test.cpp.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <string.h>

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

constexpr int64_t kPattern = INT64_C(0x5a5a5a5a5a5a5a5a);

// settle: give a goroutine or thread that has announced it is about to block
// (a few instructions before the call) time to block. Only orders tests
// that check FIFO queueing; a correct runtime passes whatever happens.
void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

// pause_briefly: 50 us off the CPU (blocking the thread; fine on a goroutine
// too), so that the other party of a race usually gets there first.
void pause_briefly() { std::this_thread::sleep_for(std::chrono::microseconds(50)); }

// Each test leaves no goroutine behind.
class Chan : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine(); }
};

class ChanP : public MaxprocsTest {
 protected:
  void TearDown() override {
    EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine();
    MaxprocsTest::TearDown();
  }
};
GMPRT_INSTANTIATE_MAXPROCS(ChanP);

// ------------------------------------------------------------ len and cap

// TestChan "len/cap": len counts buffered values, cap is the capacity.
TEST_F(Chan, LenAndCap) {
  for (size_t cap : {0, 1, 2, 7, 64}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    EXPECT_EQ(gmp_chan_len(c), 0u) << cap;
    EXPECT_EQ(gmp_chan_cap(c), cap);
    for (size_t i = 0; i < cap; i++) {
      ASSERT_EQ(send_i64(c, int64_t(i)), GMP_OK);
      EXPECT_EQ(gmp_chan_len(c), i + 1);
    }
    EXPECT_EQ(gmp_chan_try_send(c, &kPattern), GMP_EAGAIN) << "cap " << cap << " is full";
    EXPECT_EQ(gmp_chan_len(c), cap);
    EXPECT_EQ(gmp_chan_cap(c), cap);
    if (cap > 0) {
      EXPECT_EQ(recv_i64(c).v, 0);
      EXPECT_EQ(gmp_chan_len(c), cap - 1);
    }
  }
}

// ------------------------------------------------- blocking and rendezvous

// TestChan "receive from empty chan blocks" and "non-blocking receive does
// not block": receivers wait until values are sent.
TEST_P(ChanP, RecvFromEmptyBlocks) {
  for (size_t cap : {0, 1, 10}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    auto got = std::make_shared<std::atomic<int64_t>>(0);
    auto received = std::make_shared<std::atomic<int>>(0);
    Group g;
    for (int i = 0; i < 2; i++) {
      g.go([c, got, received] {
        RecvResult r = recv_i64(c);
        EXPECT_EQ(r.rc, GMP_OK);
        *got += r.v;
        (*received)++;
      });
    }
    settle();
    EXPECT_EQ(received->load(), 0) << "cap " << cap << ": a receive from an empty channel returned";
    int64_t v = kPattern;
    EXPECT_EQ(gmp_chan_try_recv(c, &v), GMP_EAGAIN);
    EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 0), GMP_EAGAIN);
    EXPECT_EQ(v, kPattern) << "a receive that would block wrote the element";
    ASSERT_EQ(send_i64(c, 10), GMP_OK);
    ASSERT_EQ(send_i64(c, 32), GMP_OK);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(got->load(), 42);
  }
}

// TestChan "send to full chan blocks" and "non-blocking send does not
// block"; the blocked sender's value goes behind the buffered ones.
TEST_P(ChanP, SendToFullBlocks) {
  for (size_t cap : {0, 1, 10}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    for (size_t i = 0; i < cap; i++) ASSERT_EQ(send_i64(c, int64_t(i)), GMP_OK);
    auto sent = std::make_shared<std::atomic<int>>(0);
    Group g;
    g.go([c, sent] {
      EXPECT_EQ(send_i64(c, 99), GMP_OK);
      *sent = 1;
    });
    settle();
    EXPECT_EQ(sent->load(), 0) << "cap " << cap << ": a send to a full channel returned";
    EXPECT_EQ(gmp_chan_try_send(c, &kPattern), GMP_EAGAIN);
    EXPECT_EQ(gmp_chan_send_timeout(c, &kPattern, 0), GMP_EAGAIN);
    for (size_t i = 0; i < cap; i++) EXPECT_EQ(recv_i64(c).v, int64_t(i));
    EXPECT_EQ(recv_i64(c).v, 99);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(sent->load(), 1);
    EXPECT_EQ(gmp_chan_len(c), 0u);
  }
}

// An unbuffered send is a rendezvous: it returns only once a receiver has
// taken the value, and the value is in the receiver's element by then.
TEST_P(ChanP, UnbufferedSendWaitsForReceiver) {
  ChanRef c = make_chan(sizeof(int64_t), 0);
  auto sent = std::make_shared<std::atomic<int>>(0);
  Group g;
  g.go([c, sent] {
    EXPECT_EQ(send_i64(c, 42), GMP_OK);
    *sent = 1;
  });
  settle();
  EXPECT_EQ(sent->load(), 0) << "an unbuffered send returned with no receiver";
  EXPECT_EQ(gmp_chan_len(c), 0u);
  EXPECT_EQ(recv_i64(c).v, 42);
  ASSERT_TRUE(g.wait());

  // The receiver waits first: once the send has returned, the receiver's
  // element holds the value (read without any other synchronisation).
  struct Slot {
    int64_t v = 0;
    std::atomic<int> started{0};
  };
  for (int round = 0; round < 20; round++) {
    auto slot = std::make_shared<Slot>();
    Group r;
    r.go([c, slot] {
      slot->started = 1;
      EXPECT_EQ(gmp_chan_recv(c, &slot->v), GMP_OK);
    });
    ASSERT_TRUE(wait_until([&] { return slot->started.load() == 1; }));
    if (round % 2 == 0) settle();  // the receiver is parked; otherwise it may not be yet
    ASSERT_EQ(send_i64(c, 1000 + round), GMP_OK);
    EXPECT_EQ(slot->v, 1000 + round) << "the send returned before the hand-off";
    ASSERT_TRUE(r.wait());
  }
}

// The sender's buffer may be reused as soon as the send returns: the value
// was copied (direct hand-off or into the buffer) before.
TEST_P(ChanP, SenderBufferReusableAfterSend) {
  constexpr int kN = kSanitized ? 2000 : 20000;
  for (size_t cap : {0, 1, 8}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    Group g;
    g.go([c] {
      int64_t v;
      for (int i = 0; i < kN; i++) {
        v = i;
        ASSERT_EQ(gmp_chan_send(c, &v), GMP_OK);
        v = -1;  // must not reach the receiver
      }
    });
    for (int i = 0; i < kN; i++) {
      RecvResult r = recv_i64(c);
      ASSERT_EQ(r.rc, GMP_OK);
      ASSERT_EQ(r.v, i) << "cap " << cap;
    }
    ASSERT_TRUE(g.wait());
  }
}

// An unbuffered receive waits for a sender; a plain thread and a goroutine
// ping-pong over two unbuffered channels.
TEST_P(ChanP, PingPongGoroutineAndThread) {
  constexpr int kRounds = kSanitized ? 2000 : 20000;
  ChanRef ping = make_chan(sizeof(int64_t), 0), pong = make_chan(sizeof(int64_t), 0);
  Group g;
  g.go([ping, pong] {
    for (;;) {
      RecvResult r = recv_i64(ping);
      if (r.rc != GMP_OK) break;
      ASSERT_EQ(send_i64(pong, r.v + 1), GMP_OK);
    }
  });
  int64_t v = 0;
  for (int i = 0; i < kRounds; i++) {
    ASSERT_EQ(send_i64(ping, v), GMP_OK);
    RecvResult r = recv_i64(pong);
    ASSERT_EQ(r.rc, GMP_OK);
    ASSERT_EQ(r.v, v + 1);
    v = r.v;
  }
  ASSERT_EQ(gmp_chan_close(ping), GMP_OK);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(v, kRounds);
}

// ------------------------------------------------------------------- FIFO

// fifo.go AsynchFifo and TestChan "send 100 integers": one sender's values
// arrive uncorrupted and in order, whatever the capacity.
TEST_P(ChanP, FifoOrderOneSender) {
  constexpr int kN = 1000;
  for (size_t cap : {0, 1, 7, 100, 1000}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    if (cap == kN) {  // AsynchFifo: all buffered first
      for (int i = 0; i < kN; i++) ASSERT_EQ(send_i64(c, i), GMP_OK);
      EXPECT_EQ(gmp_chan_len(c), size_t(kN));
      for (int i = 0; i < kN; i++) ASSERT_EQ(recv_i64(c).v, i);
      continue;
    }
    // A goroutine sends to the test thread, then the test thread to a
    // goroutine.
    Group g;
    g.go([c] {
      for (int i = 0; i < kN; i++) ASSERT_EQ(send_i64(c, i), GMP_OK);
    });
    for (int i = 0; i < kN; i++) ASSERT_EQ(recv_i64(c).v, i) << "cap " << cap;
    ASSERT_TRUE(g.wait());
    auto bad = std::make_shared<std::atomic<int>>(0);
    g.go([c, bad] {
      for (int i = 0; i < kN; i++) {
        RecvResult r = recv_i64(c);
        if (r.rc != GMP_OK || r.v != i) (*bad)++;
      }
    });
    for (int i = 0; i < kN; i++) ASSERT_EQ(send_i64(c, i), GMP_OK);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(bad->load(), 0) << "cap " << cap;
  }
}

// A receive from a full buffer with senders waiting takes the head and
// moves the first waiting sender's value to the tail: order is preserved
// and the senders are released in the order they blocked.
TEST_P(ChanP, FullBufferWithWaitingSendersKeepsOrder) {
  constexpr int kCap = 3, kSenders = 3;
  ChanRef c = make_chan(sizeof(int64_t), kCap);
  for (int i = 0; i < kCap; i++) ASSERT_EQ(send_i64(c, i), GMP_OK);
  auto done = std::make_shared<std::vector<std::atomic<int>>>(kSenders);
  Group g;
  for (int s = 0; s < kSenders; s++) {
    auto started = std::make_shared<std::atomic<int>>(0);
    g.spawn(s == 1, [c, s, started, done] {
      *started = 1;
      EXPECT_EQ(send_i64(c, kCap + s), GMP_OK);
      (*done)[s] = 1;
    });
    ASSERT_TRUE(wait_until([&] { return started->load() == 1; }));
    settle();
  }
  EXPECT_EQ(gmp_chan_len(c), size_t(kCap));
  for (int s = 0; s < kSenders; s++) EXPECT_EQ((*done)[s].load(), 0);

  EXPECT_EQ(recv_i64(c).v, 0);
  // The first sender's value has moved into the buffer (at the tail).
  EXPECT_TRUE(wait_until([&] { return (*done)[0].load() == 1; }));
  EXPECT_EQ(gmp_chan_len(c), size_t(kCap));
  for (int i = 1; i < kCap + kSenders; i++) {
    RecvResult r = recv_i64(c);
    EXPECT_EQ(r.rc, GMP_OK);
    EXPECT_EQ(r.v, i) << "values out of order";
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_chan_len(c), 0u);
}

// FIFO among blocked receivers: they get values in the order they blocked
// (goroutines and plain threads alike).
TEST_P(ChanP, FifoAmongBlockedReceivers) {
  constexpr int kReceivers = 5;
  for (size_t cap : {0, 2}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    auto got = std::make_shared<std::vector<std::atomic<int64_t>>>(kReceivers);
    for (auto& x : *got) x = -1;
    Group g;
    for (int i = 0; i < kReceivers; i++) {
      auto started = std::make_shared<std::atomic<int>>(0);
      g.spawn(i % 2 == 1, [c, i, started, got] {
        *started = 1;
        RecvResult r = recv_i64(c);
        EXPECT_EQ(r.rc, GMP_OK);
        (*got)[i] = r.v;
      });
      ASSERT_TRUE(wait_until([&] { return started->load() == 1; }));
      settle();
    }
    for (int i = 0; i < kReceivers; i++) ASSERT_EQ(send_i64(c, 100 + i), GMP_OK);
    ASSERT_TRUE(g.wait());
    for (int i = 0; i < kReceivers; i++) {
      EXPECT_EQ((*got)[i].load(), 100 + i) << "cap " << cap << ": receiver " << i;
    }
  }
}

// FIFO among blocked senders: their values arrive in the order they blocked.
TEST_P(ChanP, FifoAmongBlockedSenders) {
  constexpr int kSenders = 5;
  for (size_t cap : {0, 2}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    for (size_t i = 0; i < cap; i++) ASSERT_EQ(send_i64(c, int64_t(i)), GMP_OK);
    Group g;
    for (int i = 0; i < kSenders; i++) {
      auto started = std::make_shared<std::atomic<int>>(0);
      g.spawn(i % 2 == 1, [c, i, cap, started] {
        *started = 1;
        EXPECT_EQ(send_i64(c, int64_t(cap) + i), GMP_OK);
      });
      ASSERT_TRUE(wait_until([&] { return started->load() == 1; }));
      settle();
    }
    for (int i = 0; i < int(cap) + kSenders; i++) {
      RecvResult r = recv_i64(c);
      EXPECT_EQ(r.rc, GMP_OK);
      EXPECT_EQ(r.v, i) << "cap " << cap;
    }
    ASSERT_TRUE(g.wait());
  }
}

// ------------------------------------------------- many senders/receivers

// TestChan "send 1000 integers in 4 goroutines" and goroutines.go: many
// senders and receivers, goroutines and plain threads mixed: every value
// arrives exactly once, and each receiver sees each sender's values in the
// order they were sent.
TEST_P(ChanP, ManySendersManyReceivers) {
  constexpr int kSenders = 4, kReceivers = 4;
  constexpr int kPer = kSanitized ? 1000 : 5000;
  for (size_t cap : {0, 1, 16}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    auto seen = std::make_shared<std::vector<std::atomic<int>>>(kSenders * kPer);
    auto disorder = std::make_shared<std::atomic<int>>(0);
    Group senders, receivers;
    for (int r = 0; r < kReceivers; r++) {
      receivers.spawn(r == 0, [c, seen, disorder] {
        std::vector<int64_t> last(kSenders, -1);
        for (;;) {
          RecvResult x = recv_i64(c);
          if (x.rc == GMP_ECLOSED) {
            EXPECT_EQ(x.v, 0);
            break;
          }
          ASSERT_EQ(x.rc, GMP_OK);
          ASSERT_TRUE(x.v >= 0 && x.v < kSenders * kPer) << x.v;
          (*seen)[x.v]++;
          const int64_t s = x.v / kPer, i = x.v % kPer;
          if (i <= last[s]) (*disorder)++;
          last[s] = i;
        }
      });
    }
    for (int s = 0; s < kSenders; s++) {
      senders.spawn(s == 1, [c, s] {
        for (int i = 0; i < kPer; i++) ASSERT_EQ(send_i64(c, int64_t(s) * kPer + i), GMP_OK);
      });
    }
    ASSERT_TRUE(senders.wait());
    ASSERT_EQ(gmp_chan_close(c), GMP_OK);
    ASSERT_TRUE(receivers.wait());
    int missing = 0, duplicated = 0;
    for (auto& n : *seen) {
      missing += n.load() == 0;
      duplicated += n.load() > 1;
    }
    EXPECT_EQ(missing, 0) << "cap " << cap;
    EXPECT_EQ(duplicated, 0) << "cap " << cap;
    EXPECT_EQ(disorder->load(), 0) << "cap " << cap << ": one sender's values out of order";
  }
}

// TestMultiConsumer: a feeder, 23 workers forwarding from q to r (the last
// one closes r), and a consumer: the count and the sum are exact.
TEST_P(ChanP, MultiConsumer) {
  constexpr int kWorkers = 23;
  constexpr int kIter = kSanitized ? 20000 : 100000;
  static const int64_t pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
  ChanRef q = make_chan(sizeof(int64_t), kWorkers * 3),
          r = make_chan(sizeof(int64_t), kWorkers * 3);
  auto workers_left = std::make_shared<std::atomic<int>>(kWorkers);
  Group g;
  for (int w = 0; w < kWorkers; w++) {
    g.spawn(w == 0, [q, r, w, workers_left] {
      for (;;) {
        RecvResult x = recv_i64(q);
        if (x.rc == GMP_ECLOSED) break;
        ASSERT_EQ(x.rc, GMP_OK);
        if (pn[w % 10] == x.v) gmp_yield();  // mess with the FIFO-ish order
        ASSERT_EQ(send_i64(r, x.v), GMP_OK);
      }
      if (--*workers_left == 0) {
        EXPECT_EQ(gmp_chan_close(r), GMP_OK);
      }
    });
  }
  auto expect = std::make_shared<std::atomic<int64_t>>(0);
  g.go([q, expect] {
    int64_t sum = 0;
    for (int i = 0; i < kIter; i++) {
      sum += pn[i % 10];
      ASSERT_EQ(send_i64(q, pn[i % 10]), GMP_OK);
    }
    *expect = sum;
    EXPECT_EQ(gmp_chan_close(q), GMP_OK);
  });
  int64_t n = 0, s = 0;
  for (;;) {
    RecvResult x = recv_i64(r);
    if (x.rc == GMP_ECLOSED) break;
    ASSERT_EQ(x.rc, GMP_OK);
    n++;
    s += x.v;
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(n, kIter);
  EXPECT_EQ(s, expect->load());
}

// ------------------------------------------------------------- pipelines

// primes_up_to_count: the first n primes by trial division (the reference).
std::vector<int64_t> first_primes(int n) {
  std::vector<int64_t> p;
  for (int64_t k = 2; int(p.size()) < n; k++) {
    bool prime = true;
    for (int64_t d : p) {
      if (d * d > k) break;
      if (k % d == 0) prime = false;
    }
    if (prime) p.push_back(k);
  }
  return p;
}

// sieve1.go: the concurrent prime sieve, a goroutine per prime found. The
// generator sends 2..kLimit and closes; each filter closes its output when
// its input is closed, so the whole chain ends.
TEST_P(ChanP, PrimeSieve) {
  constexpr int kPrimes = 100;
  constexpr int64_t kLimit = 600;  // the 100th prime is 541
  const std::vector<int64_t> want = first_primes(kPrimes);
  for (size_t cap : {0, 8}) {
    Group g;
    ChanRef ch = make_chan(sizeof(int64_t), cap);
    g.go([ch] {
      for (int64_t i = 2; i <= kLimit; i++) ASSERT_EQ(send_i64(ch, i), GMP_OK);
      EXPECT_EQ(gmp_chan_close(ch), GMP_OK);
    });
    std::vector<int64_t> got;
    for (;;) {
      RecvResult p = recv_i64(ch);
      if (p.rc == GMP_ECLOSED) break;
      ASSERT_EQ(p.rc, GMP_OK);
      got.push_back(p.v);
      ChanRef out = make_chan(sizeof(int64_t), cap);
      g.go([in = ch, out, prime = p.v] {
        for (;;) {
          RecvResult x = recv_i64(in);
          if (x.rc == GMP_ECLOSED) break;
          ASSERT_EQ(x.rc, GMP_OK);
          if (x.v % prime != 0) {
            ASSERT_EQ(send_i64(out, x.v), GMP_OK);
          }
        }
        EXPECT_EQ(gmp_chan_close(out), GMP_OK);
      });
      ch = out;
    }
    ASSERT_TRUE(g.wait());
    ASSERT_GE(got.size(), size_t(kPrimes));
    got.resize(kPrimes);
    EXPECT_EQ(got, want) << "cap " << cap;
  }
}

// goroutines.go / the daisy chain: a value passes through a long chain of
// goroutines over unbuffered channels, each adding one.
TEST_P(ChanP, DaisyChain) {
  constexpr int kN = sized(10000, 2000);
  Group g;
  ChanRef leftmost = make_chan(sizeof(int64_t), 0);
  ChanRef right = leftmost;
  for (int i = 0; i < kN; i++) {
    ChanRef left = right;
    right = make_chan(sizeof(int64_t), 0);
    ASSERT_TRUE(g.go([left, right] {
      RecvResult x = recv_i64(right);
      ASSERT_EQ(x.rc, GMP_OK);
      ASSERT_EQ(send_i64(left, x.v + 1), GMP_OK);
    }));
  }
  ASSERT_EQ(send_i64(right, 1), GMP_OK);
  RecvResult x = recv_i64(leftmost);
  EXPECT_EQ(x.rc, GMP_OK);
  EXPECT_EQ(x.v, kN + 1);
  ASSERT_TRUE(g.wait());
}

// A fan-out/fan-in pipeline with close propagation: a generator, workers
// (goroutines and a thread) squaring, the last worker closing the output.
TEST_P(ChanP, FanOutFanIn) {
  constexpr int kWorkers = 6;
  constexpr int64_t kN = kSanitized ? 5000 : 50000;
  for (size_t cap : {0, 4}) {
    ChanRef in = make_chan(sizeof(int64_t), cap), out = make_chan(sizeof(int64_t), cap);
    auto left = std::make_shared<std::atomic<int>>(kWorkers);
    Group g;
    g.go([in] {
      for (int64_t i = 1; i <= kN; i++) ASSERT_EQ(send_i64(in, i), GMP_OK);
      EXPECT_EQ(gmp_chan_close(in), GMP_OK);
    });
    for (int w = 0; w < kWorkers; w++) {
      g.spawn(w == kWorkers - 1, [in, out, left] {
        for (RecvResult x; (x = recv_i64(in)).rc == GMP_OK;) {
          ASSERT_EQ(send_i64(out, x.v * x.v), GMP_OK);
        }
        if (--*left == 0) {
          EXPECT_EQ(gmp_chan_close(out), GMP_OK);
        }
      });
    }
    int64_t sum = 0, n = 0;
    for (RecvResult x; (x = recv_i64(out)).rc == GMP_OK;) {
      sum += x.v;
      n++;
    }
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(n, kN);
    EXPECT_EQ(sum, kN * (kN + 1) * (2 * kN + 1) / 6);
  }
}

// ------------------------------------------------------------------ close

// TestChan "receive 0 from closed chan": after close, receivers drain the
// buffer, then get GMP_ECLOSED with a zero-filled element, every time and
// from every form of receive.
TEST_F(Chan, CloseDrainsBufferThenReportsClosed) {
  constexpr int kCap = 5;
  ChanRef c = make_chan(sizeof(int64_t), kCap);
  for (int i = 1; i <= kCap; i++) ASSERT_EQ(send_i64(c, i), GMP_OK);
  ASSERT_EQ(gmp_chan_close(c), GMP_OK);
  EXPECT_EQ(gmp_chan_len(c), size_t(kCap));
  EXPECT_EQ(gmp_chan_cap(c), size_t(kCap));
  for (int i = 1; i <= kCap; i++) {
    RecvResult r = recv_i64(c);
    EXPECT_EQ(r.rc, GMP_OK);
    EXPECT_EQ(r.v, i);
  }
  EXPECT_EQ(gmp_chan_len(c), 0u);
  for (int i = 0; i < 3; i++) {
    RecvResult r = recv_i64(c);
    EXPECT_EQ(r.rc, GMP_ECLOSED);
    EXPECT_EQ(r.v, 0) << "not zero-filled";
  }
  int64_t v = kPattern;
  EXPECT_EQ(gmp_chan_try_recv(c, &v), GMP_ECLOSED) << "a closed channel never blocks";
  EXPECT_EQ(v, 0);
  v = kPattern;
  EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 0), GMP_ECLOSED);
  EXPECT_EQ(v, 0);
  v = kPattern;
  EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 10 * kMs), GMP_ECLOSED);
  EXPECT_EQ(v, 0);
  v = kPattern;
  EXPECT_EQ(gmp_chan_recv_timeout(c, &v, -1), GMP_ECLOSED);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(gmp_chan_recv(c, nullptr), GMP_ECLOSED);
  // A larger element is zero-filled entirely.
  struct Big {
    char b[100];
  };
  ChanRef big = make_chan(sizeof(Big), 0);
  ASSERT_EQ(gmp_chan_close(big), GMP_OK);
  Big out;
  memset(&out, 0x77, sizeof out);
  EXPECT_EQ(gmp_chan_recv(big, &out), GMP_ECLOSED);
  EXPECT_TRUE(std::all_of(out.b, out.b + sizeof out.b, [](char ch) { return ch == 0; }));
}

// TestChan "close unblocks receive": every blocked receiver (goroutines
// and plain threads, with and without timeouts) wakes with GMP_ECLOSED and a
// zero-filled element.
TEST_P(ChanP, CloseWakesBlockedReceivers) {
  constexpr int kReceivers = 12;
  for (size_t cap : {0, 4}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    auto started = std::make_shared<std::atomic<int>>(0);
    auto closed = std::make_shared<std::atomic<int>>(0);
    Group g;
    for (int i = 0; i < kReceivers; i++) {
      g.spawn(i % 4 == 3, [c, i, started, closed] {
        int64_t v = kPattern;
        (*started)++;
        int rc = i % 3 == 0   ? gmp_chan_recv(c, &v)
                 : i % 3 == 1 ? gmp_chan_recv_timeout(c, &v, -1)
                              : gmp_chan_recv_timeout(c, &v, 600 * kSec);
        EXPECT_EQ(rc, GMP_ECLOSED) << "receiver " << i;
        EXPECT_EQ(v, 0) << "receiver " << i;
        if (rc == GMP_ECLOSED && v == 0) (*closed)++;
      });
    }
    ASSERT_TRUE(wait_until([&] { return started->load() == kReceivers; }));
    settle();
    ASSERT_EQ(gmp_chan_close(c), GMP_OK);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(closed->load(), kReceivers);
  }
}

// Close wakes every blocked sender with GMP_ECLOSED; their values are not
// sent, while values already buffered are still received.
TEST_P(ChanP, CloseWakesBlockedSenders) {
  constexpr int kSenders = 12;
  for (size_t cap : {0, 2}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    for (size_t i = 0; i < cap; i++) ASSERT_EQ(send_i64(c, int64_t(i)), GMP_OK);
    auto started = std::make_shared<std::atomic<int>>(0);
    auto closed = std::make_shared<std::atomic<int>>(0);
    Group g;
    for (int i = 0; i < kSenders; i++) {
      g.spawn(i % 4 == 3, [c, i, started, closed] {
        const int64_t v = 1000 + i;
        (*started)++;
        int rc = i % 3 == 0   ? gmp_chan_send(c, &v)
                 : i % 3 == 1 ? gmp_chan_send_timeout(c, &v, -1)
                              : gmp_chan_send_timeout(c, &v, 600 * kSec);
        EXPECT_EQ(rc, GMP_ECLOSED) << "sender " << i;
        if (rc == GMP_ECLOSED) (*closed)++;
      });
    }
    ASSERT_TRUE(wait_until([&] { return started->load() == kSenders; }));
    settle();
    ASSERT_EQ(gmp_chan_close(c), GMP_OK);
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(closed->load(), kSenders);
    EXPECT_EQ(gmp_chan_len(c), cap);
    for (size_t i = 0; i < cap; i++) {
      RecvResult r = recv_i64(c);
      EXPECT_EQ(r.rc, GMP_OK);
      EXPECT_EQ(r.v, int64_t(i));
    }
    RecvResult r = recv_i64(c);
    EXPECT_EQ(r.rc, GMP_ECLOSED) << "a woken sender's value was sent: " << r.v;
  }
}

// Closing twice gives GMP_ECLOSED (Go panics); every send on a closed
// channel gives GMP_ECLOSED and sends nothing.
TEST_F(Chan, CloseTwiceAndSendOnClosed) {
  for (size_t cap : {0, 2}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    if (cap) {
      ASSERT_EQ(send_i64(c, 5), GMP_OK);
    }
    ASSERT_EQ(gmp_chan_close(c), GMP_OK);
    EXPECT_EQ(gmp_chan_close(c), GMP_ECLOSED);
    EXPECT_EQ(gmp_chan_close(c), GMP_ECLOSED);
    const int64_t v = 9;
    EXPECT_EQ(gmp_chan_send(c, &v), GMP_ECLOSED);
    EXPECT_EQ(gmp_chan_try_send(c, &v), GMP_ECLOSED);
    EXPECT_EQ(gmp_chan_send_timeout(c, &v, 0), GMP_ECLOSED);
    EXPECT_EQ(gmp_chan_send_timeout(c, &v, 10 * kMs), GMP_ECLOSED);
    EXPECT_EQ(gmp_chan_send_timeout(c, &v, -1), GMP_ECLOSED);
    EXPECT_EQ(gmp_chan_len(c), cap ? 1u : 0u);
    if (cap) {
      EXPECT_EQ(recv_i64(c).v, 5);
    }
    EXPECT_EQ(recv_i64(c).rc, GMP_ECLOSED);
  }
  // From a goroutine too.
  ChanRef c = make_chan(sizeof(int64_t), 0);
  ASSERT_EQ(gmp_chan_close(c), GMP_OK);
  auto rcs = std::make_shared<std::vector<int>>();
  ASSERT_TRUE(run_goroutine([c, rcs] {
    rcs->push_back(gmp_chan_close(c));
    rcs->push_back(send_i64(c, 1));
    rcs->push_back(recv_i64(c).rc);
  }));
  EXPECT_EQ(*rcs, (std::vector<int>{GMP_ECLOSED, GMP_ECLOSED, GMP_ECLOSED}));
}

// TestNonblockRecvRace: a non-blocking receive racing with close never
// reports "would block": the channel holds a value or is closed.
TEST_P(ChanP, NonblockRecvRacesWithClose) {
  constexpr int kN = kSanitized ? 1000 : 10000;
  auto would_block = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kN; i++) {
    ChanRef c = make_chan(sizeof(int64_t), 1);
    ASSERT_EQ(send_i64(c, 1), GMP_OK);
    Group g;
    g.go([c, would_block] {
      int64_t v;
      if (gmp_chan_try_recv(c, &v) == GMP_EAGAIN) (*would_block)++;
    });
    ASSERT_EQ(gmp_chan_close(c), GMP_OK);
    RecvResult r = recv_i64(c);
    EXPECT_TRUE(r.rc == GMP_OK || r.rc == GMP_ECLOSED) << r.rc;
    ASSERT_TRUE(g.wait());
    ASSERT_EQ(would_block->load(), 0) << "round " << i;
  }
}

// ------------------------------------------------------- zero-size elements

// zerosize.go: elem_size 0 makes a signal channel; elem may be NULL and a
// non-NULL elem is never read or written.
TEST_P(ChanP, ZeroSizeElements) {
  ChanRef c = make_chan(0, 3);
  EXPECT_EQ(gmp_chan_cap(c), 3u);
  for (int i = 0; i < 3; i++) EXPECT_EQ(gmp_chan_send(c, nullptr), GMP_OK);
  EXPECT_EQ(gmp_chan_len(c), 3u);
  EXPECT_EQ(gmp_chan_try_send(c, nullptr), GMP_EAGAIN);
  EXPECT_EQ(gmp_chan_send_timeout(c, nullptr, kMs), GMP_ETIMEDOUT);
  unsigned char canary = 0xcd;
  EXPECT_EQ(gmp_chan_recv(c, &canary), GMP_OK);
  EXPECT_EQ(gmp_chan_try_recv(c, nullptr), GMP_OK);
  EXPECT_EQ(gmp_chan_recv_timeout(c, &canary, 0), GMP_OK);
  EXPECT_EQ(canary, 0xcd) << "a zero-size receive wrote its element";
  EXPECT_EQ(gmp_chan_try_recv(c, nullptr), GMP_EAGAIN);
  EXPECT_EQ(gmp_chan_send(c, &canary), GMP_OK);  // a non-NULL elem is fine too
  EXPECT_EQ(gmp_chan_recv(c, nullptr), GMP_OK);

  // An unbuffered signal channel between a goroutine and the test thread.
  constexpr int kSignals = kSanitized ? 1000 : 10000;
  ChanRef sig = make_chan(0, 0), ack = make_chan(0, 0);
  Group g;
  g.go([sig, ack] {
    for (int i = 0; i < kSignals; i++) {
      ASSERT_EQ(gmp_chan_recv(sig, nullptr), GMP_OK);
      ASSERT_EQ(gmp_chan_send(ack, nullptr), GMP_OK);
    }
    unsigned char mine = 0xab;
    EXPECT_EQ(gmp_chan_recv(sig, &mine), GMP_ECLOSED);
    EXPECT_EQ(mine, 0xab) << "zero-filled zero bytes: nothing written";
  });
  for (int i = 0; i < kSignals; i++) {
    ASSERT_EQ(gmp_chan_send(sig, nullptr), GMP_OK);
    ASSERT_EQ(gmp_chan_recv(ack, nullptr), GMP_OK);
  }
  ASSERT_EQ(gmp_chan_close(sig), GMP_OK);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_chan_send(sig, nullptr), GMP_ECLOSED);
}

// Elements of odd and large sizes are copied byte for byte.
TEST_P(ChanP, ElementsCopiedByValue) {
  for (size_t size : {size_t(1), size_t(3), size_t(17), size_t(4096), GMP_CHAN_ELEM_MAX}) {
    for (size_t cap : {0, 2}) {
      ChanRef c = make_chan(size, cap);
      constexpr int kN = 8;
      Group g;
      g.go([c, size] {
        std::vector<unsigned char> buf(size);
        for (int i = 0; i < kN; i++) {
          for (size_t b = 0; b < size; b++) buf[b] = static_cast<unsigned char>(b * 7 + i);
          ASSERT_EQ(gmp_chan_send(c, buf.data()), GMP_OK);
        }
      });
      std::vector<unsigned char> got(size + 2, 0xee);
      for (int i = 0; i < kN; i++) {
        ASSERT_EQ(gmp_chan_recv(c, got.data() + 1), GMP_OK);
        int wrong = 0;
        for (size_t b = 0; b < size; b++) {
          wrong += got[b + 1] != static_cast<unsigned char>(b * 7 + i);
        }
        EXPECT_EQ(wrong, 0) << "size " << size << " cap " << cap << " value " << i;
        EXPECT_EQ(got[0], 0xee) << "wrote before the element";
        EXPECT_EQ(got[size + 1], 0xee) << "wrote past the element";
      }
      ASSERT_TRUE(g.wait());
    }
  }
}

// -------------------------------------------------------- try and timeouts

// nonblock.go: try_send/try_recv never block: GMP_EAGAIN where they would,
// success as soon as a partner waits (a blocked receiver or sender counts
// even on an unbuffered channel).
TEST_P(ChanP, TryOps) {
  ChanRef c = make_chan(sizeof(int64_t), 0);
  int64_t v = kPattern;
  EXPECT_EQ(gmp_chan_try_recv(c, &v), GMP_EAGAIN);
  EXPECT_EQ(gmp_chan_try_send(c, &v), GMP_EAGAIN) << "unbuffered, nobody receiving";
  EXPECT_EQ(v, kPattern);

  // A blocked receiver: try_send eventually succeeds (once it has parked).
  Group g;
  auto got = std::make_shared<std::atomic<int64_t>>(0);
  g.go([c, got] { *got = recv_i64(c).v; });
  const int64_t seven = 7;
  EXPECT_TRUE(wait_until([&] { return gmp_chan_try_send(c, &seven) == GMP_OK; }));
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(got->load(), 7);

  // A blocked sender: try_recv eventually succeeds.
  g.go([c] { EXPECT_EQ(send_i64(c, 8), GMP_OK); });
  v = 0;
  EXPECT_TRUE(wait_until([&] { return gmp_chan_try_recv(c, &v) == GMP_OK; }));
  EXPECT_EQ(v, 8);
  ASSERT_TRUE(g.wait());

  // Buffered: try_send fills, try_recv drains, in order.
  ChanRef b = make_chan(sizeof(int64_t), 2);
  const int64_t one = 1, two = 2;
  EXPECT_EQ(gmp_chan_try_send(b, &one), GMP_OK);
  EXPECT_EQ(gmp_chan_try_send(b, &two), GMP_OK);
  EXPECT_EQ(gmp_chan_try_send(b, &two), GMP_EAGAIN);
  EXPECT_EQ(gmp_chan_try_recv(b, &v), GMP_OK);
  EXPECT_EQ(v, 1);
  EXPECT_EQ(gmp_chan_try_recv(b, &v), GMP_OK);
  EXPECT_EQ(v, 2);
  EXPECT_EQ(gmp_chan_try_recv(b, &v), GMP_EAGAIN);
}

// A timeout of 0 is the try_ form: GMP_EAGAIN (not GMP_ETIMEDOUT) where it
// would block, success where it would not.
TEST_F(Chan, TimeoutZeroIsTry) {
  ChanRef c = make_chan(sizeof(int64_t), 1);
  int64_t v = kPattern;
  EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 0), GMP_EAGAIN);
  EXPECT_EQ(v, kPattern);
  EXPECT_EQ(gmp_chan_send_timeout(c, &v, 0), GMP_OK);
  EXPECT_EQ(gmp_chan_send_timeout(c, &v, 0), GMP_EAGAIN);
  v = 0;
  EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 0), GMP_OK);
  EXPECT_EQ(v, kPattern);
  ChanRef u = make_chan(sizeof(int64_t), 0);
  EXPECT_EQ(gmp_chan_send_timeout(u, &v, 0), GMP_EAGAIN);
  EXPECT_EQ(gmp_chan_recv_timeout(u, &v, 0), GMP_EAGAIN);
}

// A positive timeout gives GMP_ETIMEDOUT after at least that long, and a
// timed-out call changes nothing (no element written, no value sent) --
// from goroutines and plain threads.
TEST_P(ChanP, TimeoutExpires) {
  constexpr int64_t kWait = 20 * kMs;
  for (bool on_thread : {false, true}) {
    for (size_t cap : {0, 1}) {
      ChanRef c = make_chan(sizeof(int64_t), cap);
      Group g;
      g.spawn(on_thread, [c, cap] {
        int64_t v = kPattern;
        Stopwatch sw;
        EXPECT_EQ(gmp_chan_recv_timeout(c, &v, kWait), GMP_ETIMEDOUT);
        EXPECT_TRUE(sw.at_least(kWait)) << sw.ns() << " ns";
        EXPECT_EQ(v, kPattern);

        if (cap) {  // full now

          ASSERT_EQ(send_i64(c, 1), GMP_OK);
        }
        const int64_t two = 2;
        Stopwatch sw2;
        EXPECT_EQ(gmp_chan_send_timeout(c, &two, kWait), GMP_ETIMEDOUT);
        EXPECT_TRUE(sw2.at_least(kWait)) << sw2.ns() << " ns";
        EXPECT_EQ(gmp_chan_len(c), cap);
        if (cap) {
          EXPECT_EQ(recv_i64(c).v, 1);
        }
        EXPECT_EQ(gmp_chan_try_recv(c, &v), GMP_EAGAIN) << "the timed-out value was sent";
      });
      ASSERT_TRUE(g.wait());
    }
  }
}

// A value (or a receiver) arriving before the timeout completes the call.
TEST_P(ChanP, TimeoutPartnerArrivesFirst) {
  for (size_t cap : {0, 1}) {
    ChanRef c = make_chan(sizeof(int64_t), cap);
    Group g;
    g.go([c] {
      int64_t v = 0;
      EXPECT_EQ(gmp_chan_recv_timeout(c, &v, 600 * kSec), GMP_OK);
      EXPECT_EQ(v, 11);
    });
    settle();
    ASSERT_EQ(send_i64(c, 11), GMP_OK);
    ASSERT_TRUE(g.wait());

    if (cap) {
      ASSERT_EQ(send_i64(c, 12), GMP_OK);
    }
    g.go([c] {
      const int64_t v = 13;
      EXPECT_EQ(gmp_chan_send_timeout(c, &v, 600 * kSec), GMP_OK);
    });
    settle();
    if (cap) {
      EXPECT_EQ(recv_i64(c).v, 12);
    }
    EXPECT_EQ(recv_i64(c).v, 13);
    ASSERT_TRUE(g.wait());
  }
}

// A negative timeout waits as long as it takes; a huge one does not
// overflow into an immediate timeout.
TEST_F(Chan, NegativeAndHugeTimeoutsWait) {
  for (int64_t t : {int64_t(-1), INT64_MIN, INT64_MAX, INT64_MAX - 1}) {
    ChanRef c = make_chan(sizeof(int64_t), 0);
    Stopwatch sw;  // before the sender starts its 30 ms
    Group g;
    g.go([c] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      EXPECT_EQ(send_i64(c, 5), GMP_OK);
    });
    int64_t v = 0;
    EXPECT_EQ(gmp_chan_recv_timeout(c, &v, t), GMP_OK) << "timeout " << t;
    EXPECT_EQ(v, 5);
    EXPECT_TRUE(sw.at_least(30 * kMs)) << "timeout " << t << ": returned early";
    ASSERT_TRUE(g.wait());

    g.go([c] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      EXPECT_EQ(recv_i64(c).v, 6);
    });
    const int64_t six = 6;
    EXPECT_EQ(gmp_chan_send_timeout(c, &six, t), GMP_OK) << "timeout " << t;
    ASSERT_TRUE(g.wait());
  }
}

// Timed operations racing with their partners never lose or duplicate a
// value: every send that returned 0 was received exactly once (or is still
// buffered), and no timed-out send was received.
TEST_P(ChanP, TimeoutsRaceWithPartners) {
  constexpr int kN = kSanitized ? 2000 : 10000;
  for (size_t cap : {0, 1}) {
    for (bool receiver_on_thread : {false, true}) {
      ChanRef c = make_chan(sizeof(int64_t), cap);
      auto sent = std::make_shared<std::vector<char>>(kN, 0);
      auto received = std::make_shared<std::vector<char>>(kN, 0);
      auto sender_done = std::make_shared<std::atomic<int>>(0);
      Group g;
      g.go([c, sent, sender_done] {
        uint32_t x = 12345;
        for (int i = 0; i < kN; i++) {
          x = x * 1103515245 + 12345;
          const int64_t v = i;
          int rc = gmp_chan_send_timeout(c, &v, int64_t(x >> 16) % (50 * kUs) + 1);
          EXPECT_TRUE(rc == GMP_OK || rc == GMP_ETIMEDOUT) << rc;
          (*sent)[i] = rc == GMP_OK;
        }
        *sender_done = 1;
      });
      g.spawn(receiver_on_thread, [c, received, sender_done] {
        uint32_t x = 777;
        for (;;) {
          x = x * 1103515245 + 12345;
          int64_t v = -1;
          int rc = gmp_chan_recv_timeout(c, &v, int64_t(x >> 16) % (50 * kUs) + 1);
          if (rc == GMP_OK) {
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

// ------------------------------------------------------- references/lifetime

// retain/release count references: the channel works while any remain,
// whoever created it.
TEST_P(ChanP, ReferencesKeepChannelAlive) {
  gmp_chan_t* raw = nullptr;
  ASSERT_EQ(gmp_chan_make(&raw, sizeof(int64_t), 4), GMP_OK);
  gmp_chan_retain(raw);
  gmp_chan_retain(raw);
  gmp_chan_release(raw);
  gmp_chan_release(raw);
  ASSERT_EQ(send_i64(raw, 1), GMP_OK);  // one reference left
  EXPECT_EQ(recv_i64(raw).v, 1);

  // Goroutines take their own references; the creator drops its own first.
  constexpr int kUsers = 8;
  auto ok = std::make_shared<std::atomic<int>>(0);
  auto go_ahead = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int i = 0; i < kUsers; i++) {
    gmp_chan_retain(raw);
    g.spawn(i == 0, [raw, ok, go_ahead, i] {
      ASSERT_TRUE(wait_until([&] { return go_ahead->load() == 1; }));
      if (send_i64(raw, i) == GMP_OK && recv_i64(raw).rc == GMP_OK) (*ok)++;
      gmp_chan_release(raw);
    });
  }
  gmp_chan_release(raw);  // the creator's reference
  *go_ahead = 1;
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(ok->load(), kUsers);
}

// ReleaseRace: one round of the lifetime rule. The receiver holds the only
// reference; the other party holds none and only calls in.
struct ReleaseRace {
  gmp_chan_t* c = nullptr;
  std::atomic<int> other_done{0};
  std::atomic<int> receiver_done{0};
};

enum class Finale { kHandoff, kClose, kTimedHandoff };

// run_release_races: rounds of "the receiver takes its final value (or the
// close) and releases the channel at once while the sender (or closer) is
// still returning from its call". delay_other: the receiver parks first
// (the sender or closer finds it waiting); otherwise the sender usually
// parks first. Clean under ASan only if the channel outlives every call in
// progress.
void run_release_races(Finale finale, size_t cap, bool delay_other, int rounds) {
  for (int i = 0; i < rounds; i++) {
    auto st = std::make_shared<ReleaseRace>();
    ASSERT_EQ(gmp_chan_make(&st->c, sizeof(int64_t), cap), GMP_OK);
    const bool receiver_thread = i % 8 == 3, other_thread = i % 8 == 6;
    Group g;
    g.spawn(receiver_thread, [st, finale, delay_other] {
      if (!delay_other) pause_briefly();  // let the sender park first
      int64_t v = -1;
      int rc = finale == Finale::kTimedHandoff ? gmp_chan_recv_timeout(st->c, &v, 600 * kSec)
                                               : gmp_chan_recv(st->c, &v);
      gmp_chan_release(st->c);  // the last reference, at once
      EXPECT_EQ(rc, finale == Finale::kClose ? GMP_ECLOSED : GMP_OK);
      EXPECT_EQ(v, finale == Finale::kClose ? 0 : 42);
      st->receiver_done = 1;
    });
    g.spawn(other_thread, [st, finale, delay_other] {
      if (delay_other) pause_briefly();  // let the receiver park first
      const int64_t v = 42;
      int rc = finale == Finale::kClose          ? gmp_chan_close(st->c)
               : finale == Finale::kTimedHandoff ? gmp_chan_send_timeout(st->c, &v, 600 * kSec)
                                                 : gmp_chan_send(st->c, &v);
      // st->c may be gone now: not touched again.
      EXPECT_EQ(rc, GMP_OK);
      st->other_done = 1;
    });
    ASSERT_TRUE(g.wait()) << "round " << i;
  }
}

constexpr int kReleaseRounds = kSanitized ? 300 : 1000;

// API.md "Channel lifetime": the receiver releases the channel right after
// a hand-off from a sender that was waiting.
TEST_P(ChanP, ReleaseRightAfterReceivingFromWaitingSender) {
  run_release_races(Finale::kHandoff, 0, false, kReleaseRounds);
  run_release_races(Finale::kHandoff, 1, false, kReleaseRounds / 4);
}

// ... right after a sender handed its value to the waiting receiver (the
// sender is still inside gmp_chan_send).
TEST_P(ChanP, ReleaseRightAfterHandoffToWaitingReceiver) {
  run_release_races(Finale::kHandoff, 0, true, kReleaseRounds);
  run_release_races(Finale::kHandoff, 2, true, kReleaseRounds / 4);
}

// ... right after a close woke the receiver (the closer is still inside
// gmp_chan_close).
TEST_P(ChanP, ReleaseRightAfterCloseWakesReceiver) {
  run_release_races(Finale::kClose, 0, true, kReleaseRounds);
  run_release_races(Finale::kClose, 1, false, kReleaseRounds / 4);
}

// ... with timed calls on both sides (their timers must not outlive the
// channel either).
TEST_P(ChanP, ReleaseRightAfterTimedHandoff) {
  run_release_races(Finale::kTimedHandoff, 0, true, kReleaseRounds / 2);
  run_release_races(Finale::kTimedHandoff, 0, false, kReleaseRounds / 2);
}

// ---------------------------------------------------------------- bad input

class ChanBadInput : public Chan {};

// A NULL channel is GMP_EINVAL on every call returning int (never Go's
// "block forever"), 0 for len and cap, and ignored by retain/release.
void null_channel_calls() {
  int64_t v = kPattern;
  EXPECT_EQ(gmp_chan_send(nullptr, &v), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_recv(nullptr, &v), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_try_send(nullptr, &v), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_try_recv(nullptr, &v), GMP_EINVAL);
  for (int64_t t : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    EXPECT_EQ(gmp_chan_send_timeout(nullptr, &v, t), GMP_EINVAL) << t;
    EXPECT_EQ(gmp_chan_recv_timeout(nullptr, &v, t), GMP_EINVAL) << t;
  }
  EXPECT_EQ(gmp_chan_send(nullptr, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_recv(nullptr, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_close(nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_len(nullptr), 0u);
  EXPECT_EQ(gmp_chan_cap(nullptr), 0u);
  gmp_chan_retain(nullptr);
  gmp_chan_release(nullptr);
  EXPECT_EQ(v, kPattern);
}

TEST_F(ChanBadInput, NullChannel) {
  null_channel_calls();
  Group g;
  g.thread(null_channel_calls);
  g.go(null_channel_calls);
  ASSERT_TRUE(g.wait());
}

// gmp_chan_make: NULL out, an element above GMP_CHAN_ELEM_MAX, a buffer
// that overflows or exceeds 2^40 bytes: GMP_EINVAL, *out left alone.
TEST_F(ChanBadInput, MakeRejectsBadSizes) {
  EXPECT_EQ(gmp_chan_make(nullptr, 8, 1), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_make(nullptr, 0, 0), GMP_EINVAL);
  gmp_chan_t* const sentinel = reinterpret_cast<gmp_chan_t*>(uintptr_t(0x1234));
  struct Bad {
    size_t elem, cap;
  };
  const Bad bad[] = {
      {GMP_CHAN_ELEM_MAX + 1, 0},
      {GMP_CHAN_ELEM_MAX + 1, 1},
      {SIZE_MAX, 0},
      {SIZE_MAX, 1},
      {2, SIZE_MAX / 2 + 1},                                  // the product overflows
      {GMP_CHAN_ELEM_MAX, SIZE_MAX / GMP_CHAN_ELEM_MAX + 1},  // the product overflows
      {1, SIZE_MAX},
      {8, SIZE_MAX / 8},
      {1, (size_t(1) << 40) + 1},  // above 2^40 bytes
      {GMP_CHAN_ELEM_MAX, (size_t(1) << 24) + 1},
      {4096, size_t(1) << 40},
  };
  for (const Bad& b : bad) {
    gmp_chan_t* c = sentinel;
    EXPECT_EQ(gmp_chan_make(&c, b.elem, b.cap), GMP_EINVAL)
        << "elem_size " << b.elem << " capacity " << b.cap;
    EXPECT_EQ(c, sentinel) << "a failed make wrote *out";
    if (c != sentinel) gmp_chan_release(c);
  }
}

// The largest element size is accepted; a zero-size element with a huge
// capacity has no buffer to overflow (accepted, or refused cleanly).
TEST_F(ChanBadInput, MakeBoundaries) {
  ChanRef c = make_chan(GMP_CHAN_ELEM_MAX, 1);
  EXPECT_EQ(gmp_chan_cap(c), 1u);
  gmp_chan_t* z = nullptr;
  int rc = gmp_chan_make(&z, 0, SIZE_MAX);
  EXPECT_TRUE(rc == GMP_OK || rc == GMP_EINVAL || rc == GMP_ENOMEM) << rc;
  if (rc == GMP_OK) {
    EXPECT_EQ(gmp_chan_cap(z), SIZE_MAX);
    for (int i = 0; i < 100; i++) EXPECT_EQ(gmp_chan_try_send(z, nullptr), GMP_OK);
    EXPECT_EQ(gmp_chan_len(z), 100u);
    gmp_chan_release(z);
  }
  // Exactly 2^40 bytes is within the limit: made, or GMP_ENOMEM. (Not under
  // sanitizers, whose allocators abort on such a request.)
  if (!kSanitized) {
    gmp_chan_t* huge = nullptr;
    rc = gmp_chan_make(&huge, GMP_CHAN_ELEM_MAX, size_t(1) << 24);
    EXPECT_TRUE(rc == GMP_OK || rc == GMP_ENOMEM) << rc;
    if (rc == GMP_OK) gmp_chan_release(huge);
  }
}

// A NULL elem on a send of a non-zero-size element is GMP_EINVAL, from
// every form, and sends nothing -- also to a waiting receiver. On a
// receive it drops the value.
TEST_F(ChanBadInput, SendNullElem) {
  ChanRef c = make_chan(sizeof(int64_t), 1);
  EXPECT_EQ(gmp_chan_send(c, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_try_send(c, nullptr), GMP_EINVAL);
  for (int64_t t : {int64_t(0), 10 * kMs, int64_t(-1)}) {
    EXPECT_EQ(gmp_chan_send_timeout(c, nullptr, t), GMP_EINVAL) << t;
  }
  EXPECT_EQ(gmp_chan_len(c), 0u);
  ASSERT_EQ(send_i64(c, 3), GMP_OK);
  EXPECT_EQ(gmp_chan_send(c, nullptr), GMP_EINVAL) << "checked before blocking on a full channel";
  EXPECT_EQ(gmp_chan_recv(c, nullptr), GMP_OK) << "NULL drops the value";
  EXPECT_EQ(gmp_chan_len(c), 0u);

  ChanRef u = make_chan(sizeof(int64_t), 0);
  Group g;
  auto got = std::make_shared<std::atomic<int64_t>>(0);
  g.go([u, got] { *got = recv_i64(u).v; });
  settle();
  EXPECT_EQ(gmp_chan_send(u, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_chan_try_send(u, nullptr), GMP_EINVAL);
  ASSERT_EQ(send_i64(u, 77), GMP_OK);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(got->load(), 77) << "the receiver got something from a rejected send";
  // A NULL elem receives from a waiting sender too.
  g.go([u] { EXPECT_EQ(send_i64(u, 78), GMP_OK); });
  EXPECT_EQ(gmp_chan_recv(u, nullptr), GMP_OK);
  ASSERT_TRUE(g.wait());
}

}  // namespace
