// runtime_fixture.hpp -- helpers shared by the black-box tests (tests/api).
//
// Everything here goes through <gmprt.h> only. The pieces:
//   go(body)              start a goroutine running a C++ callable
//   run_goroutine(body)   run body on a goroutine and wait for it (bounded)
//   run_main(body)        run body as the main goroutine with gmp_main
//   Parked / park_here    park the calling goroutine so that another
//                         goroutine or thread can find it and gmp_ready it
//   MaxprocsTest          a fixture parameterised by GOMAXPROCS {1, 2, 4}
//   tid(), task_exists(), thread_count(), maps_lines()   /proc observations
//
// Tests in one process share one runtime, so every in-process test leaves no
// goroutine behind and restores what it changes (GOMAXPROCS, thread limit).
// Anything that needs a fresh runtime or changes process-wide limits runs in
// a child process (child_process.hpp).
#pragma once

#include <dirent.h>
#include <gmprt.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "wait_until.hpp"

namespace gmprt_test {

// kMany: the size of the "million goroutines" tests; smaller under
// sanitizers, whose per-goroutine cost is much higher (and TSan stops at
// 8128 live fibers).
inline constexpr int kMany = kTsan ? 5000 : kSanitized ? 100000 : 1000000;

// tid: the calling thread's kernel thread id.
inline pid_t tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// task_exists: whether thread `t` of this process still exists.
inline bool task_exists(pid_t t) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d", static_cast<int>(t));
  return access(path, F_OK) == 0;
}

// thread_count: the number of threads of this process.
inline int thread_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(d);
  return n;
}

// maps_lines: the number of mappings (VMAs) of this process.
inline long maps_lines() {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  long n = 0;
  int c;
  while ((c = fgetc(f)) != EOF) {
    if (c == '\n') n++;
  }
  fclose(f);
  return n;
}

namespace detail {
inline void run_closure(void* arg) {
  auto* f = static_cast<std::function<void()>*>(arg);
  (*f)();
  delete f;
}
}  // namespace detail

// go: start a goroutine running body; returns gmp_go's result. The body
// must not call gmp_exit (its closure would leak); use a plain function then.
inline int go(std::function<void()> body) {
  auto* f = new std::function<void()>(std::move(body));
  int rc = gmp_go(detail::run_closure, f);
  if (rc != GMP_OK) delete f;
  return rc;
}

// run_goroutine: run body on a goroutine and wait until it has returned.
// Returns false if it could not be started or did not finish in time.
inline bool run_goroutine(std::function<void()> body,
                          std::chrono::milliseconds timeout = kLiveness) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  int rc = go([body = std::move(body), done] {
    body();
    done->store(true, std::memory_order_release);
  });
  if (rc != GMP_OK) return false;
  return wait_until([&] { return done->load(std::memory_order_acquire); }, timeout);
}

// run_main: run body as the main goroutine (gmp_main) and return gmp_main's
// result (0 once body has returned).
inline int run_main(const std::function<void()>& body) {
  return gmp_main([](void* arg) { (*static_cast<const std::function<void()>*>(arg))(); },
                  const_cast<std::function<void()>*>(&body));
}

// Parked: the rendezvous between a goroutine that parks and its waker. The
// commit publishes the handle only once the goroutine is off its stack, so a
// waker that sees `parked` may gmp_ready at once (the wakeup ends the park
// whether or not the scheduler has finished parking it).
struct Parked {
  std::atomic<gmp_g_t*> g{nullptr};
  std::atomic<int> parked{0};   // commit has run
  std::atomic<int> resumed{0};  // gmp_park has returned
};

inline int commit_publish(gmp_g_t* g, void* arg) {
  auto* p = static_cast<Parked*>(arg);
  p->g.store(g, std::memory_order_relaxed);
  p->parked.store(1, std::memory_order_release);
  return 1;
}

// park_here: park the calling goroutine until someone readies p->g.
inline void park_here(Parked* p) {
  gmp_park(commit_publish, p);
  p->resumed.store(1, std::memory_order_release);
}

// wake_when_parked: wait (bounded) until p has parked, then ready it.
inline bool wake_when_parked(Parked* p) {
  if (!wait_until([&] { return p->parked.load(std::memory_order_acquire) == 1; })) return false;
  gmp_ready(p->g.load(std::memory_order_relaxed));
  return true;
}

// MaxprocsTest: runs each test with GOMAXPROCS 1, 2 and 4 (marl's
// SchedulerParams); the previous value is restored afterwards.
class MaxprocsTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    prev_ = gmp_maxprocs(GetParam());
    ASSERT_GT(prev_, 0);
  }
  void TearDown() override {
    if (prev_ > 0) gmp_maxprocs(prev_);
  }
  int prev_ = 0;
};

#define GMPRT_INSTANTIATE_MAXPROCS(Fixture)       \
  INSTANTIATE_TEST_SUITE_P(                       \
      Procs, Fixture, ::testing::Values(1, 2, 4), \
      [](const ::testing::TestParamInfo<int>& i) { return "P" + std::to_string(i.param); })

}  // namespace gmprt_test
