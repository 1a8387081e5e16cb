// runq_test.cpp -- white-box tests of the local run queue (core/runq.cpp):
// put/get order, runnext and the inherit flag, the overflow batch, stealing
// (half the ring, runnext only when asked), drain order, counter wrap-around,
// and runq_empty's re-check protocol under a concurrent owner (the shapes of
// Go's RunSchedLocalQueueTest, RunSchedLocalQueueStealTest and
// RunSchedLocalQueueEmptyTest). Every test is written against kRunqSize, so
// it holds for any ring size the build chooses (-DGMPRT_RUNQ_SIZE=4 too).
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/env.hpp"
#include "core/g.hpp"
#include "core/list.hpp"
#include "core/runq.hpp"

namespace gmprt {
namespace {

constexpr uint32_t N = kRunqSize;

// Gs: n zero-state Gs with stable addresses.
struct Gs {
  explicit Gs(size_t n) : g(new G[n]), n(n) {}
  G* operator[](size_t i) const { return &g[i]; }
  std::unique_ptr<G[]> g;
  size_t n;
};

std::vector<G*> to_vector(const GQueue& q) {
  std::vector<G*> v;
  for (G* g = q.head; g != nullptr; g = schedlink(g)) v.push_back(g);
  return v;
}

// drain_get: every G runq_get returns until it returns null.
std::vector<G*> drain_get(LocalRunq* q) {
  std::vector<G*> v;
  while (G* g = runq_get(q, nullptr)) v.push_back(g);
  return v;
}

// put_ring: queue gs[from, to) at the ring's tail; none may overflow.
void put_ring(LocalRunq* q, const Gs& gs, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    GQueue overflow;
    ASSERT_FALSE(runq_put(q, gs[i], false, &overflow)) << "at " << i;
    ASSERT_TRUE(overflow.empty());
  }
}

class RunqTest : public ::testing::Test {
 protected:
  void SetUp() override { debug_vars.randomize = false; }
  void TearDown() override { debug_vars.randomize = false; }
};

TEST_F(RunqTest, NewQueueIsEmpty) {
  LocalRunq q;
  EXPECT_TRUE(runq_empty(&q));
  EXPECT_EQ(runq_size(&q), 0u);
  bool inherit = true;
  EXPECT_EQ(runq_get(&q, &inherit), nullptr);
  EXPECT_FALSE(inherit);
}

// Go's RunSchedLocalQueueTest, with distinct Gs so that order is checked.
TEST_F(RunqTest, PutGetIsFifo) {
  Gs gs(N);
  LocalRunq q;
  for (uint32_t i = 0; i <= N; i++) {
    put_ring(&q, gs, 0, i);
    EXPECT_EQ(runq_size(&q), i);
    EXPECT_EQ(runq_empty(&q), i == 0);
    for (uint32_t j = 0; j < i; j++) {
      bool inherit = true;
      ASSERT_EQ(runq_get(&q, &inherit), gs[j]) << "iteration " << i;
      EXPECT_FALSE(inherit);
    }
    EXPECT_EQ(runq_get(&q, nullptr), nullptr);
    EXPECT_TRUE(runq_empty(&q));
  }
}

TEST_F(RunqTest, RunnextRunsFirstAndInheritsTheSlice) {
  Gs gs(3);
  LocalRunq q;
  GQueue overflow;
  EXPECT_FALSE(runq_put(&q, gs[0], false, &overflow));
  EXPECT_FALSE(runq_put(&q, gs[1], true, &overflow));
  EXPECT_EQ(q.runnext.load(), gs[1]);
  EXPECT_EQ(runq_size(&q), 2u);

  // A second next=true G takes runnext; the evicted one goes to the tail.
  EXPECT_FALSE(runq_put(&q, gs[2], true, &overflow));
  EXPECT_TRUE(overflow.empty());
  EXPECT_EQ(q.runnext.load(), gs[2]);
  EXPECT_EQ(runq_size(&q), 3u);

  bool inherit = false;
  EXPECT_EQ(runq_get(&q, &inherit), gs[2]);
  EXPECT_TRUE(inherit);
  EXPECT_EQ(runq_get(&q, &inherit), gs[0]);
  EXPECT_FALSE(inherit);
  EXPECT_EQ(runq_get(&q, &inherit), gs[1]);
  EXPECT_FALSE(inherit);
  EXPECT_EQ(runq_get(&q, &inherit), nullptr);
  EXPECT_TRUE(runq_empty(&q));
}

TEST_F(RunqTest, RunnextAloneIsNotEmpty) {
  Gs gs(1);
  LocalRunq q;
  GQueue overflow;
  EXPECT_FALSE(runq_put(&q, gs[0], true, &overflow));
  EXPECT_FALSE(runq_empty(&q));
  EXPECT_EQ(runq_size(&q), 1u);
  EXPECT_EQ(q.head.load(), q.tail.load());
}

TEST_F(RunqTest, FullRingOverflowsHalfPlusTheNewG) {
  Gs gs(N + 1);
  LocalRunq q;
  put_ring(&q, gs, 0, N);
  EXPECT_EQ(runq_size(&q), N);

  GQueue overflow;
  EXPECT_TRUE(runq_put(&q, gs[N], false, &overflow));
  std::vector<G*> batch = to_vector(overflow);
  ASSERT_EQ(batch.size(), size_t(kRunqOverflowBatch));
  for (uint32_t i = 0; i < N / 2; i++) EXPECT_EQ(batch[i], gs[i]) << i;
  EXPECT_EQ(batch[N / 2], gs[N]);
  EXPECT_EQ(overflow.tail, gs[N]);
  EXPECT_EQ(schedlink(gs[N]), nullptr);

  // The younger half stays, in order.
  std::vector<G*> rest = drain_get(&q);
  ASSERT_EQ(rest.size(), size_t(N / 2));
  for (uint32_t i = 0; i < N / 2; i++) EXPECT_EQ(rest[i], gs[N / 2 + i]) << i;
}

TEST_F(RunqTest, OverflowWithNextCarriesTheEvictedRunnext) {
  Gs gs(N + 2);
  LocalRunq q;
  put_ring(&q, gs, 0, N);
  GQueue overflow;
  EXPECT_FALSE(runq_put(&q, gs[N], true, &overflow));  // runnext was empty
  EXPECT_TRUE(runq_put(&q, gs[N + 1], true, &overflow));
  EXPECT_EQ(q.runnext.load(), gs[N + 1]);
  std::vector<G*> batch = to_vector(overflow);
  ASSERT_EQ(batch.size(), size_t(kRunqOverflowBatch));
  for (uint32_t i = 0; i < N / 2; i++) EXPECT_EQ(batch[i], gs[i]) << i;
  EXPECT_EQ(batch[N / 2], gs[N]);
  EXPECT_EQ(runq_size(&q), N / 2 + 1);
}

TEST_F(RunqTest, OverflowAppendsToTheCallersQueue) {
  Gs gs(N + 2);
  LocalRunq q;
  put_ring(&q, gs, 0, N);
  GQueue overflow;
  overflow.push_back(gs[N + 1]);
  EXPECT_TRUE(runq_put(&q, gs[N], false, &overflow));
  std::vector<G*> batch = to_vector(overflow);
  ASSERT_EQ(batch.size(), size_t(kRunqOverflowBatch) + 1);
  EXPECT_EQ(batch[0], gs[N + 1]);
  EXPECT_EQ(batch[1], gs[0]);
  EXPECT_EQ(batch.back(), gs[N]);
}

TEST_F(RunqTest, RandomizeShufflesTheOverflowBatch) {
  debug_vars.randomize = true;
  Gs gs(N + 1);
  bool reordered = false;
  // The batch has kRunqOverflowBatch >= 2 Gs; 64 identity shuffles in a row
  // have probability at most 2^-64.
  for (int trial = 0; trial < 64; trial++) {
    LocalRunq q;
    put_ring(&q, gs, 0, N);
    GQueue overflow;
    ASSERT_TRUE(runq_put(&q, gs[N], false, &overflow));
    std::vector<G*> batch = to_vector(overflow);
    ASSERT_EQ(batch.size(), size_t(kRunqOverflowBatch));
    std::vector<bool> seen(N + 1, false);
    for (uint32_t i = 0; i < kRunqOverflowBatch; i++) {
      G* expect = i < N / 2 ? gs[i] : gs[N];
      if (batch[i] != expect) reordered = true;
      size_t idx = size_t(batch[i] - gs[0]);
      ASSERT_TRUE(idx < N / 2 || idx == N) << "G " << idx << " was not in the batch";
      ASSERT_FALSE(seen[idx]) << "G " << idx << " twice";
      seen[idx] = true;
    }
    EXPECT_EQ(drain_get(&q).size(), size_t(N / 2));
  }
  EXPECT_TRUE(reordered);
}

TEST_F(RunqTest, RandomizeSometimesIgnoresNext) {
  debug_vars.randomize = true;
  Gs gs(1);
  int to_runnext = 0, to_ring = 0;
  // Each outcome has probability 1/2; missing one in 128 trials: 2^-127.
  for (int trial = 0; trial < 128; trial++) {
    LocalRunq q;
    GQueue overflow;
    ASSERT_FALSE(runq_put(&q, gs[0], true, &overflow));
    if (q.runnext.load() == gs[0]) {
      to_runnext++;
    } else {
      to_ring++;
      EXPECT_EQ(q.tail.load() - q.head.load(), 1u);
    }
    bool inherit = false;
    EXPECT_EQ(runq_get(&q, &inherit), gs[0]);
  }
  EXPECT_GT(to_runnext, 0);
  EXPECT_GT(to_ring, 0);
}

// Go's RunSchedLocalQueueStealTest: with i Gs queued, a steal takes i - i/2
// (one returned, the rest in the thief's ring) and no G is lost or doubled.
TEST_F(RunqTest, StealTakesHalfRoundedUp) {
  for (uint32_t i = 0; i <= N; i++) {
    LocalRunq victim, thief;
    Gs local(i);
    put_ring(&victim, local, 0, i);
    std::vector<int> count(i, 0);
    uint32_t stolen = 0;
    if (G* g = runq_steal(&thief, &victim, true, false)) {
      stolen++;
      count[g - local[0]]++;
    }
    for (G* g : drain_get(&thief)) {
      stolen++;
      count[g - local[0]]++;
    }
    for (G* g : drain_get(&victim)) count[g - local[0]]++;
    for (uint32_t j = 0; j < i; j++) ASSERT_EQ(count[j], 1) << "G " << j << " at iteration " << i;
    EXPECT_EQ(stolen, i - i / 2) << "iteration " << i;
  }
}

TEST_F(RunqTest, StealKeepsOrder) {
  Gs gs(N);
  LocalRunq victim, thief;
  put_ring(&victim, gs, 0, N);
  uint32_t n = N - N / 2;
  // The thief runs the last G it took; the others wait in its ring in order.
  EXPECT_EQ(runq_steal(&thief, &victim, false, false), gs[n - 1]);
  std::vector<G*> mine = drain_get(&thief);
  ASSERT_EQ(mine.size(), size_t(n - 1));
  for (uint32_t i = 0; i + 1 < n; i++) EXPECT_EQ(mine[i], gs[i]) << i;
  std::vector<G*> theirs = drain_get(&victim);
  ASSERT_EQ(theirs.size(), size_t(N - n));
  for (uint32_t i = 0; i < N - n; i++) EXPECT_EQ(theirs[i], gs[n + i]) << i;
}

TEST_F(RunqTest, StealRunnextOnlyWhenAsked) {
  Gs gs(1);
  LocalRunq victim, thief;
  GQueue overflow;
  ASSERT_FALSE(runq_put(&victim, gs[0], true, &overflow));

  EXPECT_EQ(runq_steal(&thief, &victim, false, false), nullptr);
  EXPECT_EQ(victim.runnext.load(), gs[0]);

  EXPECT_EQ(runq_steal(&thief, &victim, true, false), gs[0]);
  EXPECT_EQ(victim.runnext.load(), nullptr);
  EXPECT_TRUE(runq_empty(&victim));
  EXPECT_TRUE(runq_empty(&thief));  // the stolen G is returned, not queued

  // A running victim: the thief pauses first, then still takes it.
  ASSERT_FALSE(runq_put(&victim, gs[0], true, &overflow));
  EXPECT_EQ(runq_steal(&thief, &victim, true, true), gs[0]);
  EXPECT_TRUE(runq_empty(&victim));
  EXPECT_EQ(runq_steal(&thief, &victim, true, true), nullptr);
}

TEST_F(RunqTest, StealPrefersTheRingToRunnext) {
  Gs gs(2);
  LocalRunq victim, thief;
  GQueue overflow;
  ASSERT_FALSE(runq_put(&victim, gs[0], false, &overflow));
  ASSERT_FALSE(runq_put(&victim, gs[1], true, &overflow));
  EXPECT_EQ(runq_steal(&thief, &victim, true, false), gs[0]);
  EXPECT_EQ(victim.runnext.load(), gs[1]);
  bool inherit = false;
  EXPECT_EQ(runq_get(&victim, &inherit), gs[1]);
  EXPECT_TRUE(inherit);
}

TEST_F(RunqTest, DrainTakesRunnextThenTheRingInOrder) {
  Gs gs(N + 2);
  LocalRunq q;
  put_ring(&q, gs, 0, N);
  GQueue overflow;
  ASSERT_FALSE(runq_put(&q, gs[N], true, &overflow));
  GQueue out;
  out.push_back(gs[N + 1]);
  runq_drain(&q, &out);
  std::vector<G*> v = to_vector(out);
  ASSERT_EQ(v.size(), size_t(N + 2));
  EXPECT_EQ(v[0], gs[N + 1]);
  EXPECT_EQ(v[1], gs[N]);
  for (uint32_t i = 0; i < N; i++) EXPECT_EQ(v[2 + i], gs[i]) << i;
  EXPECT_TRUE(runq_empty(&q));
  EXPECT_EQ(runq_size(&q), 0u);

  GQueue none;
  runq_drain(&q, &none);
  EXPECT_TRUE(none.empty());
}

// head and tail are free-running 32-bit counters: every operation must work
// across their wrap-around.
TEST_F(RunqTest, CountersWrapAround) {
  Gs gs(N + 1);
  const uint32_t start = 0u - N / 2 - 1;
  {
    LocalRunq q;
    q.head.store(start);
    q.tail.store(start);
    put_ring(&q, gs, 0, N);
    EXPECT_EQ(runq_size(&q), N);
    GQueue overflow;
    EXPECT_TRUE(runq_put(&q, gs[N], false, &overflow));
    EXPECT_EQ(to_vector(overflow).front(), gs[0]);
    std::vector<G*> rest = drain_get(&q);
    ASSERT_EQ(rest.size(), size_t(N / 2));
    EXPECT_EQ(rest.front(), gs[N / 2]);
    EXPECT_TRUE(runq_empty(&q));
  }
  {
    LocalRunq victim, thief;
    victim.head.store(start);
    victim.tail.store(start);
    thief.head.store(start + 1);
    thief.tail.store(start + 1);
    put_ring(&victim, gs, 0, N);
    uint32_t n = N - N / 2;
    EXPECT_EQ(runq_steal(&thief, &victim, false, false), gs[n - 1]);
    EXPECT_EQ(runq_size(&thief), n - 1);
    EXPECT_EQ(runq_size(&victim), N - n);
    GQueue out;
    runq_drain(&victim, &out);
    EXPECT_EQ(to_vector(out).size(), size_t(N - n));
    EXPECT_EQ(drain_get(&thief).size(), size_t(n - 1));
  }
}

// spin_until: busy-wait for a condition, yielding now and then so that a
// descheduled partner (two cores, sanitizers) gets to run.
template <typename F>
void spin_until(F cond) {
  for (int i = 0; !cond(); i++) {
    if (i % 64 == 63) sched_yield();
  }
}

// Go's RunSchedLocalQueueEmptyTest: one G is always in the queue while the
// owner puts a second one (into runnext or the ring) and takes one out, so a
// concurrent runq_empty must never say "empty". The four combinations of
// the two next flags include the case the re-check of tail exists for: G0
// in runnext is pushed to the ring by G1, then G1 leaves runnext.
TEST_F(RunqTest, EmptyIsNeverSpuriousWhileTheOwnerMovesGs) {
  constexpr int kIters = 20000;
  Gs gs(2);
  LocalRunq q;
  std::atomic<int> round{-1};
  std::atomic<int> moved{-1};
  std::atomic<int> finished{-1};
  std::atomic<int> ready{0};
  std::atomic<int> spurious{0};

  std::thread observer([&] {
    for (int i = 0; i < kIters; i++) {
      spin_until([&] { return round.load(std::memory_order_acquire) == i; });
      ready.fetch_add(1, std::memory_order_acq_rel);
      spin_until([&] { return ready.load(std::memory_order_acquire) == 2; });
      // Keep looking for as long as the owner is moving Gs (Go's test looks
      // once; looking throughout the window catches a broken re-check far
      // more often).
      bool last = false;
      for (int k = 0; !last; k++) {
        last = moved.load(std::memory_order_acquire) == i;
        if (runq_empty(&q)) spurious.fetch_add(1, std::memory_order_relaxed);
        if (k % 64 == 63) sched_yield();  // as spin_until: let a descheduled owner run
      }
      finished.store(i, std::memory_order_release);
    }
  });

  for (int i = 0; i < kIters; i++) {
    bool next0 = (i & 1) == 0;
    bool next1 = (i & 2) == 0;
    GQueue overflow;
    ready.store(0, std::memory_order_relaxed);
    // EXPECT rather than ASSERT: the observer must be allowed to finish.
    EXPECT_FALSE(runq_put(&q, gs[0], next0, &overflow));
    round.store(i, std::memory_order_release);
    ready.fetch_add(1, std::memory_order_acq_rel);
    spin_until([&] { return ready.load(std::memory_order_acquire) == 2; });
    EXPECT_FALSE(runq_put(&q, gs[1], next1, &overflow));
    EXPECT_NE(runq_get(&q, nullptr), nullptr);
    moved.store(i, std::memory_order_release);
    spin_until([&] { return finished.load(std::memory_order_acquire) == i; });
    EXPECT_NE(runq_get(&q, nullptr), nullptr);
    EXPECT_TRUE(runq_empty(&q));
  }
  observer.join();
  EXPECT_EQ(spurious.load(), 0);
}

}  // namespace
}  // namespace gmprt
