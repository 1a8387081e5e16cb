// goroutine_test.cpp -- the Goroutines section of gmprt.h: gmp_go,
// gmp_go_ex, gmp_yield, gmp_exit, gmp_goid, gmp_num_goroutine,
// gmp_preempt_point, and that work spreads over the Ps.
// (gmp_lock_os_thread: lockosthread_test.cpp.)
#include <gmprt.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "chan_helpers.hpp"
#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

// touch_stack: use about `bytes` of the calling stack (and keep the compiler
// from dropping it).
__attribute__((noinline)) int touch_stack(size_t bytes) {
  volatile char* buf = static_cast<volatile char*>(__builtin_alloca(bytes));
  for (size_t i = 0; i < bytes; i += 512) buf[i] = static_cast<char>(i);
  buf[bytes - 1] = 1;
  return buf[0] + buf[bytes - 1];
}

TEST(Goroutine, RunsFunctionWithArgument) {
  static std::atomic<int> got{0};
  static int value = 42;
  got = 0;
  ASSERT_EQ(gmp_go([](void* a) { got = *static_cast<int*>(a); }, &value), GMP_OK);
  EXPECT_TRUE(wait_until([] { return got.load() == 42; }));
}

TEST(Goroutine, GoFromGoroutinesAndThreads) {
  constexpr int kSpawners = 4, kEach = sized(5000, 500);
  auto ran = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kSpawners; i++) {
    ASSERT_EQ(go([ran] {
                for (int j = 0; j < kEach; j++) ASSERT_EQ(go([ran] { (*ran)++; }), GMP_OK);
              }),
              GMP_OK);
  }
  std::vector<std::thread> ts;
  for (int i = 0; i < kSpawners; i++) {
    ts.emplace_back([ran] {
      for (int j = 0; j < kEach; j++) ASSERT_EQ(go([ran] { (*ran)++; }), GMP_OK);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_TRUE(wait_until([&] { return ran->load() == 2 * kSpawners * kEach; }))
      << ran->load() << " of " << 2 * kSpawners * kEach;
}

TEST(Goroutine, GoExWithOptions) {
  static std::atomic<int> ran{0};
  ran = 0;
  const gmp_fn body = [](void* bytes) {
    touch_stack(reinterpret_cast<size_t>(bytes));
    ran++;
  };
  gmp_go_opts_t o = {};
  o.struct_size = sizeof o;
  // A large stack, nearly all of it used.
  o.stack_size = size_t(4) << 20;
  o.name = "big-stack";
  ASSERT_EQ(gmp_go_ex(body, reinterpret_cast<void*>(size_t(3) << 20), &o), GMP_OK);
  // The smallest stack, partly used.
  o.stack_size = GMP_STACK_MIN;
  o.name = nullptr;
  ASSERT_EQ(gmp_go_ex(body, reinterpret_cast<void*>(size_t(4096)), &o), GMP_OK);
  // Defaults: stack_size 0, and opts NULL.
  o.stack_size = 0;
  o.name = "default";
  ASSERT_EQ(gmp_go_ex(body, reinterpret_cast<void*>(size_t(64) << 10), &o), GMP_OK);
  ASSERT_EQ(gmp_go_ex(body, reinterpret_cast<void*>(size_t(64) << 10), nullptr), GMP_OK);
  // A caller compiled against a newer, larger struct (zero-filled tail).
  struct {
    gmp_go_opts_t o;
    char future[64];
  } bigger = {};
  bigger.o.struct_size = sizeof bigger;
  bigger.o.stack_size = GMP_STACK_MIN * 4;
  ASSERT_EQ(gmp_go_ex(body, reinterpret_cast<void*>(size_t(32) << 10), &bigger.o), GMP_OK);
  // The largest stack size accepted, GMP_STACK_MAX (reserved, not committed).
  o.stack_size = GMP_STACK_MAX;
  ASSERT_EQ(gmp_go_ex(body, reinterpret_cast<void*>(size_t(1) << 20), &o), GMP_OK);
  EXPECT_TRUE(wait_until([] { return ran.load() == 6; }));
}

TEST(Goroutine, NameLongerThanMaxIsAccepted) {
  static std::atomic<int> ran{0};
  ran = 0;
  std::string name(GMP_NAME_MAX * 4, 'n');
  gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, name.c_str(), 0};
  ASSERT_EQ(gmp_go_ex([](void*) { ran++; }, nullptr, &o), GMP_OK);
  name.assign(name.size(), 'x');  // the name was copied: the buffer is ours again
  EXPECT_TRUE(wait_until([] { return ran.load() == 1; }));
}

// The documented default: at least 64 KiB usable (GMP_STACK_DEFAULT says
// 256 KiB); use nearly all of it.
TEST(Goroutine, DefaultStackIsUsable) {
  ASSERT_GE(GMP_STACK_DEFAULT, size_t(64) << 10);
  EXPECT_TRUE(run_goroutine([] { touch_stack(GMP_STACK_DEFAULT - (32 << 10)); }));
}

class GoroutineP : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(GoroutineP);

// gmp_yield lets the other goroutines run: two goroutines hand a turn back
// and forth, each polling with gmp_yield only (with GOMAXPROCS=1 nothing
// but gmp_yield can make the other one run).
TEST_P(GoroutineP, YieldLetsOthersRun) {
  constexpr int kRounds = 2000;
  auto turn = std::make_shared<std::atomic<int>>(0);
  auto done = std::make_shared<std::atomic<int>>(0);
  for (int me = 0; me < 2; me++) {
    ASSERT_EQ(go([turn, done, me] {
                for (int i = 0; i < kRounds; i++) {
                  while (turn->load() != me) gmp_yield();
                  turn->store(1 - me);
                }
                (*done)++;
              }),
              GMP_OK);
  }
  EXPECT_TRUE(wait_until([&] { return done->load() == 2; }));
}

// The direct yield (a goroutine switches straight to the head of the global
// queue, holding sched.lock across the switch) meets every way a goroutine
// can have left its M: yielders resume one another directly; receivers
// parked in a channel and readied by a plain thread (so onto the global
// queue) resume from a direct switch; a yielder whose P has local work
// goes through g0, and a directly yielded one may next be run by g0 on
// another M. Nothing may be lost or run twice, and the lock must be
// released on every path (a leak hangs the runtime).
TEST_P(GoroutineP, DirectYieldMeetsEveryResumePath) {
  constexpr int kYielders = 4, kReceivers = 3;
  constexpr int64_t kYields = 20000, kValues = 3000;
  auto yields = std::make_shared<std::atomic<int64_t>>(0);
  auto sum = std::make_shared<std::atomic<int64_t>>(0);
  ChanRef c = make_chan(sizeof(int64_t), 0);
  Group yielders, receivers, sender;
  for (int i = 0; i < kYielders; i++) {
    yielders.go([yields, i] {
      for (int64_t k = 0; k < kYields; k++) {
        gmp_yield();
        (*yields)++;
        // Now and then leave local work behind: the next yield goes via g0.
        if (k % 97 == i) {
          ASSERT_EQ(go([] {}), GMP_OK);
        }
      }
    });
  }
  for (int r = 0; r < kReceivers; r++) {
    receivers.go([c, sum] {
      for (RecvResult x; (x = recv_i64(c)).rc == GMP_OK;) {
        *sum += x.v;
        gmp_yield();
      }
    });
  }
  sender.thread([c] {
    for (int64_t v = 1; v <= kValues; v++) ASSERT_EQ(send_i64(c, v), GMP_OK);
  });
  ASSERT_TRUE(sender.wait());
  ASSERT_TRUE(yielders.wait());
  ASSERT_EQ(gmp_chan_close(c), GMP_OK);
  ASSERT_TRUE(receivers.wait());
  EXPECT_EQ(yields->load(), kYielders * kYields);
  EXPECT_EQ(sum->load(), kValues * (kValues + 1) / 2);
  EXPECT_TRUE(no_goroutines_left());
}

TEST(Goroutine, YieldOnPlainThreadReturns) {
  for (int i = 0; i < 100; i++) gmp_yield();
  std::thread([] { gmp_yield(); }).join();
  SUCCEED();
}

TEST(Goroutine, PreemptPointReturns) {
  gmp_preempt_point();
  EXPECT_TRUE(run_goroutine([] {
    for (int i = 0; i < 100000; i++) gmp_preempt_point();
  }));
}

// gmp_exit ends the goroutine at once, from any depth; nothing after it runs.
std::atomic<int> g_exit_before{0}, g_exit_after{0};
__attribute__((noinline)) void exit_deep(int depth) {
  if (depth == 0) {
    gmp_exit();
    g_exit_after++;  // must never run
    return;
  }
  exit_deep(depth - 1);
  g_exit_after++;  // must never run
}

TEST_P(GoroutineP, ExitEndsTheGoroutine) {
  constexpr int kN = 1000;
  g_exit_before = 0;
  g_exit_after = 0;
  ASSERT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }))
      << "left over from another test: " << gmp_num_goroutine();
  for (int i = 0; i < kN; i++) {
    ASSERT_EQ(gmp_go(
                  [](void* d) {
                    g_exit_before++;
                    exit_deep(static_cast<int>(reinterpret_cast<intptr_t>(d)));
                    g_exit_after++;  // must never run
                  },
                  reinterpret_cast<void*>(intptr_t(i % 8))),
              GMP_OK);
  }
  EXPECT_TRUE(wait_until([] { return g_exit_before.load() == kN; }));
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; })) << gmp_num_goroutine();
  EXPECT_EQ(g_exit_after.load(), 0);
}

TEST(Goroutine, ExitOnPlainThreadReturns) {
  int after = 0;
  gmp_exit();
  after++;
  std::thread([&] {
    gmp_exit();
    after++;
  }).join();
  EXPECT_EQ(after, 2);
}

TEST(Goroutine, GoidZeroOutsideGoroutines) {
  EXPECT_EQ(gmp_goid(), 0u);
  uint64_t in_thread = 1;
  std::thread([&] { in_thread = gmp_goid(); }).join();
  EXPECT_EQ(in_thread, 0u);
}

TEST(Goroutine, GoidStableWithinGoroutine) {
  EXPECT_TRUE(run_goroutine([] {
    const uint64_t id = gmp_goid();
    EXPECT_NE(id, 0u);
    for (int i = 0; i < 1000; i++) {
      gmp_yield();
      ASSERT_EQ(gmp_goid(), id);
    }
  }));
}

// Ids are unique across goroutines created from many goroutines and threads
// at once, and across two waves (the second reuses the first's dead Gs).
TEST(Goroutine, GoidsAreUnique) {
  constexpr int kSpawners = 6, kEach = kSanitized ? sized(3000, 500) : 20000, kWaves = 2;
  constexpr int kTotal = kSpawners * kEach;
  std::vector<uint64_t> all;
  for (int wave = 0; wave < kWaves; wave++) {
    auto ids = std::make_shared<std::vector<std::atomic<uint64_t>>>(kTotal);
    auto done = std::make_shared<std::atomic<int>>(0);
    std::vector<std::thread> ts;
    for (int s = 0; s < kSpawners; s++) {
      auto spawn = [ids, done, s] {
        for (int j = 0; j < kEach; j++) {
          const int slot = s * kEach + j;
          ASSERT_EQ(go([ids, done, slot] {
                      (*ids)[slot] = gmp_goid();
                      (*done)++;
                    }),
                    GMP_OK);
        }
      };
      if (s % 2 == 0) {
        ASSERT_EQ(go(spawn), GMP_OK);  // from a goroutine
      } else {
        ts.emplace_back(spawn);  // from a plain thread
      }
    }
    for (auto& t : ts) t.join();
    ASSERT_TRUE(wait_until([&] { return done->load() == kTotal; })) << done->load();
    for (auto& id : *ids) all.push_back(id.load());
  }
  EXPECT_EQ(std::count(all.begin(), all.end(), 0u), 0);
  std::sort(all.begin(), all.end());
  auto dup = std::adjacent_find(all.begin(), all.end());
  EXPECT_EQ(dup, all.end()) << "goroutine id " << (dup != all.end() ? *dup : 0) << " reused";
}

TEST(Goroutine, NumGoroutineCountsLiveGoroutines) {
  constexpr int kN = 200;
  ASSERT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }))
      << "left over from another test: " << gmp_num_goroutine();
  std::vector<std::unique_ptr<Parked>> ps;
  for (int i = 0; i < kN; i++) {
    ps.push_back(std::make_unique<Parked>());
    Parked* p = ps.back().get();
    ASSERT_EQ(go([p] { park_here(p); }), GMP_OK);
  }
  EXPECT_TRUE(wait_until([&] {
    for (auto& p : ps) {
      if (!p->parked.load()) return false;
    }
    return true;
  }));
  EXPECT_EQ(gmp_num_goroutine(), kN) << "parked goroutines count as live";
  // A running goroutine counts too.
  auto seen = std::make_shared<std::atomic<int>>(-1);
  EXPECT_TRUE(run_goroutine([seen] { *seen = gmp_num_goroutine(); }));
  EXPECT_EQ(seen->load(), kN + 1);
  for (auto& p : ps) gmp_ready(p->g.load());
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; })) << gmp_num_goroutine();
  // The Parked records outlive every access (gmp_num_goroutine promises no
  // ordering with the exited goroutines' writes; resumed does).
  EXPECT_TRUE(wait_until([&] {
    for (auto& p : ps) {
      if (!p->resumed.load()) return false;
    }
    return true;
  }));
}

// Stealing: goroutines all created by one goroutine (so they sit on its P's
// run queue) end up running on two threads. Each one spins without any
// runtime call until a goroutine has run on a second thread, so the first
// keeps its thread busy and only another P, taking work from the first P's
// queue, can make progress. No timing decides the result: it fails only if
// no second thread ever runs one (after a generous bound).
TEST(Goroutine, WorkSpreadsToAnotherP) {
  constexpr int kWorkers = 64;
  struct State {
    std::atomic<pid_t> first{0};
    std::atomic<bool> two{false};
    std::atomic<int> done{0};
    std::chrono::steady_clock::time_point deadline;
  };
  const int prev = gmp_maxprocs(2);
  auto st = std::make_shared<State>();
  st->deadline = std::chrono::steady_clock::now() + kLiveness;
  ASSERT_EQ(go([st] {
              for (int i = 0; i < kWorkers; i++) {
                ASSERT_EQ(
                    go([st] {
                      pid_t me = tid(), expected = 0;
                      if (!st->first.compare_exchange_strong(expected, me) && expected != me) {
                        st->two = true;
                      }
                      spin_until([&] {
                        return st->two.load() || std::chrono::steady_clock::now() > st->deadline;
                      });
                      st->done++;
                    }),
                    GMP_OK);
              }
            }),
            GMP_OK);
  EXPECT_TRUE(wait_until([&] { return st->done.load() == kWorkers; }, kLiveness * 2));
  EXPECT_TRUE(st->two.load()) << "all goroutines ran on one thread: no P took work from another";
  gmp_maxprocs(prev);
}

// Out of memory for a stack: GMP_ENOMEM and the runtime stays usable. The
// address-space limit makes a GMP_STACK_MAX reservation fail. (Not under
// sanitizers: their shadow memory needs terabytes of address space.)
GMPRT_CHILD(StackEnomem) {
  static std::atomic<int> ran{0};
  CHILD_CHECK_EQ(gmp_init(), 0);
  // Warm up: start the scheduler threads.
  for (int i = 0; i < 100; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load() == 100; }));
  long vm_kb = 0;
  if (FILE* f = fopen("/proc/self/status", "r")) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      if (sscanf(line, "VmSize: %ld kB", &vm_kb) == 1) break;
    }
    fclose(f);
  }
  CHILD_CHECK(vm_kb > 0);
  // Room for ordinary stacks and a few threads, not for a GMP_STACK_MAX one.
  struct rlimit rl;
  rl.rlim_cur = rl.rlim_max = rlim_t(vm_kb) * 1024 + (rlim_t(256) << 20);
  CHILD_CHECK_EQ(setrlimit(RLIMIT_AS, &rl), 0);
  gmp_go_opts_t o = {sizeof(gmp_go_opts_t), GMP_STACK_MAX, "huge", 0};
  CHILD_CHECK_EQ(gmp_go_ex([](void*) { ran += 1000; }, nullptr, &o), GMP_ENOMEM);
  // Still usable.
  for (int i = 0; i < 100; i++) CHILD_CHECK_EQ(gmp_go([](void*) { ran++; }, nullptr), 0);
  CHILD_CHECK(wait_until([] { return ran.load() == 200; }));
  static std::atomic<bool> main_ran{false};
  CHILD_CHECK_EQ(gmp_main([](void*) { main_ran = true; }, nullptr), 0);
  CHILD_CHECK(main_ran.load());
  return 0;
}

TEST(Goroutine, StackOutOfMemoryIsEnomem) {
  if (kSanitized) GTEST_SKIP() << "RLIMIT_AS cannot be used with sanitizer shadow memory";
  auto r = run_child("StackEnomem");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
}

}  // namespace
