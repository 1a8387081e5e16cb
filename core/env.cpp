// env.cpp -- GMP_MAXPROCS and GMP_DEBUG, read once at runtime start-up.
#include "env.hpp"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.hpp"

namespace gmprt {

DebugVars debug_vars;

namespace {

// parse_int: a decimal integer in [s, end); false when it is not one.
bool parse_int(const char* s, const char* end, long* out) {
  if (s == end) return false;
  long v = 0;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + (*s - '0');
    if (v > 1000000000L) return false;
  }
  *out = v;
  return true;
}

void set_debug_var(const char* key, size_t keylen, const char* val, const char* vend,
                   DebugVars* out) {
  if (keylen == 5 && memcmp(key, "trace", 5) == 0) {
    size_t n = size_t(vend - val);
    if (n == 0 || n >= sizeof out->trace_file) return;  // empty or too long: off
    memcpy(out->trace_file, val, n);
    out->trace_file[n] = 0;
    return;
  }
  long v = 0;
  if (!parse_int(val, vend, &v)) return;
  if (keylen == 9 && memcmp(key, "randomize", 9) == 0) out->randomize = v != 0;
  if (keylen == 10 && memcmp(key, "schedtrace", 10) == 0) out->schedtrace_ms = int(v);
  if (keylen == 11 && memcmp(key, "scheddetail", 11) == 0) out->scheddetail = v != 0;
  if (keylen == 11 && memcmp(key, "stallreport", 11) == 0) out->stallreport_ms = int(v);
  if (keylen == 7 && memcmp(key, "sigquit", 7) == 0) out->sigquit = v != 0;
}

}  // namespace

void env_parse_debug(const char* value, DebugVars* out) {
  if (!value) return;
  const char* p = value;
  while (*p) {
    const char* end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    const char* eq = static_cast<const char*>(memchr(p, '=', size_t(end - p)));
    if (eq) set_debug_var(p, size_t(eq - p), eq + 1, end, out);
    p = *end ? end + 1 : end;
  }
}

int env_read() {
  DebugVars d;
  env_parse_debug(getenv("GMP_DEBUG"), &d);
  debug_vars = d;
  long n = 0;
  const char* s = getenv("GMP_MAXPROCS");
  if (s && parse_int(s, s + strlen(s), &n) && n > 0) return n > kMaxProcs ? kMaxProcs : int(n);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  return cpus > kMaxProcs ? kMaxProcs : int(cpus);
}

}  // namespace gmprt
