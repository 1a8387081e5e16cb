// runq_stress_test.cpp -- one owner against kThieves stealers on the local
// run queue (core/runq.cpp), checking that every G queued is run exactly once.
//
// Meant to be built twice: with -DGMPRT_RUNQ_SIZE=4 (Tokio's loom trick: a
// tiny ring makes the full, overflow and empty paths happen on nearly every
// operation) and with the default size. Nothing here depends on the size.
//
// The cast:
//   owner     produces GMPRT_STRESS_OPS Gs, each with a fresh id and a
//             payload derived from it, into its queue with random next
//             flags; now and then runs one itself (runq_get) or one from the
//             "global" queue (a mutex-protected list that overflow batches
//             go to). When no G object is free it yields to the thieves.
//   thieves   run their own queue first, else steal from the owner (mostly)
//             or from another thief (sometimes runnext, rarely with the
//             pause), else take a batch from the global queue (run one,
//             queue the rest, as globrunq_get does). A thief sometimes
//             re-queues a G into its own queue instead of running it, so
//             thieves are owners too (their runnext and overflow paths run).
// "Running" a G checks its payload and bumps a per-id counter; the G object
// then goes back to a free pool the owner allocates from, so about a
// thousand G objects carry all the ids. At the end every counter must be
// exactly 1: no G lost, none run twice. The payload check catches a G whose
// fields were not published before it was seen (TSan reports it as a race).
// A broken queue tends to hang rather than fail; a watchdog turns a stall
// into a failure (or, when a worker is stuck inside the queue, an abort with
// a message), so ctest's timeout is only the last resort.
//
// GMPRT_STRESS_OPS sets the number of Gs for the plain run (default 10^7, or
// 2*10^6 in sanitizer builds); the randomize-mode run uses a quarter of it.
#include <gtest/gtest.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "core/env.hpp"
#include "core/g.hpp"
#include "core/list.hpp"
#include "core/rand.hpp"
#include "core/runq.hpp"

namespace gmprt {
namespace {

constexpr int kThieves = 3;
constexpr int kWorkers = kThieves + 1;  // worker 0 is the owner
constexpr uint32_t kPoolSize = 512 + 4 * kRunqSize;
constexpr int kFreeFlush = 32;     // a worker returns dead Gs to the pool in batches
constexpr int kCountFlush = 1024;  // and publishes its run count in batches
#if defined(GMPRT_TEST_SANITIZED)
constexpr uint64_t kDefaultOps = 2000000;  // sanitizer builds (tests/CMakeLists.txt defines it)
#else
constexpr uint64_t kDefaultOps = 10000000;
#endif
// A broken queue loses Gs, and then nobody could ever finish: after this
// long without a single G run, the run is abandoned and the checks below
// report what is missing. A correct queue never comes near it.
constexpr double kStallSeconds = 20;

uint64_t stress_ops() {
  const char* s = getenv("GMPRT_STRESS_OPS");
  if (s == nullptr || *s == '\0') return kDefaultOps;
  uint64_t n = strtoull(s, nullptr, 10);
  return n > 0 ? n : kDefaultOps;
}

double now_seconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// payload: what the owner writes into a G before queueing it, as plain
// fields; whoever runs it must see exactly this.
void set_payload(G* g, uint64_t id) {
  g->goid = id;
  g->arg = reinterpret_cast<void*>(uintptr_t(id * 0x9E3779B97F4A7C15ULL) | 1);
  g->waitsince = int64_t(~id);
}

bool payload_ok(const G* g) {
  uint64_t id = g->goid;
  return g->arg == reinterpret_cast<void*>(uintptr_t(id * 0x9E3779B97F4A7C15ULL) | 1) &&
         g->waitsince == int64_t(~id);
}

// LockedQueue: a mutex-protected FIFO of Gs (stands in for sched.runq) with a
// lock-free size hint so that idle workers do not hammer the mutex.
struct LockedQueue {
  std::mutex mu;
  GQueue q;                      // guarded by mu
  std::atomic<int64_t> size{0};  // written under mu; read as a hint

  void push_batch(GQueue* batch, int64_t n) {
    std::lock_guard<std::mutex> lock(mu);
    q.push_back_all(*batch);
    size.store(size.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  G* pop() {
    if (size.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard<std::mutex> lock(mu);
    G* g = q.pop();
    if (g) size.store(size.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    return g;
  }
  // pop_batch: up to max Gs onto the back of *out (globrunq_get's shape);
  // returns how many.
  int64_t pop_batch(GQueue* out, int64_t max) {
    if (size.load(std::memory_order_relaxed) == 0) return 0;
    std::lock_guard<std::mutex> lock(mu);
    int64_t n = 0;
    while (n < max) {
      G* g = q.pop();
      if (g == nullptr) break;
      out->push_back(g);
      n++;
    }
    size.store(size.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    return n;
  }
};

// FreePool: dead G objects waiting for a new id (a mutex-protected stack).
struct FreePool {
  std::mutex mu;
  GList list;                    // guarded by mu
  std::atomic<int64_t> size{0};  // written under mu; read as a hint

  void push_all(GList* l, int64_t n) {
    std::lock_guard<std::mutex> lock(mu);
    while (G* g = l->pop()) list.push(g);
    size.store(size.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // take_all: move the whole pool into the empty list *out.
  void take_all(GList* out) {
    if (size.load(std::memory_order_relaxed) == 0) return;
    std::lock_guard<std::mutex> lock(mu);
    out->head = list.head;
    list.head = nullptr;
    size.store(0, std::memory_order_relaxed);
  }
};

struct Worker {
  LocalRunq q;
  uint64_t rand_state = 0;
  GList retired;  // Gs run and not yet returned to the pool
  int64_t nretired = 0;
  GList spare;            // owner only: G objects taken from the pool for new ids
  int64_t unflushed = 0;  // Gs run and not yet added to Shared::ran
  // Statistics (owner-thread only until joined).
  uint64_t nrun = 0, steal_tries = 0, steals = 0, overflows = 0, requeued = 0;

  uint32_t rand() { return uint32_t(wyrand_next(&rand_state)); }
};

struct Shared {
  uint64_t ops = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> runs;  // per id: times run
  std::unique_ptr<Worker[]> workers;
  std::unique_ptr<G[]> gs;
  LockedQueue global;
  FreePool pool;
  std::atomic<int> started{0};         // thieves that are running
  std::atomic<uint64_t> ran{0};        // Gs run, flushed in batches
  std::atomic<bool> abandoned{false};  // by the watchdog or on a bad G: stop
  std::atomic<uint64_t> bad_payload{0};
  std::atomic<uint64_t> bad_batch{0};
  std::atomic<uint64_t> duplicates{0};
};

void flush(Shared* s, Worker* w) {
  if (w->nretired > 0) {
    s->pool.push_all(&w->retired, w->nretired);
    w->nretired = 0;
  }
  if (w->unflushed > 0) {
    s->ran.fetch_add(uint64_t(w->unflushed), std::memory_order_acq_rel);
    w->unflushed = 0;
  }
}

// run: the G "runs": check it, count it, retire the object.
void run(Shared* s, Worker* w, G* g) {
  bool bad = false;
  if (!payload_ok(g) || g->goid >= s->ops) {
    s->bad_payload.fetch_add(1, std::memory_order_relaxed);
    bad = true;
  } else if (s->runs[g->goid].fetch_add(1, std::memory_order_relaxed) != 0) {
    s->duplicates.fetch_add(1, std::memory_order_relaxed);
    bad = true;
  }
  w->nrun++;
  if (bad) {
    // The queue is broken: stop soon, and do not recycle an object that may
    // still be queued elsewhere (linking it twice would hang the lists).
    s->abandoned.store(true, std::memory_order_relaxed);
    return;
  }
  g->goid = ~uint64_t(0);  // poison: a second run of this object fails the payload check
  g->arg = nullptr;
  w->retired.push(g);
  if (++w->nretired >= kFreeFlush) {
    s->pool.push_all(&w->retired, w->nretired);
    w->nretired = 0;
  }
  if (++w->unflushed >= kCountFlush) flush(s, w);
}

// queue_on: runq_put with the overflow batch checked and sent to the global
// queue, as runq_put_p does in the scheduler.
void queue_on(Shared* s, Worker* w, G* g, bool next) {
  GQueue overflow;
  if (!runq_put(&w->q, g, next, &overflow)) return;
  int64_t n = 0;
  for (G* x = overflow.head; x != nullptr; x = schedlink(x)) n++;
  if (n != kRunqOverflowBatch || schedlink(overflow.tail) != nullptr) {
    s->bad_batch.fetch_add(1, std::memory_order_relaxed);
  }
  w->overflows++;
  s->global.push_batch(&overflow, n);
}

// finished: every G ran (or, with a broken queue, more than every G), or
// the run was abandoned.
bool finished(Shared* s) {
  return s->ran.load(std::memory_order_acquire) >= s->ops ||
         s->abandoned.load(std::memory_order_relaxed);
}

// watchdog: abandons the run when no G has run for kStallSeconds (the
// workers then stop and the checks report the missing Gs), and aborts the
// process if the workers are still stuck kStallSeconds later (inside the
// queue itself, e.g. a steal that can never make progress).
void watchdog(Shared* s, const std::atomic<bool>* joined) {
  uint64_t last_ran = s->ran.load(std::memory_order_relaxed);
  double last_change = now_seconds();
  while (!joined->load(std::memory_order_acquire)) {
    usleep(10000);
    uint64_t ran = s->ran.load(std::memory_order_relaxed);
    double now = now_seconds();
    if (ran != last_ran) {
      last_ran = ran;
      last_change = now;
    } else if (now - last_change > 2 * kStallSeconds) {
      fprintf(stderr, "runq stress: workers stuck for %.0f s with %llu of %llu Gs run\n",
              now - last_change, (unsigned long long)ran, (unsigned long long)s->ops);
      abort();
    } else if (now - last_change > kStallSeconds) {
      s->abandoned.store(true, std::memory_order_relaxed);
    }
  }
}

void thief(Shared* s, int self) {
  Worker* w = &s->workers[self];
  s->started.fetch_add(1, std::memory_order_relaxed);
  int idle_rounds = 0;
  while (!finished(s)) {
    G* g = runq_get(&w->q, nullptr);
    if (g == nullptr) {
      // Our queue is empty (runq_get returned null), as runq_steal requires.
      // Mostly the owner, the main source of work; sometimes another thief.
      int victim = 0;
      if (w->rand() % 4 == 0) {
        victim = 1 + int(w->rand() % (kThieves - 1));
        if (victim >= self) victim++;
      }
      bool steal_runnext = w->rand() % 2 == 0;
      bool victim_running = w->rand() % 256 == 0;
      w->steal_tries++;
      g = runq_steal(&w->q, &s->workers[victim].q, steal_runnext, victim_running);
      if (g != nullptr) w->steals++;
    }
    if (g == nullptr) {
      // Like globrunq_get: run one, queue the rest locally (the ring is
      // empty, so half of it always fits), where other thieves may steal.
      GQueue batch;
      int64_t max = kRunqSize / 2 > 0 ? kRunqSize / 2 : 1;
      if (s->global.pop_batch(&batch, max) > 0) {
        g = batch.pop();
        while (G* x = batch.pop()) queue_on(s, w, x, false);
      }
    }
    if (g == nullptr) {
      // Nothing anywhere: give the CPU away (with two cores and four
      // threads, a spinning thief mostly delays the owner it waits for).
      flush(s, w);
      if (++idle_rounds < 16) {
        sched_yield();
      } else {
        usleep(20);
      }
      continue;
    }
    idle_rounds = 0;
    if (w->rand() % 8 == 0) {
      w->requeued++;
      queue_on(s, w, g, w->rand() % 2 == 0);
      continue;
    }
    run(s, w, g);
  }
  flush(s, w);
}

// take_free: a G object for a new id, or null when none is free right now.
G* take_free(Shared* s, Worker* w) {
  if (w->spare.empty()) {
    if (w->nretired > 0) {
      w->spare.head = w->retired.head;
      w->retired.head = nullptr;
      w->nretired = 0;
    } else {
      s->pool.take_all(&w->spare);
    }
  }
  return w->spare.pop();
}

void owner(Shared* s) {
  Worker* w = &s->workers[0];
  // Start together: otherwise on a busy machine the owner may be done
  // before a thief has been scheduled at all.
  while (s->started.load(std::memory_order_relaxed) != kThieves) sched_yield();
  uint64_t id = 0;
  while (id < s->ops && !finished(s)) {
    G* g = take_free(s, w);
    if (g == nullptr) {
      // Every G object is queued somewhere or held by a thief: let the
      // thieves run them (the owner running them itself would leave the
      // thieves little to steal on a busy machine).
      flush(s, w);
      sched_yield();
      continue;
    }
    set_payload(g, id++);
    uint32_t r = w->rand();
    queue_on(s, w, g, r % 2 == 0);
    if (r % 4 == 1) {
      if (G* x = runq_get(&w->q, nullptr)) run(s, w, x);
    }
    if (r % 64 == 3) {
      if (G* x = s->global.pop()) run(s, w, x);
    }
  }
  // Unused G objects go back, so that the final count of the pool holds.
  while (G* g = w->spare.pop()) {
    w->retired.push(g);
    w->nretired++;
  }
  // Drain: what is left is in queues; everybody runs until all ran.
  while (!finished(s)) {
    G* x = runq_get(&w->q, nullptr);
    if (x == nullptr) x = s->global.pop();
    if (x != nullptr) {
      run(s, w, x);
    } else {
      flush(s, w);
      sched_yield();
    }
  }
  flush(s, w);
}

void run_stress(uint64_t ops, bool randomize, const char* label) {
  debug_vars.randomize = randomize;
  Shared s;
  s.ops = ops;
  s.runs.reset(new std::atomic<uint8_t>[ops]());
  s.workers.reset(new Worker[kWorkers]);
  s.gs.reset(new G[kPoolSize]);
  for (int i = 0; i < kWorkers; i++) s.workers[i].rand_state = 0x5eed0000u + uint64_t(i);
  {
    GList all;
    for (uint32_t i = 0; i < kPoolSize; i++) all.push(&s.gs[i]);
    s.pool.push_all(&all, kPoolSize);
  }

  double start = now_seconds();
  std::atomic<bool> joined{false};
  std::thread dog(watchdog, &s, &joined);
  std::thread threads[kThieves];
  for (int i = 0; i < kThieves; i++) threads[i] = std::thread(thief, &s, i + 1);
  owner(&s);
  for (std::thread& t : threads) t.join();
  double elapsed = now_seconds() - start;
  joined.store(true, std::memory_order_release);
  dog.join();
  debug_vars.randomize = false;

  EXPECT_FALSE(s.abandoned.load()) << "a bad G was run, or none for " << kStallSeconds << " s";
  EXPECT_EQ(s.bad_payload.load(), 0u);
  EXPECT_EQ(s.bad_batch.load(), 0u);
  EXPECT_EQ(s.duplicates.load(), 0u);
  EXPECT_EQ(s.ran.load(), ops);
  uint64_t wrong = 0, first_wrong = ops;
  for (uint64_t i = 0; i < ops; i++) {
    if (s.runs[i].load(std::memory_order_relaxed) != 1) {
      if (wrong++ == 0) first_wrong = i;
    }
  }
  EXPECT_EQ(wrong, 0u) << "first wrong id " << first_wrong << " ran "
                       << (first_wrong < ops ? int(s.runs[first_wrong].load()) : -1) << " times";
  for (int i = 0; i < kWorkers; i++) {
    EXPECT_TRUE(runq_empty(&s.workers[i].q)) << "worker " << i;
  }
  EXPECT_TRUE(s.global.q.empty());
  // Every G object is back in the pool: none leaked, none duplicated.
  int64_t in_pool = 0;
  for (G* g = s.pool.list.head; g != nullptr; g = schedlink(g)) in_pool++;
  EXPECT_EQ(in_pool, int64_t(kPoolSize));

  uint64_t steal_tries = 0, steals = 0, overflows = 0, requeued = 0;
  for (int i = 0; i < kWorkers; i++) {
    steal_tries += s.workers[i].steal_tries;
    steals += s.workers[i].steals;
    overflows += s.workers[i].overflows;
    requeued += s.workers[i].requeued;
  }
  printf(
      "runq stress (%s, kRunqSize=%u): %llu Gs in %.2f s (%.0f Gs/s); steals %llu of %llu tries, "
      "overflow batches %llu, re-queued %llu; run by owner %llu, thieves",
      label, kRunqSize, (unsigned long long)ops, elapsed, double(ops) / elapsed,
      (unsigned long long)steals, (unsigned long long)steal_tries, (unsigned long long)overflows,
      (unsigned long long)requeued, (unsigned long long)s.workers[0].nrun);
  for (int i = 1; i < kWorkers; i++) printf(" %llu", (unsigned long long)s.workers[i].nrun);
  printf("\n");
  // The run must have exercised the concurrent paths at all.
  if (ops >= 100000) {
    EXPECT_GT(steals, 0u);
    EXPECT_GT(overflows, 0u);
  }
}

TEST(RunqStress, OwnerAgainstThieves) { run_stress(stress_ops(), false, "plain"); }

TEST(RunqStress, OwnerAgainstThievesRandomized) {
  uint64_t ops = stress_ops() / 4;
  run_stress(ops > 0 ? ops : 1, true, "randomize");
}

}  // namespace
}  // namespace gmprt
