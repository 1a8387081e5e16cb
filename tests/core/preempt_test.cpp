// preempt_test.cpp -- which code asynchronous preemption treats as never
// safe to interrupt (core/preempt.cpp): the C library, the vDSO and
// libstdc++ are; the program's own code is not.
#include "core/preempt.hpp"

#include <gtest/gtest.h>
#include <string.h>
#include <sys/auxv.h>

#include <exception>

namespace {

#if defined(GMPRT_TSAN)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

__attribute__((noinline)) int own_code(int x) { return x * 3 + 1; }

TEST(Preempt, LibraryCodeIsNeverASafePoint) {
  gmprt::async_preempt_enable();
  if (kTsan) GTEST_SKIP() << "asynchronous preemption is off under TSan";
  size_t (*libc_fn)(const char*) = strlen;  // libc's, or a sanitizer's interceptor
  EXPECT_TRUE(gmprt::async_preempt_unsafe_pc(reinterpret_cast<uintptr_t>(libc_fn)));
  uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
  if (vdso) {
    EXPECT_TRUE(gmprt::async_preempt_unsafe_pc(vdso));
  }
  EXPECT_TRUE(gmprt::async_preempt_unsafe_pc(reinterpret_cast<uintptr_t>(&std::get_terminate)));
  EXPECT_FALSE(gmprt::async_preempt_unsafe_pc(reinterpret_cast<uintptr_t>(&own_code)));
  EXPECT_EQ(own_code(1), 4);
}

}  // namespace
