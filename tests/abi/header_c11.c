/*
 * header_c11.c -- <gmprt.h> as a strict C11 translation unit.
 *
 * Compiled (not linked) by ctest with -std=c11 -Wall -Wextra -Wpedantic
 * -Werror, and more: see tests/abi/CMakeLists.txt. The header comes first,
 * so it must bring everything it uses; it is included twice to check its
 * guard; and the code below touches its macros, types and declarations the
 * way a C user would, so that a warning anywhere in them fails the test.
 */
// The second include checks the guard: clang-format must not merge them.
// clang-format off
#include <gmprt.h>
#include <gmprt.h>
// clang-format on

#include <stdio.h>

#if GMPRT_VERSION_MAJOR < 0 || GMPRT_VERSION_MINOR < 0 || GMPRT_VERSION_PATCH < 0
#error "GMPRT_VERSION_* must be non-negative integers usable in #if"
#endif

/* The error X-macro builds a user's own table, as libuv users do. */
#define ABI_NAME_(name, value, msg) {GMP_##name, "GMP_" #name, msg},
static const struct {
  int code;
  const char* name;
  const char* msg;
} abi_codes[] = {GMP_ERRNO_MAP(ABI_NAME_)};
#undef ABI_NAME_

static void abi_body(void* arg) { (void)arg; }

static int abi_commit(gmp_g_t* g, void* arg) {
  (void)g;
  (void)arg;
  return 1;
}

/* Every declaration, taken by address with its exact type: a signature that
 * changes is an ABI break, and this stops compiling. New calls are added
 * here as they are added to the header. */
struct abi_entry_points {
  const char* (*strerror_)(int);
  const char* (*runtime_version)(void);
  int (*init)(void);
  int (*main_)(gmp_fn, void*);
  int (*shutdown)(int64_t);
  int (*maxprocs)(int);
  int (*set_max_threads)(int);
  int (*go)(gmp_fn, void*);
  int (*go_ex)(gmp_fn, void*, const gmp_go_opts_t*);
  void (*yield)(void);
  void (*exit_)(void);
  uint64_t (*goid)(void);
  int (*num_goroutine)(void);
  int (*lock_os_thread)(void);
  int (*unlock_os_thread)(void);
  void (*preempt_point)(void);
  gmp_g_t* (*self)(void);
  void (*park)(gmp_park_fn, void*);
  void (*ready)(gmp_g_t*);
};

const struct abi_entry_points abi_entry_points = {
    .strerror_ = gmp_strerror,
    .runtime_version = gmp_runtime_version,
    .init = gmp_init,
    .main_ = gmp_main,
    .shutdown = gmp_shutdown,
    .maxprocs = gmp_maxprocs,
    .set_max_threads = gmp_set_max_threads,
    .go = gmp_go,
    .go_ex = gmp_go_ex,
    .yield = gmp_yield,
    .exit_ = gmp_exit,
    .goid = gmp_goid,
    .num_goroutine = gmp_num_goroutine,
    .lock_os_thread = gmp_lock_os_thread,
    .unlock_os_thread = gmp_unlock_os_thread,
    .preempt_point = gmp_preempt_point,
    .self = gmp_self,
    .park = gmp_park,
    .ready = gmp_ready,
};

int abi_use(void);
int abi_use(void) {
  gmp_go_opts_t opts = {sizeof(gmp_go_opts_t), GMP_STACK_DEFAULT, "abi", 0};
  gmp_go_opts_t zero = {0};
  gmp_park_fn commit = abi_commit;
  size_t i;
  int bad = 0;

  for (i = 0; i < sizeof abi_codes / sizeof abi_codes[0]; i++) {
    if (abi_codes[i].code >= GMP_OK || abi_codes[i].code <= GMP_ERRNO_LAST_) bad++;
    printf("%s %d %s\n", abi_codes[i].name, abi_codes[i].code, abi_codes[i].msg);
  }
  (void)zero;
  (void)commit;
  return bad + gmp_go_ex(abi_body, NULL, &opts) +
         (GMP_STACK_MIN <= GMP_STACK_DEFAULT && GMP_STACK_DEFAULT <= GMP_STACK_MAX) + GMP_NAME_MAX +
         GMP_MAXPROCS_MAX;
}
