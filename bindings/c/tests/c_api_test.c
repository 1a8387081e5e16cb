/*
 * c_api_test.c -- every call of <gmprt.h> as a C user sees it: return codes
 * for good and bad input, the version, gmp_strerror, and goroutines started,
 * parked and readied from plain C. No test framework: each CHECK counts, and
 * the last line is "N passed, N failed" (exit status 1 on any failure).
 */
#define _POSIX_C_SOURCE 200809L
#include <gmprt.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      passed++;                                                                \
    } else {                                                                   \
      failed++;                                                                \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_EQ(a, b)                                                                          \
  do {                                                                                          \
    long long a_ = (long long)(a), b_ = (long long)(b);                                         \
    if (a_ == b_) {                                                                             \
      passed++;                                                                                 \
    } else {                                                                                    \
      failed++;                                                                                 \
      fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
              #b, a_, b_);                                                                      \
    }                                                                                           \
  } while (0)

/* wait_until: poll (yielding) until *flag >= want, at most ~30 s. */
static int wait_until(atomic_int* flag, int want) {
  for (long i = 0; i < 3000000; i++) {
    if (atomic_load(flag) >= want) return 1;
    if (gmp_self()) {
      gmp_yield();
    } else {
      struct timespec ts = {0, 10000};
      nanosleep(&ts, NULL);
    }
  }
  return atomic_load(flag) >= want;
}

static atomic_int ran;
static void count_fn(void* arg) {
  (void)arg;
  atomic_fetch_add(&ran, 1);
}

/* --- the first runtime call: gmp_main, whose goroutine is id 1 ---------- */
static uint64_t first_goid;
static gmp_g_t* first_self;
static void first_main(void* arg) {
  first_goid = gmp_goid();
  first_self = gmp_self();
  *(int*)arg = 1;
}

/* --- inside a main goroutine: calls that need a goroutine ---------------- */
static atomic_int main_parked, main_resumed;
static gmp_g_t* _Atomic main_handle;

static int publish(gmp_g_t* g, void* arg) {
  (void)arg;
  atomic_store(&main_handle, g);
  atomic_store(&main_parked, 1);
  return 1; /* stay parked */
}

static void waker(void* arg) {
  (void)arg;
  wait_until(&main_parked, 1);
  gmp_ready(atomic_load(&main_handle));
}

static int commit_calls;
static int resume_at_once(gmp_g_t* g, void* arg) {
  commit_calls++;
  CHECK(g != NULL);
  CHECK_EQ(*(int*)arg, 99);
  return 0; /* resume at once */
}

static void nested_main(void* arg) { (void)arg; }

static void exiter(void* arg) {
  atomic_fetch_add(&ran, 1);
  gmp_exit();
  *(int*)arg = 1; /* never runs */
}

static void goroutine_main(void* arg) {
  (void)arg;
  CHECK(gmp_self() != NULL);
  CHECK(gmp_goid() > 1);
  CHECK(gmp_num_goroutine() >= 1);
  CHECK_EQ(gmp_main(nested_main, NULL), GMP_EPERM);
  CHECK_EQ(gmp_shutdown(0), GMP_EBUSY);
  CHECK_EQ(gmp_go(NULL, NULL), GMP_EINVAL);

  /* A commit returning 0 resumes at once. */
  int marker = 99;
  gmp_park(resume_at_once, &marker);
  CHECK_EQ(commit_calls, 1);

  /* Park until another goroutine readies us. */
  CHECK_EQ(gmp_go(waker, NULL), GMP_OK);
  gmp_park(publish, NULL);
  atomic_store(&main_resumed, 1);

  /* LockOSThread nests; an unbalanced unlock is ignored. */
  CHECK_EQ(gmp_lock_os_thread(), 0);
  CHECK_EQ(gmp_lock_os_thread(), 0);
  gmp_yield();
  CHECK_EQ(gmp_unlock_os_thread(), 0);
  CHECK_EQ(gmp_unlock_os_thread(), 0);
  CHECK_EQ(gmp_unlock_os_thread(), 0);

  /* gmp_exit ends a goroutine; nothing after it runs. */
  static int after_exit;
  atomic_store(&ran, 0);
  CHECK_EQ(gmp_go(exiter, &after_exit), GMP_OK);
  CHECK(wait_until(&ran, 1));
  CHECK_EQ(after_exit, 0);

  gmp_preempt_point();
  gmp_ready(NULL);
}

int main(void) {
  /* gmp_main first: the main goroutine is goroutine 1. */
  int first_ran = 0;
  CHECK_EQ(gmp_main(first_main, &first_ran), GMP_OK);
  CHECK_EQ(first_ran, 1);
  CHECK_EQ(first_goid, 1);
  CHECK(first_self != NULL);

  /* Version. */
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", GMPRT_VERSION_MAJOR, GMPRT_VERSION_MINOR,
           GMPRT_VERSION_PATCH);
  const char* v = gmp_runtime_version();
  CHECK(v != NULL);
  CHECK(v && strncmp(v, want, strlen(want)) == 0);
  CHECK(v && (v[strlen(want)] == '\0' || v[strlen(want)] == ' '));

  /* gmp_strerror: every code, unknown codes, never NULL. */
#define CHECK_CODE_(name, value, msg) \
  CHECK_EQ(GMP_##name, value);        \
  CHECK(gmp_strerror(value) && strcmp(gmp_strerror(value), msg) == 0);
  GMP_ERRNO_MAP(CHECK_CODE_)
#undef CHECK_CODE_
  CHECK(gmp_strerror(GMP_OK) != NULL);
  CHECK(strcmp(gmp_strerror(12345), "unknown error") == 0);
  CHECK(strcmp(gmp_strerror(INT_MIN), "unknown error") == 0);
  CHECK(strcmp(gmp_strerror(GMP_ERRNO_LAST_), "unknown error") == 0);

  /* Runtime. */
  CHECK_EQ(gmp_init(), 0);
  CHECK_EQ(gmp_init(), 0);
  int procs = gmp_maxprocs(0);
  CHECK(procs >= 1 && procs <= GMP_MAXPROCS_MAX);
  CHECK_EQ(gmp_maxprocs(-5), procs);
  CHECK_EQ(gmp_maxprocs(GMP_MAXPROCS_MAX + 1), GMP_EINVAL);
  CHECK_EQ(gmp_maxprocs(2), procs);
  CHECK_EQ(gmp_maxprocs(procs), 2);
  CHECK_EQ(gmp_set_max_threads(0), GMP_EINVAL);
  CHECK_EQ(gmp_set_max_threads(-1), GMP_EINVAL);
  CHECK_EQ(gmp_set_max_threads(5000), 10000);
  CHECK_EQ(gmp_set_max_threads(10000), 5000);
  CHECK_EQ(gmp_main(NULL, NULL), GMP_EINVAL);

  /* Plain-thread behaviour of goroutine calls. */
  CHECK(gmp_self() == NULL);
  CHECK_EQ(gmp_goid(), 0);
  gmp_yield();
  gmp_exit();
  gmp_preempt_point();
  gmp_park(NULL, NULL);
  gmp_ready(NULL);
  CHECK_EQ(gmp_lock_os_thread(), 0);
  CHECK_EQ(gmp_unlock_os_thread(), 0);

  /* gmp_go and gmp_go_ex: good and bad input. */
  CHECK_EQ(gmp_go(NULL, NULL), GMP_EINVAL);
  CHECK_EQ(gmp_go_ex(NULL, NULL, NULL), GMP_EINVAL);
  gmp_go_opts_t o = {sizeof(gmp_go_opts_t), 0, "c-test", 0};
  gmp_go_opts_t bad = o;
  bad.struct_size = 0;
  CHECK_EQ(gmp_go_ex(count_fn, NULL, &bad), GMP_EINVAL);
  bad.struct_size = 4097;
  CHECK_EQ(gmp_go_ex(count_fn, NULL, &bad), GMP_EINVAL);
  bad = o;
  bad.stack_size = GMP_STACK_MIN - 1;
  CHECK_EQ(gmp_go_ex(count_fn, NULL, &bad), GMP_EINVAL);
  bad.stack_size = GMP_STACK_MAX + 1;
  CHECK_EQ(gmp_go_ex(count_fn, NULL, &bad), GMP_EINVAL);
  atomic_store(&ran, 0);
  CHECK_EQ(gmp_go(count_fn, NULL), GMP_OK);
  CHECK_EQ(gmp_go_ex(count_fn, NULL, NULL), GMP_OK);
  CHECK_EQ(gmp_go_ex(count_fn, NULL, &o), GMP_OK);
  o.stack_size = GMP_STACK_MIN;
  CHECK_EQ(gmp_go_ex(count_fn, NULL, &o), GMP_OK);
  CHECK(wait_until(&ran, 4));
  CHECK_EQ(atomic_load(&ran), 4);

  /* A main goroutine that parks and is readied, and the rest above. */
  CHECK_EQ(gmp_main(goroutine_main, NULL), GMP_OK);
  CHECK_EQ(atomic_load(&main_resumed), 1);

  /* Observability: gmp_stats as a C caller sees it, gmp_dump to a pipe. */
  {
    gmp_stats_t st;
    memset(&st, 0, sizeof st);
    CHECK_EQ(gmp_stats(NULL), GMP_EINVAL);
    st.struct_size = sizeof st - 1;
    CHECK_EQ(gmp_stats(&st), GMP_EINVAL);
    CHECK_EQ(st.procs, 0); /* nothing written */
    st.struct_size = sizeof st;
    CHECK_EQ(gmp_stats(&st), GMP_OK);
    CHECK(st.procs >= 1);
    CHECK(st.goroutines_created_total >= 5u);
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    /* The main goroutine has returned; a counting goroutine may not have
     * exited yet. Whatever is written is goroutine blocks. */
    gmp_dump(fds[1]);
    close(fds[1]);
    char buf[16] = {0};
    ssize_t n = read(fds[0], buf, 10);
    CHECK(n == 0 || (n == 10 && strncmp(buf, "goroutine ", 10) == 0));
    close(fds[0]);
  }

  /* Shutdown, then a restart on the next call, then shutdown again. */
  CHECK_EQ(gmp_shutdown(-1), 0);
  CHECK_EQ(gmp_num_goroutine(), 0);
  atomic_store(&ran, 0);
  CHECK_EQ(gmp_go(count_fn, NULL), GMP_OK);
  CHECK(wait_until(&ran, 1));
  CHECK_EQ(gmp_shutdown(-1), 0);

  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
