// bad_input_test.cpp -- every NULL, zero or out-of-range argument of the
// Runtime, Goroutines and Parking calls gives its documented code (or is
// ignored where the header says so), never a crash, and changes nothing.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

std::atomic<int> g_ran{0};
void count_fn(void*) { g_ran++; }

// Calls that must fail never start a goroutine: the live count and the
// count of bodies run do not move.
class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(gmp_init(), GMP_OK);
    ASSERT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }))
        << "left over from another test: " << gmp_num_goroutine();
    g_ran = 0;
  }
  void TearDown() override {
    EXPECT_EQ(gmp_num_goroutine(), 0);
    EXPECT_EQ(g_ran.load(), 0);
  }
};

TEST_F(BadInput, GoNullFn) {
  EXPECT_EQ(gmp_go(nullptr, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_go(nullptr, &g_ran), GMP_EINVAL);
  EXPECT_EQ(gmp_go_ex(nullptr, nullptr, nullptr), GMP_EINVAL);
  gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, "x", 0};
  EXPECT_EQ(gmp_go_ex(nullptr, nullptr, &o), GMP_EINVAL);
  std::thread([] { EXPECT_EQ(gmp_go(nullptr, nullptr), GMP_EINVAL); }).join();
}

TEST_F(BadInput, GoNullFnFromGoroutine) {
  auto rc = std::make_shared<std::atomic<int>>(1);
  // This goroutine itself is counted while it runs; check its result only.
  EXPECT_TRUE(run_goroutine([rc] { *rc = gmp_go(nullptr, nullptr); }));
  EXPECT_EQ(rc->load(), GMP_EINVAL);
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
}

TEST_F(BadInput, GoExStructSize) {
  // Room for a caller whose struct is up to 4096 bytes.
  alignas(gmp_go_opts_t) unsigned char buf[8192] = {};
  auto* o = reinterpret_cast<gmp_go_opts_t*>(buf);
  const size_t bad[] = {0,
                        1,
                        offsetof(gmp_go_opts_t, name),  // the first two members only
                        3 * sizeof(void*) - 1,  // one short of the first version
                        4097,
                        8192,
                        SIZE_MAX};
  for (size_t s : bad) {
    o->struct_size = s;
    EXPECT_EQ(gmp_go_ex(count_fn, nullptr, o), GMP_EINVAL) << "struct_size " << s;
  }
}

TEST_F(BadInput, GoExStackSize) {
  const size_t bad[] = {
      1, 4096, GMP_STACK_MIN - 1, GMP_STACK_MAX + 1, GMP_STACK_MAX * 2, SIZE_MAX / 2, SIZE_MAX};
  for (size_t s : bad) {
    gmp_go_opts_t o = {sizeof(gmp_go_opts_t), s, "bad-stack", 0};
    EXPECT_EQ(gmp_go_ex(count_fn, nullptr, &o), GMP_EINVAL) << "stack_size " << s;
  }
}

TEST(BadInputOk, GoExBoundaryValuesAccepted) {
  std::atomic<int> ran{0};
  // The smallest and the largest accepted struct_size, stack_size at both
  // bounds, no name.
  alignas(gmp_go_opts_t) unsigned char buf[4096] = {};
  auto* big = reinterpret_cast<gmp_go_opts_t*>(buf);
  big->struct_size = sizeof buf;
  gmp_go_opts_t lo = {sizeof(gmp_go_opts_t), GMP_STACK_MIN, nullptr, 0};
  gmp_go_opts_t hi = {sizeof(gmp_go_opts_t), GMP_STACK_MAX, nullptr, 0};
  const gmp_go_opts_t* all[] = {big, &lo, &hi, nullptr};
  for (const gmp_go_opts_t* o : all) {
    EXPECT_EQ(gmp_go_ex([](void* r) { ++*static_cast<std::atomic<int>*>(r); }, &ran, o), GMP_OK);
  }
  EXPECT_TRUE(wait_until([&] { return ran.load() == 4; }));
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
}

TEST_F(BadInput, MaxprocsAboveMaximum) {
  const int cur = gmp_maxprocs(0);
  EXPECT_EQ(gmp_maxprocs(GMP_MAXPROCS_MAX + 1), GMP_EINVAL);
  EXPECT_EQ(gmp_maxprocs(INT_MAX), GMP_EINVAL);
  EXPECT_EQ(gmp_maxprocs(0), cur) << "a failed call changes nothing";
}

TEST_F(BadInput, SetMaxThreadsNonPositive) {
  const int cur = gmp_set_max_threads(9000);
  EXPECT_EQ(gmp_set_max_threads(0), GMP_EINVAL);
  EXPECT_EQ(gmp_set_max_threads(-1), GMP_EINVAL);
  EXPECT_EQ(gmp_set_max_threads(INT_MIN), GMP_EINVAL);
  EXPECT_EQ(gmp_set_max_threads(cur), 9000) << "a failed call changes nothing";
}

TEST_F(BadInput, MainNullFn) {
  EXPECT_EQ(gmp_main(nullptr, nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_main(nullptr, &g_ran), GMP_EINVAL);
}

TEST_F(BadInput, ReadyNullIsIgnored) {
  gmp_ready(nullptr);
  std::thread([] { gmp_ready(nullptr); }).join();
}

TEST_F(BadInput, GoroutineCallsOnPlainThreadAreHarmless) {
  // Misuse the runtime ignores: each returns at once and changes nothing.
  gmp_park(nullptr, nullptr);
  gmp_park(
      [](gmp_g_t*, void*) {
        g_ran++;
        return 1;
      },
      nullptr);
  EXPECT_EQ(gmp_unlock_os_thread(), 0);
  EXPECT_EQ(gmp_lock_os_thread(), 0);
  EXPECT_EQ(gmp_unlock_os_thread(), 0);
  gmp_exit();
  gmp_yield();
  gmp_preempt_point();
  EXPECT_EQ(gmp_self(), nullptr);
  EXPECT_EQ(gmp_goid(), 0u);
}

TEST_F(BadInput, UnbalancedUnlockOnGoroutine) {
  auto ok = std::make_shared<std::atomic<int>>(0);
  EXPECT_TRUE(run_goroutine([ok] {
    if (gmp_unlock_os_thread() == 0) (*ok)++;
    if (gmp_unlock_os_thread() == 0) (*ok)++;
    gmp_yield();  // still a normal goroutine
    if (gmp_lock_os_thread() == 0) (*ok)++;
    if (gmp_unlock_os_thread() == 0) (*ok)++;
    if (gmp_unlock_os_thread() == 0) (*ok)++;
  }));
  EXPECT_EQ(ok->load(), 5);
  EXPECT_TRUE(wait_until([] { return gmp_num_goroutine() == 0; }));
}

TEST_F(BadInput, StrerrorNeverNull) {
  for (int code = -100; code <= 100; code++) EXPECT_NE(gmp_strerror(code), nullptr) << code;
  EXPECT_NE(gmp_strerror(INT_MIN), nullptr);
  EXPECT_NE(gmp_strerror(INT_MAX), nullptr);
}

}  // namespace
