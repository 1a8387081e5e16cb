/*
 * header_with_gmp.c -- <gmprt.h> and GNU MP's <gmp.h> in one translation
 * unit, linked against both libraries.
 *
 * Built twice (see tests/abi/CMakeLists.txt): by default <gmp.h> comes
 * first, with GMPRT_FIRST <gmprt.h> does. Neither order may give an error or
 * a warning, and one call into each library must link and run: "gmp" is GNU
 * MP's name, and gmprt must never take one of its identifiers.
 */
// The order is the test: clang-format must not sort these.
// clang-format off
#ifdef GMPRT_FIRST
#include <gmprt.h>
#include <gmp.h>
#else
#include <gmp.h>
#include <gmprt.h>
#endif
// clang-format on

#include <stdio.h>
#include <string.h>

int main(void) {
  mpz_t n;
  char digits[64];
  const char* msg = gmp_strerror(GMP_EINVAL);

  mpz_init_set_ui(n, 1);
  mpz_mul_2exp(n, n, 100); /* 2^100 */
  mpz_get_str(digits, 10, n);
  mpz_clear(n);

  if (strcmp(digits, "1267650600228229401496703205376") != 0) {
    printf("FAIL: GNU MP gave 2^100 = %s\n", digits);
    return 1;
  }
  if (msg == NULL || msg[0] == '\0') {
    printf("FAIL: gmp_strerror(GMP_EINVAL) gave nothing\n");
    return 1;
  }
  printf("OK: GNU MP %s with gmprt %s (%s)\n", gmp_version, gmp_runtime_version(), msg);
  return 0;
}
