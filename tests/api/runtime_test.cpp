// runtime_test.cpp -- the Runtime section of gmprt.h: gmp_init, gmp_main,
// gmp_maxprocs, gmp_set_max_threads, gmp_strerror, gmp_runtime_version.
// (gmp_shutdown: shutdown_test.cpp; the deadlock report: deadlock_test.cpp.)
#include <gmprt.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

TEST(Runtime, InitIsIdempotent) {
  EXPECT_EQ(gmp_init(), GMP_OK);
  EXPECT_EQ(gmp_init(), GMP_OK);
  EXPECT_GE(gmp_maxprocs(0), 1);
}

TEST(Runtime, VersionStartsWithHeaderVersion) {
  const char* v = gmp_runtime_version();
  ASSERT_NE(v, nullptr);
  const std::string want = std::to_string(GMPRT_VERSION_MAJOR) + "." +
                           std::to_string(GMPRT_VERSION_MINOR) + "." +
                           std::to_string(GMPRT_VERSION_PATCH);
  ASSERT_EQ(std::string(v).compare(0, want.size(), want), 0) << "version: " << v;
  // Either exactly the version or the version followed by a space.
  EXPECT_TRUE(v[want.size()] == '\0' || v[want.size()] == ' ') << "version: " << v;
  EXPECT_EQ(gmp_runtime_version(), v) << "static storage";
}

TEST(Runtime, StrerrorOfEveryCode) {
  struct Code {
    int value;
    const char* msg;
  };
  const Code codes[] = {
#define GMPRT_TEST_CODE_(name, value, msg) {value, msg},
      GMP_ERRNO_MAP(GMPRT_TEST_CODE_)
#undef GMPRT_TEST_CODE_
  };
  EXPECT_EQ(sizeof codes / sizeof codes[0], 9u);
  std::vector<std::string> seen;
  for (const Code& c : codes) {
    const char* s = gmp_strerror(c.value);
    ASSERT_NE(s, nullptr) << c.value;
    EXPECT_STREQ(s, c.msg) << c.value;
    seen.push_back(s);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "messages are distinct";
  // The stable values of the contract.
  EXPECT_EQ(GMP_OK, 0);
  EXPECT_EQ(GMP_EINVAL, -1);
  EXPECT_EQ(GMP_ENOMEM, -2);
  EXPECT_EQ(GMP_ECLOSED, -3);
  EXPECT_EQ(GMP_EAGAIN, -4);
  EXPECT_EQ(GMP_ETIMEDOUT, -5);
  EXPECT_EQ(GMP_EDEADLOCK, -6);
  EXPECT_EQ(GMP_EPERM, -7);
  EXPECT_EQ(GMP_EBUSY, -8);
  EXPECT_EQ(GMP_ELIMIT, -9);
}

TEST(Runtime, StrerrorOfUnknownCodes) {
  ASSERT_NE(gmp_strerror(GMP_OK), nullptr);
  for (int code : {1, 2, 42, int(GMP_ERRNO_LAST_), -11, -1000, INT_MIN, INT_MAX}) {
    const char* s = gmp_strerror(code);
    ASSERT_NE(s, nullptr) << code;
    EXPECT_STREQ(s, "unknown error") << code;
  }
}

TEST(Runtime, MaxprocsQueryAndSet) {
  const int cur = gmp_maxprocs(0);
  ASSERT_GE(cur, 1);
  ASSERT_LE(cur, GMP_MAXPROCS_MAX);
  EXPECT_EQ(gmp_maxprocs(-1), cur);
  EXPECT_EQ(gmp_maxprocs(INT_MIN), cur);
  const int other = cur == 3 ? 2 : 3;
  EXPECT_EQ(gmp_maxprocs(other), cur);
  EXPECT_EQ(gmp_maxprocs(0), other);
  EXPECT_EQ(gmp_maxprocs(other), other);  // setting the same value
  EXPECT_TRUE(run_goroutine([] {}));
  EXPECT_EQ(gmp_maxprocs(cur), other);
  EXPECT_EQ(gmp_maxprocs(0), cur);
}

// The initial GOMAXPROCS comes from GMP_MAXPROCS (the env-variant runs set
// it) or the online CPU count.
TEST(Runtime, MaxprocsStartsFromEnvironment) {
  const char* env = getenv("GMP_MAXPROCS");
  long want = env ? strtol(env, nullptr, 10) : sysconf(_SC_NPROCESSORS_ONLN);
  want = std::max(1L, std::min(want, long(GMP_MAXPROCS_MAX)));
  EXPECT_EQ(gmp_maxprocs(0), want);
}

GMPRT_CHILD(MaxprocsQuery) {
  printf("maxprocs=%d\n", gmp_maxprocs(0));
  return 0;
}

TEST(Runtime, MaxprocsEnvironmentInFreshProcess) {
  auto r = run_child("MaxprocsQuery", {"GMP_MAXPROCS=3"});
  ASSERT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.out, "maxprocs=3\n");
  r = run_child("MaxprocsQuery", {"GMP_MAXPROCS=100000"});
  ASSERT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.out, "maxprocs=" + std::to_string(GMP_MAXPROCS_MAX) + "\n") << "clamped";
  r = run_child("MaxprocsQuery", {"GMP_MAXPROCS"});
  ASSERT_EQ(r.exit_code(), 0) << r.describe();
  long cpus = std::max(1L, std::min(sysconf(_SC_NPROCESSORS_ONLN), long(GMP_MAXPROCS_MAX)));
  EXPECT_EQ(r.out, "maxprocs=" + std::to_string(cpus) + "\n");
}

GMPRT_CHILD(MaxprocsLargestValue) {
  const int cur = gmp_maxprocs(0);
  CHILD_CHECK_EQ(gmp_maxprocs(GMP_MAXPROCS_MAX), cur);
  CHILD_CHECK_EQ(gmp_maxprocs(0), GMP_MAXPROCS_MAX);
  static std::atomic<int> ran{0};
  static constexpr int kN = sized(5000, 1000);
  for (int i = 0; i < kN; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load() == kN; }));
  CHILD_CHECK_EQ(gmp_maxprocs(1), GMP_MAXPROCS_MAX);
  for (int i = 0; i < kN; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load() == 2 * kN; }));
  return 0;
}

TEST(Runtime, MaxprocsLargestValueAndBack) {
  auto r = run_child("MaxprocsLargestValue");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

// GOMAXPROCS changes while goroutines run, yield and are created: every
// change returns the previous value, every goroutine keeps making progress
// under each size, and none is lost.
TEST(Runtime, MaxprocsChangesUnderLoad) {
  constexpr int kWorkers = 8;
  constexpr int kSpawn = sized(20000, 2000);
  struct State {
    std::atomic<bool> stop{false};
    std::atomic<long> progress[kWorkers] = {};
    std::atomic<int> exited{0};
    std::atomic<int> spawned_ran{0};
    std::atomic<bool> spawner_done{false};
  };
  auto st = std::make_shared<State>();
  const int prev = gmp_maxprocs(0);
  for (int i = 0; i < kWorkers; i++) {
    ASSERT_EQ(go([st, i] {
                while (!st->stop.load()) {
                  st->progress[i]++;
                  gmp_yield();
                }
                st->exited++;
              }),
              GMP_OK);
  }
  ASSERT_EQ(go([st] {
              for (int j = 0; j < kSpawn; j++) {
                ASSERT_EQ(go([st] { st->spawned_ran++; }), GMP_OK);
                if (j % 64 == 0) gmp_yield();
              }
              st->spawner_done = true;
            }),
            GMP_OK);

  int expected = prev;
  for (int round = 0; round < 40; round++) {
    const int n = 1 + (round * 5) % 6;  // 1..6, in a scrambled order
    ASSERT_EQ(gmp_maxprocs(n), expected) << "round " << round;
    ASSERT_EQ(gmp_maxprocs(0), n);
    expected = n;
    long before[kWorkers];
    for (int i = 0; i < kWorkers; i++) before[i] = st->progress[i].load();
    ASSERT_TRUE(wait_until([&] {
      for (int i = 0; i < kWorkers; i++) {
        if (st->progress[i].load() <= before[i]) return false;
      }
      return true;
    })) << "a worker stopped making progress with GOMAXPROCS="
        << n;
  }
  EXPECT_EQ(gmp_maxprocs(prev), expected);
  st->stop = true;
  EXPECT_TRUE(wait_until([&] { return st->exited.load() == kWorkers; }));
  EXPECT_TRUE(wait_until([&] { return st->spawner_done.load(); }));
  EXPECT_TRUE(wait_until([&] { return st->spawned_ran.load() == kSpawn; }))
      << st->spawned_ran.load() << " of " << kSpawn << " goroutines ran";
}

// A goroutine may change GOMAXPROCS too (it stops the world from a P).
TEST(Runtime, MaxprocsChangedFromGoroutine) {
  const int prev = gmp_maxprocs(0);
  auto others = std::make_shared<std::atomic<int>>(0);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(go([others, stop] {
                while (!stop->load()) gmp_yield();
                (*others)++;
              }),
              GMP_OK);
  }
  EXPECT_TRUE(run_goroutine([prev] {
    int last = prev;
    for (int n : {1, 4, 2, 1, 3}) {
      EXPECT_EQ(gmp_maxprocs(n), last);
      EXPECT_EQ(gmp_maxprocs(0), n);
      last = n;
      gmp_yield();
    }
    EXPECT_EQ(gmp_maxprocs(prev), last);
  }));
  stop->store(true);
  EXPECT_TRUE(wait_until([&] { return others->load() == 4; }));
  EXPECT_EQ(gmp_maxprocs(0), prev);
}

TEST(Runtime, SetMaxThreadsReturnsPrevious) {
  const int prev = gmp_set_max_threads(5000);
  EXPECT_EQ(prev, 10000) << "the default (unless another test forgot to restore it)";
  EXPECT_EQ(gmp_set_max_threads(6000), 5000);
  EXPECT_EQ(gmp_set_max_threads(prev), 6000);
  EXPECT_EQ(gmp_set_max_threads(prev), prev);
}

// The thread limit. Each goroutine that locks its thread and parks takes
// one thread out of service for good. With the limit set below the thread
// count, the runtime either refuses a lock (gmp_lock_os_thread returns
// GMP_ELIMIT: "a call returning int that needs a thread beyond the limit")
// or, when a parked locked goroutine's P must go to another thread and none
// is left (a scheduler thread needed to run goroutines), it aborts with
// "gmp: program exceeds N-thread limit", as Go does.
//
// run_lockers: keep GOMAXPROCS Ps busy with goroutines that yield forever,
// lower the limit, then start lockers one at a time. Prints how the lockers
// fared; returns when every one has either parked locked or got ELIMIT.
std::atomic<int> g_locked{0}, g_elimit{0};
void run_lockers(int procs, int limit, int lockers) {
  CHILD_CHECK(gmp_maxprocs(procs) >= 1);
  static std::atomic<int> yielders{0};
  for (int i = 0; i < 8; i++) {
    CHILD_CHECK_EQ(gmp_go(
                       [](void*) {
                         yielders++;
                         for (;;) gmp_yield();
                       },
                       nullptr),
                   0);
  }
  CHILD_CHECK(wait_until([] { return yielders.load() == 8; }));
  CHILD_CHECK_EQ(gmp_set_max_threads(limit), 10000);
  for (int i = 0; i < lockers; i++) {
    CHILD_CHECK_EQ(gmp_go(
                       [](void*) {
                         int rc = gmp_lock_os_thread();
                         if (rc == GMP_ELIMIT) {
                           g_elimit++;
                           return;
                         }
                         if (rc != 0) abort();
                         g_locked++;
                         gmp_park(nullptr, nullptr);
                       },
                       nullptr),
                   0);
    CHILD_CHECK(wait_until([i] { return g_locked.load() + g_elimit.load() == i + 1; }));
  }
  printf("locked=%d elimit=%d\n", g_locked.load(), g_elimit.load());
}

// Two Ps busy: the lock that leaves two unlocked threads (both running)
// succeeds, and its park needs a third: fatal.
GMPRT_CHILD(ThreadLimitExceeded) {
  run_lockers(2, 1, 64);
  // The fatal error comes from the M that needs the extra thread, which may
  // still be on its way to abort() while the lockers above have all
  // returned: give it time before calling the limit unenforced.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  fprintf(stderr, "the runtime never enforced the thread limit (threads: %d)\n", thread_count());
  return 0;
}

TEST(Runtime, ThreadLimitIsFatal) {
  auto r = run_child("ThreadLimitExceeded");
  ASSERT_TRUE(r.signaled()) << r.describe();
  EXPECT_EQ(r.signal(), SIGABRT) << r.describe();
  bool found = false;
  for (const auto& l : lines(r.err)) {
    found |=
        l.rfind("gmp: ", 0) == 0 && l.find("program exceeds 1-thread limit") != std::string::npos;
  }
  EXPECT_TRUE(found) << "expected a line \"gmp: program exceeds 1-thread limit\"\n" << r.describe();
}

// One P: a lock that would leave no unlocked thread is refused with
// GMP_ELIMIT instead, and the runtime goes on.
GMPRT_CHILD(ThreadLimitLockRefused) {
  run_lockers(1, 1, 64);
  CHILD_CHECK(g_elimit.load() > 0);
  static std::atomic<bool> ran{false};
  CHILD_CHECK_EQ(gmp_go([](void*) { ran = true; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load(); }));
  return 0;
}

TEST(Runtime, ThreadLimitRefusesLock) {
  auto r = run_child("ThreadLimitLockRefused");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

TEST(Runtime, MainRunsBodyAsGoroutineAndReturnsZero) {
  const pid_t caller = tid();
  uint64_t id = 0;
  pid_t ran_on = 0;
  bool self = false;
  EXPECT_EQ(run_main([&] {
              id = gmp_goid();
              ran_on = tid();
              self = gmp_self() != nullptr;
            }),
            GMP_OK);
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(self);
  EXPECT_NE(ran_on, 0);
  EXPECT_NE(ran_on, caller) << "the gmp_main caller only waits; it is no scheduler thread";
  EXPECT_EQ(tid(), caller);
}

// gmp_main returns when its body returns, whatever other goroutines do.
TEST(Runtime, MainReturnsWhileOtherGoroutinesLive) {
  auto p = std::make_shared<Parked>();
  EXPECT_EQ(run_main([p] { ASSERT_EQ(go([p] { park_here(p.get()); }), GMP_OK); }), GMP_OK);
  EXPECT_TRUE(wake_when_parked(p.get()));
  EXPECT_TRUE(wait_until([&] { return p->resumed.load() == 1; }));
}

TEST(Runtime, MainCanBeCalledRepeatedly) {
  uint64_t last = 0;
  for (int i = 0; i < 20; i++) {
    uint64_t id = 0;
    ASSERT_EQ(run_main([&] { id = gmp_goid(); }), GMP_OK);
    EXPECT_GT(id, last) << "ids are never reused";
    last = id;
  }
}

TEST(Runtime, MainWaitsForAGoroutineThatParksIt) {
  // The main goroutine parks; a goroutine it started readies it.
  EXPECT_EQ(run_main([] {
              auto p = std::make_shared<Parked>();
              ASSERT_EQ(go([p] { wake_when_parked(p.get()); }), GMP_OK);
              park_here(p.get());
            }),
            GMP_OK);
}

TEST(Runtime, MainFromGoroutineIsEperm) {
  EXPECT_TRUE(run_goroutine([] {
    static std::atomic<int> ran{0};
    EXPECT_EQ(gmp_main([](void*) { ran++; }, nullptr), GMP_EPERM);
    EXPECT_EQ(ran.load(), 0);
  }));
}

TEST(Runtime, MainFromSeveralThreadsAtOnce) {
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; i++) {
    ts.emplace_back([&] {
      for (int j = 0; j < 20; j++) {
        std::atomic<int> n{0};
        if (run_main([&] { n++; }) == GMP_OK && n == 1) ok++;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 80);
}

GMPRT_CHILD(MainIsGoroutineOne) {
  static uint64_t first = 0, second = 0;
  CHILD_CHECK_EQ(gmp_main([](void*) { first = gmp_goid(); }, nullptr), 0);
  CHILD_CHECK_EQ(gmp_main([](void*) { second = gmp_goid(); }, nullptr), 0);
  printf("first=%llu second=%llu\n", (unsigned long long)first, (unsigned long long)second);
  CHILD_CHECK_EQ(first, 1);
  CHILD_CHECK(second > 1);
  return 0;
}

TEST(Runtime, MainGoroutineIsIdOneWhenFirstCall) {
  auto r = run_child("MainIsGoroutineOne");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

}  // namespace
