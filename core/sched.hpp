// sched.hpp -- the global scheduler state (Go's schedt) and the functions the
// rest of core/ calls into the scheduler with.
//
// Locks, in the order they may be taken (never the reverse):
//   stw_lock (pthread mutex, serialises stop-the-world)
//     -> sched.lock
//       -> sched.gfree_lock, sched.allg_lock
// No runtime lock is held across a context switch, except a lock that a
// gmp_park commit callback releases on g0.
//
// Fields under sched.lock are marked `guarded by lock`; atomics say their
// ordering where they are used.
#pragma once

#include <pthread.h>
#include <stdint.h>

#include <atomic>

#include "config.hpp"
#include "g.hpp"
#include "list.hpp"
#include "lock.hpp"
#include "m.hpp"
#include "note.hpp"
#include "p.hpp"
#include "switch.hpp"

namespace gmprt {

// MainWait: a gmp_main caller's side of its main goroutine. Several threads
// may be in gmp_main at once; their MainWaits form a list under sched.lock.
struct MainWait {
  std::atomic<uint32_t> done{0};  // futex word: 0 waiting, 1 finished
  int result = 0;                 // 0, or GMP_EDEADLOCK
  MainWait* next = nullptr;       // sched.main_waits (guarded by sched.lock)
  MainWait* prev = nullptr;
  bool waiting = false;           // on the list (guarded by sched.lock)
};

struct Sched {
  Lock lock;

  // Ms (guarded by lock).
  M* allm = nullptr;        // every M ever created in this run, linked by alllink
  M* midle = nullptr;       // idle Ms waiting for work
  int32_t nmidle = 0;       // number of idle Ms
  int32_t nmidlelocked = 0; // number of locked Ms waiting for their G
  int32_t nmlocked = 0;     // Ms wired to a goroutine (gmp_lock_os_thread)
  int32_t mcount = 0;       // Ms created and not exited
  int32_t maxmcount = kDefaultMaxThreads;
  int64_t mnext = 0;        // next M id

  // Ps. npidle and nmspinning are read without the lock (wakep's fast path).
  P* pidle = nullptr;                 // guarded by lock
  std::atomic<int32_t> npidle{0};     // written under lock
  std::atomic<int32_t> nmspinning{0};

  // Global run queue (guarded by lock); runqsize is also read without the
  // lock as a hint.
  GQueue runq;
  std::atomic<int32_t> runqsize{0};

  // Global free Gs (guarded by gfree_lock): a stack of batches (gfree.cpp),
  // each a schedlink chain whose first G links the next batch.
  Lock gfree_lock;
  G* gfree_batches = nullptr;
  std::atomic<int32_t> ngfree{0};  // written under gfree_lock; read without it as a hint

  // Every G ever allocated in this run (guarded by allg_lock); never shrinks
  // while the runtime runs (dumps and checkdead walk it).
  Lock allg_lock;
  G** allg = nullptr;
  size_t nallg = 0;
  size_t allg_cap = 0;
  // G memory (guarded by allg_lock): chunks of kGChunk Gs, linked through
  // their first word and freed at shutdown; the next unused G of the newest.
  void* gchunks = nullptr;
  size_t gchunk_used = kGChunk;

  std::atomic<uint64_t> goidgen{0};       // last goid handed out (never reset)
  // Live user goroutines = ngoroutines_plain + the sum of every P's
  // ngoroutines_delta (count_goroutines). Plain threads have no P.
  std::atomic<int64_t> ngoroutines_plain{0};
  // Goroutines created from plain threads (no P to count them on); per-P
  // creations are in P::ncreated. Summed by read_stats.
  std::atomic<uint64_t> ncreated_plain{0};
  std::atomic<int32_t> nallp{0};  // Ps ever allocated (allp[0..nallp) non-null)

  // Stop-the-world (guarded by lock, gcwaiting read without it).
  std::atomic<bool> gcwaiting{false};
  int32_t stopwait = 0;
  Note stopnote;

  // Timers and the poller (guarded by lock): the one idle M that sleeps
  // only until the earliest timer of any P, and that deadline (time.hpp);
  // sleeper_polls: it sleeps in netpoll (netpoll.hpp; read without the lock
  // as a hint).
  M* timer_sleeper = nullptr;
  int64_t timer_sleep_until = 0;
  std::atomic<bool> sleeper_polls{false};

  // Deadlock detection (guarded by lock).
  MainWait* main_waits = nullptr; // gmp_main callers waiting (detection runs while non-empty)
  int32_t nplain = 0;             // live plain threads that called into the runtime
  int32_t nplain_blocked = 0;     // of those, blocked in a call only a goroutine can end

  // Shutdown.
  bool stopping = false;                       // guarded by lock: idle Ms exit
  std::atomic<bool> shutdown_waiting{false};   // gmp_shutdown waits for ngoroutines == 0
  std::atomic<uint32_t> goroutines_gone{0};    // futex word bumped when ngoroutines hits 0
};

extern Sched sched;
extern P* allp[kMaxProcs];
extern std::atomic<int32_t> gomaxprocs;

// Start-up and shutdown (runtime.cpp).
int runtime_start();          // lazily start: 0 or a GMP_E* code
bool runtime_started();
int runtime_shutdown(int64_t timeout_ns);
void main_done(MainWait* mw);     // the main goroutine returned
void main_wake_all(int result);   // deadlock: every gmp_main returns result (sched.lock held)
void goroutine_ended(P* p);       // a user goroutine exited on p
int64_t count_goroutines();       // live user goroutines (a snapshot)
void plain_thread_enter();        // a plain thread calls into the runtime (deadlock.cpp)

// Goroutines (proc.cpp).
int newproc(gmp_fn fn, void* arg, size_t stack_size, const char* name, uintptr_t pc,
            MainWait* main_wait, bool async_preempt = false);
void goexit();                // end the running G
G* gosched_m(G* g);
G* handoff_m(G* g);           // run m->handoff now, g next (proc.cpp)
G* gosched_direct(M* m, G* g);  // gosched's fast path, see below
G* goexit0(G* g);
void* mstart(void* arg);      // an M's thread body

// tls.cpp
G* current_g();               // the running G, or null on g0 / a plain thread
M* current_m();               // the calling thread's M, or null on a plain thread
void set_current_m(M* m);     // bind the calling thread to m (mstart)

// resumed: the first thing a G does when a switch brings it back (or starts
// it): finish what a direct switch to it left undone (G::on_resume): a
// direct yield (gosched) switches holding sched.lock, a direct park before
// its commit.
void resume_work(G* g);
inline void resumed(G* g) {
  if (g->on_resume != OnResume::none) resume_work(g);
}

// mcall: switch from the running goroutine to its M's g0 and run fn(g)
// there. Returns when the goroutine is resumed, possibly on another M.
// Inline, with gosched, to keep frames open across the switch few.
inline void mcall(McallFn fn) {
  M* m = current_m();
  G* g = m->curg;
  m->mcall_fn = fn;
  fiber_switch_to_g0(&g->fiber, &m->g0, &m->fpctl, fn == goexit0);
  resumed(g);
}

// gosched: yield to the back of the global queue (Go's Gosched).
//
// The fast path switches straight from g to the next G, without the detour
// through g0 (one stack switch instead of two). gosched_direct moves g to
// the back of the global queue and takes the next G off its head in one
// critical section and keeps sched.lock held across the switch: g is on a
// run queue before its context is saved, and no other M may take it until
// the switch is complete. The G switched to releases the lock when it
// resumes (resumed), whichever switch it had left by. gosched_direct
// returns null when the fast path does not apply (gosched_m then does the
// general work on g0), or g itself when nothing else is runnable (the
// yield is then a no-op, as it would be through the scheduler).
inline void gosched() {
  M* m = current_m();
  G* g = m->curg;
  G* next = gosched_direct(m, g);
  if (!next) {
    mcall(gosched_m);
    return;
  }
  if (next == g) return;
  fiber_switch_direct(&g->fiber, &next->fiber);
  resumed(g);
}

// Parking (park.cpp).
void park(int (*commit)(G* g, void* arg), void* arg, WaitReason reason);
void park_finish(M* m);  // the commit a direct park left to the next G
// park_direct: park's fast path (proc.cpp): the G in m's P's runnext,
// taken out and set up to run on m at once, when the scheduler would pick
// it next anyway; null when it must choose.
G* park_direct(M* m);
void ready(G* g, bool next);  // waiting -> runnable, queue it, wakep()
// ready_into: waiting -> runnable, appended to batch; the caller queues the
// batch (inject_batch) and wakes whoever must run it.
void ready_into(G* g, GQueue* batch);

// Global run queue (proc.cpp); called with sched.lock held.
void globrunq_put(G* g);
void globrunq_put_batch(GQueue* batch, int32_t n);
void inject_batch(GQueue* batch);  // not under sched.lock; see proc.cpp
G* globrunq_get(P* p, int32_t max);
void runq_put_p(P* p, G* g, bool next);  // runq_put + overflow to global; owner of p only

// Idle Ps and Ms (idle.cpp).
void wakep();
void startm(P* p, bool spinning);
void stopm(M* m);
void wake_m(M* m);            // an idle M, from its note or from netpoll
void sleeper_quit_locked();   // the sleeper's role is free again (sched.lock held)
void handoffp(P* p);
void acquirep(M* m, P* p);
P* releasep(M* m);
void pidleput(P* p);          // called with sched.lock held
P* pidleget();                // called with sched.lock held
void mexit(M* m);

// LockOSThread (lockosthread.cpp).
void stoplockedm(M* m);

// System calls (syscall.cpp): bracket a blocking call; no-ops on a plain
// thread, nested or unbalanced.
void entersyscall();
void exitsyscall();
void startlockedm(M* m, G* g);
int lock_os_thread();
int unlock_os_thread();

// Stop-the-world and GOMAXPROCS (stw.cpp).
void gcstopm(M* m);
int set_maxprocs(int n);      // gmp_maxprocs(n > 0)
void procresize_initial(int32_t n);  // start-up

// Free Gs (gfree.cpp).
G* gfget(P* p, size_t stack_size);
void gfput(P* p, G* g);
void gfpurge(P* p);
void gfree_all();                 // shutdown: destroy every G, free their memory
void stack_bind(P* p, G* g);      // first run: a stack and a first frame
void stack_unbind(P* p, G* g);    // exit: the stack goes back
void goroutine_entry(void* g);    // proc.cpp: the first frame of every goroutine

// Deadlock detection (deadlock.cpp); called with sched.lock held.
void check_dead();

}  // namespace gmprt
