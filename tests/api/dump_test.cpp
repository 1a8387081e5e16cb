// dump_test.cpp -- gmp_dump and the reports that share its per-goroutine
// formatter (core/traceback.cpp): the deadlock report and the stack
// overflow message. Each runs in a fresh process whose goroutines are known.
// api_tests is linked with its symbols exported (tests/CMakeLists.txt), so
// dladdr can name the functions below.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

gmp_chan_t* dump_chan;
std::atomic<int> dump_started{0};

}  // namespace

// Exported (api_tests is linked with -rdynamic) and not inlined, so that the
// dump can name them in backtraces and as creation sites. Each does
// something after its last call, so the call is not a tail call (which
// would leave no frame to show).
extern "C" __attribute__((noinline)) void gmprt_dump_test_dump(int fd) {
  gmp_dump(fd);
  dump_started.fetch_add(0);
}

namespace {

// read_dump: gmp_dump into a memory file, returned as a string.
std::string read_dump() {
  int fd = memfd_create("dump", 0);
  if (fd < 0) return "";
  gmprt_dump_test_dump(fd);
  std::string text;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
  close(fd);
  return text;
}

// block_of: the block of goroutine `header` (its first line) in a dump, up
// to the empty line that ends it; "" if absent.
std::string block_of(const std::string& dump, const std::string& header) {
  size_t at = dump.find(header + "\n");
  if (at == std::string::npos || (at > 0 && dump[at - 1] != '\n')) return "";
  size_t end = dump.find("\n\n", at);
  return dump.substr(at, end == std::string::npos ? std::string::npos : end - at + 1);
}

}  // namespace

extern "C" __attribute__((noinline)) void gmprt_dump_test_receiver(void*) {
  dump_started++;
  gmp_chan_recv(dump_chan, nullptr);
  dump_started--;
}

extern "C" __attribute__((noinline)) void gmprt_dump_test_spawn(int n) {
  for (int i = 0; i < n; i++) {
    char name[GMP_NAME_MAX];
    snprintf(name, sizeof name, "receiver-%d", i);
    gmp_go_opts_t o = {sizeof o, 0, name, 0};
    CHILD_CHECK_EQ(gmp_go_ex(gmprt_dump_test_receiver, nullptr, &o), 0);
  }
}

// Three named receivers parked on a channel and the main goroutine, which
// dumps. Goroutine ids in a fresh process: main is 1, the receivers 2..4.
GMPRT_CHILD(DumpShowsParkedGoroutines) {
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&dump_chan, 0, 0), 0);
        gmprt_dump_test_spawn(3);
        CHILD_CHECK(wait_until([] { return dump_started.load() == 3; }));
        // Started is not parked yet: dump until all three show as waiting.
        std::string dump;
        CHILD_CHECK(wait_until([&] {
          dump = read_dump();
          return block_of(dump, "goroutine 4 [chan receive]: receiver-2") != "";
        }));
        CHILD_CHECK(wait_until([&] {
          dump = read_dump();
          for (int i = 0; i < 3; i++) {
            std::string h = "goroutine " + std::to_string(i + 2) + " [chan receive]: receiver-" +
                            std::to_string(i);
            if (block_of(dump, h) == "") return false;
          }
          return true;
        }));
        fputs(dump.c_str(), stdout);
        fflush(stdout);
        for (int i = 0; i < 3; i++) gmp_chan_send(dump_chan, nullptr);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(Dump, ShowsEveryGoroutineWithStateReasonNameCreatorAndBacktrace) {
  auto r = run_child("DumpShowsParkedGoroutines");
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  // The caller: running, with its own backtrace, which passes through the
  // function that called gmp_dump.
  std::string self = block_of(r.out, "goroutine 1 [running]");
  ASSERT_NE(self, "") << r.out;
  EXPECT_NE(self.find("gmprt_dump_test_dump+0x"), std::string::npos) << self;
  for (int i = 0; i < 3; i++) {
    std::string h =
        "goroutine " + std::to_string(i + 2) + " [chan receive]: receiver-" + std::to_string(i);
    std::string b = block_of(r.out, h);
    ASSERT_NE(b, "") << h << "\n" << r.out;
    auto ls = lines(b);
    ASSERT_GE(ls.size(), 4u) << b;
    EXPECT_EQ(ls[1].rfind("\twaiting ", 0), 0u) << b;
    EXPECT_NE(ls[1].find(" ms"), std::string::npos) << b;
    // Created by gmprt_dump_test_spawn: its name through dladdr.
    EXPECT_EQ(ls[2].rfind("\tcreated at 0x", 0), 0u) << b;
    EXPECT_NE(ls[2].find("gmprt_dump_test_spawn+0x"), std::string::npos) << b;
    // The backtrace of the parked goroutine: the runtime's frames (hidden
    // symbols: file+offset only), then the goroutine's function.
    EXPECT_EQ(ls[3].rfind("\t0x", 0), 0u) << b;
    EXPECT_NE(b.find(" gmprt_dump_test_receiver+0x"), std::string::npos) << b;
  }
}

// gmp_dump before the runtime starts writes nothing (and does not start it);
// a bad descriptor is ignored.
GMPRT_CHILD(DumpBeforeStart) {
  CHILD_CHECK_EQ(read_dump().size(), 0u);
  gmp_dump(-1);
  CHILD_CHECK_EQ(thread_count(), 1);
  return 0;
}

TEST(Dump, BeforeStartWritesNothing) {
  auto r = run_child("DumpBeforeStart");
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// The deadlock report prints the same blocks as gmp_dump.
GMPRT_CHILD(DumpFormatInDeadlockReport) {
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&dump_chan, 0, 0), 0);
        gmprt_dump_test_spawn(1);
        gmp_chan_recv(dump_chan, nullptr);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return 0;
}

TEST(Dump, DeadlockReportUsesTheSameBlocks) {
  auto r = run_child("DumpFormatInDeadlockReport");
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  std::string main_block = block_of(r.err, "goroutine 1 [chan receive]");
  ASSERT_NE(main_block, "") << r.err;
  EXPECT_NE(main_block.find("\twaiting "), std::string::npos) << main_block;
  EXPECT_NE(main_block.find("\n\t0x"), std::string::npos) << main_block;  // a backtrace
  std::string b = block_of(r.err, "goroutine 2 [chan receive]: receiver-0");
  ASSERT_NE(b, "") << r.err;
  EXPECT_NE(b.find("gmprt_dump_test_spawn+0x"), std::string::npos) << b;
  EXPECT_NE(b.find("gmprt_dump_test_receiver+0x"), std::string::npos) << b;
}

#if !defined(GMPRT_ASAN)
volatile int dump_recurse_sink = 1;  // always 1; hides the endless recursion from the compiler

extern "C" __attribute__((noinline)) int gmprt_dump_test_recurse(int depth) {
  volatile char frame[512];
  frame[0] = char(depth);
  if (dump_recurse_sink) return gmprt_dump_test_recurse(depth + 1) + frame[0];
  return frame[0];
}

// A stack overflow prints its one line, then the goroutine's block with a
// backtrace taken at the fault.
GMPRT_CHILD(DumpFormatInStackOverflow) {
  gmp_main(
      [](void*) {
        gmp_go_opts_t o = {sizeof o, 64 * 1024, "deep", 0};
        CHILD_CHECK_EQ(gmp_go_ex([](void*) { gmprt_dump_test_recurse(0); }, nullptr, &o), 0);
        gmp_sleep(3600 * kSec);
      },
      nullptr);
  return 1;
}

TEST(Dump, StackOverflowMessageUsesTheSameBlock) {
  auto r = run_child("DumpFormatInStackOverflow");
  ASSERT_TRUE(r.signaled()) << r.describe();
  EXPECT_NE(r.err.find("gmp: goroutine 2 (deep): stack overflow (fault at 0x"), std::string::npos)
      << r.err;
  std::string b = block_of(r.err, "goroutine 2 [running]: deep");
  ASSERT_NE(b, "") << r.err;
  EXPECT_NE(b.find("\tcreated at 0x"), std::string::npos) << b;
  EXPECT_NE(b.find("gmprt_dump_test_recurse+0x"), std::string::npos) << b;
}
#endif
