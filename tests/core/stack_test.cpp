// stack_test.cpp -- white-box tests of core/stack.cpp: slab allocation at
// scale, reuse through the pool, own mappings, both guard modes, the
// vm.max_map_count message, and the overflow handler's one-line verdict
// (death tests running a raw fiber into its guard page).
//
// Every test starts and ends with stack_release_all(), so each one sees the
// allocator from scratch (and release_all itself is exercised every time).
// The overflow handler is installed only inside death-test children: it is
// once per process, and the chaining tests need to install a handler of
// their own before it.
#include "core/stack.hpp"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#if defined(GMPRT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include "core/config.hpp"
#include "core/context.hpp"
#include "core/g.hpp"
#include "core/m.hpp"
#include "core/sched.hpp"

namespace gmprt {
namespace {

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

constexpr const char* kHex = "0x[0-9a-f]+";

// overflow_re: the handler's line for a guard hit; who is "" or
// "goroutine N (name): ".
std::string overflow_re(const char* who) {
  std::string re = std::string("gmp: ") + who + "stack overflow \\(fault at " + kHex + ", stack " +
                   kHex + "-" + kHex + "\\)";
#if defined(GMPRT_ASAN)
  // Under ASan our handler still runs first (ASan lets a program install its
  // own SIGSEGV handler: allow_user_segv_handler defaults to 1), but accept
  // ASan's own report too, should ASAN_OPTIONS turn that option off.
  re = "(" + re + "|AddressSanitizer: (stack-overflow|SEGV))";
#endif
  return re;
}

size_t maps_lines() {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return 0;
  size_t n = 0;
  int c;
  while ((c = fgetc(f)) != EOF)
    if (c == '\n') n++;
  fclose(f);
  return n;
}

// maps_lines_holding: lines of /proc/self/maps whose range holds at least
// one of the (sorted) addresses.
size_t maps_lines_holding(const std::vector<uintptr_t>& sorted) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return 0;
  char line[512];
  size_t n = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) != 2) continue;
    auto it = std::lower_bound(sorted.begin(), sorted.end(), uintptr_t(lo));
    n += it != sorted.end() && *it < hi;
  }
  fclose(f);
  return n;
}

// maps_has_guard: /proc/self/maps has a PROT_NONE mapping starting at addr.
bool maps_has_guard(const void* addr) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return false;
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3)
      found = lo == reinterpret_cast<uintptr_t>(addr) && strncmp(perms, "---p", 4) == 0;
  }
  fclose(f);
  return found;
}

// kernel_has_guard_install: probe MADV_GUARD_INSTALL ourselves.
bool kernel_has_guard_install() {
  void* p = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  bool ok = madvise(p, kPageSize, MADV_GUARD_INSTALL) == 0;
  munmap(p, kPageSize);
  return ok;
}

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // stack_release_all unmaps every stack, so these tests need a process in
    // which the runtime has not started (ctest runs each test alone; a
    // direct run of the whole binary would run them after other tests).
    if (gmprt::runtime_started()) GTEST_SKIP() << "the runtime runs in this process";
    stack_force_mprotect_guards(false);
    stack_release_all();
  }
  void TearDown() override {
    if (gmprt::runtime_started()) return;
    stack_release_all();
    stack_force_mprotect_guards(false);
  }
};

using StackDeathTest = StackTest;

// ---- Raw fibers for the overflow tests. ----

Fiber main_fiber;
Fiber test_fiber;
volatile int recurse_sink = 1;

__attribute__((noinline)) int recurse(int depth) {
  volatile char pad[200];
  pad[0] = char(depth);
  // recurse_sink is never 0, but the compiler cannot know: no tail call, no
  // "infinite recursion" warning.
  if (recurse_sink) return recurse(depth + 1) + pad[0];
  return pad[0];
}

void overflow_entry(void*) {
  fiber_started();
  recurse(0);
  abort();
}

// overflow_on: run a fiber that recurses without end on s.
void overflow_on(const Stack& s) {
  stack_install_overflow_handler();
  stack_thread_init();
  fiber_init_thread(&main_fiber);
  fiber_make(&test_fiber, s.lo, s.size, overflow_entry, nullptr);
  fiber_switch(&main_fiber, &test_fiber, false);
}

struct RunArgs {
  int depth;
  int result;
};

__attribute__((noinline)) int bounded(int depth) {
  volatile char pad[200];
  pad[0] = 1;
  return depth ? bounded(depth - 1) + pad[0] : 0;
}

void bounded_entry(void* p) {
  fiber_started();
  auto* a = static_cast<RunArgs*>(p);
  a->result = bounded(a->depth);
  fiber_switch(&test_fiber, &main_fiber, true);
  abort();
}

// ---- Allocation ----

TEST_F(StackTest, GuardModeMatchesKernel) {
  const char* mode = stack_guard_mode();
  EXPECT_STREQ(mode, kernel_has_guard_install() ? "madvise" : "mprotect");
  stack_force_mprotect_guards(true);
  EXPECT_STREQ(stack_guard_mode(), "mprotect");
  stack_force_mprotect_guards(false);
  EXPECT_STREQ(stack_guard_mode(), mode);
}

TEST_F(StackTest, DefaultStackAndReuse) {
  Stack a;
  ASSERT_TRUE(stack_alloc(0, &a));
  EXPECT_EQ(a.size, kDefaultStackSize);
  EXPECT_EQ(a.map_base, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.lo) % kPageSize, 0u);
  static_cast<char*>(a.lo)[0] = 1;
  static_cast<char*>(a.lo)[a.size - 1] = 2;
  size_t pooled = stack_pool_count();  // the rest of the first slab
  EXPECT_GT(pooled, 0u);
  void* lo = a.lo;
  stack_free(&a);
  EXPECT_EQ(a.lo, nullptr);
  EXPECT_EQ(a.size, 0u);
  EXPECT_EQ(stack_pool_count(), pooled + 1);
  stack_free(&a);  // a cleared Stack is ignored
  EXPECT_EQ(stack_pool_count(), pooled + 1);

  Stack b;
  ASSERT_TRUE(stack_alloc(kDefaultStackSize, &b));
  EXPECT_EQ(b.lo, lo) << "the pool is LIFO";
  EXPECT_EQ(static_cast<char*>(b.lo)[b.size - 1], 2) << "a warm stack keeps its pages";
  stack_free(&b);
}

TEST_F(StackTest, TwoHundredThousandStacks) {
  constexpr size_t kN = 200000;
  std::vector<Stack> stacks(kN);
  for (size_t i = 0; i < kN; i++) {
    ASSERT_TRUE(stack_alloc(kDefaultStackSize, &stacks[i])) << i;
    static_cast<volatile char*>(stacks[i].lo)[kDefaultStackSize - 1] = char(i | 1);
  }
  std::vector<uintptr_t> los(kN);
  for (size_t i = 0; i < kN; i++) {
    los[i] = reinterpret_cast<uintptr_t>(stacks[i].lo);
    ASSERT_EQ(static_cast<volatile char*>(stacks[i].lo)[kDefaultStackSize - 1], char(i | 1));
  }
  std::sort(los.begin(), los.end());
  if (strcmp(stack_guard_mode(), "madvise") == 0) {
    size_t ours = maps_lines_holding(los);
    EXPECT_LT(ours, 100u);
#if !defined(GMPRT_TSAN)
    // TSan maps its shadow piecemeal next to what the program touches
    // (thousands of lines here), so only our own mappings are counted there.
    EXPECT_LT(maps_lines(), 1000u);
#endif
    printf("/proc/self/maps: %zu lines, %zu of them holding the %zu stacks\n", maps_lines(), ours,
           kN);
  }
  for (size_t i = 1; i < kN; i++)  // no two stacks (with their guards) overlap
    ASSERT_GE(los[i] - los[i - 1], kDefaultStackSize + kGuardSize);

  for (size_t i = 0; i < kN; i++) stack_free(&stacks[i]);
  EXPECT_EQ(stack_pool_count(), kN);  // 200,000 = 3,125 whole slabs
  // All but the first few freed stacks had their pages returned (their
  // memory reads as zero again while it sits in the pool).
  size_t still_warm = 0;
  for (size_t i = 0; i < kN; i++)
    still_warm += reinterpret_cast<volatile char*>(los[i])[kDefaultStackSize - 1] != 0;
  EXPECT_LT(still_warm, kN / 10);

  // Reuse: the same number of stacks again comes entirely from the pool.
  for (size_t i = 0; i < kN; i++) {
    ASSERT_TRUE(stack_alloc(kDefaultStackSize, &stacks[i]));
    ASSERT_TRUE(
        std::binary_search(los.begin(), los.end(), reinterpret_cast<uintptr_t>(stacks[i].lo)));
  }
  EXPECT_EQ(stack_pool_count(), 0u);
  for (size_t i = 0; i < kN; i++) stack_free(&stacks[i]);
}

TEST_F(StackTest, ReleaseAllStartsAfresh) {
  Stack a;
  ASSERT_TRUE(stack_alloc(kDefaultStackSize, &a));
  Stack own;
  ASSERT_TRUE(stack_alloc(64 * 1024, &own));
  stack_release_all();  // unmaps both, although still handed out
  EXPECT_EQ(stack_pool_count(), 0u);
  Stack b;
  ASSERT_TRUE(stack_alloc(kDefaultStackSize, &b));
  static_cast<char*>(b.lo)[0] = 1;
  stack_free(&b);
}

#if defined(GMPRT_ASAN)
// Frames leave poisoned shadow on a stack; stack_release_all must clear it,
// or a later mapping at the same address would report false errors.
TEST_F(StackTest, ReleaseAllClearsAsanShadow) {
  Stack a, own;
  ASSERT_TRUE(stack_alloc(kDefaultStackSize, &a));
  ASSERT_TRUE(stack_alloc(100 * 1024, &own));
  Stack ranges[2] = {a, own};
  ASAN_POISON_MEMORY_REGION(a.lo, a.size);
  ASAN_POISON_MEMORY_REGION(own.lo, own.size);
  stack_release_all();
  for (const Stack& s : ranges) {
    void* p = mmap(s.lo, s.size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ASSERT_EQ(p, s.lo);
    EXPECT_EQ(__asan_region_is_poisoned(p, s.size), nullptr);
    munmap(p, s.size);
  }
}
#endif

TEST_F(StackTest, CustomSizes) {
  const size_t sizes[] = {16 * 1024, 100000, kDefaultStackSize + 1, 1 << 20, 64 << 20};
  for (size_t req : sizes) {
    Stack s;
    ASSERT_TRUE(stack_alloc(req, &s)) << req;
    size_t want = (req + kPageSize - 1) / kPageSize * kPageSize;
    EXPECT_EQ(s.size, want);
    ASSERT_NE(s.map_base, nullptr);
    EXPECT_EQ(s.map_size, want + kGuardSize);
    EXPECT_EQ(s.lo, static_cast<char*>(s.map_base) + kGuardSize);
    static_cast<volatile char*>(s.lo)[0] = 1;
    static_cast<volatile char*>(s.lo)[s.size - 1] = 1;
    stack_free(&s);
    EXPECT_EQ(s.lo, nullptr);
    EXPECT_EQ(s.map_base, nullptr);
  }
  // Registry slots are reused: many own stacks in turn, some held at once.
  std::vector<Stack> held(100);
  for (int round = 0; round < 3; round++) {
    for (auto& s : held) ASSERT_TRUE(stack_alloc(32 * 1024, &s));
    for (auto& s : held) stack_free(&s);
  }
}

TEST_F(StackTest, ImpossibleSizesFailCleanly) {
  Stack s;
  EXPECT_FALSE(stack_alloc(SIZE_MAX, &s));
  EXPECT_FALSE(stack_alloc(SIZE_MAX - kPageSize, &s));
  EXPECT_FALSE(stack_alloc(size_t(1) << 60, &s));  // more than the address space
  EXPECT_EQ(s.lo, nullptr);
  EXPECT_FALSE(stack_alloc(kDefaultStackSize, nullptr));
  ASSERT_TRUE(stack_alloc(kDefaultStackSize, &s));  // and the allocator still works
  stack_free(&s);
}

TEST_F(StackTest, MprotectFallback) {
  stack_force_mprotect_guards(true);
  ASSERT_STREQ(stack_guard_mode(), "mprotect");
  Stack s[4];
  for (auto& st : s) {
    ASSERT_TRUE(stack_alloc(kDefaultStackSize, &st));
    EXPECT_TRUE(maps_has_guard(static_cast<char*>(st.lo) - kGuardSize));
    static_cast<volatile char*>(st.lo)[0] = 1;
    static_cast<volatile char*>(st.lo)[st.size - 1] = 1;
  }
  Stack own;
  ASSERT_TRUE(stack_alloc(48 * 1024, &own));
  EXPECT_TRUE(maps_has_guard(own.map_base));
  stack_free(&own);
  for (auto& st : s) stack_free(&st);
}

TEST_F(StackTest, ConcurrentAllocFree) {
  constexpr int kThreads = 4, kRounds = 200, kHeld = 50;
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([t, &errors] {
      Stack held[kHeld];
      for (int r = 0; r < kRounds; r++) {
        for (auto& s : held) {
          size_t size = (r % 7 == 0) ? 32 * 1024 : kDefaultStackSize;
          if (!stack_alloc(size, &s)) errors[t]++;
          // Mark it ours; another thread holding the same stack would clobber it.
          *static_cast<volatile int*>(s.lo) = t;
        }
        for (auto& s : held) {
          if (*static_cast<volatile int*>(s.lo) != t) errors[t]++;
          stack_free(&s);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; t++) EXPECT_EQ(errors[t], 0) << "thread " << t;
}

TEST_F(StackTest, FiberRunsOnStack) {
  for (int i = 0; i < 3; i++) {
    Stack s;
    ASSERT_TRUE(stack_alloc(kDefaultStackSize, &s));
    RunArgs args{500, -1};  // ~120 KiB of frames
    fiber_init_thread(&main_fiber);
    fiber_make(&test_fiber, s.lo, s.size, bounded_entry, &args);
    fiber_switch(&main_fiber, &test_fiber, false);
    EXPECT_EQ(args.result, 500);
    fiber_destroy(&test_fiber);
    stack_free(&s);
  }
}

TEST_F(StackTest, AltStackPerThread) {
  std::thread th([] {
    stack_t before, during, after;
    ASSERT_EQ(sigaltstack(nullptr, &before), 0);
    stack_thread_init();
    stack_thread_init();  // idempotent
    ASSERT_EQ(sigaltstack(nullptr, &during), 0);
    EXPECT_FALSE(during.ss_flags & SS_DISABLE);
    if (before.ss_flags & SS_DISABLE)
      EXPECT_GE(during.ss_size, size_t(64 * 1024));
    else
      EXPECT_EQ(during.ss_sp, before.ss_sp);  // an existing one is kept
    stack_thread_fini();
    ASSERT_EQ(sigaltstack(nullptr, &after), 0);
    EXPECT_EQ(after.ss_flags & SS_DISABLE, before.ss_flags & SS_DISABLE);
  });
  th.join();
}

// ---- vm.max_map_count in mprotect mode ----
// Not under TSan: its own allocator needs new mappings too and dies first
// ("ThreadSanitizer failed to allocate ... (error code: 12)").
#if !defined(GMPRT_TSAN)
// In a child: exhaust the map count with mprotect guards; the allocator must
// fail (not crash), print the message exactly once and keep working after
// memory comes back.
void exhaust_map_count() {
  stack_force_mprotect_guards(true);
  char path[] = "/tmp/gmprt_stack_test_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) _exit(10);
  unlink(path);
  int saved = dup(2);
  dup2(fd, 2);
  std::vector<Stack> stacks;
  stacks.reserve(200000);
  bool failed = false;
  for (int i = 0; i < 200000 && !failed; i++) {
    Stack s;
    if (stack_alloc(kDefaultStackSize, &s))
      stacks.push_back(s);
    else
      failed = true;
  }
  Stack extra;
  bool again = stack_alloc(64 * 1024, &extra) || stack_alloc(kDefaultStackSize, &extra);
  dup2(saved, 2);
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  int messages = 0;
  for (const char* p = buf; (p = strstr(p, "vm.max_map_count (")) != nullptr; p++) messages++;
  stack_release_all();
  Stack after;
  bool works = stack_alloc(kDefaultStackSize, &after);
  fprintf(stderr, "%s\nfailed=%d stacks=%zu again=%d messages=%d works=%d\n", buf, failed,
          stacks.size(), again, messages, works);
  _exit(0);
}

TEST_F(StackDeathTest, MapCountExhaustedMessage) {
  EXPECT_EXIT(exhaust_map_count(), ::testing::ExitedWithCode(0),
              "gmp: cannot map a goroutine stack guard: the kernel's vm.max_map_count \\([0-9]+\\) "
              "is exhausted; raise it.*\nfailed=1 stacks=[0-9]+ again=[01] messages=1 works=1");
}
#endif

// ---- The overflow handler ----

TEST_F(StackDeathTest, RawFiberOverflowNamesTheStack) {
  EXPECT_EXIT(
      {
        Stack s;
        if (!stack_alloc(kDefaultStackSize, &s)) _exit(10);
        overflow_on(s);
      },
      ::testing::KilledBySignal(SIGABRT), overflow_re(""));
  EXPECT_DEATH(
      {
        Stack s;
        if (!stack_alloc(kDefaultStackSize, &s)) _exit(10);
        overflow_on(s);
      },
      overflow_re(""));
}

TEST_F(StackDeathTest, GoroutineOverflowNamesTheGoroutine) {
  EXPECT_DEATH(
      {
        static M m;
        static G g;
        if (!stack_alloc(kDefaultStackSize, &g.stack)) _exit(10);
        g.goid = 42;
        strcpy(g.name, "deep");
        m.curg = &g;
        set_current_m(&m);
        overflow_on(g.stack);
      },
      overflow_re("goroutine 42 \\(deep\\): "));
  EXPECT_DEATH(
      {
        static M m;
        static G g;
        if (!stack_alloc(128 * 1024, &g.stack)) _exit(10);
        g.goid = 7;  // no name: no parentheses
        m.curg = &g;
        set_current_m(&m);
        overflow_on(g.stack);
      },
      overflow_re("goroutine 7: "));
}

TEST_F(StackDeathTest, OwnStackOverflow) {
  EXPECT_DEATH(
      {
        Stack s;
        if (!stack_alloc(64 * 1024, &s)) _exit(10);
        overflow_on(s);
      },
      overflow_re(""));
}

TEST_F(StackDeathTest, MprotectGuardOverflow) {
  EXPECT_DEATH(
      {
        stack_force_mprotect_guards(true);
        Stack s;
        if (!stack_alloc(kDefaultStackSize, &s)) _exit(10);
        overflow_on(s);
      },
      overflow_re(""));
}

void previous_handler(int, siginfo_t*, void*) {
  const char msg[] = "previous handler ran\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(3);
}

// fault_outside_stacks: a SIGSEGV that is no stack's guard.
void fault_outside_stacks() {
  void* p = mmap(nullptr, kPageSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) _exit(10);
  *static_cast<volatile char*>(p) = 1;
}

TEST_F(StackDeathTest, OtherFaultsGoToThePreviousHandler) {
  EXPECT_EXIT(
      {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = previous_handler;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, nullptr);
        stack_install_overflow_handler();
        stack_install_overflow_handler();  // idempotent: still chains, once
        Stack s;
        if (!stack_alloc(kDefaultStackSize, &s)) _exit(10);
        fault_outside_stacks();
      },
      ::testing::ExitedWithCode(3), "previous handler ran");
}

#if !defined(GMPRT_ASAN)
// Under ASan the previous SIGSEGV handler is ASan's own, not SIG_DFL, so the
// process ends with ASan's report and exit code instead.
TEST_F(StackDeathTest, OtherFaultsWithDefaultActionStillKill) {
  EXPECT_EXIT(
      {
        signal(SIGSEGV, SIG_DFL);
        stack_install_overflow_handler();
        fault_outside_stacks();
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}
#endif

}  // namespace
}  // namespace gmprt
