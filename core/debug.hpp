// debug.hpp -- the opt-in debugging facilities that GMP_DEBUG turns on
// (env.hpp): the scheduler trace (schedtrace.cpp) and the SIGQUIT dump
// (sigquit.cpp); the event trace has its own header (evtrace.hpp). Each
// costs nothing when off: runtime start-up checks its flag once.
#pragma once

namespace gmprt {

// schedtrace_start: with GMP_DEBUG=schedtrace=MS, start the thread that
// prints the trace every MS ms. Called by runtime_start after the Ps exist.
void schedtrace_start();

// schedtrace_stop: stop and join it (runtime shutdown, before the Ms are
// stopped and freed).
void schedtrace_stop();

// schedtrace_print: one trace record (the SCHED line, and with detail one
// line per P, M and G) to fd. Any thread not holding sched.lock.
void schedtrace_print(int fd, bool detail);

// sigquit_install: with GMP_DEBUG=sigquit=1, install the SIGQUIT handler
// (once per process). Called by runtime_start.
void sigquit_install();

}  // namespace gmprt
