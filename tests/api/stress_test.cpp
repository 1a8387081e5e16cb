// stress_test.cpp -- the "million goroutines" tests (suite Stress: ctest
// label "stress", run serially, not repeated in the env-variant runs).
// kMany is 1,000,000, or 100,000 under ASan (5,000 under TSan).
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

std::atomic<int> g_exited{0};
std::atomic<bool> g_spawned{false};

TEST(Stress, MillionGoroutinesSpawnAndExit) {
  ASSERT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
  g_exited = 0;
  g_spawned = false;
  // Spawned by one goroutine: the run queue overflows to the global queue
  // and the other Ps steal.
  ASSERT_EQ(gmp_go(
                [](void*) {
                  for (int i = 0; i < kMany; i++) {
                    if (gmp_go([](void*) { g_exited++; }, nullptr) != GMP_OK) return;
                  }
                  g_spawned = true;
                },
                nullptr),
            GMP_OK);
  ASSERT_TRUE(wait_until([] { return g_spawned.load(); }, kLiveness * 4));
  EXPECT_TRUE(wait_until([] { return g_exited.load() == kMany; }, kLiveness * 4))
      << g_exited.load() << " of " << kMany;
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; })) << gmp_num_goroutine();
}

TEST(Stress, MillionGoroutinesFromPlainThreads) {
  constexpr int kThreads = 4;
  ASSERT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
  g_exited = 0;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([] {
      for (int i = 0; i < kMany / kThreads; i++) {
        ASSERT_EQ(gmp_go([](void*) { g_exited++; }, nullptr), GMP_OK);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_TRUE(
      wait_until([] { return g_exited.load() == kMany / kThreads * kThreads; }, kLiveness * 4))
      << g_exited.load();
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
}

// A million goroutines parked at once (each registers its handle from the
// park commit), then all readied, half by a goroutine and half by a plain
// thread. While they are parked the process must stay far below the default
// vm.max_map_count (65530): stacks and guard pages may not cost a mapping
// each.
struct Million {
  std::vector<std::atomic<gmp_g_t*>> handles;
  std::atomic<int> parked{0};
  std::atomic<int> resumed{0};
  explicit Million(size_t n) : handles(n) {}
};
Million* g_million;

int register_parked(gmp_g_t* g, void* idx) {
  g_million->handles[reinterpret_cast<uintptr_t>(idx)].store(g, std::memory_order_relaxed);
  g_million->parked.fetch_add(1, std::memory_order_release);
  return 1;
}

void parker(void* idx) {
  gmp_park(register_parked, idx);
  g_million->resumed.fetch_add(1, std::memory_order_relaxed);
}

TEST(Stress, MillionGoroutinesParkedThenReadied) {
  ASSERT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
  Million m(kMany);
  g_million = &m;
  g_spawned = false;
  ASSERT_EQ(gmp_go(
                [](void*) {
                  for (int i = 0; i < kMany; i++) {
                    if (gmp_go(parker, reinterpret_cast<void*>(uintptr_t(i))) != GMP_OK) return;
                  }
                  g_spawned = true;
                },
                nullptr),
            GMP_OK);
  ASSERT_TRUE(wait_until([] { return g_spawned.load(); }, kLiveness * 4));
  ASSERT_TRUE(
      wait_until([&] { return m.parked.load(std::memory_order_acquire) == kMany; }, kLiveness * 4))
      << m.parked.load() << " of " << kMany << " parked";
  EXPECT_EQ(gmp_num_goroutine(), kMany);
  const long maps = maps_lines();
  // (TSan maps memory of its own for every fiber: not the runtime's.)
  if (!kTsan) {
    EXPECT_LT(maps, 5000) << "mappings with " << kMany << " goroutines parked";
  }
  RecordProperty("maps_lines_while_parked", static_cast<int>(maps));
  EXPECT_EQ(m.resumed.load(), 0);

  // Ready them all: even indices from a goroutine, odd ones from here.
  auto readier_done = std::make_shared<std::atomic<bool>>(false);
  ASSERT_EQ(go([&m, readier_done] {
              for (int i = 0; i < kMany; i += 2) gmp_ready(m.handles[i].load());
              *readier_done = true;
            }),
            GMP_OK);
  for (int i = 1; i < kMany; i += 2) gmp_ready(m.handles[i].load());
  EXPECT_TRUE(wait_until([&] { return readier_done->load(); }, kLiveness * 4));
  EXPECT_TRUE(wait_until([&] { return m.resumed.load() == kMany; }, kLiveness * 4))
      << m.resumed.load() << " of " << kMany << " resumed";
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }, kLiveness * 4))
      << gmp_num_goroutine();
}

}  // namespace
