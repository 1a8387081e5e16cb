// schedtrace_test.cpp -- GMP_DEBUG=schedtrace=MS[,scheddetail=1] (Go's
// line format) and GMP_DEBUG=sigquit=1 (SIGQUIT prints every goroutine and
// exits with status 2). Each runs in a fresh process; the trace children
// capture their own stderr in a memory file and wait (bounded, liveness
// only) for the lines to appear, then copy them to stdout for the parent.
#include <ctype.h>
#include <gmprt.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

int captured_fd = -1;  // the memory file behind the child's stderr

// capture_stderr: point fd 2 at a memory file (before the runtime starts,
// so the trace thread writes there); returns false on failure.
bool capture_stderr() {
  captured_fd = memfd_create("stderr", 0);
  return captured_fd >= 0 && dup2(captured_fd, 2) == 2;
}

std::string captured() {
  std::string text;
  char buf[4096];
  ssize_t n;
  for (off_t at = 0; (n = pread(captured_fd, buf, sizeof buf, at)) > 0; at += n)
    text.append(buf, size_t(n));
  return text;
}

// match: whether s matches pattern p, in which '#' stands for an integer
// (digits, optionally after '-') and '*' for any text; everything else is
// literal. (Not std::regex: gcc 12's <regex> trips -Wmaybe-uninitialized
// in the sanitizer builds.)
bool match(const char* p, const char* s) {
  for (;; p++, s++) {
    if (*p == '*') {
      for (const char* t = s;; t++) {
        if (match(p + 1, t)) return true;
        if (!*t) return false;
      }
    }
    if (*p == '#') {
      if (*s == '-') s++;
      if (!isdigit(static_cast<unsigned char>(*s))) return false;
      while (isdigit(static_cast<unsigned char>(s[1]))) s++;
      continue;
    }
    if (*p != *s) return false;
    if (!*p) return true;
  }
}

bool match(const std::string& pattern, const std::string& s) {
  return match(pattern.c_str(), s.c_str());
}

size_t count_prefix(const std::string& text, const std::string& prefix) {
  size_t n = 0;
  for (const auto& l : lines(text))
    if (l.rfind(prefix, 0) == 0) n++;
  return n;
}

gmp_chan_t* trace_chan;

void park_named(const char* name) {
  gmp_go_opts_t o = {sizeof o, 0, name, 0};
  CHILD_CHECK_EQ(gmp_go_ex([](void*) { gmp_chan_recv(trace_chan, nullptr); }, nullptr, &o), 0);
}

// wait_parked: until n goroutines have parked (gmp_stats counts parks).
bool wait_parked(uint64_t n) {
  return wait_until([n] {
    gmp_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    return gmp_stats(&s) == 0 && s.parks_total >= n;
  });
}

}  // namespace

// Three SCHED lines; the program is idle meanwhile (the trace goes on while
// every P is idle).
GMPRT_CHILD(SchedtraceLines) {
  CHILD_CHECK(capture_stderr());
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK(wait_until([] { return count_prefix(captured(), "SCHED ") >= 3; }));
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  fputs(captured().c_str(), stdout);
  fflush(stdout);
  return 0;
}

TEST(Schedtrace, PrintsGoStyleLines) {
  auto r = run_child("SchedtraceLines", {"GMP_MAXPROCS=2", "GMP_DEBUG=schedtrace=5"});
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  const std::string line =
      "SCHED #ms: gomaxprocs=2 idleprocs=# threads=# spinningthreads=# idlethreads=# runqueue=# "
      "[# #]";
  int n = 0;
  long last_ms = -1;
  for (const auto& l : lines(r.out)) {
    if (l.rfind("SCHED ", 0) != 0) continue;
    EXPECT_TRUE(match(line, l)) << l;
    long ms = strtol(l.c_str() + 6, nullptr, 10);  // since start-up: never goes back
    EXPECT_GE(ms, last_ms) << r.out;
    last_ms = ms;
    n++;
  }
  EXPECT_GE(n, 3) << r.out;
}

// scheddetail: the detail fields, then a line per P, per M and per G.
GMPRT_CHILD(SchedtraceDetail) {
  CHILD_CHECK(capture_stderr());
  int rc = gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&trace_chan, 0, 0), 0);
        park_named("a");
        park_named("b");
        CHILD_CHECK(wait_parked(2));
        // A record taken after both parked shows them waiting.
        size_t before = count_prefix(captured(), "SCHED ");
        CHILD_CHECK(
            wait_until([before] { return count_prefix(captured(), "SCHED ") >= before + 2; }));
        for (int i = 0; i < 2; i++) gmp_chan_send(trace_chan, nullptr);
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  fputs(captured().c_str(), stdout);
  fflush(stdout);
  return 0;
}

TEST(Schedtrace, DetailPrintsEveryPMAndG) {
  auto r =
      run_child("SchedtraceDetail", {"GMP_MAXPROCS=2", "GMP_DEBUG=schedtrace=5,scheddetail=1"});
  ASSERT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
  const std::string sched =
      "SCHED #ms: gomaxprocs=2 idleprocs=# threads=# spinningthreads=# idlethreads=# runqueue=# "
      "gcwaiting=# nmidlelocked=# stopwait=# sysmonwait=0";
  const std::string p =
      "  P#: status=# schedtick=# syscalltick=# m=# runqsize=# gfreecnt=# timerslen=#";
  const std::string m =
      "  M#: p=# curg=# mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=* "
      "blocked=* lockedg=#";
  const std::string g = "  G#: status=#(*) m=# lockedm=#";
  int scheds = 0, ps = 0, ms = 0;
  for (const auto& l : lines(r.out)) {
    if (l.rfind("SCHED ", 0) == 0) {
      EXPECT_TRUE(match(sched, l)) << l;
      scheds++;
    } else if (l.rfind("  P", 0) == 0) {
      EXPECT_TRUE(match(p, l)) << l;
      ps++;
    } else if (l.rfind("  M", 0) == 0) {
      EXPECT_TRUE(match(m, l)) << l;
      ms++;
    } else if (l.rfind("  G", 0) == 0) {
      EXPECT_TRUE(match(g, l)) << l;
    }
  }
  EXPECT_GE(scheds, 2) << r.out;
  EXPECT_EQ(ps, 2 * scheds) << r.out;  // both Ps in every record
  EXPECT_GE(ms, 1) << r.out;
  // The two parked goroutines (ids 2 and 3 in a fresh process), as Go
  // prints a waiting G: status 4 and its wait reason.
  EXPECT_GE(count_line(r.out, "  G2: status=4(chan receive) m=-1 lockedm=-1"), 1) << r.out;
  EXPECT_GE(count_line(r.out, "  G3: status=4(chan receive) m=-1 lockedm=-1"), 1) << r.out;
  // The main goroutine runs (or is about to) while it waits for the records.
  bool g1 = false;
  for (const auto& l : lines(r.out))
    g1 = g1 || match("  G1: status=1() m=# lockedm=-1", l) ||
         match("  G1: status=2() m=# lockedm=-1", l);
  EXPECT_TRUE(g1) << r.out;
}

// SIGQUIT with sigquit=1: Go's first line, every goroutine, exit status 2.
GMPRT_CHILD(SigquitDumps) {
  gmp_main(
      [](void*) {
        CHILD_CHECK_EQ(gmp_chan_make(&trace_chan, 0, 0), 0);
        park_named("sleeper");
        CHILD_CHECK(wait_parked(1));
        // To this thread, which then waits in usleep for the handler to end
        // the process (the goroutine keeps running, so no deadlock report
        // comes first). Under TSan a signal is handled only once its thread
        // enters an intercepted call such as usleep; an idle thread asleep
        // in a raw futex system call would never handle one sent to the
        // whole process.
        pthread_kill(pthread_self(), SIGQUIT);
        for (;;) usleep(1000);
      },
      nullptr);
  return 1;
}

TEST(Sigquit, PrintsEveryGoroutineAndExitsWith2) {
  auto r = run_child("SigquitDumps", {"GMP_DEBUG=sigquit=1"});
  ASSERT_TRUE(r.exited()) << r.describe();
  EXPECT_EQ(r.exit_code(), 2) << r.describe();
  EXPECT_EQ(r.err.rfind("SIGQUIT: quit\n\n", 0), 0u) << r.err;
  EXPECT_EQ(count_line(r.err, "goroutine 2 [chan receive]: sleeper"), 1) << r.err;
  EXPECT_NE(r.err.find("\ngoroutine 1 ["), std::string::npos) << r.err;
}

// Without the flag the runtime leaves SIGQUIT alone: its default action
// kills the process.
GMPRT_CHILD(SigquitLeftAlone) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  gmp_main([](void*) { kill(getpid(), SIGQUIT); }, nullptr);
  return 0;
}

TEST(Sigquit, OffByDefault) {
  auto r = run_child("SigquitLeftAlone", {"GMP_DEBUG"});
  ASSERT_TRUE(r.signaled()) << r.describe();
  EXPECT_EQ(r.signal(), SIGQUIT) << r.describe();
  EXPECT_EQ(r.err.find("SIGQUIT: quit"), std::string::npos) << r.err;
}
