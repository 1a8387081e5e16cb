// park_direct_test.cpp -- the direct park (core/park.cpp, park_direct in
// core/proc.cpp): a goroutine that parks while the G in its P's runnext is
// the one the scheduler would run next switches straight to it, and that G
// runs the park's commit when it resumes. The commit records which G it ran
// on (gmprt::current_g(): null on g0), which tells the two paths apart.
// Early wakeups across a direct park: park_yield_race_test.cpp.
#include <gmprt.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "core/futex.hpp"
#include "core/sched.hpp"
#include "core/time.hpp"

namespace {

using gmprt::G;

// run_main: run fn as the main goroutine of gmp_main with procs Ps.
template <typename F>
void run_main(int procs, F fn) {
  ASSERT_EQ(gmp_init(), GMP_OK);
  int prev = gmp_maxprocs(procs);
  ASSERT_GT(prev, 0);
  static F* body;
  body = &fn;
  ASSERT_EQ(gmp_main([](void*) { (*body)(); }, nullptr), GMP_OK);
  gmp_maxprocs(prev);
}

// Commit: a park commit that records where it ran.
struct Commit {
  std::atomic<G*> ran_on{nullptr};
  std::atomic<int> runs{0};
  void reset() {
    ran_on = nullptr;
    runs = 0;
  }
  static int record(G*, void* arg) {
    auto* c = static_cast<Commit*>(arg);
    c->ran_on.store(gmprt::current_g());
    c->runs.fetch_add(1);
    return 1;
  }
};

// Two goroutines take turns on one P with park and ready, as a channel
// hand-off does: each readies the other (into runnext) and parks. Every
// park is finished by the partner; the first, whose partner has just been
// created, by a goroutine that starts there.
TEST(ParkDirect, TheSuccessorInRunnextRunsTheCommit) {
  constexpr int kRounds = 1000;
  struct Side {
    std::atomic<G*> self{nullptr};
    Commit commit;
    int wrong = 0;
  };
  static Side a, b;
  for (Side* s : {&a, &b}) {
    s->commit.reset();
    s->wrong = 0;
  }
  run_main(1, [] {
    a.self = gmprt::current_g();
    ASSERT_EQ(gmp_go(
                  [](void*) {
                    b.self = gmprt::current_g();
                    for (int i = 0; i < kRounds; i++) {
                      // a's park was finished here, before we went on.
                      if (a.commit.ran_on.load() != b.self.load()) b.wrong++;
                      gmprt::ready(a.self.load(), true);
                      gmprt::park(Commit::record, &b.commit, gmprt::WaitReason::chan_receive);
                    }
                    gmprt::ready(a.self.load(), true);
                  },
                  nullptr),
              GMP_OK);
    for (int i = 0; i < kRounds; i++) {
      gmprt::park(Commit::record, &a.commit, gmprt::WaitReason::chan_receive);
      // b's park was finished here, before we went on.
      if (b.commit.ran_on.load() != a.self.load()) a.wrong++;
      gmprt::ready(b.self.load(), true);
    }
    gmprt::park(Commit::record, &a.commit, gmprt::WaitReason::chan_receive);
  });
  EXPECT_EQ(a.commit.runs.load(), kRounds + 1);
  EXPECT_EQ(b.commit.runs.load(), kRounds);
  EXPECT_EQ(a.wrong, 0) << "parks of b not finished by a";
  EXPECT_EQ(b.wrong, 0) << "parks of a not finished by b";
}

// gmp_park's commit is user code, documented to run in the scheduler: it
// never runs on another goroutine, even with one waiting in runnext.
TEST(ParkDirect, UserParkCommitRunsInTheScheduler) {
  static Commit c;
  static std::atomic<gmp_g_t*> parked{nullptr};
  c.reset();
  run_main(1, [] {
    parked = gmp_self();
    ASSERT_EQ(gmp_go([](void*) { gmp_ready(parked.load()); }, nullptr), GMP_OK);
    gmp_park([](gmp_g_t* g, void* arg) { return Commit::record(reinterpret_cast<G*>(g), arg); },
             &c);
  });
  EXPECT_EQ(c.runs.load(), 1);
  EXPECT_EQ(c.ran_on.load(), nullptr);
}

// A successor wired to another thread (LockOSThread) cannot run on this
// one: the park goes through the scheduler, which hands it to its thread.
TEST(ParkDirect, LockedSuccessorGoesThroughTheScheduler) {
  static Commit c;
  static std::atomic<G*> locked{nullptr}, main_g{nullptr};
  static std::atomic<pid_t> locked_tid{0};
  static std::atomic<bool> same_thread{false};
  c.reset();
  locked = nullptr;
  same_thread = false;
  run_main(1, [] {
    main_g = gmprt::current_g();
    ASSERT_EQ(gmp_go(
                  [](void*) {
                    ASSERT_EQ(gmp_lock_os_thread(), GMP_OK);
                    locked = gmprt::current_g();
                    locked_tid = pid_t(syscall(SYS_gettid));
                    gmprt::park(nullptr, nullptr, gmprt::WaitReason::chan_receive);
                    same_thread = pid_t(syscall(SYS_gettid)) == locked_tid.load();
                    gmprt::ready(main_g.load(), true);
                    ASSERT_EQ(gmp_unlock_os_thread(), GMP_OK);
                  },
                  nullptr),
              GMP_OK);
    // Until it has parked (for good: nobody else readies it).
    while (!locked.load() || gmprt::gstatus(locked.load()->status.load()) != gmprt::GStatus::waiting)
      gmp_yield();
    gmprt::ready(locked.load(), true);  // into our runnext
    gmprt::park(Commit::record, &c, gmprt::WaitReason::chan_receive);
  });
  EXPECT_EQ(c.runs.load(), 1);
  EXPECT_EQ(c.ran_on.load(), nullptr);
  EXPECT_TRUE(same_thread.load());
}

// A timer due on the P is the scheduler's to run before runnext: the park
// goes through it. (If another thread ran the timer before the park, the
// round proves nothing and is repeated.)
TEST(ParkDirect, DueTimerGoesThroughTheScheduler) {
  static Commit c;
  static std::atomic<bool> fired{false}, fired_at_commit{false};
  static std::atomic<int> conclusive{0}, direct{0};
  static std::atomic<G*> main_g{nullptr};
  conclusive = 0;
  direct = 0;
  run_main(1, [] {
    main_g = gmprt::current_g();
    for (int round = 0; round < 50 && conclusive.load() < 5; round++) {
      fired = false;
      c.ran_on = nullptr;
      ASSERT_EQ(gmp_go([](void*) { gmprt::ready(main_g.load(), true); }, nullptr), GMP_OK);
      gmprt::Timer t;
      t.f = [](void*, int64_t) { fired = true; };
      ASSERT_TRUE(gmprt::timer_add(&t, gmprt::nanotime() - 1));
      gmprt::park(
          [](G* g, void* arg) {
            fired_at_commit = fired.load();
            return Commit::record(g, arg);
          },
          &c, gmprt::WaitReason::chan_receive);
      gmprt::timer_stop(&t);
      if (fired_at_commit.load()) continue;
      conclusive++;
      if (c.ran_on.load() != nullptr) direct++;
    }
  });
  EXPECT_GT(conclusive.load(), 0);
  EXPECT_EQ(direct.load(), 0);
}

}  // namespace
