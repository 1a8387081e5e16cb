// sync.cpp -- the Synchronisation section of gmprt.h: gmp_mutex_*,
// gmp_rwmutex_*, gmp_cond_*, gmp_waitgroup_*, gmp_once_do, gmp_sema_*.
//
// Each public type is opaque storage for one core type (core/sync.hpp); the
// static_asserts below pin that the core object has exactly the public size
// and alignment, is standard-layout, needs no destructor and uses lock-free
// atomics only, so a caller's all-zero bytes are a core object in its
// initial state (every core member starts at 0: tests/core/sema_test.cpp
// checks the bytes). The storage is only ever touched here, through the core
// type.
//
// Entry. Every call first registers a plain calling thread for deadlock
// detection (plain_thread_enter: one thread-local compare once registered),
// even on its fast path: a thread that holds a mutex, or will call done or
// release, is a possible waker, and must be counted before it holds anything
// a goroutine could block on. A call about to sleep also starts the runtime
// (api_enter). NULL: calls returning int give GMP_EINVAL, void ones return.
#include <type_traits>

#include "../core/sync.hpp"
#include "capi_guard.hpp"

using namespace gmprt;

namespace {

template <class Core, class Public>
constexpr bool fits_exactly() {
  return sizeof(Core) == sizeof(Public) && alignof(Core) == alignof(Public) &&
         std::is_standard_layout<Core>::value && std::is_trivially_destructible<Core>::value;
}

static_assert(fits_exactly<Mutex, gmp_mutex_t>(), "gmp_mutex_t must hold a Mutex exactly");
static_assert(fits_exactly<RWMutex, gmp_rwmutex_t>(), "gmp_rwmutex_t must hold an RWMutex exactly");
static_assert(fits_exactly<NotifyList, gmp_cond_t>(), "gmp_cond_t must hold a NotifyList exactly");
static_assert(fits_exactly<WaitGroup, gmp_waitgroup_t>(),
              "gmp_waitgroup_t must hold a WaitGroup exactly");
static_assert(fits_exactly<Once, gmp_once_t>(), "gmp_once_t must hold a Once exactly");
static_assert(fits_exactly<Sema, gmp_sema_t>(), "gmp_sema_t must hold a Sema exactly");
static_assert(std::atomic<int32_t>::is_always_lock_free &&
                  std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free,
              "the sync words must be plain lock-free atomics");
static_assert(sizeof(std::atomic<uint64_t>) == 8 && sizeof(std::atomic<uint32_t>) == 4 &&
                  sizeof(Lock) == 4,
              "atomics must have the size of their value");

Mutex* core(gmp_mutex_t* m) { return reinterpret_cast<Mutex*>(m); }
RWMutex* core(gmp_rwmutex_t* rw) { return reinterpret_cast<RWMutex*>(rw); }
NotifyList* core(gmp_cond_t* c) { return reinterpret_cast<NotifyList*>(c); }
WaitGroup* core(gmp_waitgroup_t* wg) { return reinterpret_cast<WaitGroup*>(wg); }
Once* core(gmp_once_t* o) { return reinterpret_cast<Once*>(o); }
Sema* core(gmp_sema_t* s) { return reinterpret_cast<Sema*>(s); }

// enter: register a plain calling thread (see the top).
inline void enter() { plain_thread_enter(); }

// enter_to_sleep: before a call may sleep: start the runtime, register. A
// runtime that cannot start has no goroutines: a plain thread can still
// sleep and be woken by another, so the call goes on either way.
inline void enter_to_sleep() { (void)api_enter(); }

}  // namespace

// ------------------------------------------------------------------ Mutex

extern "C" GMP_API void gmp_mutex_lock(gmp_mutex_t* m) noexcept {
  RuntimeCall in_runtime;
  if (!m) return;
  enter();
  if (mutex_lock_fast(core(m))) return;
  enter_to_sleep();
  mutex_lock_slow(core(m), WaitReason::sync_mutex_lock);
}

extern "C" GMP_API int gmp_mutex_trylock(gmp_mutex_t* m) noexcept {
  RuntimeCall in_runtime;
  if (!m) return GMP_EINVAL;
  enter();
  return mutex_trylock(core(m)) ? 0 : GMP_EBUSY;
}

extern "C" GMP_API int gmp_mutex_unlock(gmp_mutex_t* m) noexcept {
  RuntimeCall in_runtime;
  if (!m) return GMP_EINVAL;
  enter();
  return mutex_unlock(core(m));
}

// ---------------------------------------------------------------- RWMutex

extern "C" GMP_API void gmp_rwmutex_rlock(gmp_rwmutex_t* rw) noexcept {
  RuntimeCall in_runtime;
  if (!rw) return;
  enter();
  if (rwmutex_rlock_fast(core(rw))) return;
  enter_to_sleep();
  rwmutex_rlock_slow(core(rw));
}

extern "C" GMP_API int gmp_rwmutex_runlock(gmp_rwmutex_t* rw) noexcept {
  RuntimeCall in_runtime;
  if (!rw) return GMP_EINVAL;
  enter();
  return rwmutex_runlock(core(rw));
}

extern "C" GMP_API void gmp_rwmutex_lock(gmp_rwmutex_t* rw) noexcept {
  RuntimeCall in_runtime;
  if (!rw) return;
  enter_to_sleep();
  rwmutex_lock(core(rw));
}

extern "C" GMP_API int gmp_rwmutex_unlock(gmp_rwmutex_t* rw) noexcept {
  RuntimeCall in_runtime;
  if (!rw) return GMP_EINVAL;
  enter();
  return rwmutex_unlock(core(rw));
}

// ------------------------------------------------------------------- Cond

extern "C" GMP_API void gmp_cond_wait(gmp_cond_t* cond, gmp_mutex_t* m) noexcept {
  RuntimeCall in_runtime;
  if (!cond || !m) return;
  enter_to_sleep();
  (void)cond_wait(core(cond), core(m));  // m not locked: misuse, ignored
}

extern "C" GMP_API void gmp_cond_signal(gmp_cond_t* cond) noexcept {
  RuntimeCall in_runtime;
  if (!cond) return;
  enter();
  cond_signal(core(cond));
}

extern "C" GMP_API void gmp_cond_broadcast(gmp_cond_t* cond) noexcept {
  RuntimeCall in_runtime;
  if (!cond) return;
  enter();
  cond_broadcast(core(cond));
}

// -------------------------------------------------------------- WaitGroup

extern "C" GMP_API int gmp_waitgroup_add(gmp_waitgroup_t* wg, int64_t delta) noexcept {
  RuntimeCall in_runtime;
  if (!wg) return GMP_EINVAL;
  enter();
  return waitgroup_add(core(wg), delta);
}

extern "C" GMP_API int gmp_waitgroup_done(gmp_waitgroup_t* wg) noexcept {
  RuntimeCall in_runtime;
  if (!wg) return GMP_EINVAL;
  enter();
  return waitgroup_add(core(wg), -1);
}

extern "C" GMP_API void gmp_waitgroup_wait(gmp_waitgroup_t* wg) noexcept {
  RuntimeCall in_runtime;
  if (!wg) return;
  enter();
  if (waitgroup_idle(core(wg))) return;
  enter_to_sleep();
  waitgroup_wait(core(wg));
}

// ------------------------------------------------------------------- Once

extern "C" GMP_API void gmp_once_do(gmp_once_t* once, gmp_fn fn, void* arg) noexcept {
  RuntimeCall in_runtime;
  if (!once || !fn) return;
  if (once_done(core(once))) return;  // holds nothing, wakes nobody: no registration
  enter_to_sleep();
  once_do_slow(core(once), fn, arg);
}

// ------------------------------------------------------------------- Sema

extern "C" GMP_API void gmp_sema_acquire(gmp_sema_t* s) noexcept {
  RuntimeCall in_runtime;
  if (!s) return;
  enter();
  if (cansemacquire(&core(s)->count)) return;
  enter_to_sleep();
  semacquire(&core(s)->count, false, WaitReason::semacquire);
}

extern "C" GMP_API void gmp_sema_release(gmp_sema_t* s) noexcept {
  RuntimeCall in_runtime;
  if (!s) return;
  enter();
  semrelease(&core(s)->count, true);  // straight to the longest waiter
}
