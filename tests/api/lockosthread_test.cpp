// lockosthread_test.cpp -- gmp_lock_os_thread / gmp_unlock_os_thread:
// identity across switches, the thread runs nothing else, nesting, parking
// while locked, and a goroutine that exits locked takes its thread with it.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

class LockOSThread : public MaxprocsTest {};
GMPRT_INSTANTIATE_MAXPROCS(LockOSThread);

// Shared by a locked goroutine and the goroutines around it.
struct Watch {
  std::atomic<pid_t> locked_tid{0};  // set only while the goroutine is locked
  std::atomic<int> intruders{0};     // others seen on the locked thread
  std::atomic<bool> stop{false};
  std::atomic<int> others_done{0};
};

// start_others: goroutines that keep yielding and check that none of them
// ever runs on the locked thread.
void start_others(const std::shared_ptr<Watch>& w, int n) {
  for (int i = 0; i < n; i++) {
    ASSERT_EQ(go([w] {
                while (!w->stop.load()) {
                  // No runtime call between the two reads: this goroutine
                  // cannot move to another thread in between.
                  const pid_t me = tid();
                  const pid_t locked = w->locked_tid.load();
                  if (locked != 0 && locked == me) w->intruders++;
                  gmp_yield();
                }
                w->others_done++;
              }),
              GMP_OK);
  }
}

TEST_P(LockOSThread, KeepsItsThreadAcrossYields) {
  constexpr int kYields = 5000, kOthers = 4;
  auto w = std::make_shared<Watch>();
  start_others(w, kOthers);
  auto moved = std::make_shared<std::atomic<int>>(0);
  EXPECT_TRUE(run_goroutine([w, moved] {
    ASSERT_EQ(gmp_lock_os_thread(), 0);
    const pid_t t0 = tid();
    const pthread_t p0 = pthread_self();
    w->locked_tid = t0;
    for (int i = 0; i < kYields; i++) {
      gmp_yield();
      if (tid() != t0 || !pthread_equal(pthread_self(), p0)) (*moved)++;
    }
    w->locked_tid = 0;
    ASSERT_EQ(gmp_unlock_os_thread(), 0);
  }));
  w->stop = true;
  EXPECT_TRUE(wait_until([&] { return w->others_done.load() == kOthers; }));
  EXPECT_EQ(moved->load(), 0) << "the locked goroutine changed threads";
  EXPECT_EQ(w->intruders.load(), 0) << "another goroutine ran on the locked thread";
}

TEST_P(LockOSThread, ManyLockedGoroutinesAtOnce) {
  constexpr int kLocked = 12, kYields = 500;
  auto w = std::make_shared<Watch>();
  start_others(w, 2);
  auto moved = std::make_shared<std::atomic<int>>(0);
  auto done = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kLocked; i++) {
    ASSERT_EQ(go([moved, done] {
                gmp_lock_os_thread();
                const pid_t t0 = tid();
                for (int j = 0; j < kYields; j++) {
                  gmp_yield();
                  if (tid() != t0) (*moved)++;
                }
                gmp_unlock_os_thread();
                (*done)++;
              }),
              GMP_OK);
  }
  EXPECT_TRUE(wait_until([&] { return done->load() == kLocked; }));
  w->stop = true;
  EXPECT_TRUE(wait_until([&] { return w->others_done.load() == 2; }));
  EXPECT_EQ(moved->load(), 0);
}

TEST_P(LockOSThread, NestsAndIgnoresUnbalancedUnlock) {
  auto w = std::make_shared<Watch>();
  start_others(w, 2);
  auto moved = std::make_shared<std::atomic<int>>(0);
  EXPECT_TRUE(run_goroutine([w, moved] {
    EXPECT_EQ(gmp_unlock_os_thread(), 0) << "unbalanced: ignored";
    EXPECT_EQ(gmp_lock_os_thread(), 0);
    EXPECT_EQ(gmp_lock_os_thread(), 0);
    EXPECT_EQ(gmp_unlock_os_thread(), 0);
    // Still locked once.
    const pid_t t0 = tid();
    w->locked_tid = t0;
    for (int i = 0; i < 2000; i++) {
      gmp_yield();
      if (tid() != t0) (*moved)++;
    }
    w->locked_tid = 0;
    EXPECT_EQ(gmp_unlock_os_thread(), 0);
    EXPECT_EQ(gmp_unlock_os_thread(), 0) << "unbalanced: ignored";
    for (int i = 0; i < 100; i++) gmp_yield();  // runs on, unlocked
  }));
  w->stop = true;
  EXPECT_TRUE(wait_until([&] { return w->others_done.load() == 2; }));
  EXPECT_EQ(moved->load(), 0);
  EXPECT_EQ(w->intruders.load(), 0);
}

// A locked goroutine that parks resumes on its own thread, whether a
// goroutine (runnext of another P) or a plain thread readies it.
TEST_P(LockOSThread, ParkedLockedGoroutineResumesOnItsThread) {
  constexpr int kRounds = 300;
  auto slot = std::make_shared<Parked>();
  auto moved = std::make_shared<std::atomic<int>>(0);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto round = std::make_shared<std::atomic<int>>(0);
  ASSERT_EQ(go([slot, moved, finished, round] {
              gmp_lock_os_thread();
              const pid_t t0 = tid();
              for (int i = 0; i < kRounds; i++) {
                slot->parked = 0;
                round->store(i + 1);
                park_here(slot.get());
                if (tid() != t0) (*moved)++;
              }
              gmp_unlock_os_thread();
              *finished = true;
            }),
            GMP_OK);
  auto wake = [slot, round](int i) {
    EXPECT_TRUE(wait_until([&] { return round->load() == i + 1 && slot->parked.load() == 1; }));
    gmp_ready(slot->g.load());
  };
  for (int i = 0; i < kRounds; i++) {
    if (i % 2 == 0) {
      wake(i);  // from this plain thread
    } else {
      EXPECT_TRUE(run_goroutine([&wake, i] { wake(i); }));  // from a goroutine
    }
  }
  EXPECT_TRUE(wait_until([&] { return finished->load(); }));
  EXPECT_EQ(moved->load(), 0);
}

// A goroutine that exits while locked takes its thread with it; the
// runtime goes on running goroutines (also with GOMAXPROCS=1).
TEST_P(LockOSThread, ExitWhileLockedEndsTheThread) {
  for (int how = 0; how < 2; how++) {
    auto t = std::make_shared<std::atomic<pid_t>>(0);
    ASSERT_EQ(go([t, how] {
                gmp_lock_os_thread();
                if (how == 1) gmp_lock_os_thread();  // nested twice
                *t = tid();
              }),
              GMP_OK);
    ASSERT_TRUE(wait_until([&] { return t->load() != 0; }));
    EXPECT_TRUE(wait_until([&] { return !task_exists(t->load()); }))
        << "thread " << t->load() << " survived its locked goroutine (case " << how << ")";
    EXPECT_TRUE(run_goroutine([] {})) << "the runtime goes on";
  }
}

std::atomic<pid_t> g_exit_locked_tid{0};
TEST_P(LockOSThread, GmpExitWhileLockedEndsTheThread) {
  g_exit_locked_tid = 0;
  ASSERT_EQ(gmp_go(
                [](void*) {
                  gmp_lock_os_thread();
                  g_exit_locked_tid = tid();
                  gmp_exit();
                },
                nullptr),
            GMP_OK);
  ASSERT_TRUE(wait_until([] { return g_exit_locked_tid.load() != 0; }));
  EXPECT_TRUE(wait_until([] { return !task_exists(g_exit_locked_tid.load()); }));
  EXPECT_TRUE(run_goroutine([] {}));
}

TEST_P(LockOSThread, UnlockedExitKeepsTheThread) {
  // The thread of a goroutine that unlocked before exiting stays a
  // scheduler thread: goroutines that lock, yield, unlock and exit one
  // after another need no new thread each (the count grows by far less
  // than one per goroutine).
  constexpr int kN = 200;
  const int before = thread_count();
  for (int i = 0; i < kN; i++) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    ASSERT_EQ(go([done] {
                gmp_lock_os_thread();
                gmp_yield();
                gmp_unlock_os_thread();
                *done = true;
              }),
              GMP_OK);
    ASSERT_TRUE(wait_until([&] { return done->load(); }));
  }
  EXPECT_LT(thread_count() - before, kN / 4);
}

TEST(LockOSThreadPlain, OnPlainThreadReturnsZero) {
  EXPECT_EQ(gmp_lock_os_thread(), 0);
  EXPECT_EQ(gmp_unlock_os_thread(), 0);
  EXPECT_EQ(gmp_unlock_os_thread(), 0);
  std::thread([] {
    EXPECT_EQ(gmp_lock_os_thread(), 0);
    EXPECT_EQ(gmp_unlock_os_thread(), 0);
  }).join();
}

// The main goroutine may exit locked too: gmp_main still returns.
TEST(LockOSThreadPlain, MainGoroutineExitsLocked) {
  pid_t t = 0;
  EXPECT_EQ(run_main([&] {
              gmp_lock_os_thread();
              t = tid();
            }),
            GMP_OK);
  EXPECT_TRUE(wait_until([&] { return !task_exists(t); }));
  EXPECT_TRUE(run_goroutine([] {}));
}

}  // namespace
