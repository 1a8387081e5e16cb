// preempt_test.cpp -- asynchronous preemption (GMP_GO_ASYNC_PREEMPT,
// core/preempt.cpp): with one P, a goroutine in a loop without a single call
// does not keep the others from running nor the world from stopping; its
// registers, flags and vector state survive every preemption; it resumes on its own thread; a goroutine
// without the flag is never interrupted; a SIGURG handler installed before
// the runtime's still gets every signal; bad flags are refused.
//
// Each case runs in a child process with GMP_MAXPROCS=1. A loop that is never
// preempted ends by itself after a bounded number of iterations, so a broken
// preemption fails the test instead of hanging it.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

// Iterations after which a spinner gives up: tens of seconds of looping.
constexpr uint64_t kSpinLimit = uint64_t(1) << 36;

pid_t thread_id() { return pid_t(syscall(SYS_gettid)); }

int go_flagged(gmp_fn fn, void* arg, const char* name) {
  gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, name, GMP_GO_ASYNC_PREEMPT};
  return gmp_go_ex(fn, arg, &o);
}

// The spinners' shared state.
std::atomic<bool> stop{false};
std::atomic<bool> stopped_by_flag{false};
std::atomic<int> wakeups{0};
std::atomic<bool> spinner_done{false};

// spin_until_stop: a loop without calls, ended by `stop` or the limit.
std::atomic<bool> spinner_started{false};

void spin_until_stop(void*) {
  spinner_started = true;
  uint64_t i = 0;
  while (!stop.load(std::memory_order_relaxed) && i < kSpinLimit) i++;
  stopped_by_flag = stop.load();
  spinner_done = true;
}

// run_spinner: gmp_main whose main goroutine starts `spin` with the flag,
// runs `meanwhile` (which needs the spinner preempted to get anywhere),
// then sets `stop` and waits for the spinner to finish. gmp_main's result.
struct SpinnerRun {
  gmp_fn spin;
  void (*meanwhile)();
};

int run_spinner(gmp_fn spin, void (*meanwhile)()) {
  SpinnerRun run{spin, meanwhile};
  return gmp_main(
      [](void* arg) {
        auto* r = static_cast<SpinnerRun*>(arg);
        CHILD_CHECK_EQ(go_flagged(r->spin, nullptr, "spinner"), 0);
        r->meanwhile();
        stop = true;
        while (!spinner_done.load()) gmp_yield();
      },
      &run);
}

void sleep_5ms() { gmp_sleep(5 * kMs); }  // the spinner has the P meanwhile

// A flagged goroutine spinning without calls on the only P does not keep the
// main goroutine from waking up from its sleep and stopping it.
GMPRT_CHILD(AsyncPreemptTightLoop) {
  CHILD_CHECK_EQ(run_spinner(spin_until_stop, sleep_5ms), 0);
  CHILD_CHECK(stopped_by_flag.load());
  return 0;
}

TEST(AsyncPreempt, TightLoopDoesNotStarveOthers) {
  if (kTsan) GTEST_SKIP() << "TSan delivers signals only at its own safe points";
  auto r = run_child("AsyncPreemptTightLoop", {"GMP_MAXPROCS=1"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// Stopping the world (gmp_maxprocs) interrupts a flagged goroutine that
// never reaches a preemption point: the monitor sleeps while the world
// stops, so only the stopper's own signals can end this wait.
GMPRT_CHILD(AsyncPreemptStopTheWorld) {
  CHILD_CHECK_EQ(run_spinner(spin_until_stop,
                             [] {
                               while (!spinner_started.load()) gmp_sleep(kMs);
                               CHILD_CHECK_EQ(gmp_maxprocs(1), 2);
                             }),
                 0);
  CHILD_CHECK(stopped_by_flag.load());
  return 0;
}

TEST(AsyncPreempt, StopTheWorldInterruptsTightLoop) {
  if (kTsan) GTEST_SKIP() << "TSan delivers signals only at its own safe points";
  auto r = run_child("AsyncPreemptStopTheWorld", {"GMP_MAXPROCS=2"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// State kept in registers across preemptions: an integer LCG, a double sum
// and a 128-bit vector, each forced into a register every iteration; the
// flags register through a comparison whose result crosses the barrier.
struct SpinState {
  uint64_t iterations = 0;
  uint64_t lcg = 0;
  double sum = 0;
  uint64_t vec[2] = {0, 0};
  pid_t tid_before = 0, tid_after = 0;
  uint64_t bad_flags = 0;
};
SpinState state;
constexpr int kWakeups = 20;

void spin_with_state(void*) {
  state.tid_before = thread_id();
  uint64_t lcg = 1, i = 0, bad_flags = 0;
  double sum = 0;
  typedef long long v2di __attribute__((vector_size(16)));
  v2di v = {1, 2};
  const v2di step = {3, 5};
  while (!stop.load(std::memory_order_relaxed) && i < kSpinLimit) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    sum += 1.0;
    v += step;
    bool below;
    // The comparison sets the flags; the interrupted code reads them after
    // the barrier (a preemption between the two would corrupt `below`).
    __asm__ volatile("cmpq %2, %1\n\tsetb %0" : "=r"(below) : "r"(i), "r"(kSpinLimit) : "cc");
    if (!below) bad_flags++;
    __asm__ volatile("" : "+r"(lcg), "+x"(sum), "+x"(v));
    i++;
  }
  state.iterations = i;
  state.lcg = lcg;
  state.sum = sum;
  state.vec[0] = uint64_t(v[0]);
  state.vec[1] = uint64_t(v[1]);
  state.bad_flags = bad_flags;
  state.tid_after = thread_id();
  spinner_done = true;
}

GMPRT_CHILD(AsyncPreemptKeepsState) {
  // Each wake-up needs the spinner preempted (one P).
  CHILD_CHECK_EQ(run_spinner(spin_with_state,
                             [] {
                               for (int i = 0; i < kWakeups; i++) {
                                 gmp_sleep(2 * kMs);
                                 wakeups++;
                               }
                             }),
                 0);
  CHILD_CHECK_EQ(wakeups.load(), kWakeups);
  CHILD_CHECK(state.iterations < kSpinLimit);  // stopped, not given up
  uint64_t lcg = 1;
  for (uint64_t i = 0; i < state.iterations; i++)
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  CHILD_CHECK_EQ(state.lcg, lcg);
  CHILD_CHECK(state.sum == double(state.iterations));
  CHILD_CHECK_EQ(state.vec[0], 1 + 3 * state.iterations);
  CHILD_CHECK_EQ(state.vec[1], 2 + 5 * state.iterations);
  CHILD_CHECK_EQ(state.bad_flags, 0u);
  CHILD_CHECK_EQ(state.tid_before, state.tid_after);
  return 0;
}

TEST(AsyncPreempt, RegistersFlagsAndVectorsSurvive) {
  if (kTsan) GTEST_SKIP() << "TSan delivers signals only at its own safe points";
  auto r = run_child("AsyncPreemptKeepsState", {"GMP_MAXPROCS=1"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// A loop that spends most of its time inside the C library (memset, strlen)
// is still preempted: in its own code, between calls (signals that land in
// the library are retried).
char buffer[4096];

void spin_in_libc(void*) {
  uint64_t i = 0;
  size_t total = 0;
  while (!stop.load(std::memory_order_relaxed) && i < (uint64_t(1) << 28)) {
    memset(buffer, 'x', sizeof buffer - 1);
    total += strlen(buffer);
    i++;
  }
  stopped_by_flag = stop.load() && total == i * (sizeof buffer - 1);
  spinner_done = true;
}

GMPRT_CHILD(AsyncPreemptLibcLoop) {
  CHILD_CHECK_EQ(run_spinner(spin_in_libc, sleep_5ms), 0);
  CHILD_CHECK(stopped_by_flag.load());
  return 0;
}

TEST(AsyncPreempt, LoopMostlyInLibcIsPreemptedBetweenCalls) {
  if (kTsan) GTEST_SKIP() << "TSan delivers signals only at its own safe points";
  auto r = run_child("AsyncPreemptLibcLoop", {"GMP_MAXPROCS=1"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// Without the flag a loop without calls keeps the only P until it ends by
// itself, even while a flagged goroutine exists in the process (so the
// handler is installed): the main goroutine cannot run in between.
std::atomic<bool> main_ran{false};
std::atomic<bool> main_ran_during_loop{false};

GMPRT_CHILD(AsyncPreemptOnlyWithFlag) {
  int rc = gmp_main(
      [](void*) {
        // Install the handler: one flagged goroutine that ends at once.
        CHILD_CHECK_EQ(go_flagged([](void*) {}, nullptr, "flagged"), 0);
        CHILD_CHECK_EQ(gmp_go(
                           [](void*) {
                             // ~30 ms of looping at least: well past a slice.
                             int64_t end = gmp_now() + 30 * kMs;
                             while (gmp_now() < end) {
                               for (int i = 0; i < 100000; i++) {
                                 if (main_ran.load(std::memory_order_relaxed))
                                   main_ran_during_loop = true;
                               }
                             }
                             spinner_done = true;
                           },
                           nullptr),
                       0);
        gmp_sleep(kMs);
        main_ran = true;
        while (!spinner_done.load()) gmp_yield();
      },
      nullptr);
  CHILD_CHECK_EQ(rc, 0);
  CHILD_CHECK(!main_ran_during_loop.load());
  return 0;
}

TEST(AsyncPreempt, GoroutineWithoutFlagIsNeverInterrupted) {
  auto r = run_child("AsyncPreemptOnlyWithFlag", {"GMP_MAXPROCS=1"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// A SIGURG handler the host installed first keeps getting the signal, both
// its own and, while the runtime preempts, the runtime's.
std::atomic<int> host_signals{0};

GMPRT_CHILD(AsyncPreemptChainsHostHandler) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = [](int) { host_signals++; };
  sigemptyset(&sa.sa_mask);
  CHILD_CHECK_EQ(sigaction(SIGURG, &sa, nullptr), 0);
  CHILD_CHECK_EQ(run_spinner(spin_until_stop, sleep_5ms), 0);
  int before = host_signals.load();
  CHILD_CHECK_EQ(raise(SIGURG), 0);
  CHILD_CHECK_EQ(host_signals.load(), before + 1);
  CHILD_CHECK(before >= 1);  // the preemption signal went on too
  return 0;
}

TEST(AsyncPreempt, HostHandlerStillGetsSigurg) {
  // Under TSan nothing is installed (so nothing to chain), and the spinner
  // on the only P would never be preempted.
  if (kTsan) GTEST_SKIP() << "asynchronous preemption is off under TSan";
  auto r = run_child("AsyncPreemptChainsHostHandler", {"GMP_MAXPROCS=1"});
  EXPECT_TRUE(r.exited() && r.exit_code() == 0) << r.describe();
}

// Unknown flag bits are refused and start nothing; a caller compiled against
// the first version of the struct (no flags member) is never read past its
// struct_size.
TEST(AsyncPreempt, BadFlagsAreRefused) {
  gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, "bad", GMP_GO_ASYNC_PREEMPT << 1};
  int before = gmp_num_goroutine();
  EXPECT_EQ(gmp_go_ex([](void*) {}, nullptr, &o), GMP_EINVAL);
  o.flags = ~uint64_t(0);
  EXPECT_EQ(gmp_go_ex([](void*) {}, nullptr, &o), GMP_EINVAL);
  EXPECT_EQ(gmp_num_goroutine(), before);

  gmp_go_opts_t v1 = {3 * sizeof(void*), 0, "v1", ~uint64_t(0)};
  static std::atomic<bool> ran{false};
  ASSERT_EQ(gmp_go_ex([](void*) { ran = true; }, nullptr, &v1), 0);
  EXPECT_TRUE(wait_until([] { return ran.load(); }));
}

}  // namespace
