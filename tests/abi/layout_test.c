/*
 * layout_test.c -- the frozen numbers of the ABI.
 *
 * Every ABI-visible struct's size, alignment and member offsets, and every
 * constant whose value is part of the ABI (error codes), pinned to the
 * numbers programs were compiled against. A failure here means the change
 * breaks the ABI: see docs/ABI.md before touching a number. A struct that
 * grows by appending a member (allowed for structs that start with
 * struct_size) gets its new size and offset added here, with the old
 * offsets unchanged.
 *
 * Runs as a ctest (label abi) and prints every mismatch, not just the first.
 * The numbers are for LP64 (x86-64, aarch64), the only ABI built so far.
 */
#include <gmprt.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static int failures;

static void pin(const char* what, long long got, long long want) {
  if (got != want) {
    printf("FAIL: %s is %lld, frozen at %lld\n", what, got, want);
    failures++;
  }
}

#define PIN(expr, want) pin(#expr, (long long)(expr), (want))

int main(void) {
#if UINTPTR_MAX != 0xffffffffffffffffu
  printf("SKIP: numbers are pinned for LP64 only\n");
  return 77;
#else
  /* gmp_go_opts_t (GMPRT_0.1). */
  PIN(sizeof(gmp_go_opts_t), 32);
  PIN(_Alignof(gmp_go_opts_t), 8);
  PIN(offsetof(gmp_go_opts_t, struct_size), 0);
  PIN(offsetof(gmp_go_opts_t, stack_size), 8);
  PIN(offsetof(gmp_go_opts_t, name), 16);
  PIN(offsetof(gmp_go_opts_t, flags), 24);
  PIN(GMP_GO_ASYNC_PREEMPT, 1);

  /* gmp_stats_t (GMPRT_0.1). */
  PIN(sizeof(gmp_stats_t), 112);
  PIN(_Alignof(gmp_stats_t), 8);
  PIN(offsetof(gmp_stats_t, struct_size), 0);
  PIN(offsetof(gmp_stats_t, goroutines), 8);
  PIN(offsetof(gmp_stats_t, threads), 16);
  PIN(offsetof(gmp_stats_t, idle_threads), 24);
  PIN(offsetof(gmp_stats_t, spinning_threads), 32);
  PIN(offsetof(gmp_stats_t, procs), 40);
  PIN(offsetof(gmp_stats_t, idle_procs), 48);
  PIN(offsetof(gmp_stats_t, global_runq), 56);
  PIN(offsetof(gmp_stats_t, goroutines_created_total), 64);
  PIN(offsetof(gmp_stats_t, context_switches_total), 72);
  PIN(offsetof(gmp_stats_t, steals_total), 80);
  PIN(offsetof(gmp_stats_t, parks_total), 88);
  PIN(offsetof(gmp_stats_t, timers_pending), 96);
  PIN(offsetof(gmp_stats_t, fds_registered), 104);

  /* gmp_select_case_t and the select directions (GMPRT_0.1). */
  PIN(sizeof(gmp_select_case_t), 32);
  PIN(offsetof(gmp_select_case_t, chan), 0);
  PIN(offsetof(gmp_select_case_t, dir), 8);
  PIN(offsetof(gmp_select_case_t, elem), 16);
  PIN(offsetof(gmp_select_case_t, result), 24);
  PIN(GMP_SEND, 1);
  PIN(GMP_RECV, 2);
  PIN(GMP_CHAN_ELEM_MAX, 65536);

  /* Sync types: fixed sizes, 8-byte aligned, zero value ready (GMPRT_0.1). */
  PIN(sizeof(gmp_mutex_t), 8);
  PIN(sizeof(gmp_rwmutex_t), 24);
  PIN(sizeof(gmp_cond_t), 32);
  PIN(sizeof(gmp_waitgroup_t), 16);
  PIN(sizeof(gmp_once_t), 16);
  PIN(sizeof(gmp_sema_t), 8);
  PIN(_Alignof(gmp_mutex_t), 8);
  PIN(_Alignof(gmp_rwmutex_t), 8);
  PIN(_Alignof(gmp_cond_t), 8);
  PIN(_Alignof(gmp_waitgroup_t), 8);
  PIN(_Alignof(gmp_once_t), 8);
  PIN(_Alignof(gmp_sema_t), 8);

  /* Error codes: values never change; new ones are appended. */
  PIN(GMP_OK, 0);
  PIN(GMP_EINVAL, -1);
  PIN(GMP_ENOMEM, -2);
  PIN(GMP_ECLOSED, -3);
  PIN(GMP_EAGAIN, -4);
  PIN(GMP_ETIMEDOUT, -5);
  PIN(GMP_EDEADLOCK, -6);
  PIN(GMP_EPERM, -7);
  PIN(GMP_EBUSY, -8);
  PIN(GMP_ELIMIT, -9);

  /* The X-macro lists exactly the codes -1 .. GMP_ERRNO_LAST_ + 1, in order. */
  {
    static const int codes[] = {
#define LAYOUT_CODE_(name, value, msg) GMP_##name,
        GMP_ERRNO_MAP(LAYOUT_CODE_)
#undef LAYOUT_CODE_
    };
    size_t i, n = sizeof codes / sizeof codes[0];
    PIN(n, -(GMP_ERRNO_LAST_ + 1));
    for (i = 0; i < n; i++) pin("GMP_ERRNO_MAP order", codes[i], -(long long)i - 1);
  }

  if (failures != 0) {
    printf("%d layout pin(s) broken: read docs/ABI.md\n", failures);
    return 1;
  }
  printf("OK: every pinned size, offset and code holds\n");
  return 0;
#endif
}
