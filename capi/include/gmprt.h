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
} gmp_go_opts_t;

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
 * larger than 4096, or stack_size is outside [GMP_STACK_MIN,
 * GMP_STACK_MAX] (0 = default). */
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

/* gmp_park: gopark. Marks the calling goroutine waiting, switches to the
 * scheduler and then calls commit(g, arg) there, off the goroutine's stack.
 * If commit returns nonzero the goroutine stays parked until gmp_ready(g);
 * if it returns 0 the goroutine resumes at once. commit may be NULL (stay
 * parked). The typical commit unlocks the lock that guards the wait queue
 * the goroutine was put on, so a waker that finds it there always finds it
 * parked. A gmp_ready that arrives while the goroutine is running (before it
 * parks) is not lost: the next gmp_park still runs commit, then returns at
 * once. Such early wakeups do not accumulate: several before one park end
 * that park only (like a binary semaphore). On a plain thread gmp_park
 * returns at once and does nothing. */
GMP_API void gmp_park(gmp_park_fn commit, void *arg);

/* gmp_ready: goready. Make a parked goroutine runnable; from a goroutine it
 * goes to the caller's P's runnext slot (it runs next, inheriting the time
 * slice), from a plain thread to the global run queue. Callable from any
 * thread. NULL is ignored. */
GMP_API void gmp_ready(gmp_g_t *g);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GMPRT_H */
