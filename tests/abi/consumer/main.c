/*
 * main.c -- a program built against an installed gmprt, the way its users
 * build one (tests/abi/consumer/run.sh): with pkg-config as C and as C++
 * (shared and static), and through CMake's find_package(gmprt).
 *
 * It is C that is also valid C++, so the same file serves both. Prints OK
 * and exits 0 when the runtime answered as documented.
 */
#include <gmprt.h>

#include <stdio.h>
#include <string.h>

static int flag;

static void child(void* arg) { __atomic_store_n((int*)arg, 1, __ATOMIC_RELEASE); }

/* The main goroutine starts a child and yields until the child has run. */
static void main_goroutine(void* arg) {
  long spins = 0;
  if (gmp_go(child, arg) != 0) return;
  while (!__atomic_load_n((int*)arg, __ATOMIC_ACQUIRE) && spins++ < 100000000L) gmp_yield();
}

int main(void) {
  char want[32];
  const char* version = gmp_runtime_version();
  const char* msg = gmp_strerror(GMP_EINVAL);
  int rc;

  snprintf(want, sizeof want, "%d.%d.%d", GMPRT_VERSION_MAJOR, GMPRT_VERSION_MINOR,
           GMPRT_VERSION_PATCH);
  if (version == NULL || strncmp(version, want, strlen(want)) != 0) {
    printf("FAIL: gmp_runtime_version() is \"%s\", header says %s\n", version ? version : "(null)",
           want);
    return 1;
  }
  if (msg == NULL || msg[0] == '\0') {
    printf("FAIL: gmp_strerror(GMP_EINVAL) gave nothing\n");
    return 1;
  }
  rc = gmp_main(main_goroutine, &flag);
  if (rc != 0 || !__atomic_load_n(&flag, __ATOMIC_ACQUIRE)) {
    printf("FAIL: gmp_main returned %d (%s), child ran: %d\n", rc, gmp_strerror(rc), flag);
    return 1;
  }
  printf("OK: gmprt %s, a goroutine ran\n", version);
  return 0;
}
