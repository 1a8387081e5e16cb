// syscall_test.cpp -- the System calls section of gmprt.h:
// gmp_syscall_enter / gmp_syscall_exit around blocking calls the runtime
// cannot poll. Goroutines blocked in read(2) inside the bracket do not stop
// the others, even with one P (the monitor hands their P to another
// thread); the threads they hold stay bounded; stop-the-world does not wait
// for a goroutine in a system call; the fast path (enter and exit without
// blocking) in a long loop, and with the slow path mixed in; the misuse the
// runtime ignores (a plain thread, an unbalanced exit); and a goroutine in
// a system call counts as a possible waker for deadlock detection.
//
// Ports the intent of Go's runtime tests of entersyscall / exitsyscall
// (TestGoroutineParallelism with blocking syscalls, the syscall P
// hand-off of proc_test.go) on the C API. Polled descriptors: io_test.cpp.
#include <errno.h>
#include <fcntl.h>
#include <gmprt.h>
#include <gtest/gtest.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

// BlockingPipe: a blocking pipe that the runtime never polls (nothing here
// passes it to a gmp_* call), so read(2) on it really blocks the thread.
struct BlockingPipe {
  int r = -1;
  int w = -1;
  BlockingPipe() {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0) << strerror(errno);
    r = p[0];
    w = p[1];
  }
  ~BlockingPipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  BlockingPipe(const BlockingPipe&) = delete;
  BlockingPipe& operator=(const BlockingPipe&) = delete;
};

// blocking_read: read(2) of one byte inside the system-call bracket.
ssize_t blocking_read(int fd, char* c) {
  gmp_syscall_enter();
  ssize_t n;
  do {
    n = read(fd, c, 1);
  } while (n < 0 && errno == EINTR);
  gmp_syscall_exit();
  return n;
}

// Each test leaves no goroutine behind.
class Syscall : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine(); }
};

class SyscallP : public MaxprocsTest {
 protected:
  void TearDown() override {
    EXPECT_TRUE(no_goroutines_left()) << gmp_num_goroutine();
    MaxprocsTest::TearDown();
  }
};
GMPRT_INSTANTIATE_MAXPROCS(SyscallP);

// Four goroutines block in read(2) inside gmp_syscall_enter/exit for at
// least a second; a fifth keeps running meanwhile (it completes 1000 yields
// while all four are still blocked). With one P this needs the monitor to
// hand the blocked goroutines' P on: the second reader cannot even start
// otherwise. The pipe is written only once the fifth has done its 1000
// iterations (or the liveness bound has passed, which fails the test), so
// the outcome does not depend on timing. Afterwards the thread count is
// bounded.
TEST_P(SyscallP, BlockedGoroutinesDoNotStopOthers) {
  constexpr int kBlocked = 4;
  BlockingPipe p;
  ASSERT_GE(p.r, 0);
  auto entered = std::make_shared<std::atomic<int>>(0);
  auto returned = std::make_shared<std::atomic<int>>(0);
  auto spins = std::make_shared<std::atomic<long>>(0);
  auto spins_while_blocked = std::make_shared<std::atomic<long>>(0);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  const int fd = p.r;
  Group g;
  for (int i = 0; i < kBlocked; i++) {
    g.go([fd, entered, returned] {
      char c = 0;
      gmp_syscall_enter();
      (*entered)++;  // no gmp_* call inside the bracket
      ssize_t n;
      do {
        n = read(fd, &c, 1);
      } while (n < 0 && errno == EINTR);
      gmp_syscall_exit();
      EXPECT_EQ(n, 1);
      EXPECT_EQ(c, 's');
      (*returned)++;
    });
  }
  ASSERT_TRUE(wait_until([&] { return entered->load() == kBlocked; }))
      << entered->load() << " of " << kBlocked << " readers got to run";
  Stopwatch sw;
  g.go([returned, spins, spins_while_blocked, stop] {
    while (!stop->load()) {
      gmp_yield();
      const long n = ++*spins;
      if (returned->load() == 0) spins_while_blocked->store(n);
    }
  });
  // Keep the readers blocked for at least a second, and until the fifth
  // goroutine has shown it runs.
  const bool ran = wait_until([&] { return spins->load() >= 1000 && sw.at_least(kSec); });
  EXPECT_TRUE(ran) << "the fifth goroutine did " << spins->load()
                   << " iterations while the readers were blocked";
  EXPECT_EQ(returned->load(), 0) << "a blocking read returned with nothing written";
  ASSERT_EQ(write(p.w, "ssss", kBlocked), kBlocked);
  ASSERT_TRUE(wait_until([&] { return returned->load() == kBlocked; }));
  stop->store(true);
  ASSERT_TRUE(g.wait());
  EXPECT_GE(spins_while_blocked->load(), 1000);
  EXPECT_LT(thread_count(), 64);
}

// Many goroutines blocked at once (more than the Ps), each on a thread of
// its own; when they return, the runtime does not keep a thread per
// goroutine running, and the thread count stays bounded.
TEST_F(Syscall, ManyBlockedGoroutinesThenThreadCountBounded) {
  constexpr int kBlocked = 24;
  BlockingPipe p;
  ASSERT_GE(p.r, 0);
  auto entered = std::make_shared<std::atomic<int>>(0);
  const int fd = p.r;
  Group g;
  for (int i = 0; i < kBlocked; i++) {
    g.go([fd, entered] {
      char c = 0;
      gmp_syscall_enter();
      (*entered)++;
      ssize_t n;
      do {
        n = read(fd, &c, 1);
      } while (n < 0 && errno == EINTR);
      gmp_syscall_exit();
      EXPECT_EQ(n, 1);
    });
  }
  ASSERT_TRUE(wait_until([&] { return entered->load() == kBlocked; }))
      << entered->load() << " of " << kBlocked << " got to run";
  // A goroutine still runs while they are all blocked.
  EXPECT_TRUE(run_goroutine([] { gmp_yield(); }));
  std::string bytes(kBlocked, 'm');
  ASSERT_EQ(write(p.w, bytes.data(), bytes.size()), ssize_t(bytes.size()));
  ASSERT_TRUE(g.wait());
  EXPECT_LT(thread_count(), 64);
}

// Stop-the-world (gmp_maxprocs at run time) does not wait for a goroutine
// blocked in a system call: it takes the P it left behind.
TEST_F(Syscall, StopTheWorldDoesNotWaitForSyscall) {
  BlockingPipe p;
  ASSERT_GE(p.r, 0);
  auto entered = std::make_shared<std::atomic<int>>(0);
  const int fd = p.r;
  Group g;
  g.go([fd, entered] {
    char c = 0;
    gmp_syscall_enter();
    (*entered)++;
    ssize_t n;
    do {
      n = read(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    gmp_syscall_exit();
    EXPECT_EQ(n, 1);
    gmp_yield();  // runs on a P again
  });
  ASSERT_TRUE(wait_until([&] { return entered->load() == 1; }));
  auto resized = std::make_shared<std::atomic<int>>(0);
  std::thread resizer([resized] {
    const int prev = gmp_maxprocs(3);
    EXPECT_GT(prev, 0);
    EXPECT_EQ(gmp_maxprocs(prev), 3);
    resized->store(1);
  });
  const bool done = wait_until([&] { return resized->load() == 1; });
  EXPECT_TRUE(done) << "gmp_maxprocs waited for a goroutine blocked in a system call";
  ASSERT_EQ(write(p.w, "x", 1), 1);  // ends the wait either way
  resizer.join();
  ASSERT_TRUE(g.wait());
}

// The fast path: a goroutine that enters and leaves a system call 100,000
// times without blocking finishes, and others run beside it.
TEST_P(SyscallP, FastPathLoop) {
  constexpr long kRounds = 100000;
  auto rounds = std::make_shared<std::atomic<long>>(0);
  Group g;
  for (int i = 0; i < 2; i++) {
    g.go([rounds, i] {
      long n = 0;
      for (long k = 0; k < kRounds; k++) {
        gmp_syscall_enter();
        if (i == 1) (void)getppid();  // a real system call inside
        gmp_syscall_exit();
        n++;
      }
      *rounds += n;
    });
  }
  g.go([] {
    for (int k = 0; k < 1000; k++) gmp_yield();
  });
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(rounds->load(), 2 * kRounds);
}

// The slow path mixed in: several goroutines alternate short sleeps inside
// the bracket (longer than the monitor's ~20 us, so their P is sometimes
// taken and exit must find another) with yields outside it; all finish,
// and the work they do outside the bracket adds up exactly.
TEST_P(SyscallP, SlowPathLoop) {
  constexpr int kGoroutines = 8, kRounds = sized(1000, 300);
  auto sum = std::make_shared<std::atomic<long>>(0);
  Group g;
  for (int i = 0; i < kGoroutines; i++) {
    g.go([sum] {
      long local = 0;
      for (int k = 0; k < kRounds; k++) {
        gmp_syscall_enter();
        usleep(k % 4 == 0 ? 100 : 5);
        gmp_syscall_exit();
        local += k;
        if (k % 8 == 0) gmp_yield();
      }
      *sum += local;
    });
  }
  ASSERT_TRUE(g.wait());
  EXPECT_EQ(sum->load(), long(kGoroutines) * kRounds * (kRounds - 1) / 2);
  EXPECT_LT(thread_count(), 64);
}

// On a plain thread gmp_syscall_enter and gmp_syscall_exit do nothing, and
// an exit without an enter is ignored on a goroutine and on a thread: the
// caller carries on and the runtime works as before.
TEST_F(Syscall, MisuseIsIgnored) {
  gmp_syscall_enter();
  gmp_syscall_exit();
  gmp_syscall_exit();  // unbalanced
  gmp_syscall_enter();
  char c = 0;
  {
    BlockingPipe p;
    ASSERT_EQ(write(p.w, "t", 1), 1);
    EXPECT_EQ(read(p.r, &c, 1), 1);
  }
  gmp_syscall_exit();
  EXPECT_EQ(c, 't');
  EXPECT_TRUE(run_goroutine([] {
    gmp_syscall_exit();  // unbalanced on a goroutine
    gmp_syscall_exit();
    gmp_yield();
    ChanRef ch = make_chan(sizeof(int64_t), 1);
    EXPECT_EQ(send_i64(ch, 5), GMP_OK);
    EXPECT_EQ(recv_i64(ch).v, 5);
    gmp_syscall_enter();  // and balanced afterwards
    gmp_syscall_exit();
    gmp_sleep(kMs);
  }));
  // Channels between a goroutine and this thread still work.
  ChanRef ch = make_chan(sizeof(int64_t), 0);
  Group g;
  g.go([ch] { EXPECT_EQ(send_i64(ch, 9), GMP_OK); });
  EXPECT_EQ(recv_i64(ch).v, 9);
  ASSERT_TRUE(g.wait());
}

// A goroutine in a system call may still wake others: the main goroutine
// waiting for what it sends afterwards is no deadlock. One sleeps 300 ms
// inside the bracket; another blocks in read(2) on a pipe that a plain
// thread (which never calls into the runtime) writes after 300 ms.
GMPRT_CHILD(SyscallNoDeadlockWhileInSyscall) {
  static int p[2];
  static gmp_chan_t* c = nullptr;
  static std::atomic<int64_t> sum{0};
  CHILD_CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  std::thread writer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHILD_CHECK_EQ(write(p[1], "r", 1), 1);
  });
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&c, sizeof(int64_t), 0), 0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             gmp_syscall_enter();
                             usleep(300 * 1000);
                             gmp_syscall_exit();
                             CHILD_CHECK_EQ(send_i64(c, 1), 0);
                           },
                           nullptr),
                       0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             char b = 0;
                             CHILD_CHECK_EQ(blocking_read(p[0], &b), 1);
                             CHILD_CHECK_EQ(send_i64(c, 10), 0);
                           },
                           nullptr),
                       0);
        sum = recv_i64(c).v;
        sum += recv_i64(c).v;
      },
      nullptr);
  writer.join();
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK_EQ(sum.load(), 11);
  return 0;
}

TEST(SyscallDeadlock, GoroutineInSyscallIsAWaker) {
  auto r = run_child("SyscallNoDeadlockWhileInSyscall");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << r.describe();
}

// With GMP_MAXPROCS=1 from the start (a fresh runtime), the main goroutine
// blocks in read(2) inside the bracket while the goroutines it started
// must run to write the pipe it reads: only the hand-off of its P lets
// them.
GMPRT_CHILD(SyscallMainBlocksOthersWrite) {
  static int p[2];
  CHILD_CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_maxprocs(0), 1);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             for (int i = 0; i < 100; i++) gmp_yield();
                             CHILD_CHECK_EQ(write(p[1], "w", 1), 1);
                           },
                           nullptr),
                       0);
        char b = 0;
        CHILD_CHECK_EQ(blocking_read(p[0], &b), 1);
        CHILD_CHECK_EQ(b, 'w');
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(SyscallChild, MainBlockedInSyscallLetsOthersRun) {
  auto r = run_child("SyscallMainBlocksOthersWrite", {"GMP_MAXPROCS=1"});
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

}  // namespace
