// stats.cpp -- read_stats: the counters behind gmp_stats, summed on read.
//
// Design. The hot counters (goroutines created and ended, switches, steals,
// parks) live in each P (p.hpp) and are written only by the M that owns the
// P, with a relaxed load and store (owner_add): no read-modify-write and no
// cache line shared between Ps, so counting costs the hot paths nothing but
// a store to a line the owner already holds. A reader sums every P ever
// allocated (allp[0..nallp); Ps removed by gmp_maxprocs keep their counts,
// and Ps are never freed while the runtime runs), plus the few counts kept
// in sched for goroutines created from plain threads, which have no P.
//
// The thread and P counts that sched.lock guards are read under it, so they
// agree with each other (threads >= idle threads + spinning threads). The
// per-P sums are not atomic as a whole: each counter is exact, but two
// counters may be a few events apart if goroutines run meanwhile.
#include "stats.hpp"

#include "netpoll.hpp"
#include "sched.hpp"
#include "time.hpp"

namespace gmprt {

void read_stats(SchedStats* out) {
  *out = SchedStats();
  if (!runtime_started()) return;
  {
    LockGuard guard(sched.lock);
    out->threads = sched.mcount;
    out->idle_threads = sched.nmidle;
    // Relaxed: written under sched.lock (npidle) or read as a snapshot.
    out->spinning_threads = sched.nmspinning.load(std::memory_order_relaxed);
    out->idle_procs = sched.npidle.load(std::memory_order_relaxed);
    out->global_runq = sched.runqsize.load(std::memory_order_relaxed);
    out->procs = gomaxprocs.load(std::memory_order_relaxed);
  }
  out->goroutines = count_goroutines();
  if (out->goroutines < 0) out->goroutines = 0;
  // Relaxed: statistics; each is one owner's plain count.
  out->created = sched.ncreated_plain.load(std::memory_order_relaxed);
  // Acquire: pairs with procresize's Release store of nallp, so allp[i] for
  // every i below it is a constructed P.
  int32_t np = sched.nallp.load(std::memory_order_acquire);
  for (int32_t i = 0; i < np; i++) {
    const P* p = allp[i];
    // Relaxed: statistics written by p's owner with owner_add.
    out->created += p->ncreated.load(std::memory_order_relaxed);
    out->switches += p->nswitch.load(std::memory_order_relaxed);
    out->steals += p->nsteal.load(std::memory_order_relaxed);
    out->parks += p->npark.load(std::memory_order_relaxed);
  }
  out->timers_pending = timers_pending();
  out->fds_registered = netpoll_registered();
}

}  // namespace gmprt
