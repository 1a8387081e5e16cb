// context_test.cpp -- what a switch must keep: callee-saved state and the FP
// control words travel with the goroutine, whichever thread it resumes on.
#include <fenv.h>
#include <gmprt.h>
#include <gtest/gtest.h>
#include <xmmintrin.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

struct Result {
  int mode = 0;
  std::atomic<int> bad{0};
  std::atomic<bool> done{false};
};

void keep_rounding(void* arg) {
  auto* r = static_cast<Result*>(arg);
  fesetround(r->mode);
  for (int i = 0; i < 20000; i++) {
    gmp_yield();
    if (fegetround() != r->mode) r->bad.fetch_add(1);
  }
  fesetround(FE_TONEAREST);
  r->done.store(true);
}

void keep_mxcsr_flush_to_zero(void* arg) {
  auto* r = static_cast<Result*>(arg);
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  for (int i = 0; i < 20000; i++) {
    gmp_yield();
    if (_MM_GET_FLUSH_ZERO_MODE() != _MM_FLUSH_ZERO_ON) r->bad.fetch_add(1);
  }
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_OFF);
  r->done.store(true);
}

bool wait_done(Result* rs, int n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    bool all = true;
    for (int i = 0; i < n; i++) all = all && rs[i].done.load();
    if (all) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(Context, RoundingModeTravelsWithTheGoroutine) {
  ASSERT_EQ(gmp_init(), 0);
  const int modes[] = {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO, FE_TONEAREST};
  Result rs[4];
  for (int i = 0; i < 4; i++) {
    rs[i].mode = modes[i];
    ASSERT_EQ(gmp_go(keep_rounding, &rs[i]), 0);
  }
  ASSERT_TRUE(wait_done(rs, 4));
  for (auto& r : rs) EXPECT_EQ(r.bad.load(), 0) << "mode " << r.mode;
}

TEST(Context, MxcsrTravelsWithTheGoroutine) {
  ASSERT_EQ(gmp_init(), 0);
  Result rs[2];
  ASSERT_EQ(gmp_go(keep_mxcsr_flush_to_zero, &rs[0]), 0);
  rs[1].mode = FE_TONEAREST;
  ASSERT_EQ(gmp_go(keep_rounding, &rs[1]), 0);
  ASSERT_TRUE(wait_done(rs, 2));
  EXPECT_EQ(rs[0].bad.load(), 0);
  EXPECT_EQ(rs[1].bad.load(), 0);
}

}  // namespace
