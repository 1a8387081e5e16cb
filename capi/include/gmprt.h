/*
 * gmprt.h -- the public C interface of gmprt, Go's goroutine runtime
 * (the G-M-P scheduler) as a C library.
 *
 * Compiles as C11 (-Wpedantic -Werror) and as C++11 and later, and in the
 * same translation unit as GNU MP's <gmp.h> in either order: every name here
 * starts with gmp_ / GMP_ / GMPRT_ and none is one GNU MP owns.
 *
 * Conventions (they hold for every call below):
 *  - A call that can fail returns int: GMP_OK (0) on success, or a negative
 *    GMP_E* code. The codes' values never change. A failed call changes
 *    nothing.
 *  - Durations are int64_t nanoseconds; a timeout < 0 waits forever, 0 does
 *    not block, > 0 is relative.
 *  - The runtime starts lazily on the first call that needs it, with
 *    GMP_MAXPROCS from the environment or the number of online CPUs.
 *  - Every call may be made from a goroutine or from any plain thread.
 *  - Nothing C++ crosses this interface: no exception ever leaves a call.
 */
#ifndef GMPRT_H
#define GMPRT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- Version */

/* The version of this header. gmp_runtime_version() reports the library's,
 * which starts with the same "MAJOR.MINOR.PATCH". The shared library's
 * SONAME is libgmprt.so.<MAJOR-ABI>, bumped only on an ABI break. */
#define GMPRT_VERSION_MAJOR 0
#define GMPRT_VERSION_MINOR 1
#define GMPRT_VERSION_PATCH 0

/* GMP_API marks every exported declaration (default visibility; the library
 * itself is built with hidden visibility and a version script). */
#if defined(__GNUC__) || defined(__clang__)
#define GMP_API __attribute__((visibility("default")))
#else
#define GMP_API
#endif

/* ------------------------------------------------------------------ Errors */

/* X(NAME, value, message): the one list of error codes. It produces the
 * GMP_E* constants below, gmp_strerror, and the Rust binding's Error enum.
 * Values are stable forever; new codes are only appended. */
#define GMP_ERRNO_MAP(X)                                                   \
  X(EINVAL, -1, "invalid argument")                                        \
  X(ENOMEM, -2, "out of memory")                                           \
  X(ECLOSED, -3, "closed")                                                 \
  X(EAGAIN, -4, "operation would block")                                   \
  X(ETIMEDOUT, -5, "timed out")                                            \
  X(EDEADLOCK, -6, "all goroutines are asleep - deadlock")                 \
  X(EPERM, -7, "operation not permitted")                                  \
  X(EBUSY, -8, "busy")                                                     \
  X(ELIMIT, -9, "runtime limit reached")

enum {
  GMP_OK = 0,
#define GMP_ERRNO_ENUM_(name, value, msg) GMP_##name = value,
  GMP_ERRNO_MAP(GMP_ERRNO_ENUM_)
#undef GMP_ERRNO_ENUM_
  GMP_ERRNO_LAST_ = -10 /* one past the last code; not an error code */
};

/* gmp_strerror: a static, human-readable message for a GMP_* code. Never
 * NULL: unknown codes give "unknown error". */
GMP_API const char *gmp_strerror(int err);

/* gmp_runtime_version: "MAJOR.MINOR.PATCH" of the library, possibly followed
 * by a space and build details. Static storage; never NULL. */
GMP_API const char *gmp_runtime_version(void);

/* ----------------------------------------------------------------- Runtime */

/* gmp_fn: the signature of every goroutine body and callback. */
typedef void (*gmp_fn)(void *arg);

/* gmp_init: start the runtime now (optional: any call that needs it starts
 * it). Returns 0, also when it is already running; GMP_ENOMEM or GMP_ELIMIT
 * (the thread limit leaves no room for the runtime's threads) on failure. */
GMP_API int gmp_init(void);

/* gmp_main: run fn(arg) as the main goroutine and block the calling thread
 * until it returns; then return 0. The main goroutine has id 1 when gmp_main
 * is the first runtime call of the process. The calling thread only waits
 * (it does not become a scheduler thread), so gmp_main returns on the thread
 * that called it.
 *
 * While gmp_main waits, the runtime detects deadlock: when every goroutine
 * is blocked and nothing can wake one (no runnable or running goroutine, no
 * pending timer, no descriptor waiter, no goroutine in a system call, and no
 * plain thread that has called into the runtime and is still alive and not
 * itself blocked in a call only a goroutine can end), it prints
 *   gmp: all goroutines are asleep - deadlock!
 * followed by one line per goroutine (id, wait reason, name) to stderr and
 * returns GMP_EDEADLOCK. The blocked goroutines stay blocked, and gmp_main
 * may be called again. GMP_EINVAL for a NULL fn; GMP_EPERM when called from
 * a goroutine (a goroutine cannot wait for itself). */
GMP_API int gmp_main(gmp_fn fn, void *arg);

/* gmp_shutdown: wait up to timeout_ns (< 0: forever) for every goroutine to
 * finish, then stop the runtime's threads and free everything it holds;
 * returns 0. GMP_EBUSY if goroutines remain when the time is up (or when
 * called from a goroutine): the runtime is then left running and fully
 * usable. After a successful shutdown the next call that needs the runtime
 * starts it again. No other runtime call may run concurrently with
 * gmp_shutdown; goroutine ids keep growing across restarts. */
GMP_API int gmp_shutdown(int64_t timeout_ns);

/* GMP_MAXPROCS_MAX: the largest number of Ps gmp_maxprocs accepts. */
#define GMP_MAXPROCS_MAX 1024

/* gmp_maxprocs: GOMAXPROCS. n > 0 sets the number of Ps (at run time too:
 * the world is stopped at the goroutines' next runtime call, the run queues
 * and free lists of removed Ps move to the survivors) and returns the
 * previous value; n <= 0 only returns the current value. n above
 * GMP_MAXPROCS_MAX gives GMP_EINVAL and changes nothing. The environment
 * variable GMP_MAXPROCS sets the initial value (clamped to
 * [1, GMP_MAXPROCS_MAX]). */
GMP_API int gmp_maxprocs(int n);

/* gmp_set_max_threads: SetMaxThreads. Sets the most OS threads the runtime
 * may create (default 10000) and returns the previous value; n <= 0 gives
 * GMP_EINVAL. A call returning int that needs a thread beyond the limit
 * fails with GMP_ELIMIT; elsewhere (a scheduler thread needed to run
 * goroutines) the runtime prints "gmp: program exceeds N-thread limit" and
 * aborts, as Go does. */
GMP_API int gmp_set_max_threads(int n);

/* -------------------------------------------------------------- Goroutines */

/* gmp_go_opts_t: options for gmp_go_ex. Set struct_size to sizeof the
 * struct you compiled against; members are only ever appended, and members
 * beyond your struct_size take their defaults. */
typedef struct gmp_go_opts {
  size_t struct_size; /* sizeof(gmp_go_opts_t) as the caller knows it */
  size_t stack_size;  /* usable stack bytes; 0 = GMP_STACK_DEFAULT */
  const char *name;   /* copied (at most GMP_NAME_MAX - 1 bytes kept);
                         shown in dumps and deadlock reports; may be NULL */
  uint64_t flags;     /* GMP_GO_* bits; other bits give GMP_EINVAL */
} gmp_go_opts_t;

/* GMP_GO_ASYNC_PREEMPT: the goroutine may be preempted asynchronously, at
 * any instruction of its own code, as Go preempts a goroutine that runs
 * longer than 10 ms without a function call.
 *
 * How: the monitor sends the goroutine's thread SIGURG when the goroutine has
 * kept its P for 10 ms without reaching a preemption point. The handler
 * (installed the first time such a goroutine is created; it passes every
 * SIGURG on to a handler that was installed before it) switches the
 * goroutine out only when it was interrupted in its own code: not inside a
 * gmp_* call (nor a callback the runtime runs inside one, such as a
 * gmp_once_do function), not in the C library, the dynamic loader, the vDSO,
 * libstdc++, libgcc_s or a sanitizer runtime, and with room left on its
 * stack; otherwise it tries again about every millisecond. All registers,
 * flags and FP/vector state (XSAVE) are kept, and the goroutine resumes on
 * the same OS thread it was interrupted on (the P goes to another thread in
 * the meantime), so addresses of thread-local variables and errno held in
 * registers stay valid.
 *
 * Code run with the flag must therefore be safe to suspend at any
 * instruction for as long as other goroutines run: it must not hold a lock
 * other goroutines may wait for without parking (a pthread mutex or a spin
 * lock of its own: use gmp_mutex_t), and must not rely on being the only
 * code running on its thread between two instructions (signal-unsafe
 * thread-local state shared with other goroutines on the same thread).
 * Libraries not listed above that hold internal locks (a custom allocator,
 * say) count as the goroutine's own code. Libraries loaded with dlopen after
 * the first such goroutine was created count as its own code too.
 *
 * Availability: x86-64 Linux, with the C library as a shared object. In a
 * fully static executable, and under ThreadSanitizer (which delays signals
 * to its own safe points), the flag is accepted and the goroutine is only
 * preempted cooperatively. */
#define GMP_GO_ASYNC_PREEMPT 1

/* GMP_STACK_DEFAULT: the default usable stack of a goroutine (256 KiB).
 * Stacks are reserved, not committed: a goroutine uses physical memory only
 * for the pages it touches. Below the usable part lies a guard page; running
 * into it prints "gmp: goroutine N (name): stack overflow ..." and aborts
 * instead of corrupting memory. GMP_STACK_MIN and GMP_STACK_MAX bound
 * opts->stack_size (other values give GMP_EINVAL). */
#define GMP_STACK_DEFAULT ((size_t)256 * 1024)
#define GMP_STACK_MIN ((size_t)16 * 1024)
#define GMP_STACK_MAX ((size_t)1024 * 1024 * 1024)
#define GMP_NAME_MAX 32

/* gmp_go: start a goroutine running fn(arg) (newproc); callable from a
 * goroutine or any thread. 0, GMP_EINVAL for a NULL fn, GMP_ENOMEM when no
 * stack can be had (the runtime stays usable). */
GMP_API int gmp_go(gmp_fn fn, void *arg);

/* gmp_go_ex: gmp_go with options. opts may be NULL (defaults). GMP_EINVAL
 * when opts->struct_size is smaller than the first version's struct or
 * larger than 4096, stack_size is outside [GMP_STACK_MIN, GMP_STACK_MAX]
 * (0 = default), or flags has a bit other than GMP_GO_* ones. */
GMP_API int gmp_go_ex(gmp_fn fn, void *arg, const gmp_go_opts_t *opts);

/* gmp_yield: Gosched: the goroutine goes to the back of the global run queue
 * and the thread runs others. On a plain thread: sched_yield. */
GMP_API void gmp_yield(void);

/* gmp_exit: Goexit: end the calling goroutine now; nothing after the call
 * runs (C has no unwinding: releasing what the goroutine holds is the
 * caller's business). Outside a goroutine it returns at once. */
GMP_API void gmp_exit(void);

/* gmp_goid: the calling goroutine's id (never reused), 0 outside
 * goroutines. */
GMP_API uint64_t gmp_goid(void);

/* gmp_num_goroutine: live user goroutines (runnable, running, waiting, in a
 * system call); the runtime's own are not counted. */
GMP_API int gmp_num_goroutine(void);

/* gmp_lock_os_thread / gmp_unlock_os_thread: LockOSThread. Wire the calling
 * goroutine to its thread: until as many unlocks as locks, it runs on that
 * thread only and the thread runs nothing else. Calls nest. A goroutine that
 * exits while locked takes its thread with it (the thread exits). Both
 * return 0; outside a goroutine, and for an unbalanced unlock, they return 0
 * and change nothing (misuse the runtime ignores). */
GMP_API int gmp_lock_os_thread(void);
GMP_API int gmp_unlock_os_thread(void);

/* gmp_preempt_point: a cheap check (a load and a branch): yields when the
 * runtime has asked this goroutine to give way (it ran more than ~10 ms, or
 * gmp_maxprocs is stopping the world). Every blocking call is also such a
 * point. Does nothing on a plain thread. */
GMP_API void gmp_preempt_point(void);

/* ----------------------------------------------------------------- Parking */

/* gmp_g_t: an opaque goroutine handle. Valid from gmp_self() until the
 * goroutine exits. */
typedef struct gmp_g gmp_g_t;

/* gmp_park_fn: the commit callback of gmp_park; see there. */
typedef int (*gmp_park_fn)(gmp_g_t *g, void *arg);

/* gmp_self: the calling goroutine, NULL on a plain thread. */
GMP_API gmp_g_t *gmp_self(void);

/* gmp_park: gopark. Switches to the scheduler and calls commit(g, arg)
 * there, off the goroutine's stack. If commit returns nonzero the goroutine
 * stays parked until gmp_ready(g); if it returns 0 it resumes at once.
 * commit may be NULL (stay parked). The typical commit unlocks the lock
 * that guards the wait queue the goroutine was put on; a waker that finds it
 * there and calls gmp_ready wakes it whether or not the scheduler has
 * finished parking it, and nobody can resume the goroutine while commit
 * runs (so commit may use data on the goroutine's stack). A gmp_ready that
 * arrives while the goroutine is running (before it parks) is not lost:
 * the next gmp_park still runs commit, then returns at once. Such early wakeups do not accumulate: several before one park end
 * that park only (like a binary semaphore). On a plain thread gmp_park
 * returns at once and does nothing. */
GMP_API void gmp_park(gmp_park_fn commit, void *arg);

/* gmp_ready: goready. Make a parked goroutine runnable; from a goroutine it
 * goes to the caller's P's runnext slot (it runs next, inheriting the time
 * slice), from a plain thread to the global run queue. Callable from any
 * thread. NULL is ignored. It is meant for goroutines parked with gmp_park:
 * readying one that waits inside another runtime call (a channel, select or
 * sync object) is undefined, as it cannot happen in Go (gmp_sleep tolerates
 * it and sleeps on). */
GMP_API void gmp_ready(gmp_g_t *g);

/* ---------------------------------------------------------------- Channels */

/* gmp_chan_t: a channel (Go's chan). Opaque; reference counted. */
typedef struct gmp_chan gmp_chan_t;

/* GMP_CHAN_ELEM_MAX: the largest element size (64 KiB, Go's limit). */
#define GMP_CHAN_ELEM_MAX ((size_t)65536)

/* gmp_chan_make: make(chan T, capacity), T being elem_size bytes copied by
 * value. elem_size may be 0 (a signal channel: element pointers are then
 * never read or written and may be NULL). capacity 0 makes an unbuffered
 * channel: a send and a receive meet, and the value goes straight from the
 * sender's buffer to the receiver's. The caller holds one reference.
 * GMP_EINVAL for a NULL out, elem_size above GMP_CHAN_ELEM_MAX, or a buffer
 * (elem_size * capacity) that overflows or exceeds 2^40 bytes; GMP_ENOMEM
 * when memory runs out. On failure *out is left alone. */
GMP_API int gmp_chan_make(gmp_chan_t **out, size_t elem_size, size_t capacity);

/* gmp_chan_retain / gmp_chan_release: take and drop a reference. The
 * channel is freed when the last reference is dropped and no call on it is
 * in progress (a goroutine blocked on it, a sender returning from its
 * hand-off, a closer inside gmp_chan_close): a receiver may release the
 * channel right after taking its last value. Values still buffered are
 * dropped (C has no destructors to run). NULL is ignored. */
GMP_API void gmp_chan_retain(gmp_chan_t *c);
GMP_API void gmp_chan_release(gmp_chan_t *c);

/* gmp_chan_send: blocking send; copies elem_size bytes from elem. 0, or
 * GMP_ECLOSED when the channel is closed before or while waiting (Go
 * panics; the value is not sent). GMP_EINVAL for a NULL channel, or a NULL
 * elem when elem_size > 0. FIFO among waiting senders. */
GMP_API int gmp_chan_send(gmp_chan_t *c, const void *elem);

/* gmp_chan_recv: blocking receive into elem (NULL drops the value). 0, or
 * GMP_ECLOSED once the channel is closed and its buffer drained; *elem is
 * then zero-filled. GMP_EINVAL for a NULL channel. FIFO among waiting
 * receivers. */
GMP_API int gmp_chan_recv(gmp_chan_t *c, void *elem);

/* gmp_chan_try_send / gmp_chan_try_recv: the same, never blocking:
 * GMP_EAGAIN where they would block (select with a default: clause). */
GMP_API int gmp_chan_try_send(gmp_chan_t *c, const void *elem);
GMP_API int gmp_chan_try_recv(gmp_chan_t *c, void *elem);

/* gmp_chan_send_timeout / gmp_chan_recv_timeout: wait at most timeout_ns:
 * GMP_ETIMEDOUT when the time passes first; timeout_ns 0 is the try_ form
 * (GMP_EAGAIN), < 0 waits forever. */
GMP_API int gmp_chan_send_timeout(gmp_chan_t *c, const void *elem, int64_t timeout_ns);
GMP_API int gmp_chan_recv_timeout(gmp_chan_t *c, void *elem, int64_t timeout_ns);

/* gmp_chan_close: close(c). Receivers drain the buffer, then get
 * GMP_ECLOSED; every waiting receiver and sender wakes with GMP_ECLOSED.
 * GMP_ECLOSED if already closed, GMP_EINVAL for NULL. */
GMP_API int gmp_chan_close(gmp_chan_t *c);

/* gmp_chan_len / gmp_chan_cap: values buffered now, and the capacity; 0 for
 * NULL. */
GMP_API size_t gmp_chan_len(gmp_chan_t *c);
GMP_API size_t gmp_chan_cap(gmp_chan_t *c);

/* ------------------------------------------------------------------ Select */

enum { GMP_SEND = 1, GMP_RECV = 2 };

/* gmp_select_case_t: one case of gmp_select. Members are only ever
 * appended. */
typedef struct gmp_select_case {
  gmp_chan_t *chan; /* NULL: this case is never ready (Go's nil channel) */
  int dir;          /* GMP_SEND or GMP_RECV */
  void *elem;       /* send: the value; recv: where to store it (NULL drops it) */
  int result;       /* out, for the chosen case: 0, or GMP_ECLOSED */
} gmp_select_case_t;

/* gmp_select: Go's select. Waits until one case can proceed, performs it,
 * and returns its index; its result is 0, or GMP_ECLOSED for a receive from
 * a closed, drained channel (elem zero-filled) or a send on a closed
 * channel. When several cases are ready each is chosen with equal
 * probability. timeout_ns 0 is the default: clause (GMP_EAGAIN when none is
 * ready), > 0 gives GMP_ETIMEDOUT after that long, < 0 waits forever; n == 0
 * with timeout_ns < 0 blocks forever (select {}) and counts as blocked for
 * deadlock detection. The same channel may appear in several cases (also a
 * send and a receive on one channel). GMP_EINVAL, before anything is done,
 * for a NULL cases with n > 0, n above 65536, a dir other than GMP_SEND or
 * GMP_RECV, or a NULL elem on a send case of a channel with elem_size > 0. */
GMP_API int gmp_select(gmp_select_case_t *cases, size_t n, int64_t timeout_ns);

/* -------------------------------------------------------------------- Time */

/* gmp_timer_t, gmp_ticker_t: opaque timer and ticker handles. */
typedef struct gmp_timer gmp_timer_t;
typedef struct gmp_ticker gmp_ticker_t;

/* gmp_now: the monotonic clock (CLOCK_MONOTONIC), nanoseconds. */
GMP_API int64_t gmp_now(void);

/* gmp_sleep: time.Sleep. Parks the goroutine for at least ns (a plain
 * thread sleeps); ns <= 0 returns at once. */
GMP_API void gmp_sleep(int64_t ns);

/* gmp_after: time.After. *out receives a new channel (capacity 1, element
 * int64_t) on which the gmp_now() reading taken when the timer fires
 * arrives, once; the caller owns one reference (the timer holds its own
 * until it fires). ns <= 0 fires at once. GMP_EINVAL for a NULL out. */
GMP_API int gmp_after(int64_t ns, gmp_chan_t **out);

/* gmp_timer_start: time.AfterFunc. fn(arg) runs on a goroutine of its own
 * after ns (<= 0: at once), unless the timer is stopped first. *out gets the
 * handle; free it with gmp_timer_free (the goroutine fn runs on does not
 * need it). GMP_EINVAL for a NULL out or fn. */
GMP_API int gmp_timer_start(gmp_timer_t **out, int64_t ns, gmp_fn fn, void *arg);

/* gmp_timer_stop: 1 if this call stopped the timer before it fired, 0 if it
 * had already fired or been stopped (Go's Stop); 0 for NULL. A stopped
 * timer never fires and does not count as a possible waker for deadlock
 * detection. */
GMP_API int gmp_timer_stop(gmp_timer_t *t);

/* gmp_timer_reset: re-arm to fire ns from now (Go's Reset): 1 if the timer
 * was still pending, 0 if it had fired or been stopped; GMP_EINVAL for
 * NULL. */
GMP_API int gmp_timer_reset(gmp_timer_t *t, int64_t ns);

/* gmp_timer_free: stop the timer and free the handle. NULL is ignored. */
GMP_API void gmp_timer_free(gmp_timer_t *t);

/* gmp_ticker_start: time.NewTicker. Every period_ns a gmp_now() reading is
 * sent on *c, a channel of capacity 1 and element int64_t, without blocking:
 * a slow reader finds at most one stale tick and the others are dropped.
 * The caller owns one reference to *c, valid until released (also after
 * gmp_ticker_stop). GMP_EINVAL for NULL out or c, or period_ns <= 0. */
GMP_API int gmp_ticker_start(gmp_ticker_t **out, int64_t period_ns, gmp_chan_t **c);

/* gmp_ticker_stop: stop the ticker (no tick is sent after it returns) and
 * free the handle. The channel stays the caller's. NULL is ignored. */
GMP_API void gmp_ticker_stop(gmp_ticker_t *t);

/* --------------------------------------------------------- Synchronisation */

/* Each type is a struct of fixed size whose all-zero value (= {0}, or static
 * storage) is ready to use; the sizes (8, 24, 32, 16, 16, 8 bytes) never
 * change. The members are private. None may be copied once in use. All work
 * between goroutines and plain threads alike: a goroutine parks, a plain
 * thread blocks. */
typedef struct gmp_mutex { uint64_t _private[1]; } gmp_mutex_t;
typedef struct gmp_rwmutex { uint64_t _private[3]; } gmp_rwmutex_t;
typedef struct gmp_cond { uint64_t _private[4]; } gmp_cond_t;
typedef struct gmp_waitgroup { uint64_t _private[2]; } gmp_waitgroup_t;
typedef struct gmp_once { uint64_t _private[2]; } gmp_once_t;
typedef struct gmp_sema { uint64_t _private[1]; } gmp_sema_t;

/* gmp_mutex_t: Go's sync.Mutex. lock spins briefly while the holder runs on
 * another P, then parks (FIFO); a waiter that has waited more than 1 ms
 * switches the mutex to starvation mode, where unlock hands the lock
 * straight to the longest waiter. A mutex is not tied to a goroutine or
 * thread: one may lock it and another unlock it. trylock: 0 or GMP_EBUSY.
 * unlock: 0, or GMP_EPERM (and nothing changes) when it is not locked. */
GMP_API void gmp_mutex_lock(gmp_mutex_t *m);
GMP_API int gmp_mutex_trylock(gmp_mutex_t *m);
GMP_API int gmp_mutex_unlock(gmp_mutex_t *m);

/* gmp_rwmutex_t: Go's sync.RWMutex: many readers or one writer; a writer
 * waiting in lock blocks new readers (so writers are not starved). runlock
 * and unlock return GMP_EPERM (and change nothing) when not held that way. */
GMP_API void gmp_rwmutex_rlock(gmp_rwmutex_t *rw);
GMP_API int gmp_rwmutex_runlock(gmp_rwmutex_t *rw);
GMP_API void gmp_rwmutex_lock(gmp_rwmutex_t *rw);
GMP_API int gmp_rwmutex_unlock(gmp_rwmutex_t *rw);

/* gmp_cond_t: Go's sync.Cond with the mutex passed to wait. wait unlocks m,
 * waits, and locks m again before returning; no spurious wakeups: signal
 * wakes exactly one waiter, the longest waiting (none: nothing happens),
 * broadcast wakes every waiter present. */
GMP_API void gmp_cond_wait(gmp_cond_t *cond, gmp_mutex_t *m);
GMP_API void gmp_cond_signal(gmp_cond_t *cond);
GMP_API void gmp_cond_broadcast(gmp_cond_t *cond);

/* gmp_waitgroup_t: Go's sync.WaitGroup. add: 0, or GMP_EINVAL (the counter
 * unchanged) if it would go negative or past INT32_MAX; when it reaches 0
 * every waiter wakes. done is add(-1). wait returns when the counter is 0.
 * A waitgroup may be reused once its waiters have returned. */
GMP_API int gmp_waitgroup_add(gmp_waitgroup_t *wg, int64_t delta);
GMP_API int gmp_waitgroup_done(gmp_waitgroup_t *wg);
GMP_API void gmp_waitgroup_wait(gmp_waitgroup_t *wg);

/* gmp_once_t: Go's sync.Once. fn(arg) runs once, by the first caller; every
 * caller returns after it has finished. */
GMP_API void gmp_once_do(gmp_once_t *once, gmp_fn fn, void *arg);

/* gmp_sema_t: the runtime's semaphore (Go's runtime_Semacquire /
 * Semrelease). The zero value holds no units. acquire takes one unit,
 * waiting for it; release adds one, handing it straight to the longest
 * waiter if there is one (FIFO). */
GMP_API void gmp_sema_acquire(gmp_sema_t *s);
GMP_API void gmp_sema_release(gmp_sema_t *s);

/* ------------------------------------------------------- Files and sockets */

/* The IO calls are drop-in replacements for the POSIX calls of the same
 * name and keep their convention (-1 and errno), except gmp_fd_wait. Instead
 * of blocking the thread they park the goroutine on the runtime's poller
 * (epoll) until the descriptor is ready; on a plain thread they block the
 * thread, with the same results. The descriptor is switched to
 * non-blocking mode and registered with the poller on first use. Regular
 * files (which epoll rejects) are always ready: their calls run as blocking
 * system calls between gmp_syscall_enter and gmp_syscall_exit.
 *
 * None fails with EINTR (they retry) or with EAGAIN. A NULL buffer with
 * n > 0 fails with EFAULT; a negative or unopened descriptor with EBADF.
 * Ordinary calls (setsockopt, shutdown, recv with MSG_DONTWAIT, fcntl) stay
 * allowed on a descriptor the runtime polls, but it must be closed with
 * gmp_close: a descriptor closed behind the runtime's back leaves a stale
 * registration for the next descriptor given the same number.
 *
 * errno is per thread, and a goroutine may resume on another thread inside
 * any blocking call: read errno right after the call that set it, never
 * through a pointer (&errno) taken before a blocking call.
 *
 * Scheduling (no effect on results): a gmp_read that follows a gmp_write
 * of the same goroutine first lets the goroutine that write woke, if any,
 * run on its thread (a peer in the same process answers on the same CPU).
 * After a gmp_read of a TCP socket returned less than it asked for, the
 * next one waits for new data before calling read(2), as a blocking read
 * would (with SO_RCVLOWAT set above 1: until that much has arrived). */

/* GMP_READ, GMP_WRITE: the directions of gmp_fd_wait (distinct bits). */
#define GMP_READ 1
#define GMP_WRITE 2

/* gmp_read: read(2), waiting until some data (or end of file) is there.
 * gmp_write: write(2) of the whole buffer, waiting for room as needed; if it
 * fails after writing part of it, it returns the count written, like POSIX.
 * On a socket it never raises SIGPIPE (it fails with EPIPE). */
GMP_API ssize_t gmp_read(int fd, void *buf, size_t n);
GMP_API ssize_t gmp_write(int fd, const void *buf, size_t n);

/* gmp_accept: accept(2), waiting for a connection. The new descriptor is
 * non-blocking and close-on-exec. ECONNABORTED is retried; EMFILE and
 * ENFILE are reported. addr and len may be NULL, as for accept(2). */
GMP_API int gmp_accept(int fd, struct sockaddr *addr, socklen_t *len);

/* gmp_connect: connect(2), waiting until the connection is made or fails
 * (the failure is the socket's SO_ERROR, e.g. ECONNREFUSED). */
GMP_API int gmp_connect(int fd, const struct sockaddr *addr, socklen_t len);

/* gmp_fd_wait: wait until fd is ready for any of `events` (GMP_READ,
 * GMP_WRITE or both) and return the ready mask (> 0: the requested
 * directions that are ready now). Returns at once when the descriptor is
 * ready already; a peer hang-up or an error condition counts as ready for
 * both directions. timeout_ns < 0 waits forever, 0 does not wait
 * (GMP_EAGAIN when not ready), > 0 gives GMP_ETIMEDOUT after that long.
 * GMP_ECLOSED when gmp_close closes fd meanwhile; GMP_EINVAL for a bad
 * descriptor, events == 0 or unknown bits. */
GMP_API int gmp_fd_wait(int fd, int events, int64_t timeout_ns);

/* gmp_close: close(2), waking every goroutine and thread waiting on fd:
 * their calls fail with EBADF (gmp_fd_wait: GMP_ECLOSED). If other calls on
 * fd are still in progress, the descriptor itself is closed when the last
 * of them returns, so none ever acts on a reused descriptor number; the
 * call then returns 0. A second gmp_close fails with EBADF. */
GMP_API int gmp_close(int fd);

/* ------------------------------------------------------------ System calls */

/* gmp_syscall_enter, gmp_syscall_exit: bracket a blocking call the runtime
 * cannot poll (Go's entersyscall / exitsyscall). Inside, the goroutine's P
 * may be handed to another thread by the monitor (after ~20 us when other
 * goroutines are waiting), so the others keep running; on exit the
 * goroutine takes back its P, or another idle one, or queues itself and its
 * thread sleeps until it is scheduled again. Do not call other gmp_*
 * functions in between. On a plain thread, and unbalanced, they do
 * nothing. */
GMP_API void gmp_syscall_enter(void);
GMP_API void gmp_syscall_exit(void);

/* ----------------------------------------------------------- Observability */

/* gmp_stats_t: a snapshot of the scheduler, filled by gmp_stats. Set
 * struct_size to sizeof the struct you compiled against; members are only
 * ever appended. Counts are exact when nothing runs, and otherwise a
 * snapshot: the counters are kept per processor and summed on read, so two
 * of them may be a few events apart. Cumulative counters (_total) count
 * from runtime start-up; they restart at zero after gmp_shutdown. */
typedef struct gmp_stats {
  size_t struct_size;        /* sizeof(gmp_stats_t) as the caller knows it */
  int64_t goroutines;        /* live user goroutines (gmp_num_goroutine) */
  int64_t threads;           /* the runtime's worker threads (Ms) alive */
  int64_t idle_threads;      /* of those, asleep waiting for work */
  int64_t spinning_threads;  /* of those, looking for work */
  int64_t procs;             /* GOMAXPROCS: processors (Ps) */
  int64_t idle_procs;        /* processors without a thread */
  int64_t global_runq;       /* goroutines on the global run queue */
  uint64_t goroutines_created_total; /* gmp_go / gmp_go_ex calls that succeeded */
  uint64_t context_switches_total;   /* a goroutine was switched to */
  uint64_t steals_total;     /* successful steals from another P's queue */
  uint64_t parks_total;      /* a goroutine parked (channel, lock, sleep, IO...) */
  int64_t timers_pending;    /* timers armed and not yet fired or stopped */
  int64_t fds_registered;    /* descriptors registered with the poller */
} gmp_stats_t;

/* gmp_stats: fill *out with a snapshot. 0; GMP_EINVAL for a NULL out or an
 * out->struct_size smaller than the first version of the struct (112 bytes
 * on LP64), in which case nothing is written. Only min(out->struct_size,
 * sizeof(gmp_stats_t)) bytes are written; struct_size itself is left as the
 * caller set it. Does not start the runtime: before start-up (and after
 * gmp_shutdown) every count is 0. Takes the scheduler lock briefly; cheap
 * enough to call once a second, not in a hot loop. */
GMP_API int gmp_stats(gmp_stats_t *out);

/* gmp_dump: write every live goroutine to descriptor fd, Go's traceback
 * style, one block per goroutine, blocks separated by an empty line:
 *
 *   goroutine 7 [chan receive]: worker
 *       waiting 1520 ms
 *       created at 0x55d0c1a2b3c4 main_body+0x3a (/usr/bin/demo+0x13c4)
 *       0x7f31c2a01f2e gmp_chan_recv+0x5e (/usr/lib/libgmprt.so.0+0x12f2e)
 *       ...
 *
 * (the indented lines start with a tab). The first line holds the decimal
 * id, the state (running, runnable, syscall) or for a waiting goroutine its
 * wait reason, and the name given to gmp_go_ex. Then how long it has waited (coarse: a few ms), its creation
 * site (the caller of gmp_go, resolved with dladdr where the symbol is
 * visible; otherwise file+offset, for addr2line), and, for a goroutine that
 * is not running, a backtrace of its stack (frame-pointer walk from its
 * saved context: frames of code built without frame pointers may be
 * missing). The calling goroutine's own backtrace starts at gmp_dump.
 * Uses only write(2) and no allocation, so a fatal-error path may call it;
 * the runtime's deadlock report and stack-overflow message print the same
 * blocks. Does nothing before the runtime starts. */
GMP_API void gmp_dump(int fd);

/* The environment variable GMP_DEBUG (comma-separated key=value, read once
 * at runtime start-up) turns on debugging aids, as Go's GODEBUG does:
 *
 *   schedtrace=MS   every MS milliseconds print Go's scheduler trace line to
 *                   stderr: "SCHED <ms>ms: gomaxprocs=N idleprocs=N
 *                   threads=N spinningthreads=N idlethreads=N runqueue=N
 *                   [per-P queue lengths]"
 *   scheddetail=1   with schedtrace: Go's detailed form, one more line per
 *                   P, per thread (M) and per goroutine (G)
 *   sigquit=1       SIGQUIT prints "SIGQUIT: quit" and every goroutine as
 *                   gmp_dump does to stderr, then exits with status 2 (off
 *                   by default: a library must not take a signal its host
 *                   may use)
 *   trace=FILE      write the scheduler's events to FILE as Chrome trace
 *                   event JSON (load it in ui.perfetto.dev or
 *                   chrome://tracing): a track per thread (M) and per
 *                   processor (P) with a slice for every goroutine run,
 *                   instants for park (with the wait reason), ready, steal
 *                   and stack memory returned, and system call slices. The
 *                   file is complete after gmp_shutdown or exit(); each
 *                   runtime start begins it anew. Off, it costs one branch.
 *   stallreport=MS  report a goroutine that keeps its thread MS ms without
 *                   reaching a preemption point
 *   randomize=1     randomise scheduling decisions (a test mode) */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GMPRT_H */
