// sync_test.cpp -- the Synchronisation section of gmprt.h: gmp_mutex_t,
// gmp_rwmutex_t, gmp_cond_t, gmp_waitgroup_t, gmp_once_t and gmp_sema_t,
// used from goroutines, plain threads and both at once (the intent of Go's
// sync tests: mutual exclusion, fairness, writer preference, FIFO wakeups,
// reuse, misuse that changes nothing, deadlock reports).
//
// Orders are checked without timing: a plain thread that waits is known to
// be queued once it sleeps in futex(2) on a word of its own stack (the
// runtime's waiter lives there; /proc/self/task/TID/syscall shows it), and a
// condition variable's waiters are ordered by when they held the mutex.
// Time appears only in liveness bounds (wait_until) and in the starvation
// test's generous bound.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

// ---------------------------------------------------------------- helpers

// Mix: who runs the workers of a test.
enum class Mix { goroutines, threads, mixed };

const char* mix_name(Mix m) {
  switch (m) {
    case Mix::goroutines:
      return "goroutines";
    case Mix::threads:
      return "threads";
    case Mix::mixed:
      return "mixed";
  }
  return "?";
}

constexpr Mix kMixes[] = {Mix::goroutines, Mix::threads, Mix::mixed};

// Crowd: workers started as goroutines or plain threads; join waits for all.
class Crowd {
 public:
  Crowd() : done_(std::make_shared<std::atomic<int>>(0)) {}
  ~Crowd() { join(); }

  // start: worker i runs body on a goroutine or a thread, as mix says
  // (mixed: even i on goroutines, odd i on threads).
  void start(Mix mix, int i, std::function<void()> body) {
    bool thread = mix == Mix::threads || (mix == Mix::mixed && i % 2 == 1);
    if (thread) {
      threads_.emplace_back(std::move(body));
      return;
    }
    auto done = done_;
    int rc = go([body = std::move(body), done] {
      body();
      done->fetch_add(1);
    });
    EXPECT_EQ(rc, GMP_OK);
    if (rc == GMP_OK) ngo_++;
  }

  // join: true once every worker has returned (bounded for goroutines).
  bool join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    return wait_until([&] { return done_->load() == ngo_; });
  }

 private:
  std::shared_ptr<std::atomic<int>> done_;
  int ngo_ = 0;
  std::vector<std::thread> threads_;
};

// ThreadSpot: where a plain thread lives, so that another thread can tell
// whether it sleeps in the runtime on a waiter of its own stack.
struct ThreadSpot {
  std::atomic<pid_t> tid{0};
  uintptr_t stack_lo = 0, stack_hi = 0;

  // here: record the calling thread (call it on that thread).
  void here() {
    pthread_attr_t a;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
      pthread_attr_getstack(&a, &addr, &size);
      pthread_attr_destroy(&a);
    }
    stack_lo = reinterpret_cast<uintptr_t>(addr);
    stack_hi = stack_lo + size;
    tid.store(gmprt_test::tid(), std::memory_order_release);
  }

  // asleep_on_own_stack: the thread sleeps in futex(2) on an address of its
  // own stack -- the runtime's waiter: it is queued and committed to sleep.
  bool asleep_on_own_stack() const {
    pid_t t = tid.load(std::memory_order_acquire);
    if (t == 0) return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", static_cast<int>(t));
    FILE* f = fopen(path, "r");
    if (!f) return false;
    long nr = -1;
    unsigned long arg0 = 0;
    int n = fscanf(f, "%ld %lx", &nr, &arg0);
    fclose(f);
    return n == 2 && nr == SYS_futex && arg0 >= stack_lo && arg0 < stack_hi;
  }
};

// locked_read: read a value guarded by m.
template <class F>
auto locked_read(gmp_mutex_t* m, F&& f) {
  gmp_mutex_lock(m);
  auto v = f();
  gmp_mutex_unlock(m);
  return v;
}

// pause_a_little: let other goroutines or threads run for a moment.
void pause_a_little() {
  for (int i = 0; i < 3; i++) gmp_yield();
}

// ------------------------------------------------------- sizes, zero, NULL

TEST(SyncLayout, PublicSizesAreFrozen) {
  EXPECT_EQ(sizeof(gmp_mutex_t), 8u);
  EXPECT_EQ(sizeof(gmp_rwmutex_t), 24u);
  EXPECT_EQ(sizeof(gmp_cond_t), 32u);
  EXPECT_EQ(sizeof(gmp_waitgroup_t), 16u);
  EXPECT_EQ(sizeof(gmp_once_t), 16u);
  EXPECT_EQ(sizeof(gmp_sema_t), 8u);
}

// Zero-value objects in static storage work without any initialisation.
gmp_mutex_t zero_mutex;
gmp_rwmutex_t zero_rwmutex;
gmp_cond_t zero_cond;
gmp_waitgroup_t zero_wg;
gmp_once_t zero_once;
gmp_sema_t zero_sema;
int zero_once_runs = 0;

TEST(SyncZero, StaticZeroValuesAreReady) {
  EXPECT_EQ(gmp_mutex_trylock(&zero_mutex), 0);
  EXPECT_EQ(gmp_mutex_unlock(&zero_mutex), 0);
  gmp_mutex_lock(&zero_mutex);
  EXPECT_EQ(gmp_mutex_unlock(&zero_mutex), 0);

  gmp_rwmutex_rlock(&zero_rwmutex);
  gmp_rwmutex_rlock(&zero_rwmutex);
  EXPECT_EQ(gmp_rwmutex_runlock(&zero_rwmutex), 0);
  EXPECT_EQ(gmp_rwmutex_runlock(&zero_rwmutex), 0);
  gmp_rwmutex_lock(&zero_rwmutex);
  EXPECT_EQ(gmp_rwmutex_unlock(&zero_rwmutex), 0);

  gmp_cond_signal(&zero_cond);  // no waiter: nothing happens
  gmp_cond_broadcast(&zero_cond);

  gmp_waitgroup_wait(&zero_wg);  // counter 0: returns at once
  EXPECT_EQ(gmp_waitgroup_add(&zero_wg, 1), 0);
  EXPECT_EQ(gmp_waitgroup_done(&zero_wg), 0);
  gmp_waitgroup_wait(&zero_wg);

  gmp_once_do(
      &zero_once, [](void*) { zero_once_runs++; }, nullptr);
  gmp_once_do(
      &zero_once, [](void*) { zero_once_runs++; }, nullptr);
  EXPECT_EQ(zero_once_runs, 1);

  gmp_sema_release(&zero_sema);
  gmp_sema_acquire(&zero_sema);  // the unit released above: no wait
}

TEST(SyncZero, ZeroValuesOnAGoroutine) {
  EXPECT_TRUE(run_goroutine([] {
    gmp_mutex_t m = {};
    gmp_rwmutex_t rw = {};
    gmp_waitgroup_t wg = {};
    gmp_sema_t s = {};
    gmp_once_t o = {};
    int runs = 0;
    gmp_mutex_lock(&m);
    EXPECT_EQ(gmp_mutex_trylock(&m), GMP_EBUSY);
    EXPECT_EQ(gmp_mutex_unlock(&m), 0);
    gmp_rwmutex_lock(&rw);
    EXPECT_EQ(gmp_rwmutex_unlock(&rw), 0);
    gmp_waitgroup_wait(&wg);
    gmp_sema_release(&s);
    gmp_sema_acquire(&s);
    gmp_once_do(
        &o, [](void* a) { ++*static_cast<int*>(a); }, &runs);
    EXPECT_EQ(runs, 1);
  }));
}

TEST(SyncNull, NullArguments) {
  gmp_mutex_lock(nullptr);
  EXPECT_EQ(gmp_mutex_trylock(nullptr), GMP_EINVAL);
  EXPECT_EQ(gmp_mutex_unlock(nullptr), GMP_EINVAL);
  gmp_rwmutex_rlock(nullptr);
  EXPECT_EQ(gmp_rwmutex_runlock(nullptr), GMP_EINVAL);
  gmp_rwmutex_lock(nullptr);
  EXPECT_EQ(gmp_rwmutex_unlock(nullptr), GMP_EINVAL);
  gmp_mutex_t m = {};
  gmp_cond_t c = {};
  gmp_cond_wait(nullptr, &m);
  gmp_cond_wait(&c, nullptr);
  gmp_cond_signal(nullptr);
  gmp_cond_broadcast(nullptr);
  EXPECT_EQ(gmp_waitgroup_add(nullptr, 1), GMP_EINVAL);
  EXPECT_EQ(gmp_waitgroup_done(nullptr), GMP_EINVAL);
  gmp_waitgroup_wait(nullptr);
  gmp_once_t o = {};
  gmp_once_do(
      nullptr, [](void*) {}, nullptr);
  gmp_once_do(&o, nullptr, nullptr);  // ignored: o is still fresh
  int runs = 0;
  gmp_once_do(
      &o, [](void* a) { ++*static_cast<int*>(a); }, &runs);
  EXPECT_EQ(runs, 1);
  gmp_sema_acquire(nullptr);
  gmp_sema_release(nullptr);
  // The objects the NULL calls sat next to are untouched.
  EXPECT_EQ(gmp_mutex_trylock(&m), 0);
  EXPECT_EQ(gmp_mutex_unlock(&m), 0);
}

// ------------------------------------------------------------------ Mutex

class SyncMutex : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(SyncMutex);

// Mutual exclusion under contention: a plain counter incremented under the
// lock ends exact, and no two holders ever overlap.
TEST_P(SyncMutex, MutualExclusion) {
  const int kWorkers = sized(16, 8);
  const int kIters = kSanitized ? 2000 : 20000;
  for (Mix mix : kMixes) {
    struct State {
      gmp_mutex_t m = {};
      long counter = 0;  // guarded by m
      std::atomic<int> inside{0};
      std::atomic<int> overlaps{0};
    };
    auto st = std::make_shared<State>();
    {
      Crowd crowd;
      for (int i = 0; i < kWorkers; i++) {
        crowd.start(mix, i, [st, kIters] {
          for (int k = 0; k < kIters; k++) {
            gmp_mutex_lock(&st->m);
            if (st->inside.fetch_add(1) != 0) st->overlaps++;
            st->counter++;
            st->inside.fetch_sub(1);
            EXPECT_EQ(gmp_mutex_unlock(&st->m), 0);
            if (k % 64 == 0) gmp_yield();
          }
        });
      }
      ASSERT_TRUE(crowd.join()) << mix_name(mix);
    }
    EXPECT_EQ(st->counter, long(kWorkers) * kIters) << mix_name(mix);
    EXPECT_EQ(st->overlaps.load(), 0) << mix_name(mix);
  }
}

// trylock never waits and never succeeds on a held mutex, whoever holds it.
TEST_P(SyncMutex, TryLock) {
  gmp_mutex_t m = {};
  EXPECT_EQ(gmp_mutex_trylock(&m), 0);
  EXPECT_EQ(gmp_mutex_trylock(&m), GMP_EBUSY);
  std::thread([&] { EXPECT_EQ(gmp_mutex_trylock(&m), GMP_EBUSY); }).join();
  EXPECT_TRUE(run_goroutine([&] { EXPECT_EQ(gmp_mutex_trylock(&m), GMP_EBUSY); }));
  EXPECT_EQ(gmp_mutex_unlock(&m), 0);
  // Locked on a goroutine, unlocked by a thread (a mutex has no owner).
  EXPECT_TRUE(run_goroutine([&] { EXPECT_EQ(gmp_mutex_trylock(&m), 0); }));
  EXPECT_EQ(gmp_mutex_trylock(&m), GMP_EBUSY);
  EXPECT_EQ(gmp_mutex_unlock(&m), 0);
  EXPECT_EQ(gmp_mutex_trylock(&m), 0);
  EXPECT_EQ(gmp_mutex_unlock(&m), 0);
}

// Unlocking an unlocked mutex is GMP_EPERM and changes nothing: the mutex
// still works, and one lock needs exactly one unlock.
TEST_P(SyncMutex, UnlockOfUnlockedIsEpermAndChangesNothing) {
  gmp_mutex_t m = {};
  const gmp_mutex_t zero = {};
  EXPECT_EQ(gmp_mutex_unlock(&m), GMP_EPERM);
  EXPECT_EQ(memcmp(&m, &zero, sizeof m), 0) << "the failed unlock wrote to the mutex";
  gmp_mutex_lock(&m);
  EXPECT_EQ(gmp_mutex_trylock(&m), GMP_EBUSY);
  EXPECT_EQ(gmp_mutex_unlock(&m), 0);
  EXPECT_EQ(gmp_mutex_unlock(&m), GMP_EPERM);
  EXPECT_EQ(memcmp(&m, &zero, sizeof m), 0);
  EXPECT_TRUE(run_goroutine([&] { EXPECT_EQ(gmp_mutex_unlock(&m), GMP_EPERM); }));
  EXPECT_EQ(gmp_mutex_trylock(&m), 0);
  EXPECT_EQ(gmp_mutex_unlock(&m), 0);
}

// Starvation mode (Go's TestMutexFairness): one side holds the lock almost
// all the time in a tight loop; a waiter must still get it, a few times,
// within a bound that only starvation mode makes possible (generous: a
// noisy 2-core machine, sanitizers).
void hog_loop(gmp_mutex_t* m, std::atomic<bool>* stop, std::atomic<long>* rounds) {
  while (!stop->load()) {
    gmp_mutex_lock(m);
    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    while (std::chrono::steady_clock::now() < until) gmp_yield();  // hold it, let others run
    gmp_mutex_unlock(m);
    rounds->fetch_add(1);
  }
}

TEST_P(SyncMutex, StarvationModeBoundsTheWait) {
  const auto kBound = std::chrono::seconds(kSanitized ? 40 : 10);
  struct Case {
    bool hog_thread, waiter_thread;
  };
  for (Case c : {Case{false, false}, Case{false, true}, Case{true, false}}) {
    struct State {
      gmp_mutex_t m = {};
      std::atomic<bool> stop{false};
      std::atomic<long> rounds{0};
      std::atomic<bool> waiter_done{false};
      std::chrono::steady_clock::duration took{};
    };
    auto st = std::make_shared<State>();
    Crowd crowd;
    crowd.start(c.hog_thread ? Mix::threads : Mix::goroutines, 0,
                [st] { hog_loop(&st->m, &st->stop, &st->rounds); });
    ASSERT_TRUE(wait_until([&] { return st->rounds.load() > 10; }));
    crowd.start(c.waiter_thread ? Mix::threads : Mix::goroutines, 0, [st] {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 10; i++) {
        auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
        while (std::chrono::steady_clock::now() < until) gmp_yield();
        gmp_mutex_lock(&st->m);
        gmp_mutex_unlock(&st->m);
      }
      st->took = std::chrono::steady_clock::now() - t0;
      st->waiter_done = true;
    });
    bool done = wait_until([&] { return st->waiter_done.load(); });
    st->stop = true;
    ASSERT_TRUE(crowd.join());
    ASSERT_TRUE(done) << "the waiter never got the mutex";
    EXPECT_LT(st->took, kBound) << "hog on a " << (c.hog_thread ? "thread" : "goroutine")
                                << ", waiter on a " << (c.waiter_thread ? "thread" : "goroutine");
  }
}

// ---------------------------------------------------------------- RWMutex

class SyncRWMutex : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(SyncRWMutex);

// Many readers hold the lock at the same time (each waits inside until all
// are inside).
TEST_P(SyncRWMutex, ReadersShareTheLock) {
  const int kReaders = sized(12, 8);
  for (Mix mix : kMixes) {
    struct State {
      gmp_rwmutex_t rw = {};
      std::atomic<int> inside{0};
      std::atomic<int> all_inside{0};
    };
    auto st = std::make_shared<State>();
    Crowd crowd;
    for (int i = 0; i < kReaders; i++) {
      crowd.start(mix, i, [st, kReaders] {
        gmp_rwmutex_rlock(&st->rw);
        st->inside++;
        if (wait_until([&] { return st->inside.load() == kReaders; })) st->all_inside++;
        EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
      });
    }
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(st->all_inside.load(), kReaders) << mix_name(mix);
    gmp_rwmutex_lock(&st->rw);  // and nobody is left inside
    EXPECT_EQ(gmp_rwmutex_unlock(&st->rw), 0);
  }
}

// Go's HammerRWMutex: readers and writers at once; a writer is always
// alone, readers never meet a writer.
TEST_P(SyncRWMutex, WritersExcludeEveryone) {
  const int kWorkers = sized(12, 8);
  const int kIters = kSanitized ? 300 : 3000;
  for (Mix mix : kMixes) {
    struct State {
      gmp_rwmutex_t rw = {};
      std::atomic<int> activity{0};  // readers: +1, writers: +10000
      std::atomic<int> bad{0};
      long writes = 0;  // guarded by rw (write side)
    };
    auto st = std::make_shared<State>();
    Crowd crowd;
    for (int i = 0; i < kWorkers; i++) {
      bool writer = i % 3 == 0;
      crowd.start(mix, i, [st, writer, kIters] {
        for (int k = 0; k < kIters; k++) {
          if (writer) {
            gmp_rwmutex_lock(&st->rw);
            if (st->activity.fetch_add(10000) != 0) st->bad++;
            st->writes++;
            if (k % 16 == 0) gmp_yield();
            if (st->activity.fetch_sub(10000) != 10000) st->bad++;
            EXPECT_EQ(gmp_rwmutex_unlock(&st->rw), 0);
          } else {
            gmp_rwmutex_rlock(&st->rw);
            if (st->activity.fetch_add(1) >= 10000) st->bad++;
            if (k % 16 == 0) gmp_yield();
            st->activity.fetch_sub(1);
            EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
          }
        }
      });
    }
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(st->bad.load(), 0) << mix_name(mix);
    EXPECT_EQ(st->writes, long((kWorkers + 2) / 3) * kIters) << mix_name(mix);
  }
}

// A waiting writer blocks new readers: reader R1 is inside, writer W waits
// for it, then reader R2 arrives. R2 must get in only after W has been in.
// W and R2 are plain threads, so that "waiting" is observable; R1 is a
// goroutine or the test thread.
TEST_P(SyncRWMutex, WaitingWriterBlocksNewReaders) {
  for (bool r1_goroutine : {false, true}) {
    struct State {
      gmp_rwmutex_t rw = {};
      std::atomic<int> seq{0};
      std::atomic<int> w_in{-1}, r2_in{-1};
      ThreadSpot w, r2;
      std::atomic<bool> r1_held{false}, r1_release{false}, r1_done{false};
    };
    auto st = std::make_shared<State>();
    if (r1_goroutine) {
      ASSERT_EQ(go([st] {
                  gmp_rwmutex_rlock(&st->rw);
                  st->r1_held = true;
                  EXPECT_TRUE(wait_until([&] { return st->r1_release.load(); }));
                  EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
                  st->r1_done = true;
                }),
                GMP_OK);
      ASSERT_TRUE(wait_until([&] { return st->r1_held.load(); }));
    } else {
      gmp_rwmutex_rlock(&st->rw);
    }
    std::thread writer([st] {
      st->w.here();
      gmp_rwmutex_lock(&st->rw);
      st->w_in = st->seq++;
      pause_a_little();
      EXPECT_EQ(gmp_rwmutex_unlock(&st->rw), 0);
    });
    ASSERT_TRUE(wait_until([&] { return st->w.asleep_on_own_stack(); }));
    std::thread reader([st] {
      st->r2.here();
      gmp_rwmutex_rlock(&st->rw);
      st->r2_in = st->seq++;
      EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
    });
    ASSERT_TRUE(wait_until([&] { return st->r2.asleep_on_own_stack(); }))
        << "a new reader got in while a writer waited";
    EXPECT_EQ(st->w_in.load(), -1);
    if (r1_goroutine) {
      st->r1_release = true;
      EXPECT_TRUE(wait_until([&] { return st->r1_done.load(); }));
    } else {
      EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
    }
    writer.join();
    reader.join();
    EXPECT_EQ(st->w_in.load(), 0);
    EXPECT_EQ(st->r2_in.load(), 1);
  }
}

// runlock and unlock of a lock not held that way: GMP_EPERM, nothing changes.
TEST_P(SyncRWMutex, MisuseIsEpermAndChangesNothing) {
  gmp_rwmutex_t rw = {};
  const gmp_rwmutex_t zero = {};
  EXPECT_EQ(gmp_rwmutex_runlock(&rw), GMP_EPERM);
  EXPECT_EQ(gmp_rwmutex_unlock(&rw), GMP_EPERM);
  EXPECT_EQ(memcmp(&rw, &zero, sizeof rw), 0) << "a refused call wrote to the lock";

  gmp_rwmutex_rlock(&rw);
  gmp_rwmutex_t snapshot;
  memcpy(&snapshot, &rw, sizeof rw);
  EXPECT_EQ(gmp_rwmutex_unlock(&rw), GMP_EPERM);  // read-locked, not write-locked
  EXPECT_EQ(memcmp(&rw, &snapshot, sizeof rw), 0);
  EXPECT_EQ(gmp_rwmutex_runlock(&rw), 0);
  EXPECT_EQ(gmp_rwmutex_runlock(&rw), GMP_EPERM);  // one rlock, one runlock

  gmp_rwmutex_lock(&rw);
  memcpy(&snapshot, &rw, sizeof rw);
  EXPECT_EQ(gmp_rwmutex_runlock(&rw), GMP_EPERM);  // write-locked, no reader inside
  EXPECT_TRUE(run_goroutine([&] { EXPECT_EQ(gmp_rwmutex_runlock(&rw), GMP_EPERM); }));
  EXPECT_EQ(memcmp(&rw, &snapshot, sizeof rw), 0);
  EXPECT_EQ(gmp_rwmutex_unlock(&rw), 0);
  EXPECT_EQ(gmp_rwmutex_unlock(&rw), GMP_EPERM);
  EXPECT_EQ(memcmp(&rw, &zero, sizeof rw), 0) << "lock/unlock left state behind";

  // Still fully usable.
  gmp_rwmutex_rlock(&rw);
  EXPECT_EQ(gmp_rwmutex_runlock(&rw), 0);
  gmp_rwmutex_lock(&rw);
  EXPECT_EQ(gmp_rwmutex_unlock(&rw), 0);
}

// While a writer waits for the readers inside, an extra runlock is refused
// once they have all left (the writer holds it then), and the blocked reader
// still gets in after the writer.
TEST_P(SyncRWMutex, ExtraRunlockWhileWriterHoldsIsRefused) {
  struct State {
    gmp_rwmutex_t rw = {};
    ThreadSpot w;
    std::atomic<bool> w_in{false}, w_release{false};
  };
  auto st = std::make_shared<State>();
  gmp_rwmutex_rlock(&st->rw);
  std::thread writer([st] {
    st->w.here();
    gmp_rwmutex_lock(&st->rw);
    st->w_in = true;
    EXPECT_TRUE(wait_until([&] { return st->w_release.load(); }));
    EXPECT_EQ(gmp_rwmutex_unlock(&st->rw), 0);
  });
  ASSERT_TRUE(wait_until([&] { return st->w.asleep_on_own_stack(); }));
  EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
  ASSERT_TRUE(wait_until([&] { return st->w_in.load(); }));
  EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), GMP_EPERM);
  st->w_release = true;
  writer.join();
  gmp_rwmutex_rlock(&st->rw);
  EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), 0);
  EXPECT_EQ(gmp_rwmutex_runlock(&st->rw), GMP_EPERM);
}

// ------------------------------------------------------------------- Cond

class SyncCond : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(SyncCond);

struct CondState {
  gmp_mutex_t m = {};
  gmp_cond_t c = {};
  // Guarded by m.
  std::vector<int> arrivals;  // in the order the waiters took the mutex to wait
  std::vector<int> woken;     // in the order they came back from gmp_cond_wait
  int signals = 0;            // signals sent so far
  bool broadcast = false;
  bool spurious = false;  // a waiter returned with no signal left for it
};

void cond_waiter(const std::shared_ptr<CondState>& st, int id) {
  gmp_mutex_lock(&st->m);
  st->arrivals.push_back(id);
  gmp_cond_wait(&st->c, &st->m);
  st->woken.push_back(id);
  if (!st->broadcast && int(st->woken.size()) > st->signals) st->spurious = true;
  EXPECT_EQ(gmp_mutex_unlock(&st->m), 0);
}

// Each signal wakes exactly one waiter, the one that has waited longest.
TEST_P(SyncCond, SignalWakesTheLongestWaiter) {
  const int kWaiters = sized(10, 6);
  for (Mix mix : kMixes) {
    auto st = std::make_shared<CondState>();
    Crowd crowd;
    for (int i = 0; i < kWaiters; i++) crowd.start(mix, i, [st, i] { cond_waiter(st, i); });
    ASSERT_TRUE(wait_until(
        [&] { return locked_read(&st->m, [&] { return int(st->arrivals.size()); }) == kWaiters; }));
    for (int k = 0; k < kWaiters; k++) {
      // Signal from the test thread, a goroutine or another thread in turn.
      auto signal = [st] {
        gmp_mutex_lock(&st->m);
        st->signals++;
        gmp_cond_signal(&st->c);
        EXPECT_EQ(gmp_mutex_unlock(&st->m), 0);
      };
      if (k % 3 == 0) {
        signal();
      } else if (k % 3 == 1) {
        ASSERT_TRUE(run_goroutine(signal));
      } else {
        std::thread(signal).join();
      }
      ASSERT_TRUE(wait_until([&] {
        return locked_read(&st->m, [&] { return int(st->woken.size()); }) >= k + 1;
      })) << mix_name(mix)
          << ": signal " << k << " woke nobody";
    }
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(st->woken, st->arrivals) << mix_name(mix) << ": not first in, first out";
    EXPECT_FALSE(st->spurious) << mix_name(mix) << ": a waiter woke without a signal";
  }
}

// Broadcast wakes every waiter present.
TEST_P(SyncCond, BroadcastWakesAll) {
  const int kWaiters = sized(16, 8);
  for (Mix mix : kMixes) {
    auto st = std::make_shared<CondState>();
    Crowd crowd;
    for (int i = 0; i < kWaiters; i++) crowd.start(mix, i, [st, i] { cond_waiter(st, i); });
    ASSERT_TRUE(wait_until(
        [&] { return locked_read(&st->m, [&] { return int(st->arrivals.size()); }) == kWaiters; }));
    gmp_mutex_lock(&st->m);
    st->broadcast = true;
    gmp_cond_broadcast(&st->c);
    EXPECT_EQ(gmp_mutex_unlock(&st->m), 0);
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(int(st->woken.size()), kWaiters);
  }
}

// Signals and broadcasts sent while nobody waits are not remembered: a
// waiter that arrives afterwards sleeps until the next signal.
TEST_P(SyncCond, NoWakeupWithoutASignal) {
  auto st = std::make_shared<CondState>();
  for (int i = 0; i < 3; i++) {
    gmp_cond_signal(&st->c);
    gmp_cond_broadcast(&st->c);
  }
  ThreadSpot spot;
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    spot.here();
    cond_waiter(st, 0);
    returned = true;
  });
  ASSERT_TRUE(wait_until([&] { return spot.asleep_on_own_stack() || returned.load(); }));
  EXPECT_FALSE(returned.load()) << "gmp_cond_wait returned without a signal";
  gmp_mutex_lock(&st->m);
  st->signals++;
  gmp_cond_signal(&st->c);
  gmp_mutex_unlock(&st->m);
  waiter.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(st->spurious);
}

// The classic use: a queue guarded by a mutex, consumers waiting in a loop.
TEST_P(SyncCond, ProducerConsumer) {
  const int kItems = kSanitized ? 2000 : 20000;
  const int kConsumers = 4;
  for (Mix mix : kMixes) {
    struct State {
      gmp_mutex_t m = {};
      gmp_cond_t nonempty = {};
      long queued = 0, consumed = 0, sum = 0;  // guarded by m
      bool closed = false;
    };
    auto st = std::make_shared<State>();
    Crowd crowd;
    for (int i = 0; i < kConsumers; i++) {
      crowd.start(mix, i, [st] {
        gmp_mutex_lock(&st->m);
        for (;;) {
          while (st->queued == 0 && !st->closed) gmp_cond_wait(&st->nonempty, &st->m);
          if (st->queued == 0) break;
          st->queued--;
          st->consumed++;
        }
        gmp_mutex_unlock(&st->m);
      });
    }
    crowd.start(mix, 0, [st, kItems] {
      for (int k = 0; k < kItems; k++) {
        gmp_mutex_lock(&st->m);
        st->queued++;
        gmp_cond_signal(&st->nonempty);
        gmp_mutex_unlock(&st->m);
      }
      gmp_mutex_lock(&st->m);
      st->closed = true;
      gmp_cond_broadcast(&st->nonempty);
      gmp_mutex_unlock(&st->m);
    });
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(st->consumed, kItems) << mix_name(mix);
  }
}

// --------------------------------------------------------------- WaitGroup

class SyncWaitGroup : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(SyncWaitGroup);

// wait returns once every worker has called done, and after their work;
// the same waitgroup is reused round after round; several waiters (the test
// thread, goroutines and threads) all return each round.
TEST_P(SyncWaitGroup, WaitAndReuse) {
  const int kRounds = kSanitized ? 20 : 100;
  const int kWorkers = sized(8, 6);
  for (Mix mix : kMixes) {
    struct State {
      gmp_waitgroup_t wg = {};
      std::atomic<int> finished{0};
    };
    auto st = std::make_shared<State>();
    for (int r = 0; r < kRounds; r++) {
      st->finished = 0;
      ASSERT_EQ(gmp_waitgroup_add(&st->wg, kWorkers), 0);
      Crowd waiters;
      auto early = std::make_shared<std::atomic<int>>(0);
      for (int i = 0; i < 2; i++) {
        waiters.start(mix, i, [st, early, kWorkers] {
          gmp_waitgroup_wait(&st->wg);
          if (st->finished.load() != kWorkers) early->fetch_add(1);
        });
      }
      Crowd workers;
      for (int i = 0; i < kWorkers; i++) {
        workers.start(mix, i, [st] {
          if (gmp_self()) gmp_yield();
          st->finished++;
          EXPECT_EQ(gmp_waitgroup_done(&st->wg), 0);
        });
      }
      gmp_waitgroup_wait(&st->wg);
      EXPECT_EQ(st->finished.load(), kWorkers) << mix_name(mix) << " round " << r;
      ASSERT_TRUE(workers.join());
      ASSERT_TRUE(waiters.join());  // every waiter has returned: reuse is allowed
      EXPECT_EQ(early->load(), 0) << mix_name(mix) << " round " << r;
    }
  }
}

// The counter never goes negative or past INT32_MAX; a refused add leaves
// it as it was.
TEST(SyncWaitGroupPlain, RejectedAddChangesNothing) {
  gmp_waitgroup_t wg = {};
  const gmp_waitgroup_t zero = {};
  EXPECT_EQ(gmp_waitgroup_add(&wg, -1), GMP_EINVAL);
  EXPECT_EQ(gmp_waitgroup_done(&wg), GMP_EINVAL);
  EXPECT_EQ(memcmp(&wg, &zero, sizeof wg), 0);
  EXPECT_EQ(gmp_waitgroup_add(&wg, 2), 0);
  EXPECT_EQ(gmp_waitgroup_add(&wg, -3), GMP_EINVAL);
  EXPECT_EQ(gmp_waitgroup_add(&wg, INT64_MIN), GMP_EINVAL);
  EXPECT_EQ(gmp_waitgroup_add(&wg, INT64_MAX), GMP_EINVAL);
  EXPECT_EQ(gmp_waitgroup_add(&wg, int64_t(INT32_MAX) - 1), GMP_EINVAL);  // 2 + that > INT32_MAX
  EXPECT_EQ(gmp_waitgroup_add(&wg, int64_t(INT32_MAX) - 2), 0);           // exactly INT32_MAX
  EXPECT_EQ(gmp_waitgroup_add(&wg, 1), GMP_EINVAL);
  EXPECT_EQ(gmp_waitgroup_add(&wg, -(int64_t(INT32_MAX) - 2)), 0);  // back to 2
  EXPECT_EQ(gmp_waitgroup_done(&wg), 0);
  EXPECT_EQ(gmp_waitgroup_done(&wg), 0);
  EXPECT_EQ(gmp_waitgroup_done(&wg), GMP_EINVAL);
  gmp_waitgroup_wait(&wg);  // 0: returns at once
  EXPECT_EQ(memcmp(&wg, &zero, sizeof wg), 0);
  EXPECT_EQ(gmp_waitgroup_add(&wg, 0), 0);
}

// A refused done while a waiter sleeps does not wake it.
TEST(SyncWaitGroupPlain, RejectedAddWakesNobody) {
  struct State {
    gmp_waitgroup_t wg = {};
    ThreadSpot spot;
    std::atomic<bool> returned{false};
  };
  auto st = std::make_shared<State>();
  ASSERT_EQ(gmp_waitgroup_add(&st->wg, 1), 0);
  std::thread waiter([st] {
    st->spot.here();
    gmp_waitgroup_wait(&st->wg);
    st->returned = true;
  });
  ASSERT_TRUE(wait_until([&] { return st->spot.asleep_on_own_stack(); }));
  EXPECT_EQ(gmp_waitgroup_add(&st->wg, -2), GMP_EINVAL);
  EXPECT_TRUE(st->spot.asleep_on_own_stack());
  EXPECT_FALSE(st->returned.load());
  EXPECT_EQ(gmp_waitgroup_done(&st->wg), 0);
  waiter.join();
  EXPECT_TRUE(st->returned.load());
}

// ------------------------------------------------------------------- Once

class SyncOnce : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(SyncOnce);

struct OnceState {
  gmp_once_t once = {};
  std::atomic<int> runs{0};
  std::atomic<bool> finished{false};
  std::atomic<int> early{0};  // callers that returned before fn finished
};

void once_body(void* arg) {
  auto* st = static_cast<OnceState*>(arg);
  st->runs++;
  for (int i = 0; i < 200; i++) gmp_yield();  // take a while: others pile up
  st->finished = true;
}

// Many concurrent callers: fn runs once, and everyone returns after it has.
TEST_P(SyncOnce, RunsOnceAndEveryoneWaitsForIt) {
  const int kCallers = sized(32, 12);
  for (Mix mix : kMixes) {
    auto st = std::make_shared<OnceState>();
    Crowd crowd;
    for (int i = 0; i < kCallers; i++) {
      crowd.start(mix, i, [st] {
        gmp_once_do(&st->once, once_body, st.get());
        if (!st->finished.load()) st->early++;
      });
    }
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(st->runs.load(), 1) << mix_name(mix);
    EXPECT_EQ(st->early.load(), 0) << mix_name(mix);
    gmp_once_do(&st->once, once_body, st.get());
    EXPECT_EQ(st->runs.load(), 1);
  }
}

// ------------------------------------------------------------------- Sema

class SyncSema : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(SyncSema);

// Units released before anyone waits are kept.
TEST_P(SyncSema, UnitsAreCounted) {
  gmp_sema_t s = {};
  for (int i = 0; i < 5; i++) gmp_sema_release(&s);
  for (int i = 0; i < 5; i++) gmp_sema_acquire(&s);
  EXPECT_TRUE(run_goroutine([&] {
    gmp_sema_release(&s);
    gmp_sema_acquire(&s);
  }));
}

// Each release goes to the longest waiter. The waiters are plain threads,
// queued one after the other (each is seen asleep before the next starts);
// releases come from the test thread, a goroutine and a thread in turn.
TEST_P(SyncSema, ReleaseHandsOffFirstInFirstOut) {
  constexpr int kWaiters = 6;
  struct State {
    gmp_sema_t s = {};
    ThreadSpot spots[kWaiters];
    std::atomic<int> seq{0}, recorded{0};
    std::atomic<int> order[kWaiters];
  };
  auto st = std::make_shared<State>();
  for (auto& o : st->order) o = -1;
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; i++) {
    waiters.emplace_back([st, i] {
      st->spots[i].here();
      gmp_sema_acquire(&st->s);
      st->order[i] = st->seq++;
      st->recorded++;  // after order[i]: the test thread reads it then
    });
    ASSERT_TRUE(wait_until([&] { return st->spots[i].asleep_on_own_stack(); })) << i;
  }
  for (int k = 0; k < kWaiters; k++) {
    if (k % 3 == 0) {
      gmp_sema_release(&st->s);
    } else if (k % 3 == 1) {
      ASSERT_TRUE(run_goroutine([st] { gmp_sema_release(&st->s); }));
    } else {
      std::thread([st] { gmp_sema_release(&st->s); }).join();
    }
    ASSERT_TRUE(wait_until([&] { return st->recorded.load() == k + 1; }));
    EXPECT_EQ(st->order[k].load(), k) << "release " << k << " went to another waiter";
  }
  for (auto& t : waiters) t.join();
}

// Producers and consumers of units, goroutines and threads: every acquire
// is matched by exactly one release.
TEST_P(SyncSema, ProducersAndConsumers) {
  const int kPairs = sized(6, 4);
  const int kUnits = kSanitized ? 1000 : 10000;
  for (Mix mix : kMixes) {
    struct State {
      gmp_sema_t s = {};
      std::atomic<long> taken{0};
    };
    auto st = std::make_shared<State>();
    Crowd crowd;
    for (int i = 0; i < kPairs; i++) {
      crowd.start(mix, i, [st, kUnits] {
        for (int k = 0; k < kUnits; k++) {
          gmp_sema_acquire(&st->s);
          st->taken++;
        }
      });
      crowd.start(mix, i + 1, [st, kUnits] {  // the other kind in a mixed run
        for (int k = 0; k < kUnits; k++) {
          gmp_sema_release(&st->s);
          if (k % 32 == 0) gmp_yield();
        }
      });
    }
    ASSERT_TRUE(crowd.join()) << mix_name(mix);
    EXPECT_EQ(st->taken.load(), long(kPairs) * kUnits);
  }
}

// A semaphore as a ping-pong between a goroutine and a thread.
TEST(SyncSemaPlain, PingPongGoroutineAndThread) {
  const int kRounds = kSanitized ? 2000 : 20000;
  struct State {
    gmp_sema_t ping = {}, pong = {};
    long count = 0;  // handed back and forth with the semaphores
  };
  auto st = std::make_shared<State>();
  auto done = std::make_shared<std::atomic<bool>>(false);
  ASSERT_EQ(go([st, done, kRounds] {
              for (int i = 0; i < kRounds; i++) {
                gmp_sema_acquire(&st->ping);
                st->count++;
                gmp_sema_release(&st->pong);
              }
              done->store(true);
            }),
            GMP_OK);
  for (int i = 0; i < kRounds; i++) {
    gmp_sema_release(&st->ping);
    gmp_sema_acquire(&st->pong);
    st->count++;
  }
  EXPECT_TRUE(wait_until([&] { return done->load(); }));
  EXPECT_EQ(st->count, 2L * kRounds);
}

// --------------------------------------------------------------- Deadlock

const std::string kDeadlockLine = "gmp: all goroutines are asleep - deadlock!";
constexpr int kAfterDeadlock = 42;

int main_blocks_and_returns(void (*body)(void*)) {
  int rc = gmp_main(body, nullptr);
  CHILD_CHECK_EQ(rc, GMP_EDEADLOCK);
  return kAfterDeadlock;
}

GMPRT_CHILD(SyncDeadlockMutex) {
  return main_blocks_and_returns([](void*) {
    static gmp_mutex_t m;
    gmp_mutex_lock(&m);
    gmp_mutex_lock(&m);
  });
}

GMPRT_CHILD(SyncDeadlockWaitGroup) {
  return main_blocks_and_returns([](void*) {
    static gmp_waitgroup_t wg;
    gmp_waitgroup_add(&wg, 1);
    gmp_waitgroup_wait(&wg);
  });
}

GMPRT_CHILD(SyncDeadlockSema) {
  return main_blocks_and_returns([](void*) {
    static gmp_sema_t s;
    gmp_sema_acquire(&s);
  });
}

GMPRT_CHILD(SyncDeadlockRWMutex) {
  return main_blocks_and_returns([](void*) {
    static gmp_rwmutex_t rw;
    gmp_rwmutex_lock(&rw);
    gmp_rwmutex_rlock(&rw);
  });
}

GMPRT_CHILD(SyncDeadlockCond) {
  return main_blocks_and_returns([](void*) {
    static gmp_mutex_t m;
    static gmp_cond_t c;
    gmp_mutex_lock(&m);
    gmp_cond_wait(&c, &m);
  });
}

struct DeadlockCase {
  const char* child;
  const char* line;  // the main goroutine's line in the report
};

// PrintTo: how test names show a case (not as raw bytes).
void PrintTo(const DeadlockCase& c, std::ostream* os) { *os << c.child; }

class SyncDeadlock : public ::testing::TestWithParam<DeadlockCase> {};

TEST_P(SyncDeadlock, MainBlockedForeverIsReported) {
  auto r = run_child(GetParam().child);
  ASSERT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, kDeadlockLine), 1) << r.describe();
  EXPECT_EQ(count_line(r.err, GetParam().line), 1) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, SyncDeadlock,
    ::testing::Values(DeadlockCase{"SyncDeadlockMutex", "goroutine 1 [sync.Mutex.Lock]"},
                      DeadlockCase{"SyncDeadlockWaitGroup", "goroutine 1 [sync.WaitGroup.Wait]"},
                      DeadlockCase{"SyncDeadlockSema", "goroutine 1 [semacquire]"},
                      DeadlockCase{"SyncDeadlockRWMutex", "goroutine 1 [sync.RWMutex.RLock]"},
                      DeadlockCase{"SyncDeadlockCond", "goroutine 1 [sync.Cond.Wait]"}),
    [](const ::testing::TestParamInfo<DeadlockCase>& i) {
      return std::string(i.param.child).substr(strlen("SyncDeadlock"));
    });

// A plain thread blocked on a semaphore cannot wake anyone: with the main
// goroutine blocked too, that is a deadlock.
GMPRT_CHILD(SyncDeadlockWithBlockedThread) {
  static gmp_sema_t never;
  static ThreadSpot spot;
  std::thread t([] {
    spot.here();
    gmp_sema_acquire(&never);
  });
  t.detach();
  CHILD_CHECK(wait_until([] { return spot.asleep_on_own_stack(); }));
  return main_blocks_and_returns([](void*) {
    static gmp_sema_t s;
    gmp_sema_acquire(&s);
  });
}

TEST(SyncDeadlockPlain, ThreadBlockedOnSemaIsNoWaker) {
  auto r = run_child("SyncDeadlockWithBlockedThread");
  ASSERT_EQ(r.exit_code(), kAfterDeadlock) << r.describe();
  EXPECT_EQ(count_line(r.err, "goroutine 1 [semacquire]"), 1) << r.describe();
}

// A plain thread that holds the mutex (taken on the fast path, its first
// runtime call) is a possible waker: no report while it holds it, and the
// main goroutine gets the mutex when it lets go.
GMPRT_CHILD(SyncNoDeadlockWhileThreadHoldsMutex) {
  static gmp_mutex_t m;
  static std::atomic<bool> held{false};
  std::thread t([] {
    gmp_mutex_lock(&m);
    held = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    gmp_mutex_unlock(&m);
  });
  CHILD_CHECK(wait_until([] { return held.load(); }));
  int rc = gmp_main(
      [](void*) {
        gmp_mutex_lock(&m);
        gmp_mutex_unlock(&m);
      },
      nullptr);
  t.join();
  CHILD_CHECK_EQ(rc, 0);
  return 0;
}

TEST(SyncDeadlockPlain, ThreadHoldingMutexPreventsReport) {
  auto r = run_child("SyncNoDeadlockWhileThreadHoldsMutex");
  EXPECT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_EQ(r.err.find(kDeadlockLine), std::string::npos) << r.describe();
}

}  // namespace
