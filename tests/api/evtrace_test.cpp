// evtrace_test.cpp -- GMP_DEBUG=trace=FILE (core/evtrace.cpp).
//
// EvtraceProgram is the small program whose trace tests/trace/check_trace.py
// checks (ctest "trace.chrome_json", run as
// `api_tests --gmprt-child=EvtraceProgram` with GMP_MAXPROCS=2 and
// GMP_DEBUG=trace=FILE): a channel ping-pong (park, ready), a system call,
// work that only a steal can run, and a goroutine with its own 64 KiB
// stack (unmapped when it exits). The gtest cases here check what needs no
// JSON parser: the file is a closed JSON array with the expected events by
// name, and a bad path is reported while the program runs on.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

gmp_chan_t* ping;
std::atomic<int> stolen{0};

void run_program() {
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&ping, sizeof(int), 0), 0);
        gmp_go_opts_t o = {sizeof o, 0, "pinger", 0};
        CHILD_CHECK_EQ(gmp_go_ex(
                           [](void*) {
                             for (int i = 0; i < 3; i++) gmp_chan_send(ping, &i);
                           },
                           nullptr, &o),
                       0);
        for (int i = 0; i < 3; i++) {
          int v = -1;
          CHILD_CHECK_EQ(gmp_chan_recv(ping, &v), 0);
          CHILD_CHECK_EQ(v, i);
        }
        gmp_syscall_enter();
        gmp_syscall_exit();
        // Queued on this P, which never yields while they are pending: the
        // other P must steal them.
        for (int i = 0; i < 4; i++) CHILD_CHECK_EQ(gmp_go([](void*) { stolen++; }, nullptr), 0);
        CHILD_CHECK(spin_until([] { return stolen.load() == 4; }));
        static std::atomic<bool> small_done{false};
        gmp_go_opts_t s = {sizeof s, 64 * 1024, "small", 0};
        CHILD_CHECK_EQ(gmp_go_ex([](void*) { small_done = true; }, nullptr, &s), 0);
        CHILD_CHECK(wait_until([] { return small_done.load() && gmp_num_goroutine() == 1; }));
        gmp_chan_release(ping);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
}

}  // namespace

GMPRT_CHILD(EvtraceProgram) {
  run_program();
  // gmp_shutdown writes the rest of the trace and its closing bracket (a
  // child exits with _exit, which skips the atexit path).
  CHILD_CHECK_EQ(gmp_shutdown(60 * kSec), 0);
  return 0;
}

// An unwritable path: one line on stderr, and the program runs untraced.
TEST(Evtrace, BadPathIsReportedAndIgnored) {
  auto r = run_child("EvtraceProgram",
                     {"GMP_MAXPROCS=2", "GMP_DEBUG=trace=/nonexistent-dir/trace.json"});
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  EXPECT_NE(r.err.find("gmp: GMP_DEBUG trace: cannot open /nonexistent-dir/trace.json"),
            std::string::npos)
      << r.err;
}

// A trace is written and closed; its content is checked by
// tests/trace/check_trace.py (ctest trace.chrome_json).
TEST(Evtrace, WritesAClosedJsonArray) {
  char path[] = "/tmp/gmprt_evtrace_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  auto r = run_child("EvtraceProgram", {"GMP_MAXPROCS=2", std::string("GMP_DEBUG=trace=") + path});
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  FILE* f = fopen(path, "r");
  ASSERT_NE(f, nullptr);
  std::string text;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  fclose(f);
  unlink(path);
  EXPECT_EQ(text.rfind("[\n", 0), 0u);
  ASSERT_GE(text.size(), 4u);
  EXPECT_EQ(text.substr(text.size() - 4), "}\n]\n") << text;
  EXPECT_NE(text.find("\"name\":\"trace_end\""), std::string::npos);
  EXPECT_NE(text.find("\"name\":\"G1\",\"ph\":\"B\""), std::string::npos);
}
