// io_drain_test.cpp -- two shortcuts of the IO path (core/netpoll.hpp).
//
// Short reads of TCP sockets: after a gmp_read that
// returns less than it asked for, the next gmp_read parks without trying
// the system call unless an edge came (the kDrained shortcut, see
// core/netpoll.hpp). The shortcut must never park a reader while something
// is left to read:
//   - data and end of file that arrived together (the short read consumes
//     the FIN, and its edge was seen before the read);
//   - urgent data, where a TCP read stops at the mark with data behind it;
//   - a reset after data;
//   - Unix stream sockets, whose reads stop early at other boundaries;
// and a stress test: streams written in chunks of random size at random
// pauses, read with random sizes, byte for byte.
//
// In the first three the peer sends everything before the runtime first
// sees the descriptor and the poller has taken the events (hang-up, urgent,
// error) before the read: the order in which a runtime without the checks
// would lose them.
//
// The woken peer runs at once: a goroutine that reads after it wrote polls
// first and hands its thread to the goroutine its write readied, ahead of
// goroutines queued before (hand_to_peer).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gmprt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chan_helpers.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

[[gnu::noinline]] int errno_now() { return errno; }

// tcp_pair: a connected pair of loopback TCP sockets made with plain
// (blocking) calls: ours is for gmp_* calls, peer for plain ones.
bool tcp_pair(int* ours, int* peer) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bool ok = bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0 && listen(l, 1) == 0;
  *peer = ok ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
  ok = *peer >= 0 && connect(*peer, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  *ours = ok ? accept4(l, nullptr, nullptr, SOCK_CLOEXEC) : -1;
  close(l);
  if (*ours >= 0) return true;
  if (*peer >= 0) close(*peer);
  return false;
}

// reads_until_end: the runtime registers fd, the peer does `send`, and the
// poller takes fd's events (hang-up, urgent data, error) before a goroutine
// gmp_reads fd with 100-byte requests until end of file, an error or
// stop_at bytes; returns what arrived, plus <the error's name> for an error. A read still
// parked after 10 s fails the test and is ended by gmp_close.
//
// To be sure the poller has taken fd's events before the first read, the
// reader first waits on a pipe that is written only after the peer is
// done: fd's events were queued first, so they are taken no later than the
// pipe's, and the woken reader runs after the poll that took them.
std::string reads_until_end(int fd, const std::function<void()>& send, size_t stop_at = SIZE_MAX) {
  EXPECT_EQ(gmp_fd_wait(fd, GMP_WRITE, 0), GMP_WRITE);  // registers fd with the poller
  send();
  int p[2];
  EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
  auto got = std::make_shared<std::string>();
  auto done = std::make_shared<std::atomic<int>>(0);
  EXPECT_EQ(go([fd, r = p[0], got, done, stop_at] {
              char c;
              done->store(1);
              EXPECT_EQ(gmp_read(r, &c, 1), 1);
              char buf[100];
              while (got->size() < stop_at) {
                ssize_t n = gmp_read(fd, buf, sizeof buf);
                if (n < 0) *got += std::string("<") + strerror(errno_now()) + ">";
                if (n <= 0) break;
                got->append(buf, size_t(n));
              }
              done->store(2);
            }),
            GMP_OK);
  EXPECT_TRUE(wait_until([&] { return done->load() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the reader waits on the pipe
  EXPECT_EQ(write(p[1], "x", 1), 1);
  bool ended = wait_until([&] { return done->load() == 2; }, std::chrono::milliseconds(10000));
  EXPECT_TRUE(ended) << "a gmp_read is still parked with something left to read";
  EXPECT_EQ(gmp_close(fd), 0);
  if (!ended) {
    EXPECT_TRUE(wait_until([&] { return done->load() == 2; }));
  }
  EXPECT_EQ(gmp_close(p[0]), 0);
  close(p[1]);
  return *got;
}

class IoDrain : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine(); }
};

TEST_F(IoDrain, DataAndEndOfFileTogether) {
  for (int i = 0; i < 5; i++) {
    int ours, peer;
    ASSERT_TRUE(tcp_pair(&ours, &peer)) << strerror(errno);
    const std::string got = reads_until_end(ours, [peer] {
      EXPECT_EQ(write(peer, "hello", 5), 5);
      EXPECT_EQ(shutdown(peer, SHUT_WR), 0);
    });
    EXPECT_EQ(got, "hello");
    close(peer);
  }
}

// The urgent byte is out of band (SO_OOBINLINE is off): the stream reads
// "abc" (stopping at the mark), then "def". No end of file follows: its
// hang-up would hide a missed urgent edge.
TEST_F(IoDrain, UrgentData) {
  for (int i = 0; i < 5; i++) {
    int ours, peer;
    ASSERT_TRUE(tcp_pair(&ours, &peer)) << strerror(errno);
    int one = 1;
    ASSERT_EQ(setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    const std::string got = reads_until_end(
        ours,
        [peer] {
          EXPECT_EQ(send(peer, "abc", 3, 0), 3);
          EXPECT_EQ(send(peer, "!", 1, MSG_OOB), 1);
          EXPECT_EQ(send(peer, "def", 3, 0), 3);
        },
        6);
    EXPECT_EQ(got, "abcdef");
    close(peer);
  }
}

// A reset after data: the data (if the kernel kept it), then ECONNRESET.
TEST_F(IoDrain, ResetAfterData) {
  for (int i = 0; i < 5; i++) {
    int ours, peer;
    ASSERT_TRUE(tcp_pair(&ours, &peer)) << strerror(errno);
    const std::string got = reads_until_end(ours, [peer] {
      EXPECT_EQ(write(peer, "abc", 3), 3);
      linger lg{1, 0};
      EXPECT_EQ(setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
      close(peer);  // with a zero linger: a reset
    });
    const std::string reset = std::string("<") + strerror(ECONNRESET) + ">";
    EXPECT_TRUE(got == "abc" + reset || got == reset || got == "abc") << got;
  }
}

// A Unix stream socket carries the same bytes with the same pauses; its
// short reads prove nothing and must not be taken for drained.
TEST_F(IoDrain, UnixStreamDataAndEndOfFile) {
  int s[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
  const std::string got = reads_until_end(s[0], [&] {
    EXPECT_EQ(write(s[1], "hello", 5), 5);
    EXPECT_EQ(shutdown(s[1], SHUT_WR), 0);
  });
  EXPECT_EQ(got, "hello");
  close(s[1]);
}

// pattern: n bytes with no short period, so a lost, doubled or reordered
// chunk shows.
std::vector<char> pattern(size_t n, uint32_t seed) {
  std::vector<char> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = char(x);
  }
  return v;
}

// Streams in both directions of several connections: each writer (a
// goroutine, or a plain thread for one connection) sends its pattern in
// chunks of 1 to 3,000 bytes, now and then pausing (a yield or a sleep of
// up to 200 µs); each reader asks for 1 to 5,000 bytes at a time, so short
// reads and edges arriving around them happen all the time.
TEST_F(IoDrain, StreamsOfRandomChunks) {
  const int kConns = sized(8, 4);
  const size_t kBytes = kSanitized ? 64 * 1024 : 512 * 1024;
  Group g;
  std::vector<int> fds;
  for (int c = 0; c < kConns; c++) {
    int ours, peer;
    ASSERT_TRUE(tcp_pair(&ours, &peer)) << strerror(errno);
    fds.push_back(ours);
    fds.push_back(peer);
    for (int dir = 0; dir < 2; dir++) {
      const int from = dir ? ours : peer, to = dir ? peer : ours;
      const uint32_t seed = uint32_t(c * 2 + dir + 1);
      auto data = std::make_shared<const std::vector<char>>(pattern(kBytes, seed));
      g.spawn(c == 0 && dir == 0, [from, data, seed] {
        uint32_t x = seed;
        for (size_t done = 0; done < data->size();) {
          x = x * 1103515245u + 12345u;
          size_t n = std::min<size_t>(1 + (x >> 8) % 3000, data->size() - done);
          ASSERT_EQ(gmp_write(from, data->data() + done, n), ssize_t(n)) << strerror(errno_now());
          done += n;
          if ((x >> 4) % 8 == 0) gmp_yield();
          if ((x >> 4) % 16 == 1) gmp_sleep(int64_t((x >> 12) % 200) * 1000);
        }
        ASSERT_EQ(shutdown(from, SHUT_WR), 0);
      });
      g.go([to, data, seed] {
        std::vector<char> got, buf(5000);
        uint32_t x = seed * 7;
        for (;;) {
          x = x * 1103515245u + 12345u;
          ssize_t n = gmp_read(to, buf.data(), 1 + (x >> 8) % buf.size());
          ASSERT_GE(n, 0) << strerror(errno_now());
          if (n == 0) break;
          got.insert(got.end(), buf.data(), buf.data() + n);
        }
        EXPECT_TRUE(got == *data) << "got " << got.size() << " bytes of " << data->size();
      });
    }
  }
  EXPECT_TRUE(g.wait());
  for (int fd : fds) EXPECT_EQ(gmp_close(fd), 0);
}

// One P, four goroutines that yield in a loop, and a pipe in each
// direction between a writer and a reader goroutine. The writer writes a
// byte, then waits for the answer; the reader, woken by the byte, notes
// whether any yielding goroutine ran since the write, and answers. Handed
// the thread on the writer's way into its read, the reader runs first;
// left to the next poll of an idle scheduler, it would run after the
// yielders. And the writer goes on with the answer there: it does not park
// for it, so a round parks twice (the writer's sleep, the reader's next
// read), not three times. (A thread blocked in the poller may take the
// reader's edge first now and then, so the test asks for most rounds, not
// all.)
TEST(IoPeer, ReadAfterWriteHandsTheThreadToTheWokenReader) {
  const int prev = gmp_maxprocs(1);
  ASSERT_GT(prev, 0);
  int p[2], q[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(q, O_CLOEXEC), 0);
  constexpr int kRounds = 50;
  auto ticks = std::make_shared<std::atomic<long>>(0);  // yields since the write
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto first = std::make_shared<std::atomic<int>>(0);  // rounds the reader ran first
  Group g;
  for (int i = 0; i < 4; i++) {
    g.go([ticks, stop] {
      while (!stop->load()) {
        ticks->fetch_add(1);
        gmp_yield();
      }
    });
  }
  g.go([r = p[0], w = q[1], ticks, first] {
    char c;
    for (int i = 0; i < kRounds; i++) {
      ASSERT_EQ(gmp_read(r, &c, 1), 1);
      if (ticks->load() == 0) first->fetch_add(1);
      ASSERT_EQ(gmp_write(w, &c, 1), 1);
    }
  });
  auto parks = std::make_shared<std::atomic<uint64_t>>(0);
  g.go([w = p[1], r = q[0], ticks, stop, parks] {
    char c = 'x';
    gmp_stats_t s0{}, s1{};
    s0.struct_size = s1.struct_size = sizeof s0;
    ASSERT_EQ(gmp_stats(&s0), 0);
    for (int i = 0; i < kRounds; i++) {
      gmp_sleep(100 * 1000);  // the reader is waiting, the yielders are queued
      ticks->store(0);
      ASSERT_EQ(gmp_write(w, &c, 1), 1);
      ASSERT_EQ(gmp_read(r, &c, 1), 1);
    }
    ASSERT_EQ(gmp_stats(&s1), 0);
    parks->store(s1.parks_total - s0.parks_total);
    stop->store(true);
  });
  EXPECT_TRUE(g.wait());
  EXPECT_GE(first->load(), kRounds / 2) << "of " << kRounds << " rounds";
  EXPECT_LE(parks->load(), uint64_t(kRounds * 5 / 2)) << "parks in " << kRounds << " rounds";
  for (int fd : {p[0], p[1], q[0], q[1]}) EXPECT_EQ(gmp_close(fd), 0);
  gmp_maxprocs(prev);
}

}  // namespace
