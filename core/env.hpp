// env.hpp -- the environment the runtime reads at start-up: GMP_MAXPROCS and
// GMP_DEBUG (comma-separated key=value: randomize=1, schedtrace=MS,
// scheddetail=1, stallreport=MS, sigquit=1, trace=FILE).
#pragma once

namespace gmprt {

struct DebugVars {
  bool randomize = false;   // Go's randomizeScheduler (a test mode)
  int schedtrace_ms = 0;    // print a scheduler trace line every N ms
  bool scheddetail = false; // with schedtrace: one line per P, M and G
  int stallreport_ms = 0;   // report a goroutine that keeps its P this long (sysmon)
  bool sigquit = false;     // SIGQUIT prints every goroutine and exits with 2 (sigquit.cpp)
  char trace_file[256] = {};  // trace=FILE: Chrome trace events to FILE (evtrace.cpp)
};

// debug_vars: read-only after runtime start-up.
extern DebugVars debug_vars;

// env_read: fill debug_vars from GMP_DEBUG and return GMP_MAXPROCS clamped to
// [1, kMaxProcs], or the number of online CPUs when unset or invalid.
int env_read();

// env_parse_debug: parse a GMP_DEBUG value into *out (exposed for tests).
void env_parse_debug(const char* value, DebugVars* out);

}  // namespace gmprt
