// io_test.cpp -- the Files and sockets section of gmprt.h: gmp_read,
// gmp_write, gmp_accept, gmp_connect, gmp_fd_wait and gmp_close, from
// goroutines and plain threads, on loopback TCP, Unix socket pairs, pipes and
// regular files: a TCP echo with many clients, plain threads as client and
// as server, pipes (a reader that waits for its writer, 1 MiB writes, many
// readers of one descriptor, readers and writers that share its edges,
// both directions of one socket at once), gmp_close waking readers, writers
// and accepts, every outcome of gmp_fd_wait, refused connections, an accept
// storm (the new descriptors are non-blocking and close-on-exec),
// descriptors the caller made non-blocking (never EAGAIN), descriptor
// numbers reused after gmp_close, EPIPE without SIGPIPE, regular files,
// every bad argument, and deadlock detection while a goroutine waits on a
// descriptor.
//
// Ports the intent of Go's net tests (TestTCPServer and the echo servers of
// net/server_test.go, TestCloseRead / a Read pending while the conn is
// closed, TestDialerDualStack's refused dials, TestWriteToClosedConn ...)
// and internal/poll's close-while-in-use tests. System calls:
// syscall_test.cpp.
//
// errno: glibc declares __errno_location const, so within one function the
// compiler may reuse the address it got before a gmp_* call; a goroutine
// that moved to another thread inside that call would then read the old
// thread's errno. The tests read errno through errno_now(), a call the
// compiler cannot merge with one made before the gmp_* call.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gmprt.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

constexpr size_t kMiB = size_t(1) << 20;

// settle: give a goroutine or thread that has announced it is about to block
// (a few instructions before the call) time to block. A correct runtime
// passes whatever happens; it only makes the tests cover the waiting path.
void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

// errno_now: the calling thread's errno (see the top of the file).
[[gnu::noinline]] int errno_now() { return errno; }

// EXPECT_FAILS_WITH(call, err): the call returns -1 and sets errno to err.
#define EXPECT_FAILS_WITH(call, err)                                 \
  do {                                                               \
    const long rc_ = static_cast<long>(call);                        \
    const int errno_ = errno_now();                                  \
    EXPECT_EQ(rc_, -1) << #call;                                     \
    if (rc_ == -1) {                                                 \
      EXPECT_EQ(errno_, (err)) << #call << ": " << strerror(errno_); \
    }                                                                \
  } while (0)

// Fds: two descriptors: a pipe (a = read end, b = write end) or a socket
// pair.
struct Fds {
  int a = -1;
  int b = -1;
};

// make_pipe: a pipe (blocking unless flags say otherwise), close-on-exec.
Fds make_pipe(int flags = 0) {
  int p[2] = {-1, -1};
  EXPECT_EQ(pipe2(p, O_CLOEXEC | flags), 0) << strerror(errno);
  return {p[0], p[1]};
}

// make_socketpair: a connected pair of Unix stream sockets, close-on-exec.
Fds make_socketpair(int flags = 0) {
  int s[2] = {-1, -1};
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0, s), 0) << strerror(errno);
  return {s[0], s[1]};
}

// close_fds: gmp_close both descriptors (each must succeed).
void close_fds(const Fds& f) {
  for (int fd : {f.a, f.b}) {
    if (fd >= 0) {
      EXPECT_EQ(gmp_close(fd), 0) << "fd " << fd << ": " << strerror(errno_now());
    }
  }
}

sockaddr_in loopback_addr(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// bound_socket: a TCP socket bound to 127.0.0.1 at a port the kernel picks
// (written to *port); -1 on failure.
int bound_socket(uint16_t* port, int flags = 0) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  if (fd < 0) return -1;
  sockaddr_in a = loopback_addr(0);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

// tcp_listener: a bound_socket that listens.
int tcp_listener(uint16_t* port, int backlog = 128, int flags = 0) {
  int fd = bound_socket(port, flags);
  if (fd >= 0 && listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// tcp_connect: a new TCP socket connected to 127.0.0.1:port with
// gmp_connect; -1 on failure, *err telling why.
int tcp_connect(uint16_t port, int flags = 0, int* err = nullptr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  if (fd < 0) {
    if (err) *err = errno_now();
    return -1;
  }
  sockaddr_in a = loopback_addr(port);
  if (gmp_connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (err) *err = errno_now();
    EXPECT_EQ(gmp_close(fd), 0);
    return -1;
  }
  return fd;
}

// read_full: gmp_read until n bytes have arrived. Returns n, less at end of
// file, or -1 (*err tells why).
ssize_t read_full(int fd, void* buf, size_t n, int* err = nullptr) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = gmp_read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0) {
      if (err) *err = errno_now();
      return -1;
    }
    if (r == 0) break;
    got += size_t(r);
  }
  return ssize_t(got);
}

// pattern: n bytes that differ with seed and have no short period, so a
// lost, doubled or reordered chunk shows.
std::vector<char> pattern(size_t n, uint32_t seed) {
  std::vector<char> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    v[i] = char(x);
  }
  return v;
}

// drain_to_eof: gmp_read fd in chunks of varying size until end of file.
std::vector<char> drain_to_eof(int fd, size_t expect) {
  std::vector<char> got;
  got.reserve(expect);
  std::vector<char> buf(70000);
  for (size_t k = 0;; k++) {
    const size_t want = 1 + (k * 7919) % buf.size();
    ssize_t r = gmp_read(fd, buf.data(), want);
    if (r < 0) {
      ADD_FAILURE() << "gmp_read: " << strerror(errno_now());
      break;
    }
    if (r == 0) break;
    got.insert(got.end(), buf.data(), buf.data() + r);
  }
  return got;
}

// Live: counts goroutines started inside goroutines (which a Group, owned
// by the test's thread, should not track).
using Live = std::shared_ptr<std::atomic<int>>;

void go_counted(const Live& live, std::function<void()> body) {
  (*live)++;
  int rc = go([live, body = std::move(body)] {
    body();
    (*live)--;
  });
  if (rc != GMP_OK) (*live)--;
  EXPECT_EQ(rc, GMP_OK);
}

// echo_conn: echo what arrives on fd until end of file, then gmp_close it.
void echo_conn(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = gmp_read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      ADD_FAILURE() << "echo: gmp_read: " << strerror(errno_now());
      break;
    }
    ssize_t w = gmp_write(fd, buf, size_t(n));
    if (w != n) {
      ADD_FAILURE() << "echo: gmp_write gave " << w << " of " << n << ": " << strerror(errno_now());
      break;
    }
  }
  EXPECT_EQ(gmp_close(fd), 0);
}

// EchoServer: a listener on 127.0.0.1 and a goroutine that accepts until
// the listener is closed, echoing each connection on a goroutine of its own.
// stop() closes the listener (which ends the accept loop with EBADF) and
// waits until every connection has reached end of file.
class EchoServer {
 public:
  EchoServer() {
    lfd_ = tcp_listener(&port_, 512);
    EXPECT_GE(lfd_, 0) << strerror(errno);
    if (lfd_ < 0) return;
    const int lfd = lfd_;
    auto live = live_, accepted = accepted_;
    go_counted(live_, [lfd, live, accepted] {
      for (;;) {
        int fd = gmp_accept(lfd, nullptr, nullptr);
        if (fd < 0) {
          const int e = errno_now();
          EXPECT_EQ(e, EBADF) << "accept: " << strerror(e);
          break;
        }
        (*accepted)++;
        go_counted(live, [fd] { echo_conn(fd); });
      }
    });
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  ~EchoServer() { stop(); }

  bool ok() const { return lfd_ >= 0; }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_->load(); }

  // stop: true once the accept loop and every connection have ended.
  bool stop() {
    if (lfd_ < 0) return true;
    EXPECT_EQ(gmp_close(lfd_), 0) << strerror(errno_now());
    lfd_ = -1;
    bool done = wait_until([&] { return live_->load() == 0; });
    EXPECT_TRUE(done) << live_->load() << " server goroutines still running";
    return done;
  }

 private:
  int lfd_ = -1;
  uint16_t port_ = 0;
  Live live_ = std::make_shared<std::atomic<int>>(0);
  Live accepted_ = std::make_shared<std::atomic<int>>(0);
};

// fill_message: message m of client id (64 bytes, all distinct).
void fill_message(char (&out)[64], int id, int m) {
  std::vector<char> p = pattern(sizeof out, uint32_t(id * 100003 + m));
  memcpy(out, p.data(), sizeof out);
  snprintf(out, 24, "c%d m%d", id, m);
}

// echo_messages: send n messages on fd and check each echo byte for byte.
bool echo_messages(int fd, int id, int n) {
  char out[64], in[64];
  for (int m = 0; m < n; m++) {
    fill_message(out, id, m);
    ssize_t w = gmp_write(fd, out, sizeof out);
    if (w != ssize_t(sizeof out)) {
      ADD_FAILURE() << "client " << id << ": gmp_write gave " << w << ": " << strerror(errno_now());
      return false;
    }
    int err = 0;
    ssize_t r = read_full(fd, in, sizeof in, &err);
    if (r != ssize_t(sizeof in)) {
      ADD_FAILURE() << "client " << id << " message " << m << ": read " << r << ": "
                    << strerror(err);
      return false;
    }
    if (memcmp(in, out, sizeof in) != 0) {
      ADD_FAILURE() << "client " << id << " message " << m << ": the echo differs";
      return false;
    }
  }
  return true;
}

// Each test leaves no goroutine behind.
class Io : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine(); }
};

class IoP : public MaxprocsTest {
 protected:
  void TearDown() override {
    EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine();
    MaxprocsTest::TearDown();
  }
};
GMPRT_INSTANTIATE_MAXPROCS(IoP);

// ------------------------------------------------------------------ TCP echo

// Go's TestTCPServer: many client goroutines, each on its own connection to
// a goroutine server on loopback, exchange messages; every echo comes back
// byte for byte.
TEST_P(IoP, TcpEchoManyClients) {
  const int kClients = sized(50, 20), kMessages = 100;
  EchoServer server;
  ASSERT_TRUE(server.ok());
  const uint16_t port = server.port();
  auto ok = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int c = 0; c < kClients; c++) {
    g.go([port, c, ok] {
      int err = 0;
      int fd = tcp_connect(port, 0, &err);
      if (fd < 0) {
        ADD_FAILURE() << "client " << c << ": gmp_connect: " << strerror(err);
        return;
      }
      if (echo_messages(fd, c, kMessages)) (*ok)++;
      EXPECT_EQ(gmp_close(fd), 0);
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(ok->load(), kClients);
  EXPECT_TRUE(server.stop());
  EXPECT_EQ(server.accepted(), kClients);
}

// Plain threads as clients of a goroutine server, beside a goroutine
// client: the IO calls block the thread and give the same results.
TEST_F(Io, PlainThreadClientsOfGoroutineServer) {
  EchoServer server;
  ASSERT_TRUE(server.ok());
  const uint16_t port = server.port();
  auto ok = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int c = 0; c < 5; c++) {
    g.spawn(c != 4, [port, c, ok] {
      int err = 0;
      int fd = tcp_connect(port, 0, &err);
      if (fd < 0) {
        ADD_FAILURE() << "client " << c << ": gmp_connect: " << strerror(err);
        return;
      }
      if (echo_messages(fd, c, 100)) (*ok)++;
      EXPECT_EQ(gmp_close(fd), 0);
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(ok->load(), 5);
  EXPECT_TRUE(server.stop());
}

// A plain thread as the server (gmp_accept, then an echo loop per
// connection, one after another) with goroutine clients.
TEST_F(Io, PlainThreadServerOfGoroutineClients) {
  constexpr int kClients = 3;
  uint16_t port = 0;
  const int lfd = tcp_listener(&port, 16);
  ASSERT_GE(lfd, 0) << strerror(errno);
  auto ok = std::make_shared<std::atomic<int>>(0);
  Group g;
  g.thread([lfd] {
    for (int i = 0; i < kClients; i++) {
      int fd = gmp_accept(lfd, nullptr, nullptr);
      if (fd < 0) {
        ADD_FAILURE() << "gmp_accept: " << strerror(errno_now());
        return;
      }
      echo_conn(fd);
    }
  });
  for (int c = 0; c < kClients; c++) {
    g.go([port, c, ok] {
      int err = 0;
      int fd = tcp_connect(port, 0, &err);
      if (fd < 0) {
        ADD_FAILURE() << "gmp_connect: " << strerror(err);
        return;
      }
      if (echo_messages(fd, c, 20)) (*ok)++;
      EXPECT_EQ(gmp_close(fd), 0);
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(ok->load(), kClients);
  EXPECT_EQ(gmp_close(lfd), 0);
}

// --------------------------------------------------------------------- Pipes

// A goroutine's gmp_read on an empty pipe waits (parked, not failing with
// EAGAIN) until a goroutine writes; the descriptor was made non-blocking on
// first use. With the writer gone, the reader sees end of file.
TEST_P(IoP, PipeReaderWaitsForWriter) {
  Fds p = make_pipe();
  ASSERT_GE(p.a, 0);
  auto state = std::make_shared<std::atomic<int>>(0);  // 1: about to read, 2: returned
  auto got = std::make_shared<std::string>();
  Group g;
  g.go([p, state, got] {
    char buf[16];
    state->store(1);
    ssize_t n = gmp_read(p.a, buf, sizeof buf);
    const int e = errno_now();
    EXPECT_EQ(n, 5) << strerror(e);
    if (n > 0) got->assign(buf, size_t(n));
    state->store(2);
  });
  ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
  settle();
  EXPECT_EQ(state->load(), 1) << "gmp_read on an empty pipe returned";
  g.go([p] { EXPECT_EQ(gmp_write(p.b, "hello", 5), 5); });
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(*got, "hello");
  EXPECT_NE(fcntl(p.a, F_GETFL) & O_NONBLOCK, 0)
      << "the descriptor is non-blocking after first use";

  // End of file: a reader waiting when the write end is closed gets 0.
  g.go([p, state] {
    char c;
    state->store(3);
    EXPECT_EQ(gmp_read(p.a, &c, 1), 0);
  });
  ASSERT_TRUE(wait_until([&] { return state->load() == 3; }));
  settle();
  EXPECT_EQ(gmp_close(p.b), 0);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_close(p.a), 0);
}

// gmp_write writes the whole buffer: 1 MiB through a 64 KiB pipe in one
// call, while a reader drains it concurrently; every combination of
// goroutine and plain thread on the two ends.
TEST_P(IoP, PipeOneMebibyteWrite) {
  const auto data = std::make_shared<const std::vector<char>>(pattern(kMiB, 7));
  for (int mode = 0; mode < 4; mode++) {
    const bool writer_thread = mode & 1, reader_thread = mode & 2;
    SCOPED_TRACE("writer on " + std::string(writer_thread ? "a thread" : "a goroutine") +
                 ", reader on " + (reader_thread ? "a thread" : "a goroutine"));
    Fds p = make_pipe();
    ASSERT_GE(p.a, 0);
    auto got = std::make_shared<std::vector<char>>();
    Group g;
    g.spawn(reader_thread, [p, got] {
      *got = drain_to_eof(p.a, kMiB);
      EXPECT_EQ(gmp_close(p.a), 0);
    });
    g.spawn(writer_thread, [p, data] {
      ssize_t n = gmp_write(p.b, data->data(), data->size());
      const int e = errno_now();
      EXPECT_EQ(n, ssize_t(kMiB)) << strerror(e);
      EXPECT_EQ(gmp_close(p.b), 0);
    });
    ASSERT_TRUE(g.wait());
    ASSERT_EQ(got->size(), kMiB);
    EXPECT_TRUE(*got == *data) << "the bytes read differ from the bytes written";
  }
}

// Many goroutines and threads wait in gmp_read on one pipe; bytes written one
// at a time each reach exactly one of them (waiters that lose the race for
// a byte wait again).
TEST_P(IoP, ManyReadersOfOnePipe) {
  constexpr int kReaders = 16;
  Fds p = make_pipe();
  ASSERT_GE(p.a, 0);
  auto bytes = std::make_shared<std::vector<std::atomic<int>>>(kReaders);
  auto started = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int i = 0; i < kReaders; i++) {
    g.spawn(i % 4 == 3, [p, bytes, started] {
      char c = 0;
      (*started)++;
      ssize_t n = gmp_read(p.a, &c, 1);
      const int e = errno_now();
      EXPECT_EQ(n, 1) << strerror(e);
      if (n == 1 && c >= 'A' && c < 'A' + kReaders) (*bytes)[size_t(c - 'A')]++;
    });
  }
  ASSERT_TRUE(wait_until([&] { return started->load() == kReaders; }));
  settle();
  for (int i = 0; i < kReaders; i++) {
    const char c = char('A' + i);
    ASSERT_EQ(gmp_write(p.b, &c, 1), 1);
    if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(g.wait());
  for (int i = 0; i < kReaders; i++) EXPECT_EQ((*bytes)[size_t(i)].load(), 1) << char('A' + i);
  close_fds(p);
}

// Calls that share a descriptor never hide an edge from one another. Each
// call resets the edge bit before it tries (Go's pollReset); with several
// readers, one's reset may take the edge of data that arrived after
// another's attempt had already failed, and that other must then try again
// rather than wait: no new edge comes while the data sits there. In each
// round every reader (goroutines, a plain thread, a gmp_fd_wait caller)
// takes one byte of a write of one byte per reader that comes while they
// try, fail and wait; a lost edge leaves a byte in the pipe and the round
// unfinished.
TEST_P(IoP, ReadersSharingAPipeLoseNoEdge) {
  constexpr int kReaders = 4;
  const int rounds = kSanitized ? 500 : 2000;
  Fds p = make_pipe();
  ASSERT_GE(p.a, 0);
  ASSERT_EQ(fcntl(p.a, F_SETFL, fcntl(p.a, F_GETFL) | O_NONBLOCK), 0);  // for read(2) below
  ChanRef go_on = make_chan(0, kReaders);  // a token per reader per round
  ChanRef took = make_chan(0, kReaders);   // a byte taken
  Group g;
  for (int i = 0; i < kReaders; i++) {
    g.spawn(i == kReaders - 1, [p, go_on, took, i] {
      while (gmp_chan_recv(go_on, nullptr) == GMP_OK) {
        char c;
        ssize_t n;
        if (i == 1) {  // wait for readiness, then a non-blocking read
          do {
            if (gmp_fd_wait(p.a, GMP_READ, -1) != GMP_READ) return;
          } while ((n = read(p.a, &c, 1)) < 0 && errno_now() == EAGAIN);
        } else {
          n = gmp_read(p.a, &c, 1);
        }
        if (n != 1) return;  // 0: the write end was closed
        ASSERT_EQ(gmp_chan_send(took, nullptr), GMP_OK);
      }
    });
  }
  const char bytes[kReaders] = {1, 2, 3, 4};
  const int64_t liveness_ns = int64_t(kLiveness.count()) * 1000000;
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < kReaders; i++) ASSERT_EQ(gmp_chan_send(go_on, nullptr), GMP_OK);
    for (int k = 0; k < r % 4; k++) sched_yield();  // readers fail and wait meanwhile
    ASSERT_EQ(gmp_write(p.b, bytes, kReaders), kReaders);
    int left = kReaders;
    while (left > 0 && gmp_chan_recv_timeout(took, nullptr, liveness_ns) == GMP_OK) left--;
    if (left > 0) {
      ADD_FAILURE() << "round " << r << ": " << left << " bytes never taken";
      break;
    }
  }
  EXPECT_EQ(gmp_close(p.b), 0);  // end of file for a reader still waiting
  EXPECT_EQ(gmp_chan_close(go_on), GMP_OK);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_close(p.a), 0);
}

// The same for writers: in each round the pipe is full when every writer
// (goroutines, a plain thread, a gmp_fd_wait caller) tries its chunk, then
// the test empties it; the one edge of that read must reach every writer
// whose attempt failed, or one waits for good with room in the pipe.
TEST_P(IoP, WritersSharingAPipeLoseNoEdge) {
  constexpr int kWriters = 4;
  // The chunks of a round share one page of the emptied pipe, which keeps
  // more pages free: poll(2) reports a pipe writable by free pages.
  constexpr size_t kChunk = 512;
  const int rounds = kSanitized ? 300 : 1000;
  Fds p = make_pipe(O_NONBLOCK);  // read(2) and write(2) below never block
  ASSERT_GE(p.a, 0);
  ASSERT_GE(fcntl(p.b, F_SETPIPE_SZ, 65536), 65536);
  ChanRef go_on = make_chan(0, kWriters);  // a token per writer per round
  ChanRef wrote = make_chan(0, kWriters);  // a chunk written
  Group g;
  for (int i = 0; i < kWriters; i++) {
    g.spawn(i == kWriters - 1, [p, go_on, wrote, i] {
      const std::vector<char> chunk(kChunk, char('a' + i));
      while (gmp_chan_recv(go_on, nullptr) == GMP_OK) {
        ssize_t n;
        if (i == 1) {  // wait for room, then a non-blocking write
          do {
            if (gmp_fd_wait(p.b, GMP_WRITE, -1) != GMP_WRITE) return;
          } while ((n = write(p.b, chunk.data(), kChunk)) < 0 && errno_now() == EAGAIN);
        } else {
          n = gmp_write(p.b, chunk.data(), kChunk);
        }
        if (n != ssize_t(kChunk)) return;
        ASSERT_EQ(gmp_chan_send(wrote, nullptr), GMP_OK);
      }
    });
  }
  std::vector<char> buf(1 << 16);
  auto empty_pipe = [&] {
    ssize_t n, total = 0;
    while ((n = read(p.a, buf.data(), buf.size())) > 0) total += n;
    return total;
  };
  const int64_t liveness_ns = int64_t(kLiveness.count()) * 1000000;
  for (int r = 0; r < rounds; r++) {
    while (write(p.b, buf.data(), kChunk) > 0) {
    }
    for (int i = 0; i < kWriters; i++) ASSERT_EQ(gmp_chan_send(go_on, nullptr), GMP_OK);
    for (int k = 0; k < r % 4; k++) sched_yield();  // writers fail and wait meanwhile
    empty_pipe();
    int left = kWriters;
    while (left > 0 && gmp_chan_recv_timeout(wrote, nullptr, liveness_ns) == GMP_OK) left--;
    if (left > 0) {
      ADD_FAILURE() << "round " << r << ": " << left << " writers never wrote";
      break;
    }
    empty_pipe();
  }
  EXPECT_EQ(gmp_close(p.a), 0);  // EPIPE for a writer still waiting
  EXPECT_EQ(gmp_chan_close(go_on), GMP_OK);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_close(p.b), 0);
}

// Both directions of one socket at once: on each end of a socket pair one
// goroutine writes 1 MiB while another reads the peer's 1 MiB, so each
// descriptor has a reader and a writer waiting at the same time.
TEST_P(IoP, SocketBothDirectionsAtOnce) {
  Fds s = make_socketpair();
  ASSERT_GE(s.a, 0);
  const auto a_to_b = std::make_shared<const std::vector<char>>(pattern(kMiB, 11));
  const auto b_to_a = std::make_shared<const std::vector<char>>(pattern(kMiB, 12));
  auto at_a = std::make_shared<std::vector<char>>(kMiB);
  auto at_b = std::make_shared<std::vector<char>>(kMiB);
  Group g;
  g.go([s, a_to_b] { EXPECT_EQ(gmp_write(s.a, a_to_b->data(), kMiB), ssize_t(kMiB)); });
  g.go([s, b_to_a] { EXPECT_EQ(gmp_write(s.b, b_to_a->data(), kMiB), ssize_t(kMiB)); });
  g.go([s, at_a] { EXPECT_EQ(read_full(s.a, at_a->data(), kMiB), ssize_t(kMiB)); });
  g.thread([s, at_b] { EXPECT_EQ(read_full(s.b, at_b->data(), kMiB), ssize_t(kMiB)); });
  ASSERT_TRUE(g.wait());
  EXPECT_TRUE(*at_a == *b_to_a);
  EXPECT_TRUE(*at_b == *a_to_b);
  close_fds(s);
}

// ----------------------------------------------------------------- gmp_close

// gmp_close wakes a reader waiting on the descriptor (a goroutine, a plain
// thread, or several of both): each call fails with EBADF and returns
// promptly (bounded only by the liveness limit).
void close_wakes_readers(int goroutines, int threads) {
  Fds p = make_pipe();
  ASSERT_GE(p.a, 0);
  auto started = std::make_shared<std::atomic<int>>(0);
  auto woken = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int i = 0; i < goroutines + threads; i++) {
    g.spawn(i >= goroutines, [p, started, woken] {
      char buf[8] = {'?'};
      (*started)++;
      ssize_t n = gmp_read(p.a, buf, sizeof buf);
      const int e = errno_now();
      EXPECT_EQ(n, -1);
      EXPECT_EQ(e, EBADF) << strerror(e);
      EXPECT_EQ(buf[0], '?') << "a failed read wrote the buffer";
      (*woken)++;
    });
  }
  ASSERT_TRUE(wait_until([&] { return started->load() == goroutines + threads; }));
  settle();
  EXPECT_EQ(woken->load(), 0) << "a read of an empty pipe returned before the close";
  EXPECT_EQ(gmp_close(p.a), 0);
  ASSERT_TRUE(g.wait()) << woken->load() << " of " << goroutines + threads << " readers woke";
  EXPECT_EQ(gmp_close(p.b), 0);
}

TEST_F(Io, CloseWakesGoroutineReader) { close_wakes_readers(1, 0); }
TEST_F(Io, CloseWakesPlainThreadReader) { close_wakes_readers(0, 1); }
TEST_F(Io, CloseWakesEveryReader) { close_wakes_readers(6, 2); }

// gmp_close wakes a writer waiting for room in a full pipe: it returns the
// count it had written before the close (the first 64 KiB went in), like
// POSIX write failing after a partial write; those bytes are in the pipe.
TEST_F(Io, CloseWakesBlockedWriter) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    Fds p = make_pipe();
    ASSERT_GE(p.a, 0);
    const auto data = std::make_shared<const std::vector<char>>(pattern(kMiB, 3));
    auto state = std::make_shared<std::atomic<int>>(0);
    auto result = std::make_shared<std::atomic<long>>(0);
    Group g;
    g.spawn(on_thread, [p, data, state, result] {
      state->store(1);
      *result = gmp_write(p.b, data->data(), data->size());
      state->store(2);
    });
    ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
    settle();
    EXPECT_EQ(state->load(), 1) << "a 1 MiB write into an unread pipe returned";
    EXPECT_EQ(gmp_close(p.b), 0);
    ASSERT_TRUE(g.wait());
    const long n = result->load();
    EXPECT_GT(n, 0) << "the bytes written before the close are counted";
    EXPECT_LT(n, long(kMiB));
    // Exactly n bytes are in the pipe.
    ASSERT_EQ(fcntl(p.a, F_SETFL, fcntl(p.a, F_GETFL) | O_NONBLOCK), 0);
    std::vector<char> buf(kMiB);
    long in_pipe = 0;
    for (ssize_t r; (r = read(p.a, buf.data() + in_pipe, buf.size() - size_t(in_pipe))) > 0;) {
      in_pipe += r;
    }
    EXPECT_EQ(in_pipe, n);
    if (in_pipe == n) {
      EXPECT_EQ(memcmp(buf.data(), data->data(), size_t(n)), 0);
    }
    EXPECT_EQ(gmp_close(p.a), 0);
  }
}

// A second gmp_close of a descriptor fails with EBADF, whether or not the
// runtime ever polled it.
TEST_F(Io, DoubleCloseGivesEbadf) {
  for (bool polled : {false, true}) {
    SCOPED_TRACE(polled ? "polled" : "never polled");
    Fds p = make_pipe();
    ASSERT_GE(p.a, 0);
    if (polled) {
      ASSERT_EQ(gmp_write(p.b, "x", 1), 1);
      char c;
      ASSERT_EQ(gmp_read(p.a, &c, 1), 1);
    }
    EXPECT_EQ(gmp_close(p.a), 0);
    EXPECT_FAILS_WITH(gmp_close(p.a), EBADF);
    EXPECT_EQ(gmp_close(p.b), 0);
    EXPECT_FAILS_WITH(gmp_close(p.b), EBADF);
  }
}

// ---------------------------------------------------------------- gmp_fd_wait

// A descriptor that is ready already: gmp_fd_wait returns the requested
// directions that are ready at once, whatever the timeout, and (readiness
// not being consumed) again on the next call.
TEST_F(Io, FdWaitReadyReturnsAtOnce) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    Fds p = make_pipe();
    Fds s = make_socketpair();
    ASSERT_GE(p.a, 0);
    ASSERT_GE(s.a, 0);
    Group g;
    g.spawn(on_thread, [p, s] {
      EXPECT_EQ(gmp_fd_wait(p.b, GMP_WRITE, 0), GMP_WRITE) << "an empty pipe has room";
      ASSERT_EQ(gmp_write(p.b, "abc", 3), 3);
      for (int64_t timeout : {int64_t(0), int64_t(-1), 10 * kSec}) {
        EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, timeout), GMP_READ) << timeout;
      }
      // A socket with data to read and room to write: both directions;
      // its peer, with nothing to read: only GMP_WRITE of the two asked.
      ASSERT_EQ(gmp_write(s.b, "xy", 2), 2);
      EXPECT_EQ(gmp_fd_wait(s.a, GMP_READ | GMP_WRITE, 0), GMP_READ | GMP_WRITE);
      EXPECT_EQ(gmp_fd_wait(s.a, GMP_READ | GMP_WRITE, -1), GMP_READ | GMP_WRITE);
      EXPECT_EQ(gmp_fd_wait(s.a, GMP_READ, -1), GMP_READ);
      EXPECT_EQ(gmp_fd_wait(s.b, GMP_READ | GMP_WRITE, 0), GMP_WRITE);
      EXPECT_EQ(gmp_fd_wait(s.b, GMP_READ | GMP_WRITE, -1), GMP_WRITE);
      char buf[4];
      EXPECT_EQ(gmp_read(p.a, buf, sizeof buf), 3);
      EXPECT_EQ(gmp_read(s.a, buf, sizeof buf), 2);
    });
    ASSERT_TRUE(g.wait());
    close_fds(p);
    close_fds(s);
  }
}

// Timeout 0 on a descriptor that is not ready: GMP_EAGAIN, at once.
TEST_F(Io, FdWaitTimeoutZeroNotReadyGivesEagain) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    Fds p = make_pipe();
    Fds s = make_socketpair();
    ASSERT_GE(p.a, 0);
    ASSERT_GE(s.a, 0);
    Group g;
    g.spawn(on_thread, [p, s] {
      EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, 0), GMP_EAGAIN);
      EXPECT_EQ(gmp_fd_wait(s.a, GMP_READ, 0), GMP_EAGAIN);
    });
    ASSERT_TRUE(g.wait());
    close_fds(p);
    close_fds(s);
  }
}

// gmp_fd_wait reports current readiness: once the data that made a
// descriptor readable has been read, it is not ready any more.
TEST_F(Io, FdWaitReportsCurrentReadiness) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    Fds p = make_pipe();
    ASSERT_GE(p.a, 0);
    Group g;
    g.spawn(on_thread, [p] {
      for (int round = 0; round < 3; round++) {
        ASSERT_EQ(gmp_write(p.b, "abc", 3), 3);
        EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, -1), GMP_READ);
        char buf[8];
        EXPECT_EQ(gmp_read(p.a, buf, sizeof buf), 3);
        EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, 0), GMP_EAGAIN) << "round " << round;
      }
    });
    ASSERT_TRUE(g.wait());
    close_fds(p);
  }
}

// A 20 ms timeout on a descriptor that stays unready: GMP_ETIMEDOUT, after
// at least 20 ms.
TEST_F(Io, FdWaitTimesOut) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    Fds p = make_pipe();
    ASSERT_GE(p.a, 0);
    Group g;
    g.spawn(on_thread, [p] {
      Stopwatch sw;
      EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, 20 * kMs), GMP_ETIMEDOUT);
      EXPECT_TRUE(sw.at_least(20 * kMs)) << sw.ns() << " ns";
    });
    ASSERT_TRUE(g.wait());
    close_fds(p);
  }
}

// Readiness that arrives during the wait ends it with GMP_READ: the waiter
// (goroutine or thread, without and with a deadline) is woken by a write
// from a goroutine or a thread.
TEST_F(Io, FdWaitWokenByReadiness) {
  for (int mode = 0; mode < 8; mode++) {
    const bool waiter_thread = mode & 1, writer_thread = mode & 2;
    const int64_t timeout = (mode & 4) ? 60 * kSec : -1;
    SCOPED_TRACE("mode " + std::to_string(mode));
    Fds p = make_pipe();
    ASSERT_GE(p.a, 0);
    auto state = std::make_shared<std::atomic<int>>(0);
    Group g;
    g.spawn(waiter_thread, [p, state, timeout] {
      state->store(1);
      EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, timeout), GMP_READ);
      state->store(2);
    });
    ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
    settle();
    EXPECT_EQ(state->load(), 1) << "gmp_fd_wait returned on an empty pipe";
    g.spawn(writer_thread, [p] { EXPECT_EQ(gmp_write(p.b, "z", 1), 1); });
    ASSERT_TRUE(g.wait());
    close_fds(p);
  }
}

// A peer hang-up counts as ready for both directions: with the send buffer
// full and nothing to read, waiters for GMP_READ, GMP_WRITE and both are all
// woken when the peer closes, each with what it asked for.
TEST_F(Io, FdWaitPeerHangUpIsReadyForBoth) {
  Fds s = make_socketpair();
  ASSERT_GE(s.a, 0);
  // Fill s.a's send buffer (s.b never reads).
  std::vector<char> junk(65536, 'j');
  while (send(s.a, junk.data(), junk.size(), MSG_DONTWAIT) > 0) {
  }
  ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
  ASSERT_EQ(gmp_fd_wait(s.a, GMP_READ | GMP_WRITE, 0), GMP_EAGAIN) << "neither direction is ready";
  auto started = std::make_shared<std::atomic<int>>(0);
  Group g;
  const int asks[] = {GMP_READ, GMP_WRITE, GMP_READ | GMP_WRITE, GMP_READ | GMP_WRITE};
  for (int i = 0; i < 4; i++) {
    const int events = asks[i];
    g.spawn(i == 3, [s, events, started] {
      (*started)++;
      EXPECT_EQ(gmp_fd_wait(s.a, events, -1), events);
    });
  }
  ASSERT_TRUE(wait_until([&] { return started->load() == 4; }));
  settle();
  EXPECT_EQ(g.pending(), 4) << "a wait returned before the hang-up";
  EXPECT_EQ(gmp_close(s.b), 0);
  ASSERT_TRUE(g.wait());
  // Still ready for both, at once. A read returns at once: ECONNRESET, as
  // the peer closed with our data unread (a Unix socket's rule), else end
  // of file.
  EXPECT_EQ(gmp_fd_wait(s.a, GMP_READ | GMP_WRITE, 0), GMP_READ | GMP_WRITE);
  char c;
  const ssize_t n = gmp_read(s.a, &c, 1);
  const int e = errno_now();
  EXPECT_TRUE(n == 0 || (n == -1 && e == ECONNRESET)) << n << ": " << strerror(e);
  EXPECT_EQ(gmp_close(s.a), 0);

  // A pipe whose write end is closed: the read end is ready (end of file).
  Fds p = make_pipe();
  ASSERT_GE(p.a, 0);
  g.go([p] { EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, -1), GMP_READ); });
  settle();
  EXPECT_EQ(gmp_close(p.b), 0);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_read(p.a, &c, 1), 0);
  EXPECT_EQ(gmp_close(p.a), 0);
}

// GMP_ECLOSED when gmp_close closes the descriptor during the wait (with
// and without a deadline, goroutines and a thread).
TEST_F(Io, FdWaitClosedMeanwhileGivesEclosed) {
  Fds p = make_pipe();
  ASSERT_GE(p.a, 0);
  auto started = std::make_shared<std::atomic<int>>(0);
  Group g;
  for (int i = 0; i < 4; i++) {
    const int64_t timeout = i % 2 ? 60 * kSec : -1;
    g.spawn(i == 3, [p, started, timeout] {
      (*started)++;
      EXPECT_EQ(gmp_fd_wait(p.a, GMP_READ, timeout), GMP_ECLOSED);
    });
  }
  ASSERT_TRUE(wait_until([&] { return started->load() == 4; }));
  settle();
  EXPECT_EQ(g.pending(), 4) << "a wait returned before the close";
  EXPECT_EQ(gmp_close(p.a), 0);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(gmp_close(p.b), 0);
}

// ------------------------------------------------------ connect and accept

// gmp_connect to a port where nothing listens fails with ECONNREFUSED (the
// socket's SO_ERROR), on blocking and non-blocking sockets, from goroutines
// and threads. The port is held by a bound socket that does not listen, so
// nobody can take it meanwhile.
TEST_F(Io, ConnectToClosedPortIsRefused) {
  uint16_t port = 0;
  const int holder = bound_socket(&port);
  ASSERT_GE(holder, 0) << strerror(errno);
  Group g;
  for (int mode = 0; mode < 4; mode++) {
    const bool on_thread = mode & 1;
    const int flags = (mode & 2) ? SOCK_NONBLOCK : 0;
    g.spawn(on_thread, [port, flags, mode] {
      int err = 0;
      EXPECT_EQ(tcp_connect(port, flags, &err), -1) << "mode " << mode;
      EXPECT_EQ(err, ECONNREFUSED) << "mode " << mode << ": " << strerror(err);
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(close(holder), 0);
}

// Accept storm: many goroutines connect at once; every connection is
// accepted once, with the peer's address, and every new descriptor is
// non-blocking and close-on-exec.
TEST_P(IoP, AcceptStorm) {
  const int kConns = sized(200, 100);
  uint16_t port = 0;
  const int lfd = tcp_listener(&port, 1024);
  ASSERT_GE(lfd, 0) << strerror(errno);
  auto seen = std::make_shared<std::vector<std::atomic<int>>>(size_t(kConns));
  auto bad = std::make_shared<std::atomic<int>>(0);
  auto live = std::make_shared<std::atomic<int>>(0);
  Group g;
  g.go([lfd, kConns, seen, bad, live] {
    for (int i = 0; i < kConns; i++) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      int fd = gmp_accept(lfd, reinterpret_cast<sockaddr*>(&peer), &len);
      if (fd < 0) {
        ADD_FAILURE() << "gmp_accept: " << strerror(errno_now());
        return;
      }
      const int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
      if (!(fl & O_NONBLOCK) || !(fdfl & FD_CLOEXEC) || len != sizeof peer ||
          peer.sin_family != AF_INET || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) {
        (*bad)++;
      }
      // Each connection sends its client's number; answer with one byte.
      go_counted(live, [fd, kConns, seen] {
        int32_t id = -1;
        if (read_full(fd, &id, sizeof id) == ssize_t(sizeof id) && id >= 0 && id < kConns) {
          (*seen)[size_t(id)]++;
        }
        EXPECT_EQ(gmp_write(fd, "k", 1), 1);
        EXPECT_EQ(gmp_close(fd), 0);
      });
    }
  });
  for (int32_t c = 0; c < kConns; c++) {
    g.go([port, c] {
      int err = 0;
      int fd = tcp_connect(port, 0, &err);
      if (fd < 0) {
        ADD_FAILURE() << "gmp_connect: " << strerror(err);
        return;
      }
      EXPECT_EQ(gmp_write(fd, &c, sizeof c), ssize_t(sizeof c));
      char k = 0;
      EXPECT_EQ(gmp_read(fd, &k, 1), 1);
      EXPECT_EQ(k, 'k');
      EXPECT_EQ(gmp_close(fd), 0);
    });
  }
  ASSERT_TRUE(g.wait());
  ASSERT_TRUE(wait_until([&] { return live->load() == 0; }));
  EXPECT_EQ(bad->load(), 0) << "accepted descriptors that are blocking, not close-on-exec, "
                               "or with a wrong peer address";
  for (int c = 0; c < kConns; c++) EXPECT_EQ((*seen)[size_t(c)].load(), 1) << "client " << c;
  EXPECT_EQ(gmp_close(lfd), 0);
}

// gmp_close of a listener wakes a goroutine waiting in gmp_accept: EBADF.
TEST_F(Io, CloseWakesAccept) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    uint16_t port = 0;
    const int lfd = tcp_listener(&port);
    ASSERT_GE(lfd, 0) << strerror(errno);
    auto state = std::make_shared<std::atomic<int>>(0);
    Group g;
    g.spawn(on_thread, [lfd, state] {
      state->store(1);
      EXPECT_FAILS_WITH(gmp_accept(lfd, nullptr, nullptr), EBADF);
    });
    ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
    settle();
    EXPECT_EQ(gmp_close(lfd), 0);
    ASSERT_TRUE(g.wait());
  }
}

// --------------------------------------------- descriptors already non-blocking

// Descriptors the caller made non-blocking behave the same: gmp_read,
// gmp_write, gmp_accept and gmp_connect wait where the system call would
// give EAGAIN (or EINPROGRESS), and never fail with it.
TEST_F(Io, NonBlockingDescriptorsNeverGiveEagain) {
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "waiting on a plain thread" : "waiting on a goroutine");
    Fds s = make_socketpair(SOCK_NONBLOCK);
    ASSERT_GE(s.a, 0);
    auto state = std::make_shared<std::atomic<int>>(0);
    Group g;
    // A read of an empty socket waits for data.
    g.spawn(on_thread, [s, state] {
      char c = 0;
      state->store(1);
      ssize_t n = gmp_read(s.a, &c, 1);
      const int e = errno_now();
      EXPECT_EQ(n, 1) << strerror(e);
      EXPECT_EQ(c, 'x');
    });
    ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
    settle();
    g.spawn(!on_thread, [s] { EXPECT_EQ(gmp_write(s.b, "x", 1), 1); });
    ASSERT_TRUE(g.wait());

    // A 4 MiB write waits for room while the peer reads slowly.
    const auto data = std::make_shared<const std::vector<char>>(pattern(4 * kMiB, 5));
    auto got = std::make_shared<std::vector<char>>(4 * kMiB);
    g.spawn(on_thread, [s, data] {
      ssize_t n = gmp_write(s.a, data->data(), data->size());
      const int e = errno_now();
      EXPECT_EQ(n, ssize_t(data->size())) << strerror(e);
    });
    g.spawn(!on_thread, [s, got] {
      for (size_t off = 0; off < got->size();) {
        ssize_t r = gmp_read(s.b, got->data() + off, std::min<size_t>(65536, got->size() - off));
        if (r <= 0) {
          ADD_FAILURE() << "gmp_read gave " << r << ": " << strerror(errno_now());
          return;
        }
        off += size_t(r);
        gmp_sleep(200 * kUs);
      }
    });
    ASSERT_TRUE(g.wait());
    EXPECT_TRUE(*got == *data);
    close_fds(s);

    // An accept on a non-blocking listener waits for a connection; a
    // connect on a non-blocking socket waits until it is made.
    uint16_t port = 0;
    const int lfd = tcp_listener(&port, 16, SOCK_NONBLOCK);
    ASSERT_GE(lfd, 0) << strerror(errno);
    state->store(0);
    g.spawn(on_thread, [lfd, state] {
      state->store(1);
      int fd = gmp_accept(lfd, nullptr, nullptr);
      const int e = errno_now();
      ASSERT_GE(fd, 0) << strerror(e);
      char c = 0;
      EXPECT_EQ(gmp_read(fd, &c, 1), 1);
      EXPECT_EQ(c, 'y');
      EXPECT_EQ(gmp_close(fd), 0);
    });
    ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
    settle();
    g.spawn(!on_thread, [port] {
      int err = 0;
      int fd = tcp_connect(port, SOCK_NONBLOCK, &err);
      ASSERT_GE(fd, 0) << strerror(err);
      EXPECT_EQ(gmp_write(fd, "y", 1), 1);
      EXPECT_EQ(gmp_close(fd), 0);
    });
    ASSERT_TRUE(g.wait());
    EXPECT_EQ(gmp_close(lfd), 0);
  }
}

// ------------------------------------------------------- descriptor reuse

// gmp_close while a goroutine waits in gmp_read, then at once a new pipe,
// which may get the closed number: the old reader fails with EBADF and
// never reads the new pipe's data. Once everything is closed, a new socket
// pair takes the old number and works as any new descriptor does (no stale
// readiness, no stale close).
TEST_F(Io, ClosedNumberReusedByNewDescriptor) {
  Fds p1 = make_pipe();
  ASSERT_GE(p1.a, 0);
  ASSERT_EQ(gmp_fd_wait(p1.a, GMP_READ, 0),
            GMP_EAGAIN);  // polled: the poller's own descriptors exist
  const int old = p1.a;
  auto state = std::make_shared<std::atomic<int>>(0);
  auto result = std::make_shared<std::atomic<long>>(0);
  auto err = std::make_shared<std::atomic<int>>(0);
  Group g;
  g.go([p1, state, result, err] {
    char buf[8] = {'?', '?', '?', '?'};
    state->store(1);
    *result = gmp_read(p1.a, buf, sizeof buf);
    *err = errno_now();
    EXPECT_EQ(buf[0], '?') << "the old reader wrote its buffer";
  });
  ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
  settle();
  ASSERT_EQ(gmp_close(p1.a), 0);
  Fds p2 = make_pipe();
  ASSERT_GE(p2.a, 0);
  ASSERT_EQ(write(p2.b, "new", 3), 3);
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(result->load(), -1);
  EXPECT_EQ(err->load(), EBADF) << strerror(err->load());
  char got[8];
  EXPECT_EQ(gmp_read(p2.a, got, sizeof got), 3) << "the new pipe's data was taken";
  EXPECT_EQ(memcmp(got, "new", 3), 0);
  close_fds(p2);
  EXPECT_EQ(gmp_close(p1.b), 0);

  // The lowest free number is the old one again.
  Fds s = make_socketpair();
  ASSERT_GE(s.a, 0);
  EXPECT_EQ(s.a, old) << "the number was not reused; the rest checks a fresh number";
  EXPECT_EQ(gmp_fd_wait(s.a, GMP_READ, 0), GMP_EAGAIN) << "stale readiness on a reused number";
  EXPECT_EQ(gmp_fd_wait(s.a, GMP_WRITE, 0), GMP_WRITE);
  state->store(0);
  g.go([s, state] {
    char buf[8];
    state->store(1);
    ssize_t n = gmp_read(s.a, buf, sizeof buf);
    const int e = errno_now();
    EXPECT_EQ(n, 2) << strerror(e);
    if (n == 2) {
      EXPECT_EQ(memcmp(buf, "ok", 2), 0);
    }
  });
  ASSERT_TRUE(wait_until([&] { return state->load() == 1; }));
  settle();
  EXPECT_EQ(g.pending(), 1) << "a read on the reused number returned before any data";
  g.go([s] { EXPECT_EQ(gmp_write(s.b, "ok", 2), 2); });
  ASSERT_TRUE(g.wait());
  close_fds(s);
  EXPECT_FAILS_WITH(gmp_close(s.a), EBADF);
}

// ---------------------------------------------------------------- EPIPE

// Writes on a socket whose peer has closed fail with EPIPE and raise no
// SIGPIPE, which keeps its default action (kill) in this child: a Unix
// socket pair (on a goroutine and on a plain thread), a writer waiting for
// room when the peer closes (it returns the count it wrote), and TCP (the
// first writes after the peer's close may succeed or give ECONNRESET).
GMPRT_CHILD(IoWriteAfterPeerClosed) {
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  static int s[2];
  CHILD_CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
  CHILD_CHECK_EQ(close(s[1]), 0);
  static std::atomic<int> done{0};
  CHILD_CHECK_EQ(gmp_go(
                     [](void*) {
                       CHILD_CHECK_EQ(gmp_write(s[0], "abc", 3), -1);
                       CHILD_CHECK_EQ(errno_now(), EPIPE);
                       done = 1;
                     },
                     nullptr),
                 0);
  CHILD_CHECK(wait_until([] { return done.load() == 1; }));
  CHILD_CHECK_EQ(gmp_write(s[0], "abc", 3), -1);
  CHILD_CHECK_EQ(errno_now(), EPIPE);
  CHILD_CHECK_EQ(gmp_close(s[0]), 0);

  // A writer waiting for room when the peer closes.
  static int w[2];
  CHILD_CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, w), 0);
  static std::atomic<long> written{0};
  static std::atomic<int> state{0};
  CHILD_CHECK_EQ(gmp_go(
                     [](void*) {
                       static std::vector<char> big(8 * kMiB, 'b');
                       state = 1;
                       written = gmp_write(w[0], big.data(), big.size());
                       state = 2;
                     },
                     nullptr),
                 0);
  CHILD_CHECK(wait_until([] { return state.load() == 1; }));
  settle();
  CHILD_CHECK_EQ(state.load(), 1);
  CHILD_CHECK_EQ(close(w[1]), 0);
  CHILD_CHECK(wait_until([] { return state.load() == 2; }));
  CHILD_CHECK(written.load() > 0);
  CHILD_CHECK(written.load() < long(8 * kMiB));
  CHILD_CHECK_EQ(gmp_close(w[0]), 0);

  // TCP: the accepted side closes; the client's writes end with EPIPE.
  uint16_t port = 0;
  const int lfd = tcp_listener(&port, 4);
  CHILD_CHECK(lfd >= 0);
  int err = 0;
  const int c = tcp_connect(port, 0, &err);
  CHILD_CHECK(c >= 0);
  const int a = gmp_accept(lfd, nullptr, nullptr);
  CHILD_CHECK(a >= 0);
  CHILD_CHECK_EQ(gmp_close(a), 0);
  int last = 0;
  for (int i = 0; i < 2000 && last != EPIPE; i++) {
    if (gmp_write(c, "data", 4) == -1) {
      last = errno_now();
      CHILD_CHECK(last == EPIPE || last == ECONNRESET);
    } else {
      gmp_sleep(kMs);
    }
  }
  CHILD_CHECK_EQ(last, EPIPE);
  CHILD_CHECK_EQ(gmp_close(c), 0);
  CHILD_CHECK_EQ(gmp_close(lfd), 0);
  return 0;
}

TEST(IoChild, WriteAfterPeerClosedGivesEpipeNotSigpipe) {
  auto r = run_child("IoWriteAfterPeerClosed");
  EXPECT_FALSE(r.signaled() && r.signal() == SIGPIPE) << r.describe();
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

// ----------------------------------------------------------- regular files

// Regular files (epoll rejects them) are always ready: gmp_write and
// gmp_read go through as system calls, gmp_fd_wait returns at once, from
// goroutines and threads, several files at once.
TEST_P(IoP, RegularFiles) {
  constexpr int kFiles = 6;
  Group g;
  for (int i = 0; i < kFiles; i++) {
    g.spawn(i % 3 == 2, [i] {
      std::string path = ::testing::TempDir() + "gmprt_io_XXXXXX";
      std::vector<char> tmpl(path.begin(), path.end());
      tmpl.push_back('\0');
      const int fd = mkostemp(tmpl.data(), O_CLOEXEC);
      ASSERT_GE(fd, 0) << strerror(errno_now());
      unlink(tmpl.data());
      const std::vector<char> data = pattern(kMiB + 123, uint32_t(100 + i));
      const size_t cut = 300001;
      EXPECT_EQ(gmp_write(fd, data.data(), cut), ssize_t(cut));
      EXPECT_EQ(gmp_write(fd, data.data() + cut, data.size() - cut), ssize_t(data.size() - cut));
      EXPECT_EQ(gmp_fd_wait(fd, GMP_READ | GMP_WRITE, 0), GMP_READ | GMP_WRITE);
      EXPECT_EQ(gmp_fd_wait(fd, GMP_READ, -1), GMP_READ);
      ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
      std::vector<char> got(data.size());
      EXPECT_EQ(read_full(fd, got.data(), got.size()), ssize_t(got.size()));
      EXPECT_TRUE(got == data) << "file " << i;
      char c;
      EXPECT_EQ(gmp_read(fd, &c, 1), 0) << "end of file";
      EXPECT_EQ(gmp_close(fd), 0);
    });
  }
  ASSERT_TRUE(g.wait());
}

// ------------------------------------------------------------ bad arguments

// Bad input: a negative or unopened descriptor gives -1/EBADF
// (gmp_fd_wait: GMP_EINVAL), a NULL buffer with n > 0 -1/EFAULT, events 0
// or with unknown bits GMP_EINVAL; nothing changes (the pipe used still
// works afterwards). From a goroutine and from a plain thread.
TEST_F(Io, BadArguments) {
  Fds warm = make_pipe();  // the poller's own descriptors exist before numbers are freed
  ASSERT_EQ(gmp_fd_wait(warm.a, GMP_READ, 0), GMP_EAGAIN);
  close_fds(warm);
  for (bool on_thread : {false, true}) {
    SCOPED_TRACE(on_thread ? "plain thread" : "goroutine");
    Group g;
    g.spawn(on_thread, [] {
      char buf[8] = {0};
      sockaddr_in a = loopback_addr(9);
      for (int bad : {-1, -100, INT_MIN, INT_MAX, 1 << 20}) {
        SCOPED_TRACE("fd " + std::to_string(bad));
        EXPECT_FAILS_WITH(gmp_read(bad, buf, sizeof buf), EBADF);
        EXPECT_FAILS_WITH(gmp_write(bad, buf, sizeof buf), EBADF);
        EXPECT_FAILS_WITH(gmp_accept(bad, nullptr, nullptr), EBADF);
        EXPECT_FAILS_WITH(gmp_connect(bad, reinterpret_cast<sockaddr*>(&a), sizeof a), EBADF);
        EXPECT_FAILS_WITH(gmp_close(bad), EBADF);
        EXPECT_EQ(gmp_fd_wait(bad, GMP_READ, 0), GMP_EINVAL);
        EXPECT_EQ(gmp_fd_wait(bad, GMP_WRITE, -1), GMP_EINVAL);
      }
      // A number that was just freed.
      const int freed = dup(2);
      ASSERT_GE(freed, 0);
      ASSERT_EQ(close(freed), 0);
      EXPECT_FAILS_WITH(gmp_read(freed, buf, sizeof buf), EBADF);
      EXPECT_FAILS_WITH(gmp_write(freed, buf, sizeof buf), EBADF);
      EXPECT_EQ(gmp_fd_wait(freed, GMP_READ, 10 * kSec), GMP_EINVAL);
      EXPECT_FAILS_WITH(gmp_close(freed), EBADF);

      Fds p = make_pipe();
      ASSERT_GE(p.a, 0);
      EXPECT_FAILS_WITH(gmp_read(p.a, nullptr, 1), EFAULT);
      EXPECT_FAILS_WITH(gmp_write(p.b, nullptr, 1), EFAULT);
      EXPECT_EQ(gmp_write(p.b, nullptr, 0), 0) << "n == 0 with NULL is no error";
      for (int events : {0, 4, GMP_READ | 4, 8, -1, INT_MIN}) {
        EXPECT_EQ(gmp_fd_wait(p.a, events, 0), GMP_EINVAL) << "events " << events;
        EXPECT_EQ(gmp_fd_wait(p.b, events, -1), GMP_EINVAL) << "events " << events;
      }
      // Nothing changed.
      EXPECT_EQ(gmp_write(p.b, "ok", 2), 2);
      EXPECT_EQ(gmp_read(p.a, buf, sizeof buf), 2);
      EXPECT_EQ(memcmp(buf, "ok", 2), 0);
      close_fds(p);
    });
    ASSERT_TRUE(g.wait());
  }
}

// ----------------------------------------------------------------- deadlock

// A goroutine waiting in gmp_read on a pipe is a possible waker: the main
// goroutine that waits for it (on a channel) is no deadlock, and the plain
// thread that writes after 200 ms (it never calls into the runtime) ends
// the wait.
GMPRT_CHILD(IoNoDeadlockWhileReaderWaits) {
  static int p[2];
  static gmp_chan_t* c = nullptr;
  static std::atomic<int64_t> got{0};
  CHILD_CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  std::thread writer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHILD_CHECK_EQ(write(p[1], "x", 1), 1);
  });
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&c, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             char b = 0;
                             CHILD_CHECK_EQ(gmp_read(p[0], &b, 1), 1);
                             CHILD_CHECK_EQ(send_i64(c, b), 0);
                           },
                           nullptr),
                       0);
        got = recv_i64(c).v;
      },
      nullptr);
  writer.join();
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK_EQ(got.load(), 'x');
  return 0;
}

TEST(IoDeadlock, GoroutineInReadIsAWaker) {
  auto r = run_child("IoNoDeadlockWhileReaderWaits");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << r.describe();
}

// The same with the main goroutine itself in gmp_accept and in gmp_fd_wait,
// the plain thread connecting with connect(2) after 200 ms.
GMPRT_CHILD(IoNoDeadlockWhileMainAccepts) {
  static uint16_t port = 0;
  static int lfd = -1;
  lfd = tcp_listener(&port, 4);
  CHILD_CHECK(lfd >= 0);
  static int cfd = -1;
  std::thread client([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback_addr(port);
    CHILD_CHECK_EQ(connect(cfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHILD_CHECK_EQ(write(cfd, "q", 1), 1);
  });
  int rc = gmp_main(
      [](void*) {
        const int fd = gmp_accept(lfd, nullptr, nullptr);
        CHILD_CHECK(fd >= 0);
        CHILD_CHECK_EQ(gmp_fd_wait(fd, GMP_READ, -1), GMP_READ);
        CHILD_CHECK_EQ(gmp_close(fd), 0);
      },
      nullptr);
  client.join();
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(IoDeadlock, MainInAcceptAndFdWaitIsNoDeadlock) {
  auto r = run_child("IoNoDeadlockWhileMainAccepts");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << r.describe();
}

}  // namespace
