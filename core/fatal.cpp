// fatal.cpp -- fatal(): one "gmp: " line naming the goroutine, then abort.
#include "fatal.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sched.hpp"

namespace gmprt {

void fatal(const char* fmt, ...) {
  char buf[512];
  int n;
  G* g = current_g();
  if (g && g->name[0])
    n = snprintf(buf, sizeof buf, "gmp: goroutine %llu (%s): ", (unsigned long long)g->goid, g->name);
  else if (g)
    n = snprintf(buf, sizeof buf, "gmp: goroutine %llu: ", (unsigned long long)g->goid);
  else
    n = snprintf(buf, sizeof buf, "gmp: ");
  if (n < 0) n = 0;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + n, sizeof buf - size_t(n) - 1, fmt, ap);
  va_end(ap);
  if (k > 0) n += k;
  if (n > int(sizeof buf) - 2) n = int(sizeof buf) - 2;
  buf[n++] = '\n';
  ssize_t w = write(2, buf, size_t(n));
  (void)w;
  abort();
}

}  // namespace gmprt
