// shutdown_test.cpp -- gmp_shutdown: GMP_EBUSY while goroutines remain (the
// runtime stays usable), success once they are done, threads stopped, and a
// restart on the next call. Each case that shuts the runtime down runs in a
// child process, so no other test's goroutines are around.
#include <dirent.h>
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

constexpr int64_t kNs = 1000000;  // one millisecond

int fd_count() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (struct dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;  // the directory's own descriptor
}

// threads_without_runtime: the process's threads before the runtime starts.
// A first thread is created and joined beforehand, since TSan starts its
// helper thread at the first pthread_create.
int threads_without_runtime() {
  std::thread([] {}).join();
  return thread_count();
}

GMPRT_CHILD(ShutdownBusyThenDoneThenRestart) {
  static const int base_threads = threads_without_runtime();
  CHILD_CHECK_EQ(gmp_shutdown(0), 0);  // nothing to stop yet
  static Parked p;
  static std::atomic<uint64_t> first_id{0};
  CHILD_CHECK_EQ(gmp_go(
                     [](void*) {
                       first_id = gmp_goid();
                       park_here(&p);
                     },
                     nullptr),
                 0);
  CHILD_CHECK(wait_until([] { return p.parked.load() == 1; }));
  CHILD_CHECK_EQ(gmp_shutdown(0), GMP_EBUSY);
  CHILD_CHECK_EQ(gmp_shutdown(50 * kNs), GMP_EBUSY);
  // Still fully usable.
  static std::atomic<int> ran{0};
  for (int i = 0; i < 100; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load() == 100; }));
  CHILD_CHECK(wait_until([] { return gmp_num_goroutine() == 1; }));
  static std::atomic<bool> main_ran{false};
  CHILD_CHECK_EQ(gmp_main([](void*) { main_ran = true; }, nullptr), 0);
  CHILD_CHECK(main_ran.load());
  // Release the blocked goroutine: shutdown waits for it and succeeds.
  gmp_ready(p.g.load());
  CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
  CHILD_CHECK_EQ(p.resumed.load(), 1);
  CHILD_CHECK_EQ(gmp_num_goroutine(), 0);
  // The runtime's threads are gone: only the process's own are left.
  CHILD_CHECK(wait_until([] { return thread_count() == base_threads; }));
  // The next call starts it again; ids keep growing.
  static std::atomic<uint64_t> second_id{0};
  CHILD_CHECK_EQ(gmp_go([](void*) { second_id = gmp_goid(); }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return second_id.load() != 0; }));
  CHILD_CHECK(second_id.load() > first_id.load());
  CHILD_CHECK(gmp_maxprocs(0) >= 1);
  CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
  return 0;
}

TEST(Shutdown, BusyWhileBlockedThenDoneThenRestarts) {
  auto r = run_child("ShutdownBusyThenDoneThenRestart");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

// A timeout waits for goroutines that are still running: they all finish
// before gmp_shutdown(-1) returns 0.
GMPRT_CHILD(ShutdownWaitsForRunningGoroutines) {
  static std::atomic<int> finished{0};
  static std::atomic<bool> go_on{false};
  constexpr int kN = 1000;
  for (int i = 0; i < kN; i++) {
    CHILD_CHECK_EQ(gmp_go(
                       [](void*) {
                         while (!go_on.load()) gmp_yield();
                         for (int j = 0; j < 100; j++) gmp_yield();
                         finished++;
                       },
                       nullptr),
                   0);
  }
  CHILD_CHECK_EQ(gmp_shutdown(20 * kNs), GMP_EBUSY);  // they cannot finish yet
  go_on = true;
  CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
  CHILD_CHECK_EQ(finished.load(), kN);
  return 0;
}

TEST(Shutdown, WaitsForRunningGoroutines) {
  auto r = run_child("ShutdownWaitsForRunningGoroutines");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

// Many start/stop cycles leave no threads and no descriptors behind.
GMPRT_CHILD(ShutdownRestartCycles) {
  static std::atomic<int> ran{0};
  static const int base_threads = threads_without_runtime();
  CHILD_CHECK_EQ(gmp_init(), 0);
  CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
  CHILD_CHECK(wait_until([] { return thread_count() == base_threads; }));
  const int fds = fd_count();
  for (int cycle = 0; cycle < 20; cycle++) {
    for (int i = 0; i < 200; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
    if (cycle % 2) {
      // Also a locked goroutine that takes its thread with it.
      CHILD_CHECK_EQ(gmp_go([](void*) { gmp_lock_os_thread(); }, nullptr), 0);
    }
    CHILD_CHECK_EQ(gmp_main([](void*) { ran++; }, nullptr), 0);
    CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
    CHILD_CHECK_EQ(ran.load(), (cycle + 1) * 201);
    CHILD_CHECK(wait_until([] { return thread_count() == base_threads; }));
    CHILD_CHECK_EQ(fd_count(), fds);
  }
  return 0;
}

TEST(Shutdown, RestartCyclesLeaveNothingBehind) {
  auto r = run_child("ShutdownRestartCycles");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

// The settings survive a restart? GOMAXPROCS set at run time is a property
// of the running runtime; after a restart only the environment counts. We
// only check that a restart gives a valid, working runtime with each value.
GMPRT_CHILD(ShutdownWithMaxprocsChanged) {
  CHILD_CHECK(gmp_maxprocs(3) >= 1);
  static std::atomic<int> ran{0};
  for (int i = 0; i < 100; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
  CHILD_CHECK_EQ(ran.load(), 100);
  CHILD_CHECK(gmp_maxprocs(0) >= 1);
  for (int i = 0; i < 100; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK_EQ(gmp_shutdown(-1), 0);
  CHILD_CHECK_EQ(ran.load(), 200);
  return 0;
}

TEST(Shutdown, AfterMaxprocsChange) {
  auto r = run_child("ShutdownWithMaxprocsChanged");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

// From a goroutine (which cannot wait for itself): GMP_EBUSY, and nothing
// changes.
TEST(Shutdown, FromGoroutineIsBusy) {
  EXPECT_TRUE(run_goroutine([] {
    EXPECT_EQ(gmp_shutdown(0), GMP_EBUSY);
    EXPECT_EQ(gmp_shutdown(-1), GMP_EBUSY);
    EXPECT_EQ(gmp_shutdown(10 * kNs), GMP_EBUSY);
  }));
  EXPECT_TRUE(run_goroutine([] {}));
}

// Exiting the process with goroutines parked and threads running is fine
// (no gmp_shutdown needed).
GMPRT_CHILD(ExitWithoutShutdown) {
  for (int i = 0; i < 100; i++) {
    CHILD_CHECK_EQ(gmp_go([](void*) { gmp_park(nullptr, nullptr); }, nullptr), 0);
    CHILD_CHECK_EQ(gmp_go(
                       [](void*) {
                         for (;;) gmp_yield();
                       },
                       nullptr),
                   0);
  }
  CHILD_CHECK(wait_until([] { return gmp_num_goroutine() == 200; }));
  exit(7);  // atexit handlers and static destructors run with all of this live
}

TEST(Shutdown, ProcessExitWithoutShutdown) {
  auto r = run_child("ExitWithoutShutdown");
  EXPECT_EQ(r.exit_code(), 7) << r.describe();
}

}  // namespace
